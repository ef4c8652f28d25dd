"""The ``io-clusters`` command: a thin layer over the library functions.

Exit codes
----------
==== =====================================================================
0    success
1    other io_clusters error
2    bad command-line usage or option value
3    file not found
4    file is not a readable xlsx/csv (corrupt, encrypted, legacy .xls …)
5    no layout fits the file, or the layout spec is wrong
6    the file does not match its layout (non-numeric cell, missing row …)
7    the table was read but validation found errors
8    the analysis cannot proceed (e.g. a non-productive table)
9    ``update``: some tables or downloads failed (the others were done)
10   the outputs cannot be written there (read-only or full disk, ``--out`` is a
     file, a name too long, an output that would overwrite an input)
11   a file the tool keeps is damaged (evidence store …): the message says how to fix it
70   internal error (a bug: please report it with ``--debug`` output)
75   ``update``: another update holds the lock
130  interrupted (Ctrl-C); 143 terminated (SIGTERM): temporary files are removed,
     earlier results stay intact
==== =====================================================================

``PATH`` may also be ``example:NAME`` for an embedded table (``io-clusters examples``).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from ._version import __version__
from .datasets import EXAMPLES, load_example
from .errors import IoClustersError, OptionError, exit_code_for
from .options import DECIMALS, DELIMITERS, NEGATIVES, READER_KEYS, RunOptions
from .publish import ENV_ERRNOS
from .readers import LAYOUTS, read_table
from .table import IOTable
from .validate import validate

log = logging.getLogger("io_clusters")
INTERNAL_ERROR = 70
EXIT_OUTPUT = 10
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` removes its temporary files."""


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated()


def _load(args: argparse.Namespace) -> IOTable:
    path = str(args.path)
    if path.startswith("example:"):
        try:
            return load_example(path.split(":", 1)[1])
        except KeyError as exc:  # an unknown name is a usage error, said in one line
            raise OptionError(exc.args[0] if exc.args else str(exc)) from exc
    model = getattr(args, "model", None)
    if model:  # a supply-use workbook, transformed first
        from .readers.sut_readers import read_sut
        from .sut import to_symmetric, validate_sut

        sut = read_sut(path, args.layout)
        report = validate_sut(sut)
        if not report.ok:
            from .errors import TableValidationError

            raise TableValidationError(
                f"{sut.meta.table_id}: supply-use table: "
                + "; ".join(f"{f.check}: {f.message}" for f in report.errors[:3]),
                report,
            )
        return to_symmetric(sut, model)
    reader: dict[str, Any] = {
        k: getattr(args, k) for k in READER_KEYS if getattr(args, k, None) is not None
    }
    return read_table(
        path, layout=args.layout, country=args.country, limits=_limits(args), **reader
    )


def _limits(args: argparse.Namespace) -> Any:
    """Return the reading limits of ``--max-sectors`` … (None: the defaults)."""
    from .readers._cells import Limits

    given = {
        field: getattr(args, opt, None)
        for opt, field in (
            ("max_sectors", "max_sectors"),
            ("max_cells", "max_cells"),
            ("max_file_mb", "max_file_bytes"),
            ("max_unpacked_mb", "max_uncompressed_bytes"),
        )
        if getattr(args, opt, None) is not None
    }
    for field in ("max_file_bytes", "max_uncompressed_bytes"):
        if field in given:
            given[field] = int(given[field] * 2**20)
    return Limits(**given) if given else None


def _add_table_args(p: argparse.ArgumentParser) -> None:
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
    limits.add_argument("--max-sectors", type=_positive_int, help="default 20000")
    limits.add_argument("--max-cells", type=_positive_int, help="declared cells, default 25000000")
    limits.add_argument("--max-file-mb", type=_positive_float, help="file size, default 256")
    limits.add_argument(
        "--max-unpacked-mb", type=_positive_float, help="uncompressed xlsx, default 1024"
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1 (got {text})")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0 (got {text})")
    return value


def _nonnegative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number ≥ 0 (got {text})")
    return value


def _add_parallel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, help="bootstrap workers (default 1; -1 = all cores)")
    p.add_argument("--backend", choices=["loky", "dask"], help="joblib backend of the bootstrap")
    p.add_argument("--scheduler", help="Dask scheduler address (with --backend dask)")


