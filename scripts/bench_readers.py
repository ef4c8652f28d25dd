"""Time the readers against the bare parsers they are built on (issue 20, item 1).

Usage: python scripts/bench_readers.py [--csv-n 2000] [--xlsx-n 500] [--repeat 9] [--json F]

* CSV: ``read_table`` of a 2,000-sector interchange CSV against ``pandas.read_csv``
  (C parser, ``comment="#"``) of the same file; goal: within 3x.
* xlsx: ``read_table`` of a 500-sector interchange workbook against python-calamine
  reading every cell of every sheet (``CalamineWorkbook.from_path`` + ``to_python``);
  goal: within 3x. The package scan's cache is cleared before every read, so each
  read pays for the whole safety scan, as a first read does.

Both are timed side by side in one process, one call of each per repeat in rotating
order (so that a change in machine load hits both); the ratio is the median of the
per-repeat ratios, with their range. For the record, the same workbook read by
openpyxl alone (the path before calamine) is timed once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import python_calamine  # noqa: E402

from io_clusters import read_table, write_table  # noqa: E402
from io_clusters.readers import fastbook, package  # noqa: E402
from tests.conftest import planted_blocks  # noqa: E402


def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(ours: Callable[[], object], ref: Callable[[], object], repeat: int) -> dict:
    """Median of per-repeat ratios ours/ref, one call of each per repeat, rotating order."""
    ours(), ref()  # warm caches of the imports, not of the file facts
    pairs = []
    for k in range(repeat):
        if k % 2:
            r = _once(ref)
            o = _once(ours)
        else:
            o = _once(ours)
            r = _once(ref)
        pairs.append((o, r))
    ratios = [o / r for o, r in pairs]
    return {
        "ours_s": statistics.median(o for o, _ in pairs),
        "reference_s": statistics.median(r for _, r in pairs),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def _calamine_every_cell(path: Path) -> None:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    finally:
        wb.close()


def _fresh_read(path: Path) -> None:
    package._scan.cache_clear()  # every read pays for the package scan
    read_table(path)


def reader_rows(csv_n: int = 2000, xlsx_n: int = 500, repeat: int = 9) -> dict:
    """Return the CSV and xlsx rows (seconds and ratios)."""
    with tempfile.TemporaryDirectory() as d:
        csv = write_table(planted_blocks(csv_n), Path(d) / f"t{csv_n}.csv")
        xlsx = write_table(planted_blocks(xlsx_n), Path(d) / f"t{xlsx_n}.xlsx")
        out = {
            "csv": {
                "n": csv_n,
                "bytes": csv.stat().st_size,
                **interleaved(
                    lambda: read_table(csv), lambda: pd.read_csv(csv, comment="#"), repeat
                ),
            },
            "xlsx": {
                "n": xlsx_n,
                "bytes": xlsx.stat().st_size,
                **interleaved(
                    lambda: _fresh_read(xlsx), lambda: _calamine_every_cell(xlsx), repeat
                ),
            },
        }
        package._scan.cache_clear()
        out["xlsx"]["scan_s"] = _once(lambda: package.scan_package(xlsx))
        real_load = fastbook.load
        try:
            fastbook.load = lambda p: None  # type: ignore[assignment]
            out["xlsx"]["openpyxl_only_s"] = _once(lambda: _fresh_read(xlsx))
        finally:
            fastbook.load = real_load  # type: ignore[assignment]
    return out


def report(rows: dict) -> str:
    """Return the lines ``make bench`` prints."""
    c, x = rows["csv"], rows["xlsx"]
    return "\n".join(
        [
            "readers, interleaved, median of per-repeat ratios (goal <= 3):",
            f"  CSV  n={c['n']:5d} ({c['bytes'] / 2**20:.1f} MiB): read_table {c['ours_s']:.3f} s"
            f"  pandas.read_csv {c['reference_s']:.3f} s  ratio {c['ratio']:.2f} "
            f"(range {c['ratio_min']:.2f}-{c['ratio_max']:.2f})",
            f"  xlsx n={x['n']:5d} ({x['bytes'] / 2**20:.1f} MiB): read_table {x['ours_s']:.3f} s"
            f"  python-calamine {x['reference_s']:.3f} s  ratio {x['ratio']:.2f} "
            f"(range {x['ratio_min']:.2f}-{x['ratio_max']:.2f}); of which package scan "
            f"{x['scan_s']:.3f} s; openpyxl alone {x['openpyxl_only_s']:.2f} s",
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv-n", type=int, default=2000)
    ap.add_argument("--xlsx-n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = reader_rows(args.csv_n, args.xlsx_n, args.repeat)
    print(report(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
