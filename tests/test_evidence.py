"""Rosenfeld's caveat: the study's framework and cases, concordances, pairing, fieldwork.

The case counts per phase (5/7/6/3) and "no Peruvian case in phase IV" are the study's
(PROEXPANSIÓN/PROMPYME, chapters 2-3, Cuadros 3-23), as the issue restates them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace

import openpyxl
import pytest

from io_clusters import IOTable, detect_clusters, read_table, run
from io_clusters.evidence import (
    DIMENSIONS,
    PHASES,
    EvidenceStore,
    FieldworkError,
    assess_phase,
    detect_classification,
    load_cases,
    load_framework,
    pair_evidence,
    phase_check,
    read_fieldwork,
    sector_isic,
    write_template,
)
from io_clusters.evidence.catalogue import DimensionEvidence
from io_clusters.evidence.concordance import load_concordances, oecd_codes

from .conftest import CHL08, CHL13, CHL111, PERU

ISIC = re.compile(r"^\d{2,4}$")
VALID_DIVISIONS = {
    f"{d:02d}"
    for d in [
        *range(1, 4),
        *range(5, 10),
        *range(10, 34),
        35,
        *range(36, 40),
        *range(41, 44),
        *range(45, 48),
        *range(49, 54),
        55,
        56,
        *range(58, 64),
        *range(64, 67),
        68,
        *range(69, 76),
        *range(77, 83),
        84,
        85,
        *range(86, 89),
        *range(90, 94),
        *range(94, 97),
        97,
        98,
        99,
    ]
}


def test_framework_has_phases_dimensions_requirements():
    fw = load_framework()
    assert list(fw["phases"]) == list(PHASES)
    assert [d["id"] for d in fw["dimensions"]] == list(DIMENSIONS)
    assert len(fw["requirements"]) == 5
    for d in fw["dimensions"]:
        assert d["name_es"] and d["name_en"]
        assert "IV" in d and d["IV"]["es"] and d["IV"]["en"]
    assert "Cuadro 2" in fw["source"]


def test_catalogue_matches_the_study():
    cases = load_cases()
    assert len(cases) == 21
    assert Counter(c.phase for c in cases) == {"I": 5, "II": 7, "III": 6, "IV": 3}
    peru = [c for c in cases if c.country == "PER"]
    assert len(peru) == 8 and all(c.phase != "IV" for c in peru)
    assert all(c.section.startswith("3.") for c in peru)
    assert all(c.recommendations for c in peru)  # chapter 5.1 speaks of each Peruvian case
    assert sum(c.section.startswith("2.") for c in cases) == 13
    assert sorted(c.cuadro for c in cases) == list(range(3, 24))
    assert len({c.id for c in cases}) == 21
    for c in cases:
        assert c.citation.startswith("PROMPYME study §")
        assert c.isic and all(ISIC.match(k) and k[:2] in VALID_DIVISIONS for k in c.isic), c.id
        assert {d.dimension for d in c.dimensions} == set(DIMENSIONS), c.id
        for d in c.dimensions:
            assert d.phase in (None, *PHASES) and d.en and d.es
    notes = {c.id: c.notes for c in cases}
    assert "catalán" in notes["es-pais-vasco-multiproductivo"]  # the study's own inconsistency


def test_phase_rule_is_reported_for_every_case():
    rows = phase_check()
    assert len(rows) == 21
    for r in rows:
        assert r["agrees"] == (r["rule_phase"] == r["study_phase"])
    assert any(not r["agrees"] for r in rows)  # disagreement is reported, not hidden


def _case(core, mature=(None, None, None)):
    dims = [DimensionEvidence(d, p, "x", "x") for d, p in zip(DIMENSIONS[:4], core, strict=True)]
    dims += [DimensionEvidence(d, p, "x", "x") for d, p in zip(DIMENSIONS[4:], mature, strict=True)]
    base = load_cases()[0]
    return replace(base, dimensions=tuple(dims))


@pytest.mark.parametrize(
    ("core", "mature", "expected"),
    [
        (("I", "I", "II", "I"), (None, None, None), "I"),
        (("II", "I", "II", "I"), (None, None, None), "II"),  # median 1.5 rounds half up
        (("III", "III", "IV", "IV"), (None, None, None), "III"),  # IV needs the mature dims
        (("III", "IV", "III", "IV"), ("IV", "IV", "IV"), "IV"),
        (("II", "III", "II", "II"), ("IV", "IV", "IV"), "II"),
        ((None, None, None, None), (None, None, None), None),
    ],
)
def test_phase_rule(core, mature, expected):
    assert assess_phase(_case(core, mature)) == expected


def test_concordances_cover_the_real_tables(shared_io):
    expected = {
        PERU: "cepal-40",
        CHL08: "bcch-2008-12",
        CHL13: "bcch-2013-12",
        CHL111: "bcch-2008-111",
    }
    for name, cls in expected.items():
        t = read_table(shared_io / name)
        assert detect_classification(t) == cls
        isic = sector_isic(t)
        assert set(isic) == set(t.codes)
        assert all(codes for codes in isic.values()), name
    for cls in load_concordances().values():
        for entry in cls["sectors"].values():
            assert all(ISIC.match(k) and k[:2] in VALID_DIVISIONS for k in entry["isic"])


def test_oecd_codes_are_parsed():
    assert oecd_codes("01T03") == ("01", "02", "03")
    assert oecd_codes("D35") == ("35",)
    assert oecd_codes("TOTAL") is None


@pytest.fixture(scope="module")
def peru_result(shared_io):
    t = read_table(shared_io / PERU)
    with pytest.warns(Warning, match="s31"):
        res = detect_clusters(t, seed=0, n_boot=60)
    return t, res


def _cand_with(res, *codes):
    return next(c for c in res.candidates if set(codes) <= set(c.codes))


def test_peru_complexes_paired_with_peruvian_cases(peru_result):
    t, res = peru_result
    ev = pair_evidence(t, res)
    expect = {
        ("s04", "s23"): "pe-yanacocha-mineria",
        ("s02", "s08"): "pe-chimbote-pesca",
        ("s11", "s12"): "pe-gamarra-textil",
    }
    for codes, case_id in expect.items():
        p = ev.for_candidate(_cand_with(res, *codes).id)
        local = [m.case_id for m in p.matches if m.same_country]
        assert case_id in local, (codes, local)
        assert p.rosenfeld.status in ("paired", "contradicted")
        assert p.rosenfeld.regions and p.rosenfeld.sentence_es and p.rosenfeld.sentence_en
        assert "geographic concentration" in p.rosenfeld.geography_note_en
    io_only = [p for p in ev.pairings if not any(m.same_country for m in p.matches)]
    assert io_only and all(p.rosenfeld.status == "io_only" for p in io_only)
    assert "no local qualitative evidence" in io_only[0].rosenfeld.sentence_en


def test_contradicted_in_both_directions(peru_result):
    t, res = peru_result
    mining = _cand_with(res, "s04", "s23")
    textile = _cand_with(res, "s11", "s12")
    strong_mining = replace(mining, intra_flow_share=0.6, stability=0.9)
    weak_textile = replace(textile, intra_flow_share=0.05, stability=0.9)
    strong_textile = replace(textile, intra_flow_share=0.6, stability=0.9)
    synthetic = replace(res, candidates=[strong_mining, weak_textile])
    ev = pair_evidence(t, synthetic)
    a = ev.for_candidate(mining.id).rosenfeld
    assert a.status == "contradicted" and "scarce relations" in a.reasons[0]  # Yanacocha: enclave
    b = ev.for_candidate(textile.id).rosenfeld
    assert b.status == "contradicted" and "weak linkages" in b.reasons[0]  # Gamarra: phase III
    ok = pair_evidence(t, replace(res, candidates=[strong_textile])).for_candidate(textile.id)
    assert ok.rosenfeld.status == "paired"


def test_table_without_concordance_is_io_only_and_says_why():

    from .conftest import PLANTED_Z

    Z = PLANTED_Z  # codes unknown to every concordance
    t = IOTable.from_arrays(Z, Z.sum(0) + Z.sum(1) + 20, codes=[f"p{i}" for i in range(6)])
    res = detect_clusters(t, n_boot=0, min_goods_sectors=2, max_core_output_share=1.0)
    assert res.candidates
    ev = pair_evidence(t, res)
    assert all(p.rosenfeld.status == "io_only" for p in ev.pairings)
    assert all("no ISIC concordance" in p.rosenfeld.reasons[-1] for p in ev.pairings)


def _fill(path, sheet_prefix, rows):
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith(sheet_prefix))
    for r, values in rows.items():
        for col, v in zip("BCDEF", values, strict=False):
            ws[f"{col}{r}"] = v
    wb.save(path)
    return ws.title


def test_fieldwork_round_trip(shared_io, tmp_path):
    store = tmp_path / "store.json"
    with pytest.warns(Warning, match="s31"):
        first = run(shared_io / PERU, out=tmp_path / "r1", seed=0, n_boot=20, evidence_store=store)
    doc = json.loads((tmp_path / "r1" / "candidates.json").read_text(encoding="utf-8"))
    target = next(c for c in doc["candidates"] if c["rosenfeld"]["status"] == "io_only")
    tpl = write_template(doc, tmp_path / "fieldwork.xlsx")
    wb = openpyxl.load_workbook(tpl)
    sheets = [ws for ws in wb.worksheets if ws.title != "Instrucciones"]
    assert len(sheets) == len(doc["candidates"]) and all(len(ws.title) <= 31 for ws in sheets)
    assert all(ws.data_validations.dataValidation for ws in sheets)
    _fill(
        tpl,
        target["id"],
        {
            10: (
                "II – Articulación comercial",
                "Refinery buys crude from local producers under contract",
                "Interview, plant manager",
                "2026-10-02",
                "Piura",
            ),
            11: (
                "I – Sin desarrollo tecnológico",
                "Imported technology only",
                "Site visit",
                "2026-10-03",
                "Piura",
            ),
        },
    )
    records = read_fieldwork(tpl)
    assert EvidenceStore(store).add(records) == 1
    assert EvidenceStore(store).add(records) == 0  # importing the same file again adds nothing
    with pytest.warns(Warning, match="s31"):
        second = run(shared_io / PERU, out=tmp_path / "r2", seed=0, n_boot=20, evidence_store=store)
    before = first.evidence.for_candidate(target["id"]).rosenfeld.status
    after = second.evidence.for_candidate(target["id"])
    assert before == "io_only" and after.rosenfeld.status == "paired"
    fw = [m for m in after.matches if m.source.startswith("fieldwork:")]
    assert fw and fw[0].region == "Piura"
    assert len(load_cases()) == 21  # the study's catalogue is untouched


def test_malformed_fieldwork_gives_cell_errors_and_changes_nothing(shared_io, tmp_path):
    with pytest.warns(Warning, match="s31"):
        run(
            shared_io / PERU,
            out=tmp_path / "r",
            seed=0,
            n_boot=0,
            evidence_store=tmp_path / "none.json",
        )
    doc = json.loads((tmp_path / "r" / "candidates.json").read_text(encoding="utf-8"))
    tpl = write_template(doc, tmp_path / "fw.xlsx")
    title = _fill(
        tpl,
        doc["candidates"][0]["id"][:31],
        {
            10: ("V – inventada", "text", "src", "2026-01-01", "Lima"),
            11: ("II – Especialización productiva", "text", None, "2026-01-01", "Lima"),
            12: ("II – Básica", "text", "src", "ayer", "Lima"),
            13: ("III – Instituciones desarrolladas y normas aplicadas", None, "src", None, None),
        },
    )
    store = tmp_path / "store.json"
    with pytest.raises(FieldworkError) as info:
        read_fieldwork(tpl)
    cells = {c.cell for c in info.value.cells}
    assert {"B10", "D11", "E12", "C13"} <= cells
    assert f"{title}!B10" in str(info.value)
    assert not store.exists()