def _parallel(args: Any, opts: dict[str, object] | None = None) -> dict[str, Any]:
    """Bootstrap options from the command line; connects to Dask when asked."""
    jobs = getattr(args, "jobs", None)
    backend = getattr(args, "backend", None)
    out: dict[str, Any] = {}
    if jobs is not None:
        out["n_jobs"] = jobs
    if backend == "dask":
        if not getattr(args, "scheduler", None):
            raise OptionError("--backend dask needs --scheduler ADDRESS (tcp://host:8786)")
        try:
            from distributed import Client
        except ImportError as exc:
            raise OptionError("--backend dask needs `pip install io_clusters[dask]`") from exc
        out["_client"] = Client(args.scheduler)
        out["backend"] = "dask"
        out.setdefault("n_jobs", -1)
    elif backend:
        out["backend"] = backend
    return out


def _add_cluster_args(p: argparse.ArgumentParser) -> None:
    """Options of the candidate analysis; choices and defaults from io_clusters.options."""
    from .options import DEFAULT_N_BOOT, MEASURES, METHODS

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


def _cluster_args(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("k", "threshold", "seed", "n_boot", "similarity", "method", "link_threshold")
    out = {k: getattr(args, k, None) for k in (*keys, "min_output_share", "focus")}
    return {k: v for k, v in out.items() if v is not None}


def cmd_clusters(args: argparse.Namespace) -> int:
    """Print the candidate clusters of one table (and write them as JSON)."""
    from .clustering import detect_clusters, format_candidates
    from .export import write_json
    from .options import ClusterOptions

    table = _load(args)
    options = ClusterOptions.from_mapping(_cluster_args(args), source="command line")
    par = _parallel(args)
    client = par.pop("_client", None)
    try:
        res = detect_clusters(table, options, **par)
    finally:
        if client is not None:
            client.close()
    print(format_candidates(res))
    if args.out:
        print(f"wrote {write_json(res.to_dict(), args.out)}")
    return 0


def _print_frame(df: pd.DataFrame, out: TextIO) -> None:
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.max_rows", 200
    ):
        print(df.to_string(), file=out)


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print a summary and the validation report of one table."""
    table = _load(args)
    report = validate(table, negatives=getattr(args, "negatives", None) or "keep")
    if args.json:
        print(json.dumps({"summary": table.summary(), "validation": report.to_dict()}, indent=2))
    else:
        s = table.summary()
        print(f"table:        {s['table_id']}")
        print(f"layout:       {s['layout']}")
        print(f"source:       {s['source']}")
        print(f"sha256:       {s['sha256']}")
        print(f"country/year: {s['country']} {s['year']}")
        print(f"sectors:      {s['n_sectors']}")
        print(f"units:        {s['units']}")
        print(f"total output: {s['total_output']:,.6g}")
        print(f"intermediate: {s['total_intermediate']:,.6g}")
        print(f"final demand: {', '.join(s['final_demand_categories']) or '(none)'}")
        print(f"primary:      {', '.join(s['primary_input_categories']) or '(none)'}")
        print(f"imports row:  {'yes' if s['has_imports'] else 'no'}")
        print(report)
    return 0 if report.ok else 7


def cmd_linkages(args: argparse.Namespace) -> int:
    """Compute the linkage table; print it or write it to CSV/xlsx."""
    from .export import write_frame
    from .linkages import linkages

    table = _load(args)
    report = validate(table, negatives=getattr(args, "negatives", None) or "keep")
    if not report.ok:
        print(report, file=sys.stderr)
        return 7
    df = linkages(table)
    if args.out:
        path = write_frame(df, args.out, sheet="linkages")
        print(f"wrote {path}")
    else:
        cols = [
            "name",
            "bl_total",
            "fl_total_ghosh",
            "power_dispersion",
            "sensitivity_dispersion",
            "key_sector_class",
        ]
        _print_frame(df[cols].round(4), sys.stdout)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    """Write a table in the interchange format."""
    from .readers import write_table

    table = _load(args)
    print(f"wrote {write_table(table, args.out)}")
    return 0


def cmd_symmetric(args: argparse.Namespace) -> int:
    """Transform a supply-use table and write the symmetric table."""
    from .readers import write_table
    from .readers.sut_readers import read_sut
    from .sut import to_symmetric, validate_sut

    sut = read_sut(args.path, args.layout)
    report = validate_sut(sut)
    print(report)
    if not report.ok:
        return 7
    table = to_symmetric(sut, args.model, negatives=args.negatives)
    print(f"wrote {write_table(table, args.out)} ({table.n} x {table.n}, model {args.model})")
    return 0


def cmd_examples(args: argparse.Namespace) -> int:
    """List the embedded tables and regional data, with their citations."""
    from .datasets import (
        DEFAULT_EXAMPLE,
        REGIONAL_EXAMPLES,
        example_metadata,
        example_path,
        load_regional_example,
    )

    print("Input-output tables (use as PATH: example:NAME):")
    for name in EXAMPLES:
        t = load_example(name)
        default = "  [default]" if name == DEFAULT_EXAMPLE else ""
        print(f"  example:{name:24} {t.n:3d} sectors  {t.meta.units}{default}")
        print(f"      {t.meta.citation}")
        meta = example_metadata(name)
        if meta:
            print(f"      derived from {meta['source_file']} by scripts/derive_peru_data.py")
    print("\nRegional data (value added by region and activity):")
    for name in REGIONAL_EXAMPLES:
        meta = example_metadata(name)
        data = load_regional_example(name)
        print(
            f"  {name:32} {len(data.regions)} regions x {len(data.values.index)} activities, "
            f"{data.year}, {' / '.join(meta['units'].values())}"
        )
        print(f"      {meta['citation']}")
        print(f"      derived from {meta['source_file']} by scripts/derive_peru_data.py")
        print(f"      file: {example_path(name)}")
    from .regional import example_path as isic_example_path

    print(f"  {'example_isic4_synthetic':32} SYNTHETIC department x ISIC Rev.4 employment")
    print("      invented numbers showing the region,activity,value,classification=isic4 format")
    print(f"      file: {isic_example_path()}")
    return 0


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


def run_options(args: argparse.Namespace) -> RunOptions:
    """Options of ``run``: ``--config run.toml`` ([run] table) overridden by the flags."""
    from .options import RunOptions

    base = RunOptions.from_toml(args.config) if getattr(args, "config", None) else RunOptions()
    flags = {k: getattr(args, k, None) for k in RUN_FLAGS}
    flags.update(_cluster_args(args))
    return base.updated(**flags)


def _stderr_progress() -> Callable[[str], None]:
    import time

    start = time.perf_counter()

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {msg}…", file=sys.stderr, flush=True)

    return say


def cmd_run(args: argparse.Namespace) -> int:
    """Run the main job on one table and print a summary and where the outputs are."""
    from .pipeline import run

    opts = run_options(args)
    for key in ("layout", "country", *READER_KEYS):
        setattr(args, key, getattr(opts, key))
    if opts.out:  # where the outputs go is checked before reading or computing
        from .publish import check_not_inputs, check_replaceable

        out = Path(opts.out)
        check_replaceable(out)
        check_not_inputs(
            out,
            [
                args.path,
                args.layout,
                opts.regions,
                opts.store,
                opts.labels,
                getattr(args, "config", None),
            ],
        )
    table = _load(args)
    par = _parallel(args)
    client = par.pop("_client", None)
    try:
        result = run(table, opts, progress=_stderr_progress(), **par)
    finally:
        if client is not None:
            client.close()
    _print_summary(result)
    return 0


def cmd_regions(args: argparse.Namespace) -> int:
    """Print (or write) the location quotients of regional data."""
    from .export import write_frame
    from .regional import location_quotients, read_regional

    data = read_regional(args.data, year=args.year, prices=args.prices)
    lq = location_quotients(data)
    lq.index = [f"{a} {data.activity_names.get(a, '')[:28]}" for a in lq.index]
    print(f"location quotients (SLQ), {data.year}, {data.units}; > 1 = concentrated")
    if args.out:
        print(f"wrote {write_frame(lq.round(4), args.out, sheet='lq')}")
    else:
        _print_frame(lq.T.round(2), sys.stdout)
    return 0


def cmd_regionalize(args: argparse.Namespace) -> int:
    """Write a regional table estimated from the national one."""
    from .readers import write_table
    from .regional import read_regional, regionalize

    table = _load(args)
    data = read_regional(args.regions, year=args.year, prices=args.prices)
    regional = regionalize(table, data, args.region, method=args.method, delta=args.delta)
    print(validate(regional))
    print(f"wrote {write_table(regional, args.out)}")
    return 0


def _print_summary(result: Any) -> None:
    from .clustering import format_candidates

    print(format_candidates(result.clusters))
    for p in result.evidence.pairings:
        print(f"{p.candidate_id} rosenfeld: {p.rosenfeld.status} — {p.rosenfeld.sentence_en}")
    print(f"\noutputs in {result.out_dir}/:")
    for name, path in result.outputs.items():
        print(f"  {name:11} {path}")


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the default table and print where the outputs are."""
    from .linkages import KEY_CLASSES
    from .pipeline import demo_source, run
    from .table import slug

    table, which = demo_source(args.table)
    print(which)
    out = Path(args.out) / slug(table.meta.table_id)
    regions = None
    if args.regions and Path(args.regions).exists() and table.meta.country == "PER":
        from .regional import read_regional

        regions = read_regional(args.regions)
        print(f"regional data: {args.regions} ({regions.year}, {regions.units})")
    elif table.meta.country == "PER":  # Peru without a regional file: the embedded INEI data
        from .datasets import DEFAULT_REGIONAL, load_regional_example

        regions = load_regional_example(DEFAULT_REGIONAL)
        why = f"{args.regions} not found; " if args.regions else ""
        print(
            f"regional data: {why}using the embedded {DEFAULT_REGIONAL!r} (INEI, value added "
            f"of {len(regions.regions)} departments x {len(regions.values.index)} activities, "
            f"{regions.year}, {regions.units}; `io-clusters examples` cites it)"
        )
    result = run(table, out=out, seed=0, regions=regions, progress=_stderr_progress())
    lk = result.linkages
    print(f"\nKey sectors of {table.meta.table_id} (Rasmussen-Hirschman; forward = Ghosh):")
    cols = ["name", "bl_total", "power_dispersion", "sensitivity_dispersion", "key_sector_class"]
    rank = lk["key_sector_class"].map({c: i for i, c in enumerate(KEY_CLASSES)})
    order = lk.assign(_rank=rank).sort_values(
        ["_rank", "power_dispersion"], ascending=[True, False]
    )
    _print_frame(order[cols].round(3), sys.stdout)
    print()
    _print_summary(result)
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Recompute what changed; exit 0, 9 (some failed) or 75 (another update runs)."""
    from logging.handlers import RotatingFileHandler

    from .update import EXIT_LOCKED, UpdateLockedError, update

    opts = run_options(argparse.Namespace(config=args.config))
    if opts.out is not None:
        raise OptionError(
            f"{args.config}: [run] out does not apply to update; the results go to --out "
            f"({args.out})"
        )
    out = Path(args.out)
    from .publish import check_writable_dir

    check_writable_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        out / "update.log", maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    for h in root.handlers:  # stderr keeps its level; the log file gets INFO and up
        if h.level == logging.NOTSET:
            h.setLevel(root.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
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
            max_download_bytes=int(args.max_download_mb * 2**20) if args.max_download_mb else None,
            progress=_stderr_progress(),
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
        root.removeHandler(handler)
        handler.close()
    for line in summary.lines():
        print(line)
    return summary.exit_code


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``io-clusters``."""
    parser = argparse.ArgumentParser(
        prog="io-clusters",
        description="Candidate industrial clusters from input-output tables.",
        epilog="Exit codes: 0 ok, 2 usage, 3 not found, 4 bad file, 5 layout/spec, "
        "6 file does not match layout, 7 validation errors, 8 analysis error, 9 update: some "
        "tables failed, 10 cannot write the outputs there, 11 damaged state file, 70 internal, "
        "75 update locked, 130 interrupted, 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"io-clusters {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="summary and validation report of a table")
    _add_table_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("linkages", help="backward/forward linkages and key sectors")
    _add_table_args(p)
    p.add_argument("--out", help="write to FILE.csv or FILE.xlsx instead of printing")
    p.set_defaults(func=cmd_linkages)

    p = sub.add_parser("convert", help="write a table in the interchange format")
    _add_table_args(p)
    p.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("examples", help="list the embedded tables and regional data")
    p.set_defaults(func=cmd_examples)

    p = sub.add_parser("run", help="the main job: validate, linkages, candidates, evidence")
    _add_table_args(p)
    p.add_argument("--out", help="output directory (default data/processed/<table-id>/)")
    p.add_argument("--lang", choices=["es", "en"], help="language of the deliverables (default es)")
    _add_cluster_args(p)
    p.add_argument(
        "--store", help="fieldwork evidence store (default data/evidence/fieldwork.json)"
    )
    p.add_argument(
        "--labels", help="labels.toml: a [labels] table renaming candidates (id or a+b = name)"
    )
    p.add_argument("--config", help="run.toml with a [run] table of these options")
    p.add_argument(
        "--model",
        choices=["A", "B", "C", "D"],
        help="PATH is a supply-use table: transform it with this model first",
    )
    p.add_argument("--regions", help="regional data (INEI VAB by department…) to locate candidates")
    p.add_argument("--year", type=int, help="year of the regional data (default: the latest)")
    p.add_argument("--prices", choices=["constant", "current"], help="regional price basis")
    _add_parallel_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("regions", help="location quotients of regional activity data")
    p.add_argument("data", help="regional CSV (INEI VAB by department, or region,activity,value)")
    p.add_argument("--year", type=int)
    p.add_argument("--prices", choices=["constant", "current"], default="constant")
    p.add_argument("--out", help="write the LQ table to FILE.csv or FILE.xlsx")
    p.set_defaults(func=cmd_regions)

    p = sub.add_parser("regionalize", help="regional table from the national one (FLQ …)")
    _add_table_args(p)
    p.add_argument("--regions", required=True, help="regional data CSV")
    p.add_argument(
        "--region", required=True, action="append", help="region (repeat to take several)"
    )
    p.add_argument("--method", choices=["slq", "cilq", "flq", "aflq"], default="flq")
    p.add_argument("--delta", type=float, default=0.3, help="FLQ delta (default 0.3)")
    p.add_argument("--year", type=int)
    p.add_argument("--prices", choices=["constant", "current"], default="constant")
    p.add_argument("--out", required=True, help="table.csv or table.xlsx (interchange format)")
    p.set_defaults(func=cmd_regionalize)

    p = sub.add_parser("symmetric", help="supply-use table -> symmetric IO table (models A-D)")
    p.add_argument("path", help="supply-use workbook (with --layout spec) or interchange file")
    p.add_argument("--layout", help="layout spec .toml with a [sut] section")
    p.add_argument(
        "--model",
        choices=["A", "B", "C", "D"],
        default="D",
        help="A/B product x product, C/D industry x industry (default D)",
    )
    p.add_argument("--negatives", choices=["report", "zero"], default="report")
    p.add_argument("--out", required=True, help="table.csv or table.xlsx (interchange format)")
    p.set_defaults(func=cmd_symmetric)

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
        type=_positive_int,
        help="keep at most N ≥ 1 runs per table (never the latest good)",
    )
    p.add_argument(
        "--wait", type=_nonnegative_float, default=0.0, help="seconds to wait for a running update"
    )
    p.add_argument(
        "--timeout", type=_positive_float, default=30.0, help="seconds to wait for each read"
    )
    p.add_argument(
        "--deadline",
        type=_positive_float,
        default=600.0,
        help="total seconds one download may take (default 600)",
    )
    p.add_argument(
        "--max-download-mb",
        type=_positive_float,
        help="largest download accepted, in MiB (default 256)",
    )
    p.add_argument("--config", help="run.toml whose [run] options apply to every table")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("demo", help="run the main job on the default table")
    p.add_argument("--table", help="table to use; the embedded default when absent or missing")
    p.add_argument(
        "--regions",
        help="regional data to locate the candidates (used when present; for a Peruvian "
        "table the embedded INEI departmental data otherwise)",
    )
    p.add_argument("--out", default="data/processed", help="output root (default data/processed)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("clusters", help="candidate clusters (tree, flow links, stability)")
    _add_table_args(p)
    _add_cluster_args(p)
    p.add_argument("--out", help="write the result as JSON")
    _add_parallel_args(p)
    p.set_defaults(func=cmd_clusters)

    from .evidence.cli import add_cli as add_evidence_cli

    add_evidence_cli(sub)
    return parser


_OUT_SUFFIXES = {
    "linkages": (".csv", ".xlsx"),
    "convert": (".csv", ".xlsx"),
    "regions": (".csv", ".xlsx"),
    "regionalize": (".csv", ".xlsx"),
    "symmetric": (".csv", ".xlsx"),
}


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option values that cannot work, before anything is read or computed."""
    # the analysis options (--seed, --k …) are checked by io_clusters.options
    jobs = getattr(args, "jobs", None)
    if jobs is not None and (jobs == 0 or jobs < -1):
        parser.error(f"--jobs must be ≥ 1, or -1 for all cores (got {jobs})")
    suffixes = _OUT_SUFFIXES.get(args.command)
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
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(
            f"io-clusters: {what}; temporary files removed, earlier results intact",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except (IoClustersError, FileNotFoundError) as exc:
        if args.debug:
            raise
        print(f"io-clusters: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except OSError as exc:  # the machine, not the tool: read-only or full disk, …
        if args.debug or exc.errno not in ENV_ERRNOS:
            if args.debug:
                raise
            return _internal(exc)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"io-clusters: error: {exc.strerror}{where}", file=sys.stderr)
        return EXIT_OUTPUT
    except Exception as exc:  # the CLI never shows a raw traceback
        if args.debug:
            raise
        return _internal(exc)
    finally:
        warnings.showwarning = old_show
        if in_main and old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _internal(exc: BaseException) -> int:
    print(
        f"io-clusters: internal error: {type(exc).__name__}: {exc} "
        "(re-run with --debug and report it)",
        file=sys.stderr,
    )
    return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
