"""Time io_clusters.linkages against its physical limit: one LU + the full inverse.

Usage: python scripts/bench_linkages.py [--sizes 1500 2000] [--repeat 9] [--profile N]
                                       [--blas-threads K]

The reference is ``scipy.linalg.lu_factor(I - A)`` + ``lu_solve`` of the identity: the
cost of forming the Leontief inverse L once, which the full linkage table needs (the
coefficients of variation and the extraction measures use every element of L). Both
are timed side by side in one process, one call of each in every repeat (in rotating
order) so that a change in machine load hits both; the ratio is the median of the
per-repeat ratios (the medians of the two times are reported too). ``make bench`` runs
this for n = 1,500 and 2,000 (see :func:`limit_rows`). A second, tighter reference
is reported too: the same two LAPACK calls with no copy at all (I − A built in a
Fortran-ordered buffer, factorised and solved in place), the floor under any
implementation.

``--profile N`` prints the cProfile of one ``linkages`` call at n = N (the profile in
docs/performance.md).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import scipy.linalg

from io_clusters import IOTable, linkages


def table(n: int, seed: int = 0) -> IOTable:
    """A random productive table (30 % dense, column sums of A between 1/3 and 2/3)."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.3)
    x = Z.sum(0) * rng.uniform(1.5, 3, n) + Z.sum(1)
    return IOTable.from_arrays(Z, x)


def median_time(fn, repeat: int = 5) -> float:
    """Median wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ratio_row(n: int, repeat: int = 9) -> dict:
    """Linkages vs one LU + solve of the identity at size n, interleaved, medians."""
    t = table(n)
    A = t.Z.to_numpy() / t.x.to_numpy()
    eye = np.eye(n)

    def reference() -> np.ndarray:
        return scipy.linalg.lu_solve(scipy.linalg.lu_factor(eye - A), eye)

    def bare_lapack() -> np.ndarray:
        # the same two LAPACK calls with no copy at all: I - A built in a Fortran
        # buffer, factorised and solved in place (the floor under any implementation)
        M = np.empty((n, n), order="F")
        np.subtract(0.0, A, out=M)
        M.flat[:: n + 1] += 1.0
        lu = scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False)
        return scipy.linalg.lu_solve(lu, np.eye(n, order="F"), overwrite_b=True, check_finite=False)

    def ours() -> object:
        return linkages(t)

    reference(), bare_lapack(), ours()  # warm-up: first-call allocations and imports
    fns = {"ref": reference, "ours": ours, "bare": bare_lapack}
    times: dict[str, list[float]] = {k: [] for k in fns}
    order = list(fns)
    for k in range(repeat):
        for name in order[k % 3 :] + order[: k % 3]:  # rotate: no call always runs first
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    ref_t, our_t, bare_t = times["ref"], times["ours"], times["bare"]
    ratios = [o / r for o, r in zip(our_t, ref_t, strict=True)]
    ratios_bare = [o / b for o, b in zip(our_t, bare_t, strict=True)]
    return {
        "n": n,
        "repeat": repeat,
        "limit_lu_factor_solve_s": statistics.median(ref_t),
        "linkages_s": statistics.median(our_t),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "bare_lapack_in_place_s": statistics.median(bare_t),
        "ratio_to_bare_lapack": statistics.median(ratios_bare),
    }


def limit_rows(sizes: tuple[int, ...] = (1500, 2000), repeat: int = 9) -> list[dict]:
    """The ``make bench`` rows: linkages / (lu_factor + lu_solve(I)) at each size."""
    return [ratio_row(n, repeat) for n in sizes]


def profile(n: int, top: int = 12) -> str:
    """cProfile of one linkages call at size n (after a warm-up call), by own time."""
    t = table(n)
    linkages(t)
    pr = cProfile.Profile()
    pr.enable()
    linkages(t)
    pr.disable()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1500, 2000])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--profile", type=int, metavar="N", help="print the profile of one call")
    ap.add_argument("--blas-threads", type=int, help="limit BLAS threads (threadpoolctl)")
    args = ap.parse_args()
    if args.blas_threads:
        import threadpoolctl

        threadpoolctl.threadpool_limits(args.blas_threads)
    if args.profile:
        print(profile(args.profile))
        return 0
    rows = limit_rows(tuple(args.sizes), args.repeat)
    for r in rows:
        print(
            f"n={r['n']:5d}  lu_factor+lu_solve(I) {r['limit_lu_factor_solve_s']:7.3f} s  "
            f"linkages {r['linkages_s']:7.3f} s  ratio {r['ratio']:5.2f} "
            f"(range {r['ratio_min']:.2f}-{r['ratio_max']:.2f}, {r['repeat']} repeats); "
            f"vs the same LAPACK calls in place {r['ratio_to_bare_lapack']:.2f}"
        )
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
