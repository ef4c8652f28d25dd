"""Scheduled recomputation: ``io-clusters update``.

For every table in the raw directory (``data/raw/``; a sidecar ``NAME.toml`` may give
``layout``, ``country``, ``series`` and ``edition``), hash the file and compare with
the manifest (``data/processed/manifest.json``). The main job runs only for new or
changed tables, or when the tool version or the method options changed. Guarantees:

* **nothing half-written**: a run is written into a hidden temporary directory and
  renamed into ``<out>/<table-id>/runs/<run-id>/`` only when complete; the
  ``<table-id>/latest`` pointer (a symbolic link, plus ``LATEST`` text file) is switched
  after that, atomically; the manifest is replaced atomically after every table;
* **nothing lost**: earlier runs stay; ``keep=N`` prunes the oldest, never the last
  good one;
* **one at a time**: a lock file (:mod:`filelock`, an OS-level lock released by the
  kernel when a process dies, so a killed run leaves no stale lock) makes a second
  ``update`` wait up to ``wait`` seconds, then exit cleanly;
* **one failure does not stop the others**: it is recorded in the manifest and the
  summary, and the exit code says that some tables failed;
* **editions**: when a table's sidecar names a ``series`` that already has an earlier
  edition, ``changes.json`` (and a ``Cambios``/``Changes`` sheet in the workbook)
  explain what changed (:mod:`io_clusters.editions`).

Exit codes of ``io-clusters update``: 0 all done (or nothing to do), 9 some tables
failed, 75 another update holds the lock.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import IoClustersError
from .export import atomic_path
from .readers._cells import file_sha256

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv")
SIDECAR_KEYS = {"layout", "country", "series", "edition", "table_id"}
EXIT_SOME_FAILED = 9
EXIT_LOCKED = 75


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


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """All outcomes of one ``update``."""

    outcomes: tuple[TableOutcome, ...] = field(default_factory=tuple)
    fetched: tuple[dict[str, Any], ...] = ()

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
        out = [f"fetch {f['name']}: {f['status']} — {f['message']}" for f in self.fetched]
        for o in self.outcomes:
            extra = f" → {o.run_dir}" if o.run_dir else ""
            err = f": {o.error}" if o.error else ""
            out.append(f"{o.action:13} {o.path} ({o.reason}){extra}{err}")
        computed = sum(o.action == "computed" for o in self.outcomes)
        if not self.outcomes:
            out.append("no tables found")
        elif computed == 0 and not self.failed:
            out.append("nothing to recompute: every table is unchanged")
        return out


def options_hash(options: dict[str, Any]) -> str:
    """Short hash of the method options (recomputation when they change)."""
    text = json.dumps(options, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_manifest(path: Path) -> dict[str, Any]:
    """Read the manifest (an empty one when absent)."""
    if not path.exists():
        return {"version": 1, "tables": {}, "sources": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def save_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically (it is valid JSON at every instant)."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )


def read_sidecar(table_path: Path) -> dict[str, Any]:
    """Options of ``NAME.toml`` beside ``NAME.xlsx`` (empty when absent)."""
    side = table_path.with_suffix(".toml")
    if not side.exists():
        return {}
    data = tomllib.loads(side.read_text(encoding="utf-8"))
    unknown = set(data) - SIDECAR_KEYS
    if unknown:
        raise IoClustersError(
            f"{side.name}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(SIDECAR_KEYS))}"
        )
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
    tmp_link = table_dir / f".latest.{os.getpid()}"
    try:
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(rel, tmp_link)
        os.replace(tmp_link, table_dir / "latest")
    except OSError as exc:  # file systems without symlinks: the text pointer suffices
        log.warning("could not switch the latest symlink (%s); LATEST file updated", exc)
    with atomic_path(table_dir / "LATEST") as tmp:
        tmp.write_text(rel + "\n", encoding="utf-8")


def _prune(table_dir: Path, keep: int, latest: Path) -> list[str]:
    """Delete the oldest runs beyond ``keep``, never ``latest``; return their names."""
    runs = sorted(
        p for p in (table_dir / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    removed = []
    for old in runs[: max(0, len(runs) - keep)]:
        if old.resolve() == latest.resolve():
            continue  # never the last good run
        shutil.rmtree(old)
        removed.append(old.name)
    return removed


def _clean_partials(out: Path) -> None:
    """Remove temporary run directories left by killed updates."""
    for tmp in out.glob("*/runs/.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
        log.info("removed an unfinished run left by an interrupted update: %s", tmp)


def _pause(stage: str) -> None:
    """Test hook: sleep at a named stage (IO_CLUSTERS_TEST_PAUSE=stage:seconds)."""
    spec = os.environ.get("IO_CLUSTERS_TEST_PAUSE", "")
    if spec.startswith(stage + ":"):
        time.sleep(float(spec.split(":", 1)[1]))


def update(
    raw: str | Path = "data/raw",
    out: str | Path = "data/processed",
    *,
    force: bool = False,
    dry_run: bool = False,
    keep: int | None = None,
    wait: float = 0.0,
    run_options: dict[str, Any] | None = None,
    sources: str | Path | None = None,
    fetch: bool = False,
    fetch_timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> UpdateSummary:
    """Recompute the main job for new or changed tables; see the module docstring.

    Parameters
    ----------
    raw, out : path
        Where tables are dropped, and where results and the manifest live.
    force : bool
        Recompute every table.
    dry_run : bool
        Say what would be done; write nothing.
    keep : int, optional
        Keep at most this many runs per table (never pruning the latest good one).
    wait : float
        Seconds to wait for another update's lock before giving up.
    run_options : dict, optional
        Options of :func:`io_clusters.run` (``seed``, ``n_boot``, ``lang``, ``k``…);
        a change of options recomputes every table.
    sources, fetch, fetch_timeout
        With ``fetch``, download the tables listed in ``sources`` (TOML) first
        (:mod:`io_clusters.fetch`).
    progress : callable, optional
        Receives one line per step.

    Raises
    ------
    UpdateLockedError
        When another update holds the lock for more than ``wait`` seconds.
    """
    from filelock import FileLock, Timeout

    raw, out = Path(raw), Path(out)
    say = progress or (lambda _m: None)
    opts = dict(run_options or {})
    opts_key = options_hash(opts)
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
        manifest_path = out / "manifest.json"
        manifest = load_manifest(manifest_path)
        fetched: list[dict[str, Any]] = []
        if fetch:
            from .fetch import fetch_sources

            if sources is None:
                raise IoClustersError("--fetch needs --sources sources.toml")
            fetched = fetch_sources(
                Path(sources), raw, manifest, timeout=fetch_timeout, dry_run=dry_run
            )
            if not dry_run:
                save_manifest(manifest_path, manifest)
        if not dry_run:
            _clean_partials(out)
        outcomes = []
        for path in scan(raw):
            key = str(path.relative_to(raw)) if path.is_relative_to(raw) else path.name
            outcome = _one_table(
                path, key, out, manifest, opts, opts_key, force, dry_run, keep, say
            )
            outcomes.append(outcome)
            if not dry_run:
                save_manifest(manifest_path, manifest)
        return UpdateSummary(tuple(outcomes), tuple(fetched))
    finally:
        lock.release()


def _one_table(
    path: Path,
    key: str,
    out: Path,
    manifest: dict[str, Any],
    opts: dict[str, Any],
    opts_key: str,
    force: bool,
    dry_run: bool,
    keep: int | None,
    say: Callable[[str], None],
) -> TableOutcome:
    from .pipeline import run
    from .readers import read_table
    from .table import slug

    sha = file_sha256(path)
    entry = manifest["tables"].get(key)
    reason = "new table"
    if entry is not None:
        latest_ok = entry.get("status") == "ok" and Path(entry.get("latest_run", "")).is_dir()
        if entry.get("sha256") != sha:
            reason = "file changed"
        elif entry.get("tool_version") != __version__:
            reason = f"tool version changed ({entry.get('tool_version')} → {__version__})"
        elif entry.get("options_hash") != opts_key:
            reason = "method options changed"
        elif not latest_ok:
            reason = "previous run failed or is missing"
        elif force:
            reason = "forced"
        else:
            return TableOutcome(
                key, "unchanged", "same file, version and options", entry.get("latest_run")
            )
    if dry_run:
        return TableOutcome(key, "would compute", reason)
    say(f"{key}: {reason}; computing")
    started = time.perf_counter()
    now = datetime.now(UTC)
    record: dict[str, Any] = {
        "sha256": sha,
        "tool_version": __version__,
        "options": opts,
        "options_hash": opts_key,
        "started": now.isoformat(timespec="seconds"),
    }
    try:
        side = read_sidecar(path)
        record.update({k: side[k] for k in ("series", "edition") if k in side})
        table = read_table(path, layout=side.get("layout"), country=side.get("country"))
        table_id = side.get("table_id") or table.meta.table_id
        table_dir = out / slug(table_id)
        runs = table_dir / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        run_id = f"{now.strftime('%Y%m%dT%H%M%S')}.{now.microsecond:06d}Z-{sha[:8]}"
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=runs))
        _pause("before-run")
        result = run(table, out=tmp, **opts)
        _pause("after-run")
        comparison = _compare_editions(key, record, manifest, table, result, tmp, opts)
        final = runs / run_id
        k = 1
        while final.exists():
            final = runs / f"{run_id}-{k}"
            k += 1
        os.rename(tmp, final)
        _pause("before-latest")
        _point_latest(table_dir, final)
        if keep:
            _prune(table_dir, keep, final)
        seconds = round(time.perf_counter() - started, 3)
        record.update(
            {
                "status": "ok",
                "layout": table.meta.layout,
                "table_id": table_id,
                "latest_run": str(final),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": seconds,
                "error": None,
            }
        )
        previous_runs = manifest["tables"].get(key, {}).get("runs", [])
        runs_list = [r for r in previous_runs if Path(r["dir"]).is_dir()]
        runs_list.append({"dir": str(final), "sha256": sha, "finished": record["finished"]})
        record["runs"] = runs_list
        if comparison:
            record["changes"] = comparison
        manifest["tables"][key] = record
        return TableOutcome(key, "computed", reason, str(final), seconds=seconds)
    except Exception as exc:  # one table failing must not stop the others
        if "tmp" in locals() and Path(tmp).exists():
            shutil.rmtree(tmp, ignore_errors=True)
        prev = manifest["tables"].get(key, {})
        record.update(
            {
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
                "latest_run": prev.get("latest_run"),
                "runs": prev.get("runs", []),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        manifest["tables"][key] = record
        log.warning("%s failed: %s", key, exc)
        return TableOutcome(key, "failed", reason, prev.get("latest_run"), error=str(exc))


def _compare_editions(
    key: str,
    record: dict[str, Any],
    manifest: dict[str, Any],
    table: Any,
    result: Any,
    run_dir: Path,
    opts: dict[str, Any],
) -> dict[str, Any] | None:
    """Write ``changes.json`` and a changes sheet when an earlier edition exists."""
    series = record.get("series")
    if not series:
        return None
    earlier = [
        (k, e)
        for k, e in manifest["tables"].items()
        if k != key
        and e.get("series") == series
        and e.get("status") == "ok"
        and str(e.get("edition", "")) < str(record.get("edition", ""))
    ]
    if not earlier:
        return None
    prev_key, prev = max(earlier, key=lambda kv: str(kv[1].get("edition", "")))
    from .editions import compare_runs, write_changes

    changes = compare_runs(
        Path(prev["latest_run"]),
        run_dir,
        previous_label=str(prev.get("edition")),
        current_label=str(record.get("edition")),
    )
    write_changes(changes, run_dir, lang=opts.get("lang", "es"))
    return {"previous": prev_key, "summary_en": changes["summary_en"]}
