"""``io-clusters update``: recompute new or changed tables, for cron or systemd."""

from __future__ import annotations

import argparse
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ..errors import EXIT_LOCKED, OptionError
from ._common import (
    Subparsers,
    nonnegative_float,
    positive_float,
    positive_int,
    run_options,
    stderr_progress,
)


def cmd_update(args: argparse.Namespace) -> int:
    """Recompute what changed; exit 0, 9 (some failed) or 75 (another update runs)."""
    from ..publish import check_writable_dir
    from ..update import UpdateLockedError, update

    opts = run_options(argparse.Namespace(config=args.config))
    if opts.out is not None:
        raise OptionError(
            f"{args.config}: [run] out does not apply to update; the results go to --out "
            f"({args.out})"
        )
    out = Path(args.out)
    check_writable_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    handler = _log_to_file(out / "update.log")
    max_bytes = int(args.max_download_mb * 2**20) if args.max_download_mb else None
    try:
        summary = update(
            args.raw,
            out,
            force=args.force,
            dry_run=args.dry_run,
            keep=args.keep,
            wait=args.wait,
            run_options=opts,
            sources=args.sources,
            fetch=args.fetch,
            fetch_timeout=args.timeout,
            fetch_deadline=args.deadline,
            max_download_bytes=max_bytes,
            progress=stderr_progress(),
        )
    except UpdateLockedError as exc:
        print(f"io-clusters: {exc}", file=sys.stderr)  # once on stderr, once in the log file
        handler.handle(
            logging.getLogger("io_clusters.update").makeRecord(
                "io_clusters.update", logging.WARNING, __file__, 0, "%s", (exc,), None
            )
        )
        return EXIT_LOCKED
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    for line in summary.lines():
        print(line)
    return summary.exit_code


def _log_to_file(path: Path) -> RotatingFileHandler:
    """Send INFO and up to a rotating log file (stderr keeps its level); return its handler."""
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    for h in root.handlers:  # stderr keeps its level; the log file gets INFO and up
        if h.level == logging.NOTSET:
            h.setLevel(root.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


# ------------------------------------------------------------------ registration
def add_update(sub: Subparsers) -> None:
    """Register ``io-clusters update``."""
    p = sub.add_parser("update", help="recompute new or changed tables (for cron/systemd)")
    p.add_argument("--raw", default="data/raw", help="where tables are dropped (default data/raw)")
    p.add_argument(
        "--out", default="data/processed", help="results and manifest (default data/processed)"
    )
    p.add_argument("--sources", help="sources.toml listing tables to download (with --fetch)")
    p.add_argument("--fetch", action="store_true", help="download the sources first")
    p.add_argument("--force", action="store_true", help="recompute every table")
    p.add_argument("--dry-run", action="store_true", help="say what would be done, write nothing")
    p.add_argument(
        "--keep",
        type=positive_int,
        help="keep at most N ≥ 1 runs per table (never the latest good)",
    )
    p.add_argument(
        "--wait", type=nonnegative_float, default=0.0, help="seconds to wait for a running update"
    )
    p.add_argument(
        "--timeout", type=positive_float, default=30.0, help="seconds to wait for each read"
    )
    p.add_argument(
        "--deadline",
        type=positive_float,
        default=600.0,
        help="total seconds one download may take (default 600)",
    )
    p.add_argument(
        "--max-download-mb",
        type=positive_float,
        help="largest download accepted, in MiB (default 256)",
    )
    p.add_argument("--config", help="run.toml whose [run] options apply to every table")
    p.set_defaults(func=cmd_update)
