"""Scheduled recomputation: ``io-clusters update``.

For every table in the raw directory (``data/raw/``; a sidecar ``NAME.toml`` may give
``layout``, ``country``, ``series`` and ``edition``), hash the file and compare with
the manifest (``data/processed/manifest.json``). The main job runs only for new or
changed tables, or when the tool version or the method options changed. Guarantees:

* **nothing half-written**: a run is written into a hidden temporary directory and
  renamed into ``<out>/<table-id>/runs/<run-id>/`` only when complete; the
  ``<table-id>/latest`` pointer (a symbolic link, plus ``LATEST`` text file) is switched
  after that, atomically; the manifest is replaced atomically after every table;
* **nothing lost**: earlier runs stay; ``keep=N`` prunes the oldest (in the creation
  order recorded in the manifest, not by their names), never the last good one; two raw
  files that resolve to the same table id each keep their own results directory (the
  second gets ``<table-id>--<file>``), and the duplicate is reported;
* **no debris**: SIGINT and SIGTERM remove the temporary names being written; after a
  SIGKILL or a power cut the next update removes them (``.run.tmp-*`` directories,
  ``.*.tmp-*`` files, ``.fetch.tmp-*`` downloads);
* **everything that feeds a run is hashed**: the table file, its sidecar and layout
  spec, the regional data file and the evidence store (their content, not their dates),
  and the options; a change to any of them recomputes the table;
* **portable**: paths in the manifest are relative to the output directory, so running
  ``update`` from another working directory keeps the history; a damaged manifest is set
  aside (``manifest.json.damaged-<time>``) and rebuilt, with a warning;
* **one at a time**: a lock file (:mod:`filelock`, an OS-level lock released by the
  kernel when a process dies, so a killed run leaves no stale lock) makes a second
  ``update`` wait up to ``wait`` seconds, then exit cleanly;
* **one failure does not stop the others**: it is recorded in the manifest and the
  summary, and the exit code says that some tables failed;
* **editions**: when a table's sidecar names a ``series`` that already has an earlier
  edition, ``changes.json`` (and a ``Cambios``/``Changes`` sheet in the workbook)
  explain what changed (:mod:`io_clusters.editions`).

Exit codes of ``io-clusters update``: 0 all done (or nothing to do), 9 some tables or
downloads failed, 75 another update holds the lock (the other codes of ``io-clusters``
apply to errors found before any table is computed, e.g. 2 for a bad option).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import EXIT_LOCKED as EXIT_LOCKED  # the one exit-code table
from .errors import EXIT_SOME_FAILED, IoClustersError, OptionError
from .export import atomic_path
from .options import RunOptions
from .publish import clean_stale, deferred_signals, honour_umask, process_tag
from .readers import file_sha256

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv")
SIDECAR_KEYS = {"layout", "country", "series", "edition", "table_id"}


class UpdateLockedError(IoClustersError, RuntimeError):
    """Another ``io-clusters update`` is running on the same output directory."""


@dataclass(frozen=True, slots=True)
class TableOutcome:
    """What ``update`` did with one table."""

    path: str
    action: str  # "computed", "unchanged", "failed", "would compute"
    reason: str
    run_dir: str | None = None
    error: str | None = None
    seconds: float = 0.0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """All outcomes of one ``update``."""

    outcomes: tuple[TableOutcome, ...] = field(default_factory=tuple)
    fetched: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[TableOutcome, ...]:
        """Return the outcomes that failed."""
        return tuple(o for o in self.outcomes if o.action == "failed")

    @property
    def exit_code(self) -> int:
        """0, or :data:`EXIT_SOME_FAILED` when a table or a download failed."""
        bad_fetch = any(f.get("status") == "failed" for f in self.fetched)
        return EXIT_SOME_FAILED if self.failed or bad_fetch else 0

    def lines(self) -> list[str]:
        """Plain-language report, one line per table."""
        out = [f"note: {n}" for n in self.notes]
        out += [f"fetch {f['name']}: {f['status']} — {f['message']}" for f in self.fetched]
        for o in self.outcomes:
            extra = f" → {o.run_dir}" if o.run_dir else ""
            err = f": {o.error}" if o.error else ""
            note = f" [{o.note}]" if o.note else ""
            out.append(f"{o.action:13} {o.path} ({o.reason}){extra}{err}{note}")
        computed = sum(o.action == "computed" for o in self.outcomes)
        if not self.outcomes:
            out.append("no tables found")
        elif computed == 0 and not self.failed:
            out.append("nothing to recompute: every table is unchanged")
        return out


def options_hash(options: dict[str, Any]) -> str:
    """Short hash of the method options and input hashes (recomputation when they change)."""
    text = json.dumps(options, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- manifest
def _empty_manifest() -> dict[str, Any]:
    return {"version": 2, "tables": {}, "sources": {}}


def _set_aside(path: Path, why: str, *, dry_run: bool = False) -> str:
    if dry_run:
        return f"{path} {why}; a real update sets it aside and recomputes every table"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    msg = (
        f"{path} {why}; set aside as {aside.name} and rebuilt: every table is recomputed "
        "(earlier run directories stay on disk)"
    )
    log.warning("%s", msg)
    return msg


def _entry_problem(entry: Any) -> str | None:
    """Why a manifest entry cannot be used (None when it can)."""
    if not isinstance(entry, dict):
        return "not an object"
    for key in ("sha256", "latest_run", "table_dir", "status", "options_hash", "edition"):
        value = entry.get(key)
        if isinstance(value, bool) or (
            value is not None and not isinstance(value, str | int | float)
        ):
            return f"{key!r} is a {type(value).__name__}"
    runs = entry.get("runs", [])
    if not isinstance(runs, list) or not all(
        isinstance(r, dict)
        and isinstance(r.get("dir"), str)
        and isinstance(r.get("seq", 0), int)
        and not isinstance(r.get("seq", 0), bool)
        for r in runs
    ):
        return "'runs' is not a list of {dir, seq} records"
    inputs = entry.get("inputs", {})
    if not isinstance(inputs, dict) or not all(
        v is None or isinstance(v, str) for v in inputs.values()
    ):
        return "'inputs' is not an object of hashes"
    if not isinstance(entry.get("duplicate_note") or "", str):
        return "'duplicate_note' is not text"
    return None


def load_manifest(
    path: Path, *, notes: list[str] | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Read the manifest (an empty one when absent).

    A manifest that is not valid JSON, truncated, or not shaped like a manifest is set
    aside (renamed ``manifest.json.damaged-<time>``) and an empty one is returned; an
    entry hand-edited to wrong types is dropped (that table is recomputed). Each such
    event adds a sentence to ``notes`` and is logged as a warning. A UTF-8 byte-order
    mark is accepted. With ``dry_run`` nothing is renamed.
    """
    notes = notes if notes is not None else []
    if not path.exists():
        return _empty_manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        notes.append(_set_aside(path, "is not UTF-8 text", dry_run=dry_run))
        return _empty_manifest()
    except json.JSONDecodeError as exc:
        notes.append(
            _set_aside(path, f"is not valid JSON (line {exc.lineno}: {exc.msg})", dry_run=dry_run)
        )
        return _empty_manifest()
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("tables", {}), dict)
        or not isinstance(data.get("sources", {}), dict)
    ):
        notes.append(
            _set_aside(path, "is not an update manifest (wrong structure)", dry_run=dry_run)
        )
        return _empty_manifest()
    data.setdefault("tables", {})
    data.setdefault("sources", {})
    for key, entry in list(data["tables"].items()):
        problem = _entry_problem(entry)
        if problem:
            del data["tables"][key]
            msg = f"{path}: the entry of {key} was unusable ({problem}); it is recomputed"
            log.warning("%s", msg)
            notes.append(msg)
    for name, state in list(data["sources"].items()):
        if not isinstance(state, dict):
            del data["sources"][name]
    return data


