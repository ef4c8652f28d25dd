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
                f"{a}+{b}:{'yes' if any({a, b} <= set(c.core) for c in res.candidates) else 'no'}"
                for a, b in PAIRS[name]
            ]
            sizes = sorted((len(c.core) for c in res.candidates), reverse=True)
            top = max((c.output_share for c in res.candidates), default=0.0)
            stable = sum(c.stability_reading == "stable" for c in res.candidates)
            goods_loose = sum(r != "service_not_attached" for r in res.unclustered_reasons.values())
            print(
                f"{measure:12s} candidates={len(res.candidates):3d} largest core={sizes[:3]} "
                f"largest output share={top:.1%} stable={stable} "
                f"similar-structure groups={len(res.similar_structure_groups)} "
                f"goods unclustered={goods_loose}  {' '.join(together)}"
            )


if __name__ == "__main__":
    main()
