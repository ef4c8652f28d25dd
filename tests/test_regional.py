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

import numpy as np
import openpyxl
import pandas as pd
import pytest

from io_clusters import IOTable, read_table
from io_clusters.cli import main
from io_clusters.regional import (
    RegionalData,
    flq_lambda,
    location_quotients,
    read_regional,
    regionalize,
)

from .conftest import PERU, SHARED_IO

REGIONAL = SHARED_IO.parent / "regional" / "peru_inei_vab_departamento_actividad_2007_2019.csv"

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


def test_regional_tables_of_peru(inei, shared_io):
    t = read_table(shared_io / PERU).without(["s31"])
    whole = regionalize(t, inei, list(inei.regions))
    np.testing.assert_allclose(whole.Z.to_numpy(), t.Z.to_numpy(), rtol=1e-12)
    ancash = regionalize(t, inei, "áncash")  # names are matched without case or accents
    assert ancash.x["s02"] / t.x["s02"] == pytest.approx(
        0.1597, abs=5e-4
    )  # Áncash's share of fishing
    from io_clusters import detect_clusters, validate

    assert validate(ancash).ok
    assert detect_clusters(ancash, n_boot=0).candidates  # the detector runs on the regional table


def test_run_with_regions_end_to_end(inei, shared_io, tmp_path, capsys):
    code = main(
        [
            "run",
            str(shared_io / PERU),
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
    fishing = next(
        c for c in doc["candidates"] if {"s02", "s08"} <= {m["code"] for m in c["members"]}
    )
    top = [r["region"] for r in fishing["regions"][:3]]
    assert "Piura" in top and fishing["regional_activities"] == ["2"]
    chimbote = next(m for m in fishing["matched_cases"] if m["case_id"] == "pe-chimbote-pesca")
    assert chimbote["region_supported"]  # Chimbote is in Áncash, where fishing is concentrated
    assert "Áncash" in fishing["rosenfeld"]["sentence_es"]
    wb = openpyxl.load_workbook(tmp_path / "o" / "candidates.xlsx")
    assert "Regiones" in wb.sheetnames and len(wb["Regiones"]._charts) == len(doc["candidates"])
    assert (tmp_path / "o" / "figures" / f"regions_{fishing['id']}.png").stat().st_size > 5000
    assert main(["regions", str(REGIONAL)]) == 0
    assert "Tumbes" in capsys.readouterr().out
    out = tmp_path / "ancash.csv"
    assert (
        main(
            [
                "regionalize",
                str(shared_io / PERU),
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