def save_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically (it is valid JSON at every instant)."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )


def _rel(out: Path, p: Path) -> str:
    return Path(os.path.relpath(p, out)).as_posix()


def _migrate_paths(manifest: dict[str, Any], out: Path) -> None:
    """Make run paths relative to ``out`` (older manifests stored them as given).

    An old path is looked up relative to ``out`` and to the working directory; a table
    directory shared by two raw files (the duplicate-id defect of earlier versions) is
    kept by the first and the other is recomputed into its own directory.
    """
    root = out.resolve()

    def fix(value: str | None) -> str | None:
        if not value:
            return value
        p = Path(value)
        for cand in (p, out / p) if p.is_absolute() else (out / p, p):
            if cand.exists() and cand.resolve().is_relative_to(root):
                return _rel(root, cand.resolve())
        return value

    claimed: set[str] = set()
    for key in sorted(manifest["tables"]):
        entry = manifest["tables"][key]
        entry["latest_run"] = fix(entry.get("latest_run"))
        for r in entry.get("runs", []):
            r["dir"] = fix(r["dir"])
        if not entry.get("table_dir") and entry.get("latest_run"):
            entry["table_dir"] = Path(entry["latest_run"]).parts[0]
            if entry["table_dir"] in claimed:  # shared by two raw files: recompute this one
                entry.update({"table_dir": None, "latest_run": None, "runs": []})
        if entry.get("table_dir"):
            claimed.add(entry["table_dir"])


