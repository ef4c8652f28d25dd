"""The analysis commands: ``clusters``, ``run`` (the main job) and ``demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK
from ..options import READER_KEYS
from ._common import (
    Subparsers,
    add_cluster_args,
    add_parallel_args,
    add_table_args,
    cluster_args,
    load_table,
    parallel,
    print_frame,
    run_options,
    stderr_progress,
)

#: Columns of the key-sector table that ``demo`` prints.
DEMO_COLUMNS = [
    "name",
    "bl_total",
    "power_dispersion",
    "sensitivity_dispersion",
    "key_sector_class",
]


def cmd_clusters(args: argparse.Namespace) -> int:
    """Print the candidate clusters of one table (and write them as JSON)."""
    from ..clustering import detect_clusters, format_candidates
    from ..export import write_json
    from ..options import ClusterOptions

    table = load_table(args)
    options = ClusterOptions.from_mapping(cluster_args(args), source="command line")
    with parallel(args) as par:
        res = detect_clusters(table, options, **par)
    print(format_candidates(res))
    if args.out:
        print(f"wrote {write_json(res.to_dict(), args.out)}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run the main job on one table and print a summary and where the outputs are."""
    from ..pipeline import run

    opts = run_options(args)
    for key in ("layout", "country", *READER_KEYS):
        setattr(args, key, getattr(opts, key))
    if opts.out:  # where the outputs go is checked before reading or computing
        from ..publish import check_not_inputs, check_replaceable

        out = Path(opts.out)
        check_replaceable(out)
        inputs = [args.path, args.layout, opts.regions, opts.store, opts.labels]
        check_not_inputs(out, [*inputs, getattr(args, "config", None)])
    table = load_table(args)
    with parallel(args) as par:
        result = run(table, opts, progress=stderr_progress(), **par)
    _print_summary(result)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the default table and print where the outputs are."""
    from ..linkages import KEY_CLASSES
    from ..pipeline import demo_source, run
    from ..table import slug

    table, which = demo_source(args.table)
    print(which)
    out = Path(args.out) / slug(table.meta.table_id)
    regions = _demo_regions(args.regions, table.meta.country)
    result = run(table, out=out, seed=0, regions=regions, progress=stderr_progress())
    lk = result.linkages
    print(f"\nKey sectors of {table.meta.table_id} (Rasmussen-Hirschman; forward = Ghosh):")
    rank = lk["key_sector_class"].map({c: i for i, c in enumerate(KEY_CLASSES)})
    order = lk.assign(_rank=rank).sort_values(
        ["_rank", "power_dispersion"], ascending=[True, False]
    )
    print_frame(order[DEMO_COLUMNS].round(3), sys.stdout)
    print()
    _print_summary(result)
    return EXIT_OK


def _demo_regions(path: str | None, country: str | None) -> Any:
    """Regional data of ``demo``: the file given, or for Peru the embedded INEI data."""
    if path and Path(path).exists() and country == "PER":
        from ..regional import read_regional

        regions = read_regional(path)
        print(f"regional data: {path} ({regions.year}, {regions.units})")
        return regions
    if country != "PER":
        return None
    from ..datasets import DEFAULT_REGIONAL, load_regional_example

    regions = load_regional_example(DEFAULT_REGIONAL)
    why = f"{path} not found; " if path else ""
    print(
        f"regional data: {why}using the embedded {DEFAULT_REGIONAL!r} (INEI, value added "
        f"of {len(regions.regions)} departments x {len(regions.values.index)} activities, "
        f"{regions.year}, {regions.units}; `io-clusters examples` cites it)"
    )
    return regions


def _print_summary(result: Any) -> None:
    from ..clustering import format_candidates

    print(format_candidates(result.clusters))
    for p in result.evidence.pairings:
        print(f"{p.candidate_id} rosenfeld: {p.rosenfeld.status} — {p.rosenfeld.sentence_en}")
    print(f"\noutputs in {result.out_dir}/:")
    for name, path in result.outputs.items():
        print(f"  {name:11} {path}")


# ------------------------------------------------------------------ registration
def add_run(sub: Subparsers) -> None:
    """Register ``io-clusters run``."""
    p = sub.add_parser("run", help="the main job: validate, linkages, candidates, evidence")
    add_table_args(p)
    p.add_argument("--out", help="output directory (default data/processed/<table-id>/)")
    p.add_argument("--lang", choices=["es", "en"], help="language of the deliverables (default es)")
    add_cluster_args(p)
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
    add_parallel_args(p)
    p.set_defaults(func=cmd_run)


def add_demo(sub: Subparsers) -> None:
    """Register ``io-clusters demo``."""
    p = sub.add_parser("demo", help="run the main job on the default table")
    p.add_argument("--table", help="table to use; the embedded default when absent or missing")
    p.add_argument(
        "--regions",
        help="regional data to locate the candidates (used when present; for a Peruvian "
        "table the embedded INEI departmental data otherwise)",
    )
    p.add_argument("--out", default="data/processed", help="output root (default data/processed)")
    p.set_defaults(func=cmd_demo)


def add_clusters(sub: Subparsers) -> None:
    """Register ``io-clusters clusters``."""
    p = sub.add_parser("clusters", help="candidate clusters (tree, flow links, stability)")
    add_table_args(p)
    add_cluster_args(p)
    p.add_argument("--out", help="write the result as JSON")
    add_parallel_args(p)
    p.set_defaults(func=cmd_clusters)
