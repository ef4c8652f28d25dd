"""Putting a finished set of outputs in place: whole sets, honest modes, no debris.

Used by :func:`io_clusters.run` and :func:`io_clusters.update.update`:

* :func:`work_dir` makes the private sibling directory a run writes into; its name
  carries the process id and a tag of the host (``.<name>.tmp-<pid>h<host>-<random>``), so
  a later run can tell a directory left by a killed process from one still being
  written (only names of its own machine are judged: on a network share a process id
  says nothing of another machine's processes);
* :func:`publish_dir` replaces the output directory by the finished one with a single
  atomic exchange (``renameat2(RENAME_EXCHANGE)`` on Linux). Where that call is missing,
  the old set is first renamed aside (``.<name>.old-<pid>-…``) and put back by
  :func:`clean_stale` if the process dies before the new set is in place. Readers see the
  old set or the new set, never a mix; files in the directory that are not outputs of the
  run are carried over (hard links);
* :func:`honour_umask` gives a directory or file the mode a plain ``mkdir`` / ``open``
  would have given it (``mkdtemp`` and ``mkstemp`` create 0700 / 0600);
* :func:`check_not_inputs` refuses a run whose output would overwrite one of its inputs,
  :func:`check_replaceable` an output directory that holds the working directory;
* :func:`deferred_signals` holds SIGINT/SIGTERM during the few system calls that switch
  a result into place, and delivers them right after.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError

log = logging.getLogger(__name__)

#: Names a run writes into its output directory (``figures`` is a directory).
OUTPUT_NAMES = (
    "table.csv",
    "validation.json",
    "linkages.csv",
    "candidates.json",
    "candidates.xlsx",
    "figures",
    "report.html",
    "changes.json",
)
_NAME_MAX = 255
_TMP_RE = re.compile(
    r"^\..*\.(tmp|old)-(\d+)(?:h([0-9a-f]{8}))?-[A-Za-z0-9_]+(\.[A-Za-z0-9]{1,5})?$"
)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def current_umask() -> int:
    """Return the process umask without changing it (Linux), else by set-and-restore."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(path: Path, *, like: Path | None = None) -> None:
    """Give ``path`` the mode of ``like`` (when it exists) or the umask's default mode."""
    try:
        if like is not None and like.exists():
            mode = like.stat().st_mode & 0o7777
        else:
            base = 0o777 if path.is_dir() else 0o666
            mode = base & ~current_umask()
        os.chmod(path, mode)
    except OSError as exc:  # a file system without modes (e.g. some network shares)
        log.debug("could not set the mode of %s: %s", path, exc)


def process_tag() -> str:
    """Return ``<pid>h<host>``: who writes a temporary name, for :func:`clean_stale`.

    The host part (8 hex digits of a hash of the host name) keeps a run on one machine
    from taking the temporary files of a run on another for debris of a dead process,
    where both write to one network share (a process id means nothing across machines).
    """
    return f"{os.getpid()}h{_host_tag()}"


@functools.cache
def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _short(name: str) -> str:
    return name[:60]


def check_writable_dir(out_dir: Path) -> None:
    """Raise :class:`OutputError` when ``out_dir`` cannot hold a run's outputs.

    Checked before any computation: ``out_dir`` a file, a name too long for the file
    system, a parent that is not a directory.
    """
    for part in out_dir.parts:
        if len(os.fsencode(part)) > _NAME_MAX:
            raise OutputError(
                f"{out_dir}: the name {part[:40]!r}… is {len(part)} characters long; "
                f"the file system allows {_NAME_MAX}: choose a shorter --out"
            )
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is a file; --out must name a directory")
    for parent in out_dir.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{out_dir}: {parent} is a file, not a directory")
            break


def check_replaceable(out_dir: Path) -> None:
    """Refuse an ``out_dir`` that holds the working directory (a run replaces it whole)."""
    check_writable_dir(out_dir)
    if Path.cwd().resolve().is_relative_to(out_dir.resolve()):
        raise OutputError(
            f"--out {out_dir} is the working directory or contains it; the outputs replace "
            "their directory as a whole: name one for them (e.g. --out results/peru)"
        )


def check_not_inputs(out_dir: Path, inputs: Iterable[str | Path | None]) -> None:
    """Refuse outputs that would overwrite an input (``table.csv`` read from ``--out``…)."""
    outputs = {(out_dir / n).resolve(): n for n in OUTPUT_NAMES}
    figures = (out_dir / "figures").resolve()
    root = out_dir.resolve()
    for item in inputs:
        if item is None or str(item).startswith("example:"):
            continue
        p = Path(item).resolve()
        if p == root:
            raise OutputError(f"--out {out_dir} is the input file itself; choose a directory")
        if p in outputs or p.is_relative_to(figures):
            raise OutputError(
                f"{item}: this input would be overwritten by the output "
                f"{out_dir / outputs.get(p, 'figures')}; choose another --out or move the input"
            )