# ----------------------------------------------------------------------------- helpers
def read_sidecar(table_path: Path) -> dict[str, Any]:
    """Options of ``NAME.toml`` beside ``NAME.xlsx`` (empty when absent)."""
    side = table_path.with_suffix(".toml")
    if not side.exists():
        return {}
    try:
        data = tomllib.loads(side.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OptionError(f"{side.name}: not valid TOML ({exc})") from exc
    unknown = set(data) - SIDECAR_KEYS
    if unknown:
        raise OptionError(
            f"{side.name}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(SIDECAR_KEYS))}"
        )
    for key, value in data.items():
        if key == "edition" and isinstance(value, int | float) and not isinstance(value, bool):
            continue
        if not isinstance(value, str):
            raise OptionError(f"{side.name}: {key} must be text (got {value!r})")
    return data


def scan(raw: Path) -> list[Path]:
    """Table files in ``raw`` (not hidden, not README, not sidecars), sorted."""
    if not raw.is_dir():
        return []
    return sorted(
        p
        for p in raw.iterdir()
        if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not p.name.startswith(".")
    )


def _point_latest(table_dir: Path, run_dir: Path) -> None:
    """Switch ``latest`` (symlink) and ``LATEST`` (text) to ``run_dir`` atomically."""
    rel = os.path.relpath(run_dir, table_dir)
    tmp_link = table_dir / f".latest.tmp-{process_tag()}-link"
    try:
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(rel, tmp_link)
        os.replace(tmp_link, table_dir / "latest")
    except OSError as exc:  # file systems without symlinks: the text pointer suffices
        log.warning("could not switch the latest symlink (%s); LATEST file updated", exc)
    with atomic_path(table_dir / "LATEST") as tmp:
        tmp.write_text(rel + "\n", encoding="utf-8")


def _prune(out: Path, entry: dict[str, Any], keep: int) -> list[str]:
    """Delete the oldest recorded runs of ``entry`` beyond ``keep``, never its latest.

    The order is the creation order recorded in the manifest (``seq``), not the
    directory names, which follow the wall clock.
    """
    runs = sorted(entry.get("runs", []), key=lambda r: r.get("seq", 0))
    latest = entry.get("latest_run")
    excess = max(0, len(runs) - keep)
    removed, kept = [], []
    for r in runs:
        if excess and r["dir"] != latest:
            target = out / r["dir"]
            table_runs = out / str(entry.get("table_dir")) / "runs"
            if target.resolve().parent == table_runs.resolve():  # only our own run dirs
                shutil.rmtree(target, ignore_errors=True)
            removed.append(r["dir"])
            excess -= 1
        else:
            kept.append(r)
    entry["runs"] = kept
    return removed


def _clean_partials(out: Path, raw: Path) -> None:
    """Remove every temporary name left by killed updates (called under the lock)."""
    legacy = ("*.tmp", ".fetch-*", ".latest.*")
    for runs in out.glob("*/runs"):
        for tmp in runs.iterdir():
            if tmp.name.startswith("."):  # unfinished run directories, never published
                _remove_path(tmp)
                log.info("removed an unfinished run left by an interrupted update: %s", tmp)
    for folder in (out, raw, *(p for p in out.iterdir() if p.is_dir())):
        if not folder.is_dir():
            continue
        clean_stale(folder)
        for pattern in legacy:
            for tmp in folder.glob("." + pattern.lstrip(".")):
                _remove_path(tmp)
                log.info("removed a temporary file left by an interrupted update: %s", tmp)


def _remove_path(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    elif p.exists() or p.is_symlink():
        p.unlink()


def _pause(stage: str) -> None:
    """Test hook: sleep at a named stage (IO_CLUSTERS_TEST_PAUSE=stage:seconds)."""
    spec = os.environ.get("IO_CLUSTERS_TEST_PAUSE", "")
    if spec.startswith(stage + ":"):
        time.sleep(float(spec.split(":", 1)[1]))


def _sha_or_none(path: str | Path | None) -> str | None:
    if path is None:
        return None
    p = Path(path)
    return file_sha256(p) if p.is_file() else None


# ----------------------------------------------------------------------------- options
@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything ``update`` decided before looking at the first table."""

    out: Path
    manifest_path: Path
    options: RunOptions
    regions: Any
    shared_inputs: dict[str, str | None]
    keep: int | None
    force: bool
    dry_run: bool
    say: Callable[[str], None]


def _as_options(run_options: RunOptions | Mapping[str, Any] | None) -> RunOptions:
    """Return the run options of every table, refusing what cannot apply to ``update``."""
    options = (
        run_options
        if isinstance(run_options, RunOptions)
        else RunOptions.from_mapping(run_options or {}, source="run options")
    )
    if options.out is not None:
        raise OptionError(
            f"[run] out = {options.out!r} does not apply to update: the results go to --out"
        )
    if options.model is not None:
        raise OptionError("[run] model applies to `run` on a supply-use table, not to update")
    if options.regions is None and (options.year is not None or options.prices != "constant"):
        raise OptionError("[run] year and prices apply to the regional data: give regions too")
    return options


def _shared_inputs(options: RunOptions) -> tuple[Any, dict[str, str | None]]:
    """Read the regional data once; hash every file shared by all tables."""
    from .evidence.fieldwork import DEFAULT_STORE

    inputs = {
        "store": _sha_or_none(options.store or DEFAULT_STORE),
        "labels": _sha_or_none(options.labels),
        "regions": None,
    }
    if options.labels and not Path(options.labels).is_file():
        raise FileNotFoundError(f"{options.labels}: labels file not found")
    if not options.regions:
        return None, inputs
    from .regional import read_regional

    regions = Path(options.regions)
    if not regions.is_file():
        raise FileNotFoundError(f"{regions}: regional data file not found")
    inputs["regions"] = file_sha256(regions)
    return read_regional(regions, year=options.year, prices=options.prices), inputs


def _table_inputs(path: Path, side: dict[str, Any], plan: _Plan) -> dict[str, str | None]:
    """Content hashes of every file one table's run depends on."""
    layout = side.get("layout") or plan.options.layout
    spec = path.parent / str(layout) if layout and str(layout).endswith(".toml") else None
    return {
        "table": file_sha256(path),
        "sidecar": _sha_or_none(path.with_suffix(".toml")),
        "layout_spec": _sha_or_none(spec),
        **plan.shared_inputs,
    }


# ----------------------------------------------------------------------------- update
def update(
    raw: str | Path = "data/raw",
    out: str | Path = "data/processed",
    *,
    force: bool = False,
    dry_run: bool = False,
    keep: int | None = None,
    wait: float = 0.0,
    run_options: RunOptions | Mapping[str, Any] | None = None,
    sources: str | Path | None = None,
    fetch: bool = False,
    fetch_timeout: float = 30.0,
    fetch_deadline: float | None = None,
    max_download_bytes: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> UpdateSummary:
    """Recompute the main job for new or changed tables; see the module docstring.

    Parameters
    ----------
    raw, out : path
        Where tables are dropped, and where results and the manifest live.
    force : bool
        Recompute every table (and, with ``fetch``, download without a conditional
        request).
    dry_run : bool
        Say what would be done; write nothing.
    keep : int, optional
        Keep at most this many runs per table (≥ 1; never pruning the latest good one).
    wait : float
        Seconds to wait for another update's lock before giving up.
    run_options : RunOptions or mapping, optional
        Options of every run (:class:`~io_clusters.options.RunOptions`, or a flat
        ``[run]`` mapping: ``seed``, ``n_boot``, ``lang``, ``regions``, ``year``,
        ``prices``, ``store``, ``labels``, default ``layout``/``country``…; ``out`` and
        ``model`` are refused). ``RunOptions.to_dict()`` is hashed with the content of
        the regional data, labels and evidence store: a change of any recomputes every
        table.
    sources, fetch, fetch_timeout, fetch_deadline, max_download_bytes
        With ``fetch``, download the tables listed in ``sources`` (TOML) first
        (:mod:`io_clusters.fetch`): per-read timeout, total seconds per download, size
        cap.
    progress : callable, optional
        Receives one line per step.

    Raises
    ------
    UpdateLockedError
        When another update holds the lock for more than ``wait`` seconds.
    OptionError
        For options that cannot work (``keep`` < 1, unknown keys), before any work.
    """
    from filelock import FileLock, Timeout

    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        raise OptionError(f"keep must be a whole number ≥ 1 (got {keep!r})")
    if fetch and sources is None:
        raise OptionError("--fetch needs --sources sources.toml")
    raw, out = Path(raw), Path(out)
    options = _as_options(run_options)
    regions, shared_inputs = _shared_inputs(options)
    if fetch:
        from .fetch import read_sources_file

        read_sources_file(Path(str(sources)))  # an unreadable file stops before any work
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / ".update.lock"))
    try:
        lock.acquire(timeout=wait)
    except Timeout as exc:
        raise UpdateLockedError(
            f"another io-clusters update is running on {out} (lock {out / '.update.lock'}); "
            "try again later or pass --wait SECONDS"
        ) from exc
    try:
        plan = _Plan(
            out=out,
            manifest_path=out / "manifest.json",
            options=options,
            regions=regions,
            shared_inputs=shared_inputs,
            keep=keep,
            force=force,
            dry_run=dry_run,
            say=progress or (lambda _m: None),
        )
        return _update_locked(
            plan, raw, sources, fetch, fetch_timeout, fetch_deadline, max_download_bytes
        )
    finally:
        lock.release()


def _update_locked(
    plan: _Plan,
    raw: Path,
    sources: str | Path | None,
    fetch: bool,
    timeout: float,
    deadline: float | None,
    max_bytes: int | None,
) -> UpdateSummary:
    notes: list[str] = []
    manifest = load_manifest(plan.manifest_path, notes=notes, dry_run=plan.dry_run)
    _migrate_paths(manifest, plan.out)
    if not plan.dry_run:
        _clean_partials(plan.out, raw)
    fetched: list[dict[str, Any]] = []
    if fetch:
        from .fetch import fetch_sources

        try:
            fetched = fetch_sources(
                Path(str(sources)),
                raw,
                manifest,
                timeout=timeout,
                dry_run=plan.dry_run,
                force=plan.force,
                deadline=deadline,
                max_bytes=max_bytes,
            )
        finally:
            if not plan.dry_run:
                save_manifest(plan.manifest_path, manifest)
    outcomes = []
    for path in scan(raw):
        key = path.relative_to(raw).as_posix()
        outcomes.append(_one_table(path, key=key, manifest=manifest, plan=plan))
        if not plan.dry_run:
            save_manifest(plan.manifest_path, manifest)
    return UpdateSummary(tuple(outcomes), tuple(fetched), tuple(notes))


def _why_compute(
    entry: dict[str, Any] | None, inputs: dict[str, Any], opts_key: str, plan: _Plan
) -> str | None:
    """Return why the table must be recomputed, or None when it is up to date."""
    if entry is None:
        return "new table"
    before = entry.get("inputs") or {"table": entry.get("sha256")}
    if before.get("table") != inputs["table"]:
        return "file changed"
    changed = sorted(k for k in inputs if k != "table" and before.get(k) != inputs[k])
    if changed and "inputs" in entry:
        return f"input changed: {', '.join(changed)}"
    if entry.get("tool_version") != __version__:
        return f"tool version changed ({entry.get('tool_version')} → {__version__})"
    if entry.get("options_hash") != opts_key or changed:
        return "method options changed"
    latest = entry.get("latest_run")
    if entry.get("status") != "ok" or not latest or not (plan.out / latest).is_dir():
        return "previous run failed or is missing"
    if plan.force:
        return "forced"
    return None


def _one_table(path: Path, *, key: str, manifest: dict[str, Any], plan: _Plan) -> TableOutcome:
    """Recompute one raw table if needed; record the outcome in ``manifest``."""
    entry = manifest["tables"].get(key)
    try:
        side = read_sidecar(path)
        inputs = _table_inputs(path, side, plan)
    except (OSError, IoClustersError) as exc:
        return _record_failure(key, manifest, plan, exc, reason="cannot read", inputs=None)
    opts_key = options_hash({"options": plan.options.to_dict(), "inputs": inputs})
    reason = _why_compute(entry, inputs, opts_key, plan)
    if reason is None:
        latest = str(plan.out / entry["latest_run"])
        return TableOutcome(
            key,
            "unchanged",
            "same file, inputs, version and options",
            latest,
            note=entry.get("duplicate_note"),
        )
    if plan.dry_run:
        return TableOutcome(key, "would compute", reason)
    plan.say(f"{key}: {reason}; computing")
    try:
        return _compute(
            path,
            key=key,
            side=side,
            inputs=inputs,
            opts_key=opts_key,
            reason=reason,
            manifest=manifest,
            plan=plan,
        )
    except Exception as exc:  # one table failing must not stop the others
        return _record_failure(key, manifest, plan, exc, reason=reason, inputs=inputs)


def _record_failure(
    key: str,
    manifest: dict[str, Any],
    plan: _Plan,
    exc: Exception,
    *,
    reason: str,
    inputs: dict[str, Any] | None,
) -> TableOutcome:
    prev = manifest["tables"].get(key, {})
    record = {
        **prev,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "finished": _now(),
    }
    if inputs is not None:
        record["inputs"], record["sha256"] = inputs, inputs["table"]
    if not plan.dry_run:
        manifest["tables"][key] = record
    log.warning("%s failed: %s", key, exc)
    latest = str(plan.out / prev["latest_run"]) if prev.get("latest_run") else None
    return TableOutcome(key, "failed", reason, latest, error=str(exc))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _table_dir(key: str, table_id: str, manifest: dict[str, Any]) -> tuple[str, str | None]:
    """Results directory of raw file ``key`` (relative to out) and a note on duplicates.

    Each raw file keeps its own directory: the first file with a table id gets
    ``<table-id>``, another file with the same id ``<table-id>--<file-stem>``.
    """
    from .table import slug

    base = slug(table_id)
    own = (manifest["tables"].get(key) or {}).get("table_dir")
    others = {e.get("table_dir"): k for k, e in manifest["tables"].items() if k != key}
    if own and (own == base or own.startswith(base + "--")) and own not in others:
        note = None
        if own != base and base in others:
            note = f"table id {table_id} is also that of {others[base]}; results kept apart"
        return own, note
    if base not in others:
        return base, None
    alt = f"{base}--{slug(Path(key).stem)}"
    k = 2
    while alt in others:
        alt = f"{base}--{slug(Path(key).stem)}-{k}"
        k += 1
    note = f"table id {table_id} is also that of {others[base]}; results kept apart in {alt}/"
    log.warning("%s: %s", key, note)
    return alt, note


def _compute(
    path: Path,
    *,
    key: str,
    side: dict[str, Any],
    inputs: dict[str, Any],
    opts_key: str,
    reason: str,
    manifest: dict[str, Any],
    plan: _Plan,
) -> TableOutcome:
    from .pipeline import run

    started = time.perf_counter()
    now = datetime.now(UTC)
    table, options = _read_for_update(path, side, plan)
    table_id = side.get("table_id") or table.meta.table_id
    dir_name, dup_note = _table_dir(key, table_id, manifest)
    table_dir = plan.out / dir_name
    runs = table_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".run.tmp-{process_tag()}-", dir=runs))
    honour_umask(tmp)  # mkdtemp makes 0700: the run directory gets the umask's mode
    try:
        _pause("before-run")
        result = run(table, options, out=tmp, regions=plan.regions)
        _pause("after-run")
        record = _start_record(inputs, opts_key, side, plan, now)
        comparison = _compare_editions(key, record, manifest, result, tmp, plan)
        final = _free_name(
            runs, f"{now.strftime('%Y%m%dT%H%M%S')}.{now.microsecond:06d}Z-{inputs['table'][:8]}"
        )
        with deferred_signals():  # the switch and its record happen together or not at all
            os.rename(tmp, final)
            _pause("before-latest")
            _point_latest(table_dir, final)
            record.update(
                _finished_record(
                    key,
                    manifest,
                    plan,
                    table,
                    table_id,
                    dir_name,
                    final,
                    started,
                    comparison,
                    dup_note,
                )
            )
            manifest["tables"][key] = record
            removed = _prune(plan.out, record, plan.keep) if plan.keep else []
            save_manifest(plan.manifest_path, manifest)
        if removed:
            log.info("%s: pruned %d old run(s): %s", key, len(removed), ", ".join(removed))
        return TableOutcome(
            key, "computed", reason, str(final), seconds=record["seconds"], note=dup_note
        )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _read_for_update(path: Path, side: dict[str, Any], plan: _Plan) -> tuple[Any, RunOptions]:
    """Read a raw table with the run options, the sidecar's layout and country winning."""
    from .readers import read_table

    options = plan.options.updated(
        layout=side.get("layout"), country=side.get("country")
    )  # the sidecar wins over the run.toml defaults
    layout: str | Path | None = options.layout
    if layout and str(layout).endswith(".toml"):
        layout = path.parent / str(layout)
    table = read_table(path, layout=layout, country=options.country, **options.reader_options())
    return table, options


