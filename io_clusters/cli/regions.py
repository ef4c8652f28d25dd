"""Regional commands: ``regions`` (location quotients) and ``regionalize`` (FLQ …)."""

from __future__ import annotations

import argparse
import sys

from ..errors import EXIT_OK
from ..validate import validate
from ._common import Subparsers, add_table_args, load_table, print_frame


def cmd_regions(args: argparse.Namespace) -> int:
    """Print (or write) the location quotients of regional data."""
    from ..export import write_frame
    from ..regional import location_quotients, read_regional

    data = read_regional(args.data, year=args.year, prices=args.prices)
    lq = location_quotients(data)
    lq.index = [f"{a} {data.activity_names.get(a, '')[:28]}" for a in lq.index]
    print(f"location quotients (SLQ), {data.year}, {data.units}; > 1 = concentrated")
    if args.out:
        print(f"wrote {write_frame(lq.round(4), args.out, sheet='lq')}")
    else:
        print_frame(lq.T.round(2), sys.stdout)
    return EXIT_OK


def cmd_regionalize(args: argparse.Namespace) -> int:
    """Write a regional table estimated from the national one."""
    from ..readers import write_table
    from ..regional import read_regional, regionalize

    table = load_table(args)
    data = read_regional(args.regions, year=args.year, prices=args.prices)
    regional = regionalize(table, data, args.region, method=args.method, delta=args.delta)
    print(validate(regional))
    print(f"wrote {write_table(regional, args.out)}")
    return EXIT_OK


# ------------------------------------------------------------------ registration
def add_regions(sub: Subparsers) -> None:
    """Register ``io-clusters regions``."""
    p = sub.add_parser("regions", help="location quotients of regional activity data")
    p.add_argument("data", help="regional CSV (INEI VAB by department, or region,activity,value)")
    p.add_argument("--year", type=int)
    p.add_argument("--prices", choices=["constant", "current"], default="constant")
    p.add_argument("--out", help="write the LQ table to FILE.csv or FILE.xlsx")
    p.set_defaults(func=cmd_regions)


def add_regionalize(sub: Subparsers) -> None:
    """Register ``io-clusters regionalize``."""
    p = sub.add_parser("regionalize", help="regional table from the national one (FLQ …)")
    add_table_args(p)
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
