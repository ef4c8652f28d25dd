"""Downloading published tables listed in a ``sources.toml`` (``io-clusters update --fetch``).

Each ``[[source]]`` has ``name``, ``url``, ``file`` (the name in ``data/raw``), and
optionally ``layout``, ``country``, ``series``, ``edition`` (written to the sidecar
``NAME.toml``) and ``sha256`` (expected hash). For each source:

* a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the previous
  response, kept in the manifest) with a timeout; 304 means nothing to do;
* the body is written to a hidden temporary file in ``data/raw``, checked against
  ``Content-Length`` (truncation) and ``sha256``, and read and validated as a table
  *before* it is accepted;
* only then does it replace the file in ``data/raw``; the previous edition is kept in
  ``data/raw/.editions/``. A failed download never touches ``data/raw``.

Only ``http``/``https`` URLs are accepted, and file names are reduced to a safe base
name (no directories, no traversal).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tempfile
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .errors import IoClustersError

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
_SUFFIXES = (".xlsx", ".xlsm", ".csv")
USER_AGENT = "io_clusters-fetch"


def load_sources(path: Path) -> list[dict[str, Any]]:
    """Read and check ``sources.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise IoClustersError(f"{path}: cannot read the sources file ({exc})") from exc
    sources = data.get("source", [])
    for s in sources:
        for key in ("name", "url", "file"):
            if key not in s:
                raise IoClustersError(f"{path.name}: a [[source]] lacks {key!r}")
        if not s["url"].lower().startswith(("http://", "https://")):
            raise IoClustersError(
                f"{path.name}: source {s['name']!r}: only http(s) URLs are fetched"
            )
        name = Path(s["file"]).name
        if name != s["file"] or not _SAFE.match(name) or Path(name).suffix.lower() not in _SUFFIXES:
            raise IoClustersError(
                f"{path.name}: source {s['name']!r}: file must be a plain name ending in "
                f"{', '.join(_SUFFIXES)} (got {s['file']!r})"
            )
    return sources


def _validate_candidate(tmp: Path, source: dict[str, Any]) -> None:
    from .readers import read_table
    from .validate import validate

    named = tmp.with_name(tmp.name + Path(source["file"]).suffix)
    os.replace(tmp, named)
    try:
        table = read_table(named, layout=source.get("layout"), country=source.get("country"))
        report = validate(table)
        if not report.ok:
            raise IoClustersError(f"downloaded file fails validation: {report.errors[0].message}")
    finally:
        os.replace(named, tmp)


def fetch_one(
    source: dict[str, Any], raw: Path, state: dict[str, Any], *, timeout: float, dry_run: bool
) -> dict[str, Any]:
    """Fetch one source; returns ``{name, status, message}`` (status ok/unchanged/failed)."""
    name = source["name"]
    if dry_run:
        return {"name": name, "status": "would fetch", "message": source["url"]}
    req = urllib.request.Request(source["url"], headers={"User-Agent": USER_AGENT})
    if state.get("etag"):
        req.add_header("If-None-Match", state["etag"])
    if state.get("last_modified"):
        req.add_header("If-Modified-Since", state["last_modified"])
    raw.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".fetch-", dir=raw)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                expected = resp.headers.get("Content-Length")
                h = hashlib.sha256()
                n = 0
                with open(tmp, "wb") as fh:
                    while chunk := resp.read(1 << 16):
                        fh.write(chunk)
                        h.update(chunk)
                        n += len(chunk)
                etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return {"name": name, "status": "unchanged", "message": "304 Not Modified"}
            return {"name": name, "status": "failed", "message": f"HTTP {exc.code} {exc.reason}"}
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            return {"name": name, "status": "failed", "message": f"download failed: {reason}"}
        if expected is not None and int(expected) != n:
            return {
                "name": name,
                "status": "failed",
                "message": f"truncated download: {n} of {expected} bytes",
            }
        digest = h.hexdigest()
        if source.get("sha256") and source["sha256"].lower() != digest:
            return {
                "name": name,
                "status": "failed",
                "message": f"sha256 mismatch: got {digest[:12]}…, "
                f"expected {source['sha256'][:12]}…",
            }
        try:
            _validate_candidate(tmp, source)
        except Exception as exc:
            return {"name": name, "status": "failed", "message": f"not accepted: {exc}"}
        target = raw / source["file"]
        state.update({"etag": etag, "last_modified": modified, "url": source["url"]})
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
            return {"name": name, "status": "unchanged", "message": "same content as data/raw"}
        if target.exists():
            keep = raw / ".editions"
            keep.mkdir(exist_ok=True)
            old = hashlib.sha256(target.read_bytes()).hexdigest()[:8]
            shutil.copy2(target, keep / f"{target.stem}.{old}{target.suffix}")
        os.replace(tmp, target)
        side = {k: source[k] for k in ("layout", "country", "series", "edition") if k in source}
        if side:
            body = "".join(f'{k} = "{v}"\n' for k, v in side.items())
            side_tmp = target.with_name(f".{target.stem}.toml.tmp")
            side_tmp.write_text(body, encoding="utf-8")
            os.replace(side_tmp, target.with_suffix(".toml"))
        state["sha256"] = digest
        return {"name": name, "status": "ok", "message": f"{n} bytes → {target.name}"}
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch_sources(
    sources_path: Path, raw: Path, manifest: dict[str, Any], *, timeout: float, dry_run: bool
) -> list[dict[str, Any]]:
    """Fetch every source of ``sources_path``; state (ETag…) kept in ``manifest``."""
    states = manifest.setdefault("sources", {})
    out = []
    for source in load_sources(sources_path):
        state = states.setdefault(source["name"], {})
        out.append(fetch_one(source, raw, state, timeout=timeout, dry_run=dry_run))
    return out
