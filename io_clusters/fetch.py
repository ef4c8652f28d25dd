"""Downloading published tables listed in a ``sources.toml`` (``io-clusters update --fetch``).

Each ``[[source]]`` has ``name``, ``url``, ``file`` (the name in ``data/raw``), and
optionally ``layout``, ``country``, ``series``, ``edition`` (written to the sidecar
``NAME.toml``) and ``sha256`` (expected hash). For each source:

* a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the previous
  response, kept in the manifest) — only when the local file still exists with the hash
  recorded at that download, and never with ``force``; 304 means nothing to do;
* a timeout per read, a total deadline per download (a server trickling one byte a
  second is cut off) and a size cap (checked against ``Content-Length`` before reading,
  and while reading);
* redirects are followed only within the same host (and never from https to http); a
  redirect elsewhere is refused with the address it pointed to;
* the body is written to a hidden temporary file in ``data/raw``, checked against
  ``Content-Length`` (truncation) and ``sha256``, and read and validated as a table
  *before* it is accepted;
* only then does it replace the file in ``data/raw``; the previous edition is kept in
  ``data/raw/.editions/``. A failed download never touches ``data/raw``.

One bad source (a malformed URL or entry, a lying server) is reported as failed and
does not stop the others. Only ``http``/``https`` URLs are accepted, and file names are
reduced to a safe base name (no directories, no traversal).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from .errors import IoClustersError, OptionError
from .export import atomic_path
from .publish import honour_umask, process_tag
from .readers import DEFAULT_LIMITS, file_sha256

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
_SUFFIXES = (".xlsx", ".xlsm", ".csv")
_TEXT_KEYS = ("name", "url", "file", "layout", "country", "series", "sha256")
USER_AGENT = "io_clusters-fetch"
#: Total seconds one download may take (headers and body), by default.
DEFAULT_DEADLINE = 600.0
#: Largest body accepted, by default (the readers' file-size limit).
DEFAULT_MAX_BYTES = DEFAULT_LIMITS.max_file_bytes


def read_sources_file(path: Path) -> list[Any]:
    """Return the ``[[source]]`` entries of ``path`` (file-level problems: OptionError)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: sources file not found") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OptionError(f"{path}: cannot read the sources file ({exc})") from exc
    sources = data.get("source", [])
    if not isinstance(sources, list):
        raise OptionError(f"{path.name}: 'source' must be an array of [[source]] tables")
    return sources


def source_problem(s: Any, fname: str) -> str | None:
    """Say what is wrong with one ``[[source]]`` entry (None when it can be fetched)."""
    if not isinstance(s, dict):
        return f"{fname}: a [[source]] entry is not a table"
    for key in ("name", "url", "file"):
        if key not in s:
            return f"{fname}: a [[source]] lacks {key!r}"
    label = s["name"] if isinstance(s["name"], str) else repr(s["name"])
    for key in _TEXT_KEYS:
        if key in s and not isinstance(s[key], str):
            return f"{fname}: source {label!r}: {key} must be text (got {s[key]!r})"
    edition = s.get("edition", "")
    if isinstance(edition, bool) or not isinstance(edition, str | int):
        return f"{fname}: source {label!r}: edition must be text or a number"
    try:
        parts = urlsplit(s["url"])
    except ValueError as exc:
        return f"{fname}: source {label!r}: malformed URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{fname}: source {label!r}: only http(s) URLs are fetched"
    if not parts.hostname or any(c.isspace() for c in s["url"]):
        return f"{fname}: source {label!r}: malformed URL {s['url']!r}"
    name = Path(s["file"]).name
    if name != s["file"] or not _SAFE.match(name) or Path(name).suffix.lower() not in _SUFFIXES:
        return (
            f"{fname}: source {label!r}: file must be a plain name ending in "
            f"{', '.join(_SUFFIXES)} (got {s['file']!r})"
        )
    return None


def load_sources(path: Path) -> list[dict[str, Any]]:
    """Read and check ``sources.toml``; any problem raises :class:`OptionError`."""
    sources = read_sources_file(path)
    for s in sources:
        problem = source_problem(s, path.name)
        if problem:
            raise OptionError(problem)
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


