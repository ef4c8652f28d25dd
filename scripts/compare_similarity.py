"""Show what each similarity measure changes on the real tables (candidates per measure).

Usage: python scripts/compare_similarity.py   (reads ../shared/data/io)
"""

from __future__ import annotations

import warnings
from pathlib import Path

from io_clusters import detect_clusters, read_table
from io_clusters.similarity import MEASURES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "io"
TABLES = ["peru_cepal_lac_iot_2011_per_rows.csv", "chile_bcch_mip_2008_111x111.xlsx"]
PAIRS = {
    "peru_cepal_lac_iot_2011_per_rows.csv": [("s04", "s23"), ("s02", "s08"), ("s11", "s12")],
    "chile_bcch_mip_2008_111x111.xlsx": [("15", "57"), ("11", "21"), ("12", "20"), ("3", "31")],
}


def main() -> None:
    warnings.simplefilter("ignore")
    for name in TABLES:
        path = SHARED / name
        if not path.exists():
            print(f"skipped: {path} absent")
            continue
        t = read_table(path)
        print(f"\n== {name} ==")
        for measure in MEASURES:
            res = detect_clusters(t, similarity_measure=measure, n_boot=100, seed=0)
            together = [
                f"{a}+{b}:{'yes' if any({a, b} <= set(c.codes) for c in res.candidates) else 'no'}"
                for a, b in PAIRS[name]
            ]
            sizes = sorted((len(c.members) for c in res.candidates), reverse=True)
            stable = sum(c.stability is not None and c.stability >= 0.75 for c in res.candidates)
            print(
                f"{measure:12s} k={res.diagnostics['k']:3d} candidates={len(res.candidates):3d} "
                f"largest={sizes[:3]} stable={stable} unclustered={len(res.unclustered)} "
                f"coph={res.diagnostics['cophenetic_correlation']:.3f}  {' '.join(together)}"
            )


if __name__ == "__main__":
    main()
