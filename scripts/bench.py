"""Benchmark suite: `make bench` (under 15 minutes on the 2-core machine).

For n = 40, 111, 500, 2,000, 5,000 (seeded synthetic productive tables with planted
blocks) and the real tables, times each stage as the median of several runs, with
peak memory, and the ratios to the physical limit measured side by side:

* linkages vs one bare ``scipy.linalg.lu_factor`` + ``lu_solve`` of the identity
  (forming L once, which the full linkage table needs); besides the per-size column,
  a dedicated row for n = 1,500 and 2,000 times both interleaved in every repeat
  (``scripts/bench_linkages.py``, median of 9 per-repeat ratios; target <= 1.3);
* the tree vs a bare ``scipy.cluster.hierarchy.linkage`` on the same condensed distances;
* similarity vs one BLAS product of the profile matrices (the measure needs three);
* one bootstrap replicate vs one similarity + tree computation;
* the readers vs the bare parsers (``scripts/bench_readers.py``): a 2,000-sector
  interchange CSV vs ``pandas.read_csv``, a 500-sector workbook vs python-calamine
  reading every cell (goal <= 3 each).

Writes bench.json and bench.png (time vs n, log-log, with the fitted exponent per stage).
Usage: python scripts/bench.py [--sizes 40 111 500 2000 5000] [--limit-sizes 1500 2000]
                              [--out data/processed/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
from scipy.cluster.hierarchy import linkage as sp_linkage  # noqa: E402

from io_clusters import detect_clusters, linkages, read_table, run, validate, write_table  # noqa: E402
from io_clusters.clustering import _condensed, _replicate, chain_edges, partition  # noqa: E402
from io_clusters.options import ClusterOptions  # noqa: E402
from io_clusters.similarity import flow_strength, shares, similarity  # noqa: E402
from tests.conftest import planted_blocks  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
import bench_linkages  # noqa: E402
import bench_readers  # noqa: E402

planted = planted_blocks  # the same seeded tables as tests/test_performance.py


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_size(n: int, repeat: int, tmp: Path) -> dict:
    t = planted(n)
    Z = t.Z.to_numpy()
    A = Z / t.x.to_numpy()
    eye = np.eye(n)
    row: dict = {"n": n, "repeat": repeat}
    csv = write_table(t, tmp / f"t{n}.csv")
    row["read_csv"] = median_time(lambda: read_table(csv), repeat)
    if n <= 500:
        xlsx = write_table(t, tmp / f"t{n}.xlsx")
        row["read_xlsx"] = median_time(lambda: read_table(xlsx), max(1, repeat // 2))
    row["validation"] = median_time(lambda: validate(t), repeat)
    row["linkages"] = median_time(lambda: linkages(t), repeat)
    row["limit_lu"] = median_time(
        lambda: scipy.linalg.lu_solve(scipy.linalg.lu_factor(eye - A), eye), repeat
    )
    row["similarity"] = median_time(lambda: similarity(Z), repeat)
    X, _ = shares(Z)
    row["limit_gemm"] = median_time(lambda: X.T @ X, repeat)
    S = similarity(Z)
    dvec = _condensed(S)
    row["tree"] = median_time(lambda: sp_linkage(_condensed(S), method="average"), repeat)
    row["limit_linkage"] = median_time(lambda: sp_linkage(dvec, method="average"), repeat)
    # steps 4-6 of detect_clusters: tree, cut, flow-link check, chain joins, size rule
    opts = ClusterOptions(n_boot=0)
    F = flow_strength(Z)
    seeds = np.arange(n)
    x_share = t.x.to_numpy() / t.x.to_numpy().sum()
    row["cut_and_links"] = median_time(
        lambda: partition(S, F, seeds, seeds, x_share, opts), max(1, repeat // 2)
    )
    cores = [np.arange(i, i + 10) for i in range(0, min(n, 100), 10)]
    edges = [e for c in cores for e in chain_edges(c, F)]
    goods = np.ones(n, dtype=bool)
    seq = np.random.SeedSequence(0).spawn(3)
    row["bootstrap_replicate"] = statistics.median(
        _timed(lambda s=s: _replicate(Z, goods, seeds, x_share, cores, edges, opts, seed_seq=s))
        for s in seq
    )
    # sectors of equal size: at n = 5,000 each holds 0.02 % of output, under the 0.05 %
    # a seed needs (issue 14); the size rule is not what is timed here, so it is off
    small = {"min_output_share": 0.0}
    row["detect_no_bootstrap"] = median_time(lambda: detect_clusters(t, n_boot=0, **small), 1)
    out = tmp / f"run{n}"
    row["run_no_bootstrap"] = median_time(lambda: run(t, out=out, n_boot=0, **small), 1)
    if n <= 2000:
        row["run_default_bootstrap200"] = median_time(
            lambda: run(t, out=out, n_boot=200, n_jobs=2, **small), 1
        )
    row["ratio_linkages"] = row["linkages"] / row["limit_lu"]
    row["ratio_tree"] = row["tree"] / row["limit_linkage"]
    row["ratio_similarity"] = row["similarity"] / row["limit_gemm"]
    row["ratio_replicate"] = row["bootstrap_replicate"] / (row["similarity"] + row["tree"])
    row["peak_mb"] = peak_mb()
    return row


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def real_tables() -> list[dict]:
    shared = ROOT.parent / "shared" / "data" / "io"
    out = []
    for name in ("peru_cepal_lac_iot_2011_per_rows.csv", "chile_bcch_mip_2008_111x111.xlsx"):
        if (shared / name).exists():
            import warnings

            warnings.simplefilter("ignore")
            t = read_table(shared / name)
            with tempfile.TemporaryDirectory() as d:
                out.append(
                    {
                        "table": name,
                        "n": t.n,
                        "read": median_time(lambda p=shared / name: read_table(p), 3),
                        "run_default": median_time(lambda t=t: run(t, out=Path(d) / "o"), 1),
                    }
                )
    return out


def fit_exponents(rows: list[dict], stages: list[str]) -> dict:
    out = {}
    for st in stages:
        pts = [(r["n"], r[st]) for r in rows if st in r and r["n"] >= 111 and r[st] > 0]
        if len(pts) >= 2:
            ln = np.log([p[0] for p in pts])
            lt = np.log([p[1] for p in pts])
            out[st] = round(float(np.polyfit(ln, lt, 1)[0]), 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[40, 111, 500, 2000, 5000])
    ap.add_argument("--limit-sizes", type=int, nargs="*", default=[1500, 2000])
    ap.add_argument("--out", default="data/processed/bench")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in args.sizes:
            t0 = time.perf_counter()
            repeat = 5 if n <= 500 else 3 if n <= 2000 else 1
            rows.append(bench_size(n, repeat, Path(d)))
            print(f"n={n:5d} done in {time.perf_counter() - t0:6.1f} s", flush=True)
    stages = [
        "read_csv",
        "validation",
        "linkages",
        "similarity",
        "tree",
        "cut_and_links",
        "bootstrap_replicate",
        "run_no_bootstrap",
    ]
    limit = bench_linkages.limit_rows(tuple(args.limit_sizes), repeat=9)
    readers = bench_readers.reader_rows(2000, 500, repeat=9)
    exps = fit_exponents(rows, stages)
    real = real_tables()
    print(f"\n{'stage':28}" + "".join(f"{r['n']:>11}" for r in rows) + "   exponent")
    for st in [
        *stages,
        "run_default_bootstrap200",
        "limit_lu",
        "limit_gemm",
        "limit_linkage",
        "ratio_linkages",
        "ratio_tree",
        "ratio_similarity",
        "ratio_replicate",
        "peak_mb",
    ]:
        vals = "".join(f"{r[st]:11.3f}" if st in r else f"{'-':>11}" for r in rows)
        print(f"{st:28}{vals}   {exps.get(st, '')}")
    print("\nlinkages / (lu_factor + lu_solve(I)), interleaved, median of per-repeat ratios:")
    for r in limit:
        print(
            f"  n={r['n']:5d}  limit {r['limit_lu_factor_solve_s']:.3f} s  linkages "
            f"{r['linkages_s']:.3f} s  ratio {r['ratio']:.2f} "
            f"(range {r['ratio_min']:.2f}-{r['ratio_max']:.2f}; target <= 1.3); vs the same "
            f"LAPACK calls in place {r['ratio_to_bare_lapack']:.2f}"
        )
    print(bench_readers.report(readers))
    for r in real:
        print(
            f"real: {r['table']} (n={r['n']}): read {r['read']:.3f} s, "
            f"default run {r['run_default']:.1f} s"
        )
    import threadpoolctl

    doc = {
        "machine": {"cpus": os.cpu_count(), "blas": threadpoolctl.threadpool_info()},
        "sizes": rows,
        "exponents": exps,
        "linkages_limit": limit,
        "readers": readers,
        "real_tables": real,
    }
    (out / "bench.json").write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 6))
    for st in stages:
        pts = [(r["n"], r[st]) for r in rows if st in r]
        ax.loglog(
            [p[0] for p in pts],
            [p[1] for p in pts],
            marker="o",
            label=f"{st} (n^{exps.get(st, '?')})",
        )
    ax.set_xlabel("sectors n")
    ax.set_ylabel("seconds (median)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "bench.png", dpi=110)
    print(f"wrote {out / 'bench.json'} and {out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
