"""Where the clusters are: location quotients, FLQ tables, geography of candidates.

No published worked FLQ example was found with the search tool, so the reference
example is derived by hand inside the test (Flegg & Webber 1997 formulas; Miller &
Blair 2009 §8.2 for the SLQ and CILQ); the Peruvian concentrations are recomputed
independently from the INEI CSV with the csv module.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import numpy as np
import openpyxl
import pandas as pd
import pytest

from io_clusters import IOTable, geo, read_table
from io_clusters.cli import main
from io_clusters.errors import LayoutError
from io_clusters.evidence import load_cases, sector_isic
from io_clusters.regional import (
    RegionalData,
    activity_breadth,
    candidate_geography,
    example_path,
    flq_lambda,
    location_quotients,
    read_regional,
    regionalize,
    verify_in,
)

from .conftest import inei_file

# INEI's file in ../shared, or the embedded 2019 extract in the same layout without it
REGIONAL = inei_file()

# three activities (also the table's sectors) in two regions
E = pd.DataFrame({"North": [30.0, 10.0, 60.0], "South": [20.0, 40.0, 140.0]}, index=["a", "b", "c"])


def toy() -> RegionalData:
    return RegionalData(E, {"a": "a", "b": "b", "c": "c"}, "table", 2020)


def toy_table() -> IOTable:
    Z = np.array([[10, 20, 5], [4, 8, 30], [6, 12, 40]], float)
    return IOTable.from_arrays(Z, [50, 100, 200], codes=["a", "b", "c"])


def test_slq_cilq_flq_by_hand():
    # North: E_r = 100, nation: E_n = 300; national activity totals a 50, b 50, c 200
    slq_a = (30 / 100) / (50 / 300)  # 1.8
    slq_b = (10 / 100) / (50 / 300)  # 0.6
    slq_c = (60 / 100) / (200 / 300)  # 0.9
    lq = location_quotients(toy())
    np.testing.assert_allclose(lq["North"], [slq_a, slq_b, slq_c])
    lam = math.log2(1 + 100 / 300) ** 0.3  # 0.415037^0.3 = 0.768...
    assert flq_lambda(100 / 300) == pytest.approx(lam)
    t = toy_table()
    A = t.Z.to_numpy() / t.x.to_numpy()
    r = regionalize(t, toy(), "North", method="flq")
    # FLQ_ij = (SLQ_i / SLQ_j) * lambda, diagonal SLQ_i * lambda; capped at 1
    slq = np.array([slq_a, slq_b, slq_c])
    flq = slq[:, None] / slq[None, :] * lam
    np.fill_diagonal(flq, slq * lam)
    expected_A = A * np.minimum(flq, 1)
    x_r = t.x.to_numpy() * np.array(
        [30 / 50, 10 / 50, 60 / 200]
    )  # national output x regional share
    np.testing.assert_allclose(r.x.to_numpy(), x_r)
    np.testing.assert_allclose(r.Z.to_numpy() / x_r[None, :], expected_A, rtol=1e-12)
    assert expected_A[0, 1] == pytest.approx(A[0, 1] * 1.0)  # CILQ 3 * lambda > 1: capped
    assert expected_A[1, 0] == pytest.approx(A[1, 0] * (0.6 / 1.8) * lam)
    # SLQ and CILQ methods, and AFLQ (x log2(1 + SLQ_j) where SLQ_j > 1)
    slq_t = regionalize(t, toy(), "North", method="slq")
    np.testing.assert_allclose(
        slq_t.Z.to_numpy() / x_r, A * np.minimum(slq, 1)[:, None], rtol=1e-12
    )
    af = regionalize(t, toy(), "North", method="aflq")
    adj = np.where(slq > 1, np.log2(1 + slq), 1.0)
    np.testing.assert_allclose(
        af.Z.to_numpy() / x_r, A * np.minimum(flq * adj[None, :], 1), rtol=1e-12
    )


def test_properties():
    t = toy_table()
    same = RegionalData(
        pd.DataFrame({"R1": [5.0, 5.0, 20.0], "R2": [10.0, 10.0, 40.0]}, index=["a", "b", "c"]),
        {},
        "table",
    )
    np.testing.assert_allclose(location_quotients(same).to_numpy(), 1.0)  # proportional regions
    A = t.Z.to_numpy() / t.x.to_numpy()
    for method in ("slq", "cilq", "flq", "aflq"):
        for region in ("North", "South"):
            r = regionalize(t, toy(), region, method=method)
            xr = r.x.to_numpy()
            assert (r.Z.to_numpy() / xr[None, :] <= A + 1e-15).all()  # never above national
    whole = regionalize(t, toy(), ["North", "South"], method="flq")
    np.testing.assert_allclose(whole.Z.to_numpy(), t.Z.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(whole.x.to_numpy(), t.x.to_numpy())


@pytest.fixture(scope="module")
def inei():
    if not REGIONAL.exists():
        pytest.skip(f"regional data not available: {REGIONAL} is absent")
    return read_regional(REGIONAL)


def _independent_lq(activity: str, department: str, year: int = 2019) -> float:
    rows = [
        r
        for r in csv.DictReader(open(REGIONAL, encoding="utf-8"))
        if r["prices"] == "constant_2007" and r["year"] == str(year) and r["activity_no"] != "0"
    ]
    dep = sum(float(r["vab_miles_soles"]) for r in rows if r["departamento"] == department)
    nat = sum(float(r["vab_miles_soles"]) for r in rows)
    act_dep = sum(
        float(r["vab_miles_soles"])
        for r in rows
        if r["departamento"] == department and r["activity_no"] == activity
    )
    act_nat = sum(float(r["vab_miles_soles"]) for r in rows if r["activity_no"] == activity)
    return (act_dep / dep) / (act_nat / nat)


def test_peru_concentrations_match_the_study_cases(inei):
    assert inei.year == 2019 and len(inei.regions) == 24 and "Lima" in inei.regions
    lq = location_quotients(inei)
    cases = [
        ("2", "áncash", "Áncash"),
        ("3", "cajamarca", "Cajamarca"),
        ("9", "cusco", "Cusco"),
        ("4", "la libertad", "La Libertad"),
        ("4", "lima", "Lima"),
    ]
    for act, raw_name, col in cases:
        value = float(lq.loc[act, col])
        assert value == pytest.approx(_independent_lq(act, raw_name), rel=1e-12)
        assert value > 1, (act, col, value)  # fishing Áncash, mining Cajamarca, hotels Cusco, …


def test_regional_tables_of_peru(inei, peru_path):
    t = read_table(peru_path).without(["s31"])
    whole = regionalize(t, inei, list(inei.regions))
    np.testing.assert_allclose(whole.Z.to_numpy(), t.Z.to_numpy(), rtol=1e-12)
    ancash = regionalize(t, inei, "áncash")  # names are matched without case or accents
    assert ancash.x["s02"] / t.x["s02"] == pytest.approx(
        0.1597, abs=5e-4
    )  # Áncash's share of fishing
    from io_clusters import detect_clusters, validate

    assert validate(ancash).ok
    assert detect_clusters(ancash, n_boot=0).candidates  # the detector runs on the regional table


def _cand(cid: str, *core: str) -> SimpleNamespace:
    """A candidate built from member codes (independent of the clustering version)."""
    members = tuple(SimpleNamespace(code=c, name=c, role="core") for c in core)
    return SimpleNamespace(id=cid, label=cid, members=members)


def test_broad_activity_does_not_locate(inei, peru_path):
    t = read_table(peru_path)
    breadth = activity_breadth(t, inei)
    # INEI's activity 4 is the main activity of CEPAL's manufacturing sectors; counted
    # independently: sectors most of whose ISIC codes lie in divisions 10-33 (section C)
    manuf = [
        c
        for c, codes in sector_isic(t).items()
        if codes and sum(10 <= int(k[:2]) <= 33 for k in codes) > len(codes) / 2
    ]
    assert len(manuf) == 29 and sorted(breadth["4"].sectors) == sorted(manuf)
    assert breadth["4"].broad and not breadth["2"].broad and not breadth["3"].broad
    assert breadth["12"].broad  # Otros Servicios spans sections K-U
    cands = [
        _cand("TEX", "s11", "s12"),
        _cand("WOOD", "s14", "s21", "s22", "s24"),
        _cand("MIN", "s04", "s23"),
        _cand("FISH", "s02"),
    ]
    geos = {g.candidate_id: g for g in candidate_geography(t, inei, cands)}
    for cid in ("TEX", "WOOD", "MIN"):
        g = geos[cid]
        assert not g.located and g.regions == () and g.concentrated == ()
        assert "Manufactura" in g.note_es and "Manufactura" in g.note_en
        assert "29" in g.note_en and "isic4" in g.note_en
    assert "13, 14" in geos["TEX"].note_en  # the divisions that would locate it
    fish = geos["FISH"]
    assert fish.located and fish.activities == ("2",)
    rows = {r["region"]: r for r in fish.regions}
    for dep, raw in (("Áncash", "áncash"), ("Piura", "piura"), ("Tumbes", "tumbes")):
        assert rows[dep]["lq"] == pytest.approx(_independent_lq("2", raw), abs=1e-4)
    # concentrated = LQ > 1 and >= 5 % of national fishing; listed first
    expected = {d for d, r in rows.items() if r["lq"] > 1 and r["share"] >= 0.05}
    assert set(fish.concentrated) == expected and "Áncash" in expected
    assert [r["region"] for r in fish.regions[: len(expected)]] == list(fish.concentrated)
    # verify_in: concentration ∪ the departments of the paired Peruvian cases
    cases = {k.id: k for k in load_cases()}
    mining = verify_in(geos["MIN"], [cases["pe-yanacocha-mineria"]])
    assert [d["department"] for d in mining] == ["Cajamarca"] and mining[0]["cases"]
    textiles = verify_in(
        geos["TEX"],
        [cases["pe-gamarra-textil"], cases["pe-sur-andino-camelidos"], cases["ca-maquila-textil"]],
    )
    assert [d["department"] for d in textiles] == ["Lima", "Puno", "Cusco", "Arequipa"]
    assert "Ica" not in {d["department"] for d in textiles}  # not "Centroamérica"


def test_run_with_inei_data_end_to_end(inei, peru_path, tmp_path, capsys):
    code = main(
        [
            "run",
            str(peru_path),
            "--out",
            str(tmp_path / "o"),
            "--n-boot",
            "20",
            "--regions",
            str(REGIONAL),
        ]
    )
    assert code == 0
    doc = json.loads((tmp_path / "o" / "candidates.json").read_text(encoding="utf-8"))
    rd = doc["regional_data"]
    assert rd["year"] == 2019 and rd["prices"] == "constant_2007" and "VAB" in rd["measure"]
    assert rd["activities"]["4"] == "Manufactura" and "INEI" in rd["source"]
    schema = json.loads(
        (Path(__file__).parents[1] / "schemas" / "candidates.schema.json").read_text("utf-8")
    )
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    cands = doc["candidates"]

    def core(c):
        return {m["code"] for m in c["members"] if m["role"] == "core"}

    textiles = [c for c in cands if core(c) & {"s11", "s12"}]
    wood_steel = [c for c in cands if core(c) & {"s14", "s22"}]
    mining = [c for c in cands if "s04" in core(c)]
    assert textiles and wood_steel and mining
    for c in textiles + wood_steel:
        assert c["located"] is False and c["regions"] == []
        assert "Manufactura" in c["location_note"]["es"]
    for c in mining:
        if any(m["case_id"] == "pe-yanacocha-mineria" for m in c["matched_cases"]):
            assert "Cajamarca" in c["verify_in"]
    assert any("Cajamarca" in c["verify_in"] for c in mining)
    for c in cands:
        for m in c["matched_cases"]:
            if m["country"] != "PER":
                assert not m["region_supported"], (c["id"], m["case_id"])
        assert (tmp_path / "o" / "figures" / f"map_{c['id']}.png").stat().st_size > 10_000
        assert (tmp_path / "o" / "figures" / f"map_{c['id']}.svg").exists()
    report = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    for c in cands:
        assert f'alt="{c["id"]} mapa"' in report
    assert "Manufactura" in report and "constant_2007" in report
    wb = openpyxl.load_workbook(tmp_path / "o" / "candidates.xlsx")
    ws = wb["Regiones"]
    assert len(ws._images) == min(len(cands), 20)
    text = {str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert "constant_2007" in text and any("INEI" in v for v in text)
    assert main(["regions", str(REGIONAL)]) == 0
    assert "Tumbes" in capsys.readouterr().out
    out = tmp_path / "ancash.csv"
    assert (
        main(
            [
                "regionalize",
                str(peru_path),
                "--regions",
                str(REGIONAL),
                "--region",
                "Áncash",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert read_table(out).n == 40


# department × ISIC division employment, written here: textiles (13) and apparel (14)
# concentrated in Puno and Arequipa, everything else proportional to department size
DIVISIONS = {"s1": "01", "s2": "13", "s3": "14", "s4": "10", "s5": "16", "s6": "24",
             "s7": "25", "s8": "41", "s9": "47"}  # fmt: skip
SIZE = {"Lima": 50, "Arequipa": 8, "Puno": 5, "Cusco": 6, "La Libertad": 8, "Piura": 7}


def _isic_table() -> IOTable:
    n = len(DIVISIONS)
    rng = np.random.default_rng(1)
    Z = rng.uniform(1, 10, (n, n))
    Z[1, 2] = Z[2, 1] = 40.0  # textiles <-> apparel
    t = IOTable.from_arrays(Z, Z.sum(axis=0) * 2.5, codes=list(DIVISIONS), country="PER")
    return IOTable(
        t.codes, t.names, t.Z, t.x, t.final_demand, t.value_added, t.imports,
        replace(t.meta, isic=tuple((d,) for d in DIVISIONS.values())),
    )  # fmt: skip


def _isic_csv(path, concentrated=("Puno", "Arequipa")):
    lines = ["region,activity,value,classification,year,measure,units"]
    values = {}
    for dep, size in SIZE.items():
        for div in DIVISIONS.values():
            v = 100.0 * size
            if div in ("13", "14"):
                v = 3000.0 if dep in concentrated else 20.0 * size
            values[dep, div] = v
            lines.append(f"{dep.upper()},{div},{v},isic4,2022,employment,persons")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return values


def test_isic_division_data_locate_textiles_in_their_two_departments(tmp_path):
    values = _isic_csv(tmp_path / "emp.csv")
    data = read_regional(tmp_path / "emp.csv")
    assert data.classification == "isic4" and data.measure == "employment" and data.year == 2022
    assert set(data.regions) == set(SIZE)  # "LA LIBERTAD" -> "La Libertad"
    t = _isic_table()
    cands = [_cand("TEX", "s2", "s3"), _cand("WOOD", "s5", "s6", "s7")]
    tex, wood = candidate_geography(t, data, cands)
    assert tex.located and tex.activities == ("13", "14")
    assert tex.concentrated == ("Puno", "Arequipa")  # exactly those two, Puno (smaller) first
    assert [r["region"] for r in tex.regions[:2]] == ["Puno", "Arequipa"]
    total = sum(values.values())
    tex_n = sum(v for (d, a), v in values.items() if a in ("13", "14"))
    for r in tex.regions:
        dep_total = sum(v for (d, a), v in values.items() if d == r["region"])
        dep_tex = values[r["region"], "13"] + values[r["region"], "14"]
        assert r["lq"] == pytest.approx((dep_tex / dep_total) / (tex_n / total), abs=1e-4)
        assert r["share"] == pytest.approx(dep_tex / tex_n, abs=1e-4)
    wood_n = sum(v for (d, a), v in values.items() if a in ("16", "24", "25"))
    expected = set()
    for dep in SIZE:
        dep_total = sum(v for (d, a), v in values.items() if d == dep)
        dep_wood = sum(values[dep, a] for a in ("16", "24", "25"))
        if (dep_wood / dep_total) / (wood_n / total) > 1 and dep_wood / wood_n >= 0.05:
            expected.add(dep)
    assert wood.located and set(wood.concentrated) == expected
    assert not expected & {"Puno", "Arequipa"}  # where textiles crowd the economy
    assert "13" in tex.note_en and "employment" in tex.note_en
    # the same data regionalize the table: all departments together give the nation back
    whole = regionalize(t, data, list(data.regions))
    np.testing.assert_allclose(whole.Z.to_numpy(), t.Z.to_numpy(), rtol=1e-12)
    puno = regionalize(t, data, "puno", method="slq")
    assert puno.x["s2"] / t.x["s2"] == pytest.approx(3000 / (2 * 3000 + 20 * (50 + 6 + 8 + 7)))
    # the same sectors read from section-level data ("C" = manufacturing) are not located
    path = tmp_path / "sections.csv"
    rows = ["region,activity,value,classification"]
    for dep, size in SIZE.items():
        rows += [f"{dep},A,{100 * size}", f"{dep},C,{600 * size}", f"{dep},F,{100 * size}"]
        rows += [f"{dep},G,{100 * size}"]
    path.write_text("\n".join(r if r.count(",") == 3 else r + ",isic4" for r in rows) + "\n")
    coarse = read_regional(path)
    tex_c = candidate_geography(t, coarse, cands[:1])[0]
    assert not tex_c.located and "ISIC C" in tex_c.note_en and "6 of the table's 9" in tex_c.note_en


def test_isic_reader_refuses_bad_files(tmp_path):
    def bad(text, match):
        p = tmp_path / "bad.csv"
        p.write_text("region,activity,value,classification\n" + text, encoding="utf-8")
        with pytest.raises(LayoutError, match=match):
            read_regional(p)

    bad("Lima,C,10,isic4\nLima,13,5,isic4\n", "13 inside C")
    bad("Lima,131,10,isic4\nLima,1311,5,isic4\n", "1311 inside 131")
    bad("Lima,13,10,isic4\nLima,99X,5,isic4\n", "99X")
    bad("Lima,13,10,isic4\nLima,04,5,isic4\n", "04")  # no division 04 in ISIC Rev.4
    bad("Lima,13,10,isic4\nLIMA,13,5,isic4\n", "Lima × 13")  # same department twice
    bad("Lima,13,10,isic4\nCusco,13,-5,isic4\n", "Cusco × 13")
    bad("Lima,13,x,isic4\n", "row 2")
    p = tmp_path / "mixed.csv"
    p.write_text("region,activity,value,measure\nLima,a,1,employment\nCusco,a,2,establishments\n")
    with pytest.raises(LayoutError, match="one measure"):
        read_regional(p)


def test_shipped_example_is_synthetic_and_readable():
    path = example_path()
    data = read_regional(path)
    assert data.classification == "isic4" and "SYNTHETIC" in data.source
    assert "SYNTHETIC" in data.measure and data.units == "persons"
    assert all(geo.department(r) is not None for r in data.regions)
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    shown = [ln for ln in readme.splitlines() if ln.startswith("Puno,1")]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert shown and all(any(f.startswith(ln.split('"')[0]) for f in lines) for ln in shown)


def test_generic_regional_csv(tmp_path):
    path = tmp_path / "emp.csv"
    path.write_text(
        "region,activity,value\nN,a,30\nN,b,10\nN,c,60\nS,a,20\nS,b,40\nS,c,140\n", encoding="utf-8"
    )
    data = read_regional(path)
    assert data.classification == "table"
    np.testing.assert_allclose(location_quotients(data)["N"], [1.8, 0.6, 0.9])
    from io_clusters.errors import OptionError

    with pytest.raises(OptionError, match="unknown region"):
        regionalize(toy_table(), data, "West")


def test_run_with_the_shipped_isic_example_maps_located_candidates(peru_path, tmp_path):
    out = tmp_path / "o"
    code = main(
        ["run", str(peru_path), "--out", str(out), "--n-boot", "5", "--lang", "en"]
        + ["--regions", str(example_path())]
    )
    assert code == 0
    doc = json.loads((out / "candidates.json").read_text(encoding="utf-8"))
    assert doc["regional_data"]["classification"] == "isic4"
    located = [c for c in doc["candidates"] if c["located"]]
    textiles = next(
        c for c in doc["candidates"] if {"s11", "s12"} <= {m["code"] for m in c["members"]}
    )
    assert textiles in located  # the example has divisions 13 and 14
    assert [a["code"] for a in textiles["regional_activities"]] == ["13", "14"]
    report = (out / "report.html").read_text(encoding="utf-8")
    for c in located:
        assert c["regions"]
        conc = [r["region"] for r in c["regions"] if r["concentrated"]]
        assert c["verify_in"][: len(conc)] == conc  # concentration first, then evidence
        assert (out / "figures" / f"map_{c['id']}.png").stat().st_size > 20_000
        assert f'alt="{c["id"]} map"' in report
    for c in doc["candidates"]:
        if not c["located"]:
            assert c["regions"] == [] and "isic4" in c["location_note"]["en"]
