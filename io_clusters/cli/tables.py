"""Commands on one table: ``inspect``, ``linkages``, ``convert``, ``examples``, ``symmetric``."""

from __future__ import annotations

import argparse
import json
import sys

from ..datasets import EXAMPLES, load_example
from ..errors import EXIT_INVALID, EXIT_OK
from ..options import DECIMALS, DELIMITERS
from ..validate import validate
from ._common import Subparsers, add_table_args, load_table, print_frame, sut_reader_options

#: Columns of the linkage table that ``linkages`` prints (all are written with ``--out``).
LINKAGE_COLUMNS = [
    "name",
    "bl_total",
    "fl_total_ghosh",
    "power_dispersion",
    "sensitivity_dispersion",
    "key_sector_class",
]


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print a summary and the validation report of one table."""
    table = load_table(args)
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
    return EXIT_OK if report.ok else EXIT_INVALID


def cmd_linkages(args: argparse.Namespace) -> int:
    """Compute the linkage table; print it or write it to CSV/xlsx."""
    from ..export import write_frame
    from ..linkages import linkages

    table = load_table(args)
    report = validate(table, negatives=getattr(args, "negatives", None) or "keep")
    if not report.ok:
        print(report, file=sys.stderr)
        return EXIT_INVALID
    df = linkages(table)
    if args.out:
        path = write_frame(df, args.out, sheet="linkages")
        print(f"wrote {path}")
    else:
        print_frame(df[LINKAGE_COLUMNS].round(4), sys.stdout)
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    """Write a table in the interchange format."""
    from ..readers import write_table

    table = load_table(args)
    print(f"wrote {write_table(table, args.out)}")
    return EXIT_OK


def cmd_symmetric(args: argparse.Namespace) -> int:
    """Transform a supply-use table and write the symmetric table."""
    from ..readers import write_table
    from ..readers.sut_readers import read_sut
    from ..sut import to_symmetric, validate_sut

    sut = read_sut(args.path, args.layout, **sut_reader_options(args))
    report = validate_sut(sut)
    print(report)
    if not report.ok:
        return EXIT_INVALID
    table = to_symmetric(sut, args.model, negatives=args.negatives)
    print(f"wrote {write_table(table, args.out)} ({table.n} x {table.n}, model {args.model})")
    return EXIT_OK


def cmd_examples(args: argparse.Namespace) -> int:
    """List the embedded tables and regional data, with their citations."""
    _print_example_tables()
    print("\nRegional data (value added by region and activity):")
    _print_regional_examples()
    return EXIT_OK


def _print_example_tables() -> None:
    from ..datasets import DEFAULT_EXAMPLE, example_metadata

    print("Input-output tables (use as PATH: example:NAME):")
    for name in EXAMPLES:
        t = load_example(name)
        default = "  [default]" if name == DEFAULT_EXAMPLE else ""
        print(f"  example:{name:24} {t.n:3d} sectors  {t.meta.units}{default}")
        print(f"      {t.meta.citation}")
        meta = example_metadata(name)
        if meta:
            print(f"      derived from {meta['source_file']} by scripts/derive_peru_data.py")


def _print_regional_examples() -> None:
    from ..datasets import REGIONAL_EXAMPLES, example_metadata, example_path, load_regional_example
    from ..regional import example_path as isic_example_path

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
    print(f"  {'example_isic4_synthetic':32} SYNTHETIC department x ISIC Rev.4 employment")
    print("      invented numbers showing the region,activity,value,classification=isic4 format")
    print(f"      file: {isic_example_path()}")


# ------------------------------------------------------------------ registration
def add_inspect(sub: Subparsers) -> None:
    """Register ``io-clusters inspect``."""
    p = sub.add_parser("inspect", help="summary and validation report of a table")
    add_table_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inspect)


def add_linkages(sub: Subparsers) -> None:
    """Register ``io-clusters linkages``."""
    p = sub.add_parser("linkages", help="backward/forward linkages and key sectors")
    add_table_args(p)
    p.add_argument("--out", help="write to FILE.csv or FILE.xlsx instead of printing")
    p.set_defaults(func=cmd_linkages)


def add_convert(sub: Subparsers) -> None:
    """Register ``io-clusters convert``."""
    p = sub.add_parser("convert", help="write a table in the interchange format")
    add_table_args(p)
    p.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx")
    p.set_defaults(func=cmd_convert)


def add_examples(sub: Subparsers) -> None:
    """Register ``io-clusters examples``."""
    p = sub.add_parser("examples", help="list the embedded tables and regional data")
    p.set_defaults(func=cmd_examples)


def add_symmetric(sub: Subparsers) -> None:
    """Register ``io-clusters symmetric``."""
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
    p.add_argument("--decimal", choices=DECIMALS, help="decimal separator of text numbers")
    p.add_argument("--encoding", help="encoding of a text file (default UTF-8, else cp1252)")
    p.add_argument("--delimiter", choices=DELIMITERS, help="field separator of a text file")
    p.add_argument("--out", required=True, help="table.csv or table.xlsx (interchange format)")
    p.set_defaults(func=cmd_symmetric)
