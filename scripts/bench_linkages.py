"""Time io_clusters.linkages on random productive tables against one bare solve.

Usage: python scripts/bench_linkages.py [n ...]   (default 500 1000 2000)

The reference is one ``numpy.linalg.solve(I - A, I)`` of the same size — the cost of
forming the Leontief inverse once — since the full linkage table needs L (for the
coefficients of variation and the extraction measures). Medians of 5 runs.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from io_clusters import IOTable, linkages


def table(n: int, seed: int = 0) -> IOTable:
    rng = np.random.default_rng(seed)
    Z = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.3)
    x = Z.sum(0) * rng.uniform(1.5, 3, n) + Z.sum(1)
    return IOTable.from_arrays(Z, x)


def median_time(fn, repeat: int = 5) -> float:
    from bench import median_time as _median  # one timing helper for every benchmark

    return _median(fn, repeat)


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        t = table(n)
        A = t.Z.to_numpy() / t.x.to_numpy()
        eye = np.eye(n)
        bare = median_time(lambda eye=eye, A=A: np.linalg.solve(eye - A, eye))
        full = median_time(lambda t=t: linkages(t))
        sums = median_time(lambda t=t: linkages(t, cv=False, extraction=False))
        rows.append(
            {
                "n": n,
                "bare_solve_s": bare,
                "linkages_s": full,
                "ratio": full / bare,
                "sums_only_s": sums,
                "sums_only_ratio": sums / bare,
            }
        )
        print(
            f"n={n:5d}  bare solve {bare:7.3f} s  linkages {full:7.3f} s  ratio {full / bare:5.2f}"
            f"  sums-only {sums:7.3f} s ({sums / bare:4.2f}x)"
        )
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500, 1000, 2000])
