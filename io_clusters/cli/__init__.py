"""The ``io-clusters`` command: a thin layer over the library functions.

One module per command group registers its commands and turns their arguments into
library calls: :mod:`~io_clusters.cli.tables` (``inspect``, ``linkages``, ``convert``,
``examples``, ``symmetric``), :mod:`~io_clusters.cli.analysis` (``run``, ``demo``,
``clusters``), :mod:`~io_clusters.cli.regions` (``regions``, ``regionalize``),
:mod:`~io_clusters.cli.update` (``update``) and :mod:`~io_clusters.cli.evidence`
(``evidence …``); :mod:`~io_clusters.cli._common` holds the arguments they share. This
module assembles the parser and turns errors into one line on stderr and an exit code.

Exit codes are those of :data:`io_clusters.errors.EXIT_MEANINGS` (``io-clusters --help``
lists them). ``PATH`` may also be ``example:NAME`` for an embedded table
(``io-clusters examples``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MEANINGS,
    EXIT_OUTPUT,
    EXIT_TERMINATED,
    IoClustersError,
    exit_code_for,
)
from ..publish import ENV_ERRNOS
from . import analysis, evidence, regions, tables, update
from ._common import RUN_FLAGS, Subparsers, run_options

__all__ = ["RUN_FLAGS", "build_parser", "exit_code_help", "main", "run_options"]

#: The subcommands, in the order ``--help`` lists them; each module registers its own.
COMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    tables.add_inspect,
    tables.add_linkages,
    tables.add_convert,
    tables.add_examples,
    analysis.add_run,
    regions.add_regions,
    regions.add_regionalize,
    tables.add_symmetric,
    update.add_update,
    analysis.add_demo,
    analysis.add_clusters,
    evidence.add_evidence,
)

#: Commands whose ``--out`` is one file: the format follows its suffix.
OUT_SUFFIXES = {
    "linkages": (".csv", ".xlsx"),
    "convert": (".csv", ".xlsx"),
    "regions": (".csv", ".xlsx"),
    "regionalize": (".csv", ".xlsx"),
    "symmetric": (".csv", ".xlsx"),
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` removes its temporary files."""


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated()


def exit_code_help(width: int = 79) -> str:
    """Return the exit-code table of ``--help``, from :data:`~io_clusters.errors.EXIT_MEANINGS`.

    >>> print(exit_code_help().splitlines()[1])
      0    success
    """
    lines = ["exit codes:"]
    for code, meaning in EXIT_MEANINGS.items():
        lines += textwrap.wrap(
            meaning,
            width=width,
            initial_indent=f"  {code:<5}",
            subsequent_indent=" " * 7,
            break_on_hyphens=False,
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``io-clusters``."""
    parser = argparse.ArgumentParser(
        prog="io-clusters",
        description="Candidate industrial clusters from input-output tables.",
        epilog=exit_code_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the table's lines
    )
    parser.add_argument("--version", action="version", version=f"io-clusters {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_command in COMMANDS:
        add_command(sub)
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option values that cannot work, before anything is read or computed."""
    # the analysis options (--seed, --k …) are checked by io_clusters.options
    jobs = getattr(args, "jobs", None)
    if jobs is not None and (jobs == 0 or jobs < -1):
        parser.error(f"--jobs must be ≥ 1, or -1 for all cores (got {jobs})")
    suffixes = OUT_SUFFIXES.get(args.command)
    out = getattr(args, "out", None)
    if suffixes and out and Path(out).suffix.lower() not in suffixes:
        parser.error(f"--out {out}: write {' or '.join(suffixes)} (the format follows the name)")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Python warnings as one log line: the class and the message, no source code."""
    text = " ".join(str(message).split())
    logging.getLogger("py.warnings").warning("%s: %s", category.__name__, text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``io-clusters``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    in_main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning  # data warnings reach stderr as one log line
    try:
        return int(args.func(args) or 0)
    except Exception as exc:  # the CLI never shows a raw traceback
        if args.debug:
            raise
        return _error(exc)
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        return _interrupted(exc)
    finally:
        warnings.showwarning = old_show
        if in_main and old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _interrupted(exc: KeyboardInterrupt) -> int:
    """Say that Ctrl-C or SIGTERM stopped the command; return 130 or 143."""
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    print(
        f"io-clusters: {what}; temporary files removed, earlier results intact",
        file=sys.stderr,
    )
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def _error(exc: Exception) -> int:
    """Print an error as one line on stderr; return its exit code."""
    if isinstance(exc, IoClustersError | FileNotFoundError):
        print(f"io-clusters: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    if isinstance(exc, OSError) and exc.errno in ENV_ERRNOS:  # the machine, not the tool
        where = f": {exc.filename}" if exc.filename else ""
        print(f"io-clusters: error: {exc.strerror}{where}", file=sys.stderr)
        return EXIT_OUTPUT
    print(
        f"io-clusters: internal error: {type(exc).__name__}: {exc} "
        "(re-run with --debug and report it)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL
