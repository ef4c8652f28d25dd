"""Arguments and helpers shared by the command groups of ``io-clusters``.

The table arguments (``PATH``, ``--layout``, the reader options and the reading limits),
the options of the candidate analysis and of the parallel bootstrap, loading the table
they name, and the progress lines printed on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, TypeAlias

import pandas as pd

from ..datasets import load_example
from ..errors import OptionError, TableValidationError
from ..options import (
    DECIMALS,
    DEFAULT_N_BOOT,
    DELIMITERS,
    MEASURES,
    METHODS,
    NEGATIVES,
    READER_KEYS,
    RunOptions,
)
from ..readers import LAYOUTS, Limits, read_table
from ..table import IOTable

#: What ``add_subparsers()`` returns: each command group registers its commands on it.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

#: Reading-limit flags: (argparse destination, :class:`Limits` field, unit in bytes).
LIMIT_FLAGS = (
    ("max_sectors", "max_sectors", 1),
    ("max_cells", "max_cells", 1),
    ("max_file_mb", "max_file_bytes", 2**20),
    ("max_unpacked_mb", "max_uncompressed_bytes", 2**20),
)

#: Options of the candidate analysis that the command line can set.
CLUSTER_FLAGS = (
    "k",
    "threshold",
    "seed",
    "n_boot",
    "similarity",
    "method",
    "link_threshold",
    "min_output_share",
    "focus",
)

#: Run options that the command line can set (flags win over ``--config run.toml``).
RUN_FLAGS = (
    "layout",
    "country",
    "out",
    "lang",
    "store",
    "regions",
    "year",
    "prices",
    "labels",
    *READER_KEYS,
)


# ---------------------------------------------------------------- argument types
def positive_int(text: str) -> int:
    """Argument type: a whole number ≥ 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1 (got {text})")
    return value


def positive_float(text: str) -> float:
    """Argument type: a finite number > 0."""
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0 (got {text})")
    return value


def nonnegative_float(text: str) -> float:
    """Argument type: a finite number ≥ 0."""
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number ≥ 0 (got {text})")
    return value


# ------------------------------------------------------------------------ tables
def add_table_args(p: argparse.ArgumentParser) -> None:
    """Add ``PATH``, ``--layout``, the reader options and the reading limits."""
    p.add_argument("path", help="table file (.xlsx/.csv) or example:NAME")
    p.add_argument(
        "--layout",
        help=f"layout name ({', '.join(LAYOUTS)}) or a spec .toml; detected when omitted",
    )
    p.add_argument("--country", help="ISO3 country code for multi-country files (e.g. PER)")
    p.add_argument("--sheet", help="table sheet of a workbook holding several")
    p.add_argument("--decimal", choices=DECIMALS, help="decimal separator of text numbers")
    p.add_argument("--encoding", help="encoding of a text file (default UTF-8, else cp1252)")
    p.add_argument("--delimiter", choices=DELIMITERS, help="field separator of a text file")
    p.add_argument(
        "--negatives",
        choices=NEGATIVES,
        help="negligible negative flows: keep (warning, default), zero, or error",
    )
    limits = p.add_argument_group("reading limits (raise them for very large tables)")
    limits.add_argument("--max-sectors", type=positive_int, help="default 20000")
    limits.add_argument("--max-cells", type=positive_int, help="declared cells, default 25000000")
    limits.add_argument("--max-file-mb", type=positive_float, help="file size, default 256")
    limits.add_argument(
        "--max-unpacked-mb", type=positive_float, help="uncompressed xlsx, default 1024"
    )


def reading_limits(args: argparse.Namespace) -> Limits | None:
    """Return the reading limits of ``--max-sectors`` … (None: the defaults)."""
    given: dict[str, int] = {}
    for opt, field, unit in LIMIT_FLAGS:
        value = getattr(args, opt, None)
        if value is not None:
            given[field] = int(value * unit)
    return Limits(**given) if given else None


def load_table(args: argparse.Namespace) -> IOTable:
    """Return the table named by ``args.path``: a file or ``example:NAME``.

    With ``--model``, ``PATH`` is a supply-use workbook, validated and transformed to a
    symmetric table first.
    """
    path = str(args.path)
    if path.startswith("example:"):
        try:
            return load_example(path.split(":", 1)[1])
        except KeyError as exc:  # an unknown name is a usage error, said in one line
            raise OptionError(exc.args[0] if exc.args else str(exc)) from exc
    model = getattr(args, "model", None)
    reader: dict[str, Any] = {
        k: getattr(args, k) for k in READER_KEYS if getattr(args, k, None) is not None
    }
    if model:  # a supply-use workbook, transformed first
        return _symmetric_from_sut(path, args.layout, model, sut_reader_options(args))
    return read_table(
        path, layout=args.layout, country=args.country, limits=reading_limits(args), **reader
    )


