"""Peru's departments: the INEI code/name table, exact matching, boundaries, maps.

Expected codes and names are INEI's ubigeo list as written in the boundary file's own
``CCDD``/``NOMBDEP`` properties (../shared/data/geo/SOURCES.md) — an independent source
for the package's table.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from io_clusters import geo
from io_clusters.evidence import load_cases

from .conftest import SHARED_IO

SHARED_GEO = SHARED_IO.parent / "geo" / "peru_departamentos.geojson"
PACKAGE_GEO = resources.files("io_clusters") / "data" / "geo"

# INEI ubigeo, departments 01-25, upper case without accents (as in NOMBDEP)
UBIGEO = {
    "01": "AMAZONAS", "02": "ANCASH", "03": "APURIMAC", "04": "AREQUIPA", "05": "AYACUCHO",
    "06": "CAJAMARCA", "07": "CALLAO", "08": "CUSCO", "09": "HUANCAVELICA", "10": "HUANUCO",
    "11": "ICA", "12": "JUNIN", "13": "LA LIBERTAD", "14": "LAMBAYEQUE", "15": "LIMA",
    "16": "LORETO", "17": "MADRE DE DIOS", "18": "MOQUEGUA", "19": "PASCO", "20": "PIURA",
    "21": "PUNO", "22": "SAN MARTIN", "23": "TACNA", "24": "TUMBES", "25": "UCAYALI",
}  # fmt: skip

# the 24 regions of INEI's departmental accounts, as spelled in its file (Lima includes Callao)
INEI_24 = (
    "amazonas, áncash, apurímac, arequipa, ayacucho, cajamarca, cusco, huancavelica, huánuco, "
    "ica, junín, la libertad, lambayeque, lima, loreto, madre de dios, moquegua, pasco, piura, "
    "puno, san martín, tacna, tumbes, ucayali"
).split(", ")


def test_table_has_the_25_inei_codes_and_names():
    assert len(geo.DEPARTMENTS) == 25
    assert {d.code: geo.fold(d.name).upper() for d in geo.DEPARTMENTS} == UBIGEO
    for code, upper in UBIGEO.items():
        assert geo.department(upper).code == code  # upper case, no accents
        assert geo.department(code).code == code  # by code
        assert geo.department(str(int(code))).code == code  # "7" = "07"
    assert [geo.department(n).name for n in INEI_24] == [
        d.name for d in geo.DEPARTMENTS if d.code != "07"
    ]


def test_accents_case_and_spacing_are_folded():
    for raw, name in [
        ("ancash", "Áncash"),
        ("ÁNCASH", "Áncash"),
        ("Huanuco", "Huánuco"),
        ("  san   MARTIN ", "San Martín"),
        ("Junin", "Junín"),
        ("apurimac", "Apurímac"),
        ("Madre De Dios", "Madre de Dios"),
        ("Cuzco", "Cusco"),
    ]:
        assert geo.department(raw).name == name, raw
    assert geo.department("San Martin de Porres") is None  # a Lima district, not the department
    assert geo.department("Lim") is None


def test_callao_and_lima():
    callao, lima = geo.department("Callao"), geo.department("Lima")
    assert (callao.code, lima.code) == ("07", "15")
    assert geo.department("Provincia Constitucional del Callao") == callao
    assert geo.department("Lima Metropolitana") == lima
    inei = tuple(geo.department(n).name for n in INEI_24)  # 24 regions, no Callao
    assert geo.in_data(callao, inei) == "Lima"  # INEI folds Callao into Lima
    assert geo.in_data(lima, inei) == "Lima"
    with_callao = (*inei, "Callao")
    assert geo.in_data(callao, with_callao) == "Callao"
    assert geo.in_data(callao, ("Cusco", "Puno")) is None


def test_exact_matching_ica_is_not_in_centroamerica():
    assert geo.departments_in("Centroamérica (Guatemala, Honduras, El Salvador, Nicaragua)") == ()
    assert [d.name for d in geo.departments_in("Ica")] == ["Ica"]
    assert geo.departments_in("Ica, Perú")[0].name == "Ica"
    assert geo.departments_in("Jamaica") == ()
    assert geo.departments_in("Limache, Valparaíso") == ()  # contains "Lima"
    assert geo.departments_in("Punomarca") == ()
    assert [d.name for d in geo.departments_in("Puno, Cusco y Arequipa")] == [
        "Puno",
        "Cusco",
        "Arequipa",
    ]
    assert [d.name for d in geo.departments_in("Chimbote, provincia del Santa, Áncash")] == [
        "Áncash"
    ]
    assert [d.name for d in geo.departments_in("Cajamarca (departamento y provincia)")] == [
        "Cajamarca"
    ]
    assert [d.name for d in geo.departments_in("departamento de La Libertad")] == ["La Libertad"]


def test_catalogue_places_resolve_only_in_peru():
    for case in load_cases():
        found = [geo.department(n) for n in case.departments]
        if case.country == "PER":
            assert found and all(found), case.departments  # Peruvian departments, exact
        else:  # Bío Bío, Antofagasta, País Vasco … are no Peruvian department
            assert not any(found), (case.country, case.departments)
            assert geo.departments_in(case.region) == (), case.region


def test_boundaries_are_small_licensed_and_complete():
    files = {p.name: p for p in PACKAGE_GEO.iterdir()}
    assert "LICENSE-peru_departamentos" in files and "MIT" in files[
        "LICENSE-peru_departamentos"
    ].read_text(encoding="utf-8")
    size = len(files["peru_departamentos.geojson"].read_bytes())
    assert size < 300_000, size
    shapes = geo.boundaries()
    assert sorted(shapes) == sorted(UBIGEO)
    doc = json.loads(files["peru_departamentos.geojson"].read_text(encoding="utf-8"))
    assert {f["properties"]["CCDD"]: f["properties"]["NOMBDEP"] for f in doc["features"]} == UBIGEO
    for rings in shapes.values():
        for r in rings:
            assert r.shape[1] == 2 and np.allclose(r[0], r[-1])  # closed rings
            assert (-81.5 < r[:, 0]).all() and (r[:, 0] < -68.5).all()
            assert (-18.5 < r[:, 1]).all() and (r[:, 1] < 0.1).all()


def _areas(rings_by_code: dict) -> dict[str, float]:
    """Shoelace area (degrees²); holes, if any, are subtracted by their orientation."""
    out = {}
    for code, rings in rings_by_code.items():
        a = 0.0
        for r in rings:
            x, y = r[:, 0], r[:, 1]
            a += 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
        out[code] = abs(a)
    return out


def test_simplified_boundaries_keep_every_department_area():
    if not SHARED_GEO.exists():
        pytest.skip(f"source boundaries not available: {SHARED_GEO} is absent")
    doc = json.loads(Path(SHARED_GEO).read_text(encoding="utf-8"))
    src = {}
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        src[f["properties"]["CCDD"]] = [np.asarray(r, float) for p in polys for r in p]
    a_src, a_pkg = _areas(src), _areas(geo.boundaries())
    for code in UBIGEO:
        assert a_pkg[code] == pytest.approx(a_src[code], rel=0.05), code  # SOURCES.md: < 3 %


def test_map_of_a_located_candidate(tmp_path):
    from io_clusters.export.maps import department_values, map_figure

    names = [geo.department(n).name for n in INEI_24]
    regions = [
        {"region": n, "lq": 2.0 if n == "Puno" else 0.5, "share": 0.1, "concentrated": n == "Puno"}
        for n in names
    ]
    values, folded = department_values(regions)
    assert folded and values["07"] == values["15"] == 0.5  # Callao drawn with Lima's value
    cand = {
        "id": "C01",
        "label": "Textiles",
        "located": True,
        "location_note": {"es": "…", "en": "…"},
        "regions": regions,
        "regional_activities": [{"code": "13", "name": "Textiles", "broad": False}],
        "verify_in_detail": [
            {"department": "Puno", "code": "21", "concentrated": True, "lq": 2.0, "share": 0.1,
             "cases": ["Sur andino"]},
        ],
    }  # fmt: skip
    png, svg = map_figure(cand, tmp_path, lang="en", regional_data={"source": "test", "year": 1})
    assert png.name == "map_C01.png" and png.stat().st_size > 20_000
    assert svg.read_text(encoding="utf-8").count("<path") > 25  # 25 departments at least
