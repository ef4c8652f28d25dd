"""Time and peak memory of one large multi-regional run (issue 20, item 4).

Builds a synthetic OECD-ICIO-sized system — 80 regions × the 45 ICIO 2021 industries =
3,600 country-sectors, a planted Peru → China → United States chain — and runs the main
job on it end to end without the bootstrap (``run(..., n_boot=0, focus="PER")``:
validation, linkages with extraction, candidates, evidence, workbook, figures, report,
table.csv), timing every stage and reading the process's peak resident memory
(``resource.getrusage``, Linux ``ru_maxrss``) before and after. Writes
``bench_mrio.json`` next to ``make bench``'s other results.

    python scripts/bench_mrio.py --out data/processed/bench            # 80 × 45
    python scripts/bench_mrio.py --regions 20 --out /tmp/b             # 900 sectors
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from io_clusters import run  # noqa: E402
from tests.test_mrio import CHAIN, ICIO45, planted_mrio  # noqa: E402

#: Region codes: the three of the planted chain, then R04, R05, …
FIRST = ["PER", "CHN", "USA"]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--regions", type=int, default=80, help="number of regions (default 80)")
    p.add_argument("--focus", default="PER", help="focus region (default PER; '' for none)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--out", default="data/processed/bench", help="where bench_mrio.json goes")
    p.add_argument(
        "--blas-threads",
        type=int,
        help="limit BLAS threads (on a shared, loaded machine 1 is much faster)",
    )
    args = p.parse_args(argv)
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.blas_threads)
    regions = FIRST + [f"R{k:02d}" for k in range(4, args.regions + 1)]
    t0 = time.perf_counter()
    table = planted_mrio(regions, ICIO45, CHAIN, seed=0)
    built = time.perf_counter() - t0
    rss_table = peak_rss_mib()
    stages: list[tuple[str, float]] = []

    def say(msg: str) -> None:
        stages.append((msg, time.perf_counter()))

    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        res = run(
            table,
            out=Path(tmp) / "run",
            n_boot=0,
            focus=args.focus or None,
            lang="en",
            figures=not args.no_figures,
            progress=say,
        )
        total = time.perf_counter() - t1
        sizes = {p.name: p.stat().st_size for p in (Path(tmp) / "run").iterdir() if p.is_file()}
    ends = [t for _, t in stages[1:]] + [t1 + total]
    timing = {msg: round(end - start, 2) for (msg, start), end in zip(stages, ends, strict=True)}
    chain_found = any(set(CHAIN) <= set(c.codes) for c in res.clusters.candidates)
    doc = {
        "n_sectors": table.n,
        "regions": len(regions),
        "sectors_per_region": len(ICIO45),
        "focus": args.focus or None,
        "blas_threads": args.blas_threads,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        "build_table_s": round(built, 2),
        "run_s": round(total, 2),
        "stages_s": timing,
        "peak_rss_mib_after_building_table": round(rss_table, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "candidates": len(res.clusters.candidates),
        "planted_chain_found": chain_found,
        "output_bytes": sizes,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_mrio.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(
        f"multi-regional run: {table.n} country-sectors ({len(regions)} regions x "
        f"{len(ICIO45)}), n_boot=0, focus={args.focus or None}: {total:.1f} s, "
        f"peak RSS {doc['peak_rss_mib']:.0f} MiB (table built: {rss_table:.0f} MiB); "
        f"{doc['candidates']} candidates, planted chain found: {chain_found}"
    )
    for msg, sec in timing.items():
        print(f"  {sec:7.2f} s  {msg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
