"""Regenerate the package's department boundaries from ../shared/data/geo/.

The source (INEI's departmental limits as simplified by J. D. c.b., MIT licence; see
``io_clusters/data/geo/SOURCES.md``) has 20,657 vertices (882 KB). The package ships a
coarser copy for maps of the whole country: the 25 polygons are simplified *as a
coverage* (``shapely.coverage_simplify``, Visvalingam–Whyatt on the shared edges, so
neighbouring departments keep a common border, without gaps or overlaps) and the
coordinates are rounded to 3 decimals (about 110 m). Needs shapely ≥ 2.1 (dev extra).

Usage: ``python scripts/simplify_boundaries.py [SOURCE] [TOLERANCE]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "geo" / "peru_departamentos.geojson"
TARGET = ROOT / "io_clusters" / "data" / "geo" / "peru_departamentos.geojson"


def _round(coords, nd=3):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], nd), round(coords[1], nd)]
    return [_round(c, nd) for c in coords]


def main(source: Path = SOURCE, tolerance: float = 0.02) -> None:
    src = json.loads(source.read_text(encoding="utf-8"))
    feats = sorted(src["features"], key=lambda f: f["properties"]["CCDD"])
    geoms = [shape(f["geometry"]) for f in feats]
    simple = shapely.coverage_simplify(geoms, tolerance)
    out = {
        "type": "FeatureCollection",
        "note": (
            "Departments of Peru (24 + Callao), INEI ubigeo codes; simplified from "
            "josedaniel-cb/limites-peru-geojson LIM_DEPARTAMENTAL_PERU_MIN.json "
            f"(commit 3a6785b) by scripts/simplify_boundaries.py, tolerance {tolerance} deg; "
            "MIT licence, see LICENSE-peru_departamentos"
        ),
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "CCDD": f["properties"]["CCDD"],
                    "NOMBDEP": f["properties"]["NOMBDEP"],
                },
                "geometry": {
                    "type": g.geom_type,
                    "coordinates": _round(mapping(g)["coordinates"]),
                },
            }
            for f, g in zip(feats, simple, strict=True)
        ],
    }
    TARGET.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    n = sum(len(shapely.get_coordinates(g)) for g in simple)
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes, {n:,} vertices)")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]) if args else SOURCE, float(args[1]) if len(args) > 1 else 0.02)