class _SameHostRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects within the same host only; refuse the others with the target."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        downgrade = old.scheme == "https" and new.scheme != "https"
        if new.hostname != old.hostname or downgrade or new.scheme not in ("http", "https"):
            raise urllib.error.HTTPError(
                req.full_url,
                code,
                f"redirect to {newurl} refused (another host or protocol); "
                "put that address in sources.toml if you trust it",
                headers,
                fp,
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Refused(Exception):
    """A download refused on purpose (size, deadline, bad header)."""


def _download(
    req: urllib.request.Request, tmp: Path, *, timeout: float, deadline: float, max_bytes: int
) -> tuple[int, str, Any, str]:
    """Stream the body to ``tmp``; return (bytes, sha256, headers, final URL)."""
    stop = time.monotonic() + deadline
    opener = urllib.request.build_opener(_SameHostRedirect)
    with opener.open(req, timeout=min(timeout, deadline)) as resp:
        declared = resp.headers.get("Content-Length")
        expected = None
        if declared is not None:
            try:
                expected = int(declared)
            except ValueError:
                expected = -1
            if expected < 0:
                raise _Refused(f"the server sent a bad Content-Length ({declared!r})")
            if expected > max_bytes:
                raise _Refused(f"{expected:,} bytes announced, more than the cap {max_bytes:,}")
        h, n = hashlib.sha256(), 0
        with open(tmp, "wb") as fh:
            while chunk := resp.read1(1 << 16):
                n += len(chunk)
                if n > max_bytes:
                    raise _Refused(f"more than the cap of {max_bytes:,} bytes; stopped")
                if time.monotonic() > stop:
                    raise _Refused(f"not finished within the deadline of {deadline:g} s")
                fh.write(chunk)
                h.update(chunk)
        if expected is not None and expected != n:
            raise _Refused(f"truncated download: {n} of {expected} bytes")
        return n, h.hexdigest(), resp.headers, resp.geturl()


def fetch_one(
    source: dict[str, Any],
    raw: Path,
    state: dict[str, Any],
    *,
    timeout: float,
    dry_run: bool,
    force: bool = False,
    deadline: float | None = None,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Fetch one source; returns ``{name, status, message}`` (status ok/unchanged/failed)."""
    name = source["name"]
    if dry_run:
        return {"name": name, "status": "would fetch", "message": source["url"]}
    target = raw / source["file"]
    req = urllib.request.Request(source["url"], headers={"User-Agent": USER_AGENT})
    # a conditional request only when the local copy is the one that response described
    if not force and target.is_file() and state.get("sha256") == file_sha256(target):
        if state.get("etag"):
            req.add_header("If-None-Match", state["etag"])
        if state.get("last_modified"):
            req.add_header("If-Modified-Since", state["last_modified"])
    raw.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".fetch.tmp-{process_tag()}-", dir=raw)
    os.close(fd)
    tmp = Path(tmp_name)
    failed = {"name": name, "status": "failed"}
    try:
        try:
            n, digest, headers, final_url = _download(
                req,
                tmp,
                timeout=timeout,
                deadline=deadline or DEFAULT_DEADLINE,
                max_bytes=max_bytes or DEFAULT_MAX_BYTES,
            )
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return {"name": name, "status": "unchanged", "message": "304 Not Modified"}
            return {**failed, "message": f"HTTP {exc.code} {exc.reason}"}
        except _Refused as exc:
            return {**failed, "message": f"refused: {exc}"}
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            return {**failed, "message": f"download failed: {type(exc).__name__}: {reason}"}
        if source.get("sha256") and source["sha256"].lower() != digest:
            return {
                **failed,
                "message": f"sha256 mismatch: got {digest[:12]}…, "
                f"expected {source['sha256'][:12]}…",
            }
        try:
            _validate_candidate(tmp, source)
        except Exception as exc:
            return {**failed, "message": f"not accepted: {exc}"}
        redirected = f" (redirected to {final_url})" if final_url != source["url"] else ""
        state.update(
            {
                "etag": headers.get("ETag"),
                "last_modified": headers.get("Last-Modified"),
                "url": source["url"],
                "sha256": digest,
            }
        )
        if target.is_file() and file_sha256(target) == digest:
            return {"name": name, "status": "unchanged", "message": "same content as data/raw"}
        _install(tmp, target, source)
        return {"name": name, "status": "ok", "message": f"{n} bytes → {target.name}{redirected}"}
    finally:
        if tmp.exists():
            tmp.unlink()


def _install(tmp: Path, target: Path, source: dict[str, Any]) -> None:
    """Keep the previous edition, move the download into place, write the sidecar."""
    if target.exists():
        keep = target.parent / ".editions"
        keep.mkdir(exist_ok=True)
        old = file_sha256(target)[:8]
        with atomic_path(keep / f"{target.stem}.{old}{target.suffix}") as kept:
            shutil.copy2(target, kept)
    honour_umask(tmp, like=target)
    os.replace(tmp, target)
    side = {k: source[k] for k in ("layout", "country", "series", "edition") if k in source}
    if side:
        body = "".join(
            f"{k} = {v}\n" if isinstance(v, int) else f"{k} = {json.dumps(str(v))}\n"
            for k, v in side.items()
        )
        with atomic_path(target.with_suffix(".toml")) as side_tmp:
            side_tmp.write_text(body, encoding="utf-8")


def fetch_sources(
    sources_path: Path,
    raw: Path,
    manifest: dict[str, Any],
    *,
    timeout: float,
    dry_run: bool,
    force: bool = False,
    deadline: float | None = None,
    max_bytes: int | None = None,
) -> list[dict[str, Any]]:
    """Fetch every source of ``sources_path``; state (ETag…) kept in ``manifest``.

    A source that cannot be fetched (bad entry, bad URL, failing server) is reported as
    failed; the others are fetched all the same.
    """
    states = manifest.setdefault("sources", {})
    out = []
    for i, source in enumerate(read_sources_file(sources_path), start=1):
        problem = source_problem(source, sources_path.name)
        if problem:
            label = source.get("name") if isinstance(source, dict) else None
            name = label if isinstance(label, str) else f"#{i}"
            out.append({"name": name, "status": "failed", "message": problem})
            continue
        state = states.setdefault(source["name"], {})
        out.append(
            fetch_one(
                source,
                raw,
                state,
                timeout=timeout,
                dry_run=dry_run,
                force=force,
                deadline=deadline,
                max_bytes=max_bytes,
            )
        )
    return out