def _start_record(
    inputs: dict[str, Any],
    opts_key: str,
    side: dict[str, Any],
    plan: _Plan,
    now: datetime,
) -> dict[str, Any]:
    """Return the manifest record of a run, as known before it is switched in."""
    return {
        "sha256": inputs["table"],
        "inputs": inputs,
        "tool_version": __version__,
        "options": plan.options.to_dict(),
        "options_hash": opts_key,
        "started": now.isoformat(timespec="seconds"),
        **{k: side[k] for k in ("series", "edition") if k in side},
    }


def _free_name(runs: Path, name: str) -> Path:
    final, k = runs / name, 1
    while final.exists():
        final = runs / f"{name}-{k}"
        k += 1
    return final


def _finished_record(
    key: str,
    manifest: dict[str, Any],
    plan: _Plan,
    table: Any,
    table_id: str,
    dir_name: str,
    final: Path,
    started: float,
    comparison: dict[str, Any] | None,
    dup_note: str | None,
) -> dict[str, Any]:
    prev = manifest["tables"].get(key) or {}
    rel = _rel(plan.out, final)
    previous_runs = [r for r in prev.get("runs", []) if (plan.out / r["dir"]).is_dir()]
    seq = max((int(r.get("seq", 0)) for r in previous_runs), default=0) + 1
    finished = _now()
    record: dict[str, Any] = {
        "status": "ok",
        "layout": table.meta.layout,
        "table_id": table_id,
        "table_dir": dir_name,
        "latest_run": rel,
        "finished": finished,
        "seconds": round(time.perf_counter() - started, 3),
        "error": None,
        "runs": [*previous_runs, {"dir": rel, "seq": seq, "finished": finished}],
        "duplicate_note": dup_note,
    }
    if comparison:
        record["changes"] = comparison
    return record


def _compare_editions(
    key: str,
    record: dict[str, Any],
    manifest: dict[str, Any],
    result: Any,
    run_dir: Path,
    plan: _Plan,
) -> dict[str, Any] | None:
    """Write ``changes.json`` and a changes sheet when an earlier edition exists."""
    from .editions import compare_runs, edition_key, write_changes

    series = record.get("series")
    if not series:
        return None
    current = edition_key(record.get("edition"))
    earlier = [
        (k, e)
        for k, e in manifest["tables"].items()
        if k != key
        and e.get("series") == series
        and e.get("status") == "ok"
        and e.get("latest_run")
        and edition_key(e.get("edition")) < current
    ]
    if not earlier:
        return None
    prev_key, prev = max(earlier, key=lambda kv: edition_key(kv[1].get("edition")))
    changes = compare_runs(
        plan.out / prev["latest_run"],
        run_dir,
        previous_label=str(prev.get("edition")),
        current_label=str(record.get("edition")),
    )
    write_changes(changes, run_dir, lang=plan.options.lang)
    return {"previous": prev_key, "summary_en": changes["summary_en"]}