def work_dir(out_dir: Path) -> Path:
    """Create the private sibling directory a run writes into (mode from the umask)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out_dir.parent)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{_short(out_dir.name)}.tmp-{process_tag()}-", dir=out_dir.parent)
    )
    honour_umask(tmp, like=out_dir if out_dir.is_dir() else None)
    return tmp


def clean_stale(parent: Path) -> list[Path]:
    """Remove temporary directories and files left in ``parent`` by dead processes.

    A set of old outputs renamed aside (``.<name>.old-<pid>-…``) whose output directory
    is missing is put back instead. Returns what was removed or restored.
    """
    done: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return done
    for p in entries:
        m = _TMP_RE.match(p.name)
        if not m:
            continue
        if m.group(3) is not None and m.group(3) != _host_tag():
            log.debug("left %s: written from another machine", p)
            continue
        if _pid_alive(int(m.group(2))):
            continue
        if m.group(1) == "old":
            target = parent / p.name[1:].rsplit(".old-", 1)[0]
            if not target.exists() and len(target.name) == len(_short(target.name)):
                os.rename(p, target)
                log.warning("restored %s: the process replacing it was killed", target)
                done.append(p)
                continue
        _remove(p)
        log.info("removed %s, left by an interrupted process", p)
        done.append(p)
    return done


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False when not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _carry_over(old: Path, new: Path) -> None:
    """Link into ``new`` every entry of ``old`` that is not an output of the run."""
    for entry in old.iterdir():
        if entry.name in OUTPUT_NAMES or _TMP_RE.match(entry.name):
            continue
        dest = new / entry.name
        if dest.exists() or dest.is_symlink():
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dest)
        elif entry.is_dir():
            shutil.copytree(entry, dest, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, dest)


def _keep_modes(old: Path, new: Path) -> None:
    """Give each new output the mode of the file it replaces (a 0644 file stays 0644)."""
    for path in new.rglob("*"):
        before = old / path.relative_to(new)
        if before.exists() and not before.is_symlink() and not path.is_symlink():
            honour_umask(path, like=before)


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish_dir(work: Path, out_dir: Path) -> None:
    """Put the finished directory ``work`` in place of ``out_dir`` in one step.

    Files of ``out_dir`` that are not run outputs (:data:`OUTPUT_NAMES`) are kept.
    """
    honour_umask(work, like=out_dir if out_dir.is_dir() else None)
    if not out_dir.exists():
        os.rename(work, out_dir)
        return
    _carry_over(out_dir, work)
    _keep_modes(out_dir, work)
    with deferred_signals():
        if _exchange(work, out_dir):
            old = work
        else:  # keep the old set aside until the new one is in place
            old = Path(
                tempfile.mkdtemp(
                    prefix=f".{_short(out_dir.name)}.old-{process_tag()}-", dir=out_dir.parent
                )
            )
            os.rmdir(old)
            os.rename(out_dir, old)
            os.rename(work, out_dir)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the duration of the block, then deliver them.

    Only in the main thread (where Python runs signal handlers); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[signal.Signals] = []

    def hold(signum: int, _frame: object) -> None:
        pending.append(signal.Signals(signum))

    old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if pending:
            handler = old[pending[0]]
            if callable(handler):
                handler(pending[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), pending[0])


#: errno values that describe the environment (where the outputs go), not a bug.
ENV_ERRNOS = frozenset(
    {
        errno.EROFS,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.EACCES,
        errno.EPERM,
        errno.EMLINK,
        errno.EXDEV,
    }
)


def as_output_error(exc: OSError, where: Path) -> OSError:
    """Turn an environment ``OSError`` met while writing into :class:`OutputError`."""
    if isinstance(exc, OutputError) or exc.errno not in ENV_ERRNOS:
        return exc
    name = f" ({exc.filename})" if exc.filename else ""
    hint = {
        errno.EROFS: "the file system is read-only",
        errno.ENOSPC: "the disk is full: free space and run again",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EFBIG: "a file exceeds the size this system allows",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENAMETOOLONG: "a name is too long for the file system: choose a shorter --out",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(f"cannot write the outputs to {where}: {hint}{name}; nothing was changed")
