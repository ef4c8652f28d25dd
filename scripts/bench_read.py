"""Time reading the real tables in ../shared/data/io (median of 5 runs)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from io_clusters import read_table

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "io"


def main() -> None:
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} absent")
        return
    for path in sorted(SHARED.glob("*.*")):
        if path.suffix not in (".xlsx", ".csv"):
            continue
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            t = read_table(path)
            times.append(time.perf_counter() - t0)
        print(f"{path.name:45s} {t.n:4d} sectors  {statistics.median(times):6.3f} s")


if __name__ == "__main__":
    main()