def sut_reader_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return ``--encoding``, ``--delimiter`` and ``--decimal`` as given, for ``read_sut``."""
    keys = ("encoding", "delimiter", "decimal")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _symmetric_from_sut(
    path: str, layout: str | None, model: str, options: dict[str, Any]
) -> IOTable:
    from ..readers.sut_readers import read_sut
    from ..sut import to_symmetric, validate_sut

    sut = read_sut(path, layout, **options)
    report = validate_sut(sut)
    if not report.ok:
        raise TableValidationError(
            f"{sut.meta.table_id}: supply-use table: "
            + "; ".join(f"{f.check}: {f.message}" for f in report.errors[:3]),
            report,
        )
    return to_symmetric(sut, model)


def print_frame(df: pd.DataFrame, out: TextIO) -> None:
    """Print a data frame whole (up to 200 rows and 20 columns, 160 characters wide)."""
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.max_rows", 200
    ):
        print(df.to_string(), file=out)


# ---------------------------------------------------------------------- analysis
def add_cluster_args(p: argparse.ArgumentParser) -> None:
    """Options of the candidate analysis; choices and defaults from io_clusters.options."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--k", type=int, help="number of groups to cut the tree into")
    group.add_argument("--threshold", type=float, help="cut distance (1 - similarity)")
    p.add_argument("--seed", type=int, help="random seed of the bootstrap (default 0)")
    p.add_argument(
        "--n-boot", type=int, help=f"bootstrap replicates (default {DEFAULT_N_BOOT}; 0 = none)"
    )
    p.add_argument("--similarity", choices=MEASURES, help="similarity measure (default combined)")
    p.add_argument("--method", choices=METHODS, help="linkage of the tree (default average)")
    p.add_argument(
        "--link-threshold",
        type=float,
        help="flow share that links two sectors (default 0.10)",
    )
    p.add_argument(
        "--min-output-share",
        type=float,
        help="smallest output share of a seed sector (default 0.0005)",
    )
    p.add_argument(
        "--focus",
        metavar="REGION",
        help="multi-regional table (codes REGION:SECTOR): candidates holding a sector of "
        "REGION, with their foreign country-sectors and cross-border shares",
    )


def cluster_args(args: argparse.Namespace) -> dict[str, Any]:
    """Return the analysis options given on the command line (those not given left out)."""
    out = {k: getattr(args, k, None) for k in CLUSTER_FLAGS}
    return {k: v for k, v in out.items() if v is not None}


def run_options(args: argparse.Namespace) -> RunOptions:
    """Options of ``run``: ``--config run.toml`` ([run] table) overridden by the flags."""
    base = RunOptions.from_toml(args.config) if getattr(args, "config", None) else RunOptions()
    flags = {k: getattr(args, k, None) for k in RUN_FLAGS}
    flags.update(cluster_args(args))
    return base.updated(**flags)


def add_parallel_args(p: argparse.ArgumentParser) -> None:
    """Add ``--jobs``, ``--backend`` and ``--scheduler`` (the bootstrap's workers)."""
    p.add_argument("--jobs", type=int, help="bootstrap workers (default 1; -1 = all cores)")
    p.add_argument("--backend", choices=["loky", "dask"], help="joblib backend of the bootstrap")
    p.add_argument("--scheduler", help="Dask scheduler address (with --backend dask)")


@contextmanager
def parallel(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield the bootstrap's execution settings; connected to Dask while open when asked."""
    jobs = getattr(args, "jobs", None)
    backend = getattr(args, "backend", None)
    out: dict[str, Any] = {}
    if jobs is not None:
        out["n_jobs"] = jobs
    client = None
    if backend == "dask":
        if not getattr(args, "scheduler", None):
            raise OptionError("--backend dask needs --scheduler ADDRESS (tcp://host:8786)")
        try:
            from distributed import Client
        except ImportError as exc:
            raise OptionError("--backend dask needs `pip install io_clusters[dask]`") from exc
        client = Client(args.scheduler)
        out["backend"] = "dask"
        out.setdefault("n_jobs", -1)
    elif backend:
        out["backend"] = backend
    try:
        yield out
    finally:
        if client is not None:
            client.close()


def stderr_progress() -> Callable[[str], None]:
    """Return a progress printer: ``[  12.3 s] message…`` lines on stderr."""
    start = time.perf_counter()

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {msg}…", file=sys.stderr, flush=True)

    return say
