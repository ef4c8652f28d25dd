"""Rosenfeld's caveat: the study's framework and cases, concordances, pairing, fieldwork.

The case counts per phase (5/7/6/3) and "no Peruvian case in phase IV" are the study's
(PROEXPANSIÓN/PROMPYME, chapters 2-3, Cuadros 3-23; l. 4649-4651). Every correction of
the catalogue is checked against the seed text itself: the test reads the quoted lines
from ../shared/seed/ and checks that the case field agrees (skipped when absent).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import openpyxl
import pytest

from io_clusters import IOTable, detect_clusters, read_table, run
from io_clusters.cli import main
from io_clusters.evidence import (
    DIMENSIONS,
    PHASES,
    EvidenceStore,
    FieldworkError,
    detect_classification,
    heuristic_phase,
    load_cases,
    load_framework,
    pair_evidence,
    phase_check,
    read_fieldwork,
    sector_isic,
    write_template,
)
from io_clusters.evidence import pairing as pairing_module
from io_clusters.evidence.catalogue import DimensionEvidence, phase_bounds
from io_clusters.evidence.concordance import load_concordances, oecd_codes
from io_clusters.evidence.fieldwork import parse_phase_cell
from io_clusters.evidence.pairing import PERU_DEPARTMENTS, department_key, same_department
from io_clusters.regional import CandidateGeography

from .conftest import CHL08, CHL13, CHL111, PERU

SEED = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "seed"
    / "estudio_cluster_asociatividad_prompyme.txt"
)
ISIC = re.compile(r"^\d{2,4}$")
VALID_DIVISIONS = {
    f"{d:02d}"
    for d in [
        *range(1, 4),
        *range(5, 10),
        *range(10, 34),
        *range(35, 40),
        *range(41, 44),
        *range(45, 48),
        *range(49, 54),
        55,
        56,
        *range(58, 64),
        *range(64, 67),
        *range(68, 76),
        *range(77, 83),
        *range(84, 89),
        *range(90, 100),
    ]
}
CASES = {c.id: c for c in load_cases()}


@pytest.fixture(scope="module")
def seed() -> list[str]:
    """The study's lines (1-based access through ``seed[n - 1]``)."""
    if not SEED.exists():
        pytest.skip(f"the study is not available at {SEED} (../shared/seed)")
    return SEED.read_text(encoding="utf-8").split("\n")


def _text(seed: list[str], lines) -> str:
    """The seed's text over ``lines`` ((a, b) pairs or "a-b" strings), whitespace folded."""
    out = []
    for r in lines:
        a, b = r if isinstance(r, tuple) else map(int, (str(r).split("-") * 2)[:2])
        out.append(" ".join(seed[a - 1 : b]))
    return " ".join(" ".join(out).split())


def _covers(lines, n: int) -> bool:
    return any(a <= n <= b for a, b in lines)


def _fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()


# --- framework and catalogue ---------------------------------------------------------


def test_framework_has_phases_dimensions_requirements():
    fw = load_framework()
    assert list(fw["phases"]) == list(PHASES)
    assert [d["id"] for d in fw["dimensions"]] == list(DIMENSIONS)
    assert len(fw["requirements"]) == 5
    for d in fw["dimensions"]:
        assert d["name_es"] and d["name_en"]
        assert "IV" in d and d["IV"]["es"] and d["IV"]["en"]
    assert "Cuadro 2" in fw["source"]


def test_framework_points_into_the_study(seed):
    fw = load_framework()
    for p, d in fw["phases"].items():
        assert re.search(rf"FASE\s+{p}\b", _text(seed, d["lines"][:1]))
    for d in fw["dimensions"]:
        assert _text(seed, d["lines"]).startswith(d["name_es"].split()[0]), d["id"]
    assert "como mínimo estas características" in _text(seed, fw["requirements"][0]["lines"])


def test_catalogue_shape():
    cases = load_cases()
    assert len(cases) == 21
    assert Counter(c.phase for c in cases) == {"I": 5, "II": 7, "III": 6, "IV": 3}
    peru = [c for c in cases if c.country == "PER"]
    assert len(peru) == 8 and all(c.phase != "IV" for c in peru)
    assert all(c.section.startswith("3.") for c in peru)
    assert all(c.recommendations and c.line_refs["recommendations"] for c in peru)
    assert sum(c.section.startswith("2.") for c in cases) == 13
    assert sorted(c.cuadro for c in cases) == list(range(3, 24))
    assert len({c.id for c in cases}) == 21
    for c in cases:
        assert c.citation.startswith("PROMPYME study §")
        assert c.isic and all(ISIC.match(k) and k[:2] in VALID_DIVISIONS for k in c.isic), c.id
        assert {d.dimension for d in c.dimensions} == set(DIMENSIONS), c.id
        for d in c.dimensions:
            assert d.phase in (None, *PHASES) and d.en and d.es and d.lines, (c.id, d)
        # every statement carries its lines
        for key in ("heading", "phase", "cuadro", "region", "sector", "isic", "actors"):
            assert c.line_refs.get(key), (c.id, key)
        for key in ("products", "resource", "problems", "recommendations"):
            assert bool(getattr(c, key)) == bool(c.line_refs.get(key)), (c.id, key)
        assert all(n.lines for n in c.notes), c.id
        if c.phase == "I" and c.country == "PER":
            assert c.local_relations is not None and c.local_relations.lines, c.id


def test_peruvian_departments_are_inei_names():
    keys = {department_key(d) for d in PERU_DEPARTMENTS}
    assert len(PERU_DEPARTMENTS) == 25 and len(keys) == 25
    for c in load_cases():
        if c.country == "PER":
            assert c.departments and all(department_key(d) in keys for d in c.departments), c.id


def test_department_names_match_exactly_when_folded():
    assert same_department("Áncash", "ancash")
    assert same_department("Departamento de Ancash", "ÁNCASH")
    assert same_department("San Martín", "san martin")
    assert not same_department("Ica", "Centroamérica")  # never a substring match
    assert not same_department("Lima", "La Libertad")
    assert department_key("Región de Cusco") == "cusco"


# --- the catalogue against the seed text ----------------------------------------------


def test_every_line_reference_points_into_the_study(seed):
    n = len(seed)
    for c in load_cases():
        refs = [r for v in c.line_refs.values() for r in v]
        refs += [r for d in c.dimensions for r in d.lines]
        refs += [r for note in c.notes for r in note.lines]
        refs += [r for d in c.denies for r in d.lines]
        if c.local_relations:
            refs += list(c.local_relations.lines)
        for a, b in refs:
            assert 1 <= a <= b <= n and _text(seed, [(a, b)]), (c.id, a, b)


def test_headings_cuadros_and_phases_agree_with_the_study(seed):
    for c in load_cases():
        assert c.section in _text(seed, c.line_refs["heading"]), c.id
        assert f"Cuadro {c.cuadro}" in _text(seed, c.line_refs["cuadro"]), c.id
        phase_text = _text(seed, c.line_refs["phase"])
        assert re.search(rf"FASE\s+{c.phase}\b", phase_text, re.IGNORECASE), c.id


def test_quotes_are_verbatim(seed):
    quotes = [(c.id, d) for c in load_cases() for d in c.denies]
    assert quotes  # Antofagasta's absent transformation
    for cid, d in quotes:
        assert " ".join(d.quote.split()) in _text(seed, d.lines), cid


OUTSIDE_THE_STUDY = [
    "níquel",
    "nickel",
    "anchoveta",
    "Machu Picchu",
    "aceite de pescado",
    "Tamil Nadu",
    "Hualgayoc",
    "Ontario",
    "Puntarenas",
    "Guanajuato",
    "enclave",
    "cátodo",
]


def _case_words(c) -> str:
    parts = [c.name, c.region, c.sector, c.resource, c.actors, c.problems, c.recommendations]
    parts += list(c.products) + [n.text for n in c.notes]
    parts += [d.en + " " + d.es for d in c.dimensions]
    return _fold(" ".join(parts))


@pytest.mark.parametrize("term", OUTSIDE_THE_STUDY)
def test_details_from_outside_the_study_are_gone(seed, term):
    assert _fold(term) not in _fold("\n".join(seed))  # the study never says it …
    for c in load_cases():  # … so neither does the catalogue
        assert _fold(term) not in _case_words(c), (c.id, term)


def _dim(cid: str, dim: str) -> str | None:
    return CASES[cid].dimension(dim).phase  # type: ignore[union-attr]


def _note_lines(cid: str):
    return [r for n in CASES[cid].notes for r in n.lines]


# (case, lines of the study, words found there, check of the catalogue)
CORRECTIONS = [
    (
        "pe-yanacocha-mineria",
        "3251",
        "cluster en fase inicial",
        lambda c: c.phase == "I" and _covers(c.line_refs["phase"], 3251),
    ),
    (
        "pe-yanacocha-mineria",
        "1246-1247",
        "relaciones productivas/ comerciales sólidas entre los agentes de la zona",
        lambda c: _covers(_note_lines(c.id), 1246),
    ),
    (
        "pe-yanacocha-mineria",
        "3326-3327",
        "456 empresas proveedoras",
        lambda c: "456" in c.local_relations.en and _covers(c.local_relations.lines, 3326),
    ),
    (
        "pe-yanacocha-mineria",
        "3353-3356",
        "la mayoría de compras realizadas por la empresa minera se dan mediante la importación",
        lambda c: "imported" in c.local_relations.en and _covers(c.local_relations.lines, 3355),
    ),
    (
        "pe-yanacocha-mineria",
        "3268-3274",
        "no obedece, directamente, a que la actividad minera per se genera poca articulación",
        lambda c: _covers(_note_lines(c.id), 3268) and "not mining as such" in c.problems,
    ),
    (
        "cl-antofagasta-cobre",
        "1887-1888",
        "fuerte integración con los proveedores de gran tamaño",
        lambda c: _covers(_note_lines(c.id), 1887),
    ),
    (
        "cl-antofagasta-cobre",
        "1898-1900",
        "transformaciones posteriores que no se dan en el cluster",
        lambda c: (
            not any(k.startswith("24") for k in c.isic) and [d.isic for d in c.denies] == ["242"]
        ),
    ),
    (
        "pe-chimbote-pesca",
        "5196-5203",
        "Chimbote y Yanacocha",
        lambda c: c.phase == "I" and _covers(_note_lines(c.id), 5197),
    ),
    (
        "pe-chimbote-pesca",
        "3567",
        "Demanda internacional de harina de pescado",
        lambda c: _dim(c.id, "demanda") == _dim("cl-biobio-jurel", "demanda") == "I",
    ),
    (
        "es-pais-vasco-multiproductivo",
        "2962-2964",
        "curtiembre, textil, ensamblaje, juguetería de madera, maquinaria agrícola, joyería",
        lambda c: (
            {"1511", "13", "2821", "3211", "1010", "31", "26"} <= set(c.isic)
            and not ({"24", "25", "28", "29"} & set(c.isic))
            and not any(k[:2] in ("24", "25", "29") for k in c.isic)
        ),
    ),
    (
        "es-pais-vasco-multiproductivo",
        "2954",
        "Cataluña",
        lambda c: _covers(_note_lines(c.id), 2954) and "catalán" in c.notes[0].text,
    ),
    (
        "pe-villa-el-salvador",
        "4511-4512",
        "la metal-mecánica y la fabricación de muebles",
        lambda c: set(c.isic) == {"25", "31"},
    ),
    (
        "pe-villa-el-salvador",
        "4576-4577",
        "no se han generado mayores relaciones de integración",
        lambda c: _dim(c.id, "relaciones_productivas") == "II" and _covers(_note_lines(c.id), 4576),
    ),
    (
        "br-sinos-calzado",
        "2469-2470",
        "profesionales que reparan y mejoran las máquinas",
        lambda c: "3312" in c.isic and "28" not in c.isic,
    ),
    (
        "br-sinos-calzado",
        "2448-2450",
        "fuerte articulación entre empresarios",
        lambda c: _covers(_note_lines(c.id), 2448) and _covers(_note_lines(c.id), 2528),
    ),
    (
        "ca-maquila-textil",
        "1965-1966",
        "Costa Rica",
        lambda c: "Costa Rica" in c.region,
    ),
    (
        "cl-los-lagos-salmon",
        "2717-2718",
        "el desarrollo tecnológico no ha sido tan auspicioso",
        lambda c: _dim(c.id, "tecnologia") == "III",
    ),
    (
        "cl-los-lagos-salmon",
        "2774-2776",
        "la débil producción de tecnología",
        lambda c: c.phase == "III" and _covers(_note_lines(c.id), 2774),
    ),
    (
        "ca-sudbury-mineria",
        "2284-2285",
        "baja tecnología",
        lambda c: _dim(c.id, "tecnologia") == "II",
    ),
    (
        "mx-leon-guadalajara-calzado",
        "2578",
        "Las relaciones existentes entre las empresas son muy débiles",
        lambda c: _dim(c.id, "relaciones_productivas") != "III",
    ),
    (
        "mx-leon-guadalajara-calzado",
        "2598-2602",
        "no existe ninguna política específica",
        lambda c: _dim(c.id, "institucionalidad") != "III",
    ),
    (
        "pe-bambamarca-lacteos",
        "3936-3938",
        "el mayor problema de Bambamarca",
        lambda c: _covers(c.line_refs["problems"], 3936) and "illegal" in c.problems,
    ),
    (
        "in-tiruppur-textil",
        "3166-3171",
        "La mayor amenaza",
        lambda c: _covers(c.line_refs["problems"], 3166) and "female labour" in c.problems,
    ),
    (
        "it-tercera-italia-calzado",
        "2902-2904",
        "uno de los mayores riesgos",
        lambda c: _covers(c.line_refs["problems"], 2902) and "lower-quality" in c.problems,
    ),
    (
        "es-pais-vasco-multiproductivo",
        "3024-3025",
        "El riesgo asociado",
        lambda c: _covers(c.line_refs["problems"], 3024) and "European" in c.problems,
    ),
    (
        "cr-monteverde-ecoturismo",
        "2136-2138",
        "La ausencia de organizaciones formales de empresarios turísticos",
        lambda c: _covers(c.line_refs["problems"], 2136) and "formal organisations" in c.problems,
    ),
    (
        "pe-sur-andino-camelidos",
        "4031-4032",
        "destinada prioritariamente al mercado internacional",
        lambda c: _covers(_note_lines(c.id), 4031) and _covers(_note_lines(c.id), 4123),
    ),
    (
        "pe-bambamarca-lacteos",
        "5553",
        "altos niveles de articulación y acción conjunta",
        lambda c: _covers(_note_lines(c.id), 5553) and _covers(_note_lines(c.id), 3909),
    ),
    (
        "pe-bambamarca-lacteos",
        "3772-3773",
        "zona central de Cajamarca",
        lambda c: c.departments == ("Cajamarca",),
    ),
    (
        "pe-chimbote-pesca",
        "3436-3437",
        "departamento de Ancash",
        lambda c: [department_key(d) for d in c.departments] == ["ancash"],
    ),
    (
        "pe-sur-andino-camelidos",
        "3983-3984",
        "Puno, Cusco y Arequipa",
        lambda c: set(c.departments) == {"Puno", "Cusco", "Arequipa"},
    ),
]


@pytest.mark.parametrize(
    ("case_id", "lines", "words", "check"),
    CORRECTIONS,
    ids=[f"{c}@{ln}" for c, ln, _, _ in CORRECTIONS],
)
def test_correction_agrees_with_the_study(seed, case_id, lines, words, check):
    assert " ".join(words.split()) in _text(seed, [lines])  # the study says it there
    assert check(CASES[case_id])  # and the catalogue agrees


def test_pairing_rests_on_the_study_on_what_a_table_can_tell(seed):
    assert "válida para conocer el sector en el que se desarrolla un cluster" in _text(
        seed, ["1050-1051"]
    )
    assert "1050-1051" in (pairing_module.__doc__ or "")
    quote = "el carácter de las relaciones entre firmas o los beneficios del cluster no pueden"
    assert quote in _text(seed, ["1046-1050"]) and "1046-1050" in (pairing_module.__doc__ or "")


# --- the phase heuristic --------------------------------------------------------------


def _case(core, mature=(None, None, None)):
    dims = [DimensionEvidence(d, p, "x", "x") for d, p in zip(DIMENSIONS[:4], core, strict=True)]
    dims += [DimensionEvidence(d, p, "x", "x") for d, p in zip(DIMENSIONS[4:], mature, strict=True)]
    return replace(load_cases()[0], dimensions=tuple(dims))


# Expected readings worked by hand from the rule in heuristic_phase's docstring:
# median over (relations, relations, technology, demand, institutions).
@pytest.mark.parametrize(
    ("core", "mature", "expected"),
    [
        (("I", "I", "II", "I"), (None,) * 3, "I"),  # 1,1,1,2,1 → 1
        (("II", "I", "II", "I"), (None,) * 3, "II"),  # 2,2,1,2,1 → 2 (relations lead)
        (("II", "III", None, "III"), (None,) * 3, "II–III"),  # 2,2,3,3 → 2.5: a range
        ((None, "II", "III", None), (None,) * 3, "II–III"),  # 2,3 → 2.5
        (("IV", "III", "IV", "IV"), ("IV",) * 3, "III"),  # median 4, no own technology
        (("IV", "IV", "IV", "II"), ("IV",) * 3, "III"),  # median 4, institutions II
        (("III", "IV", "III", "IV"), ("IV",) * 3, "IV"),  # joint action at IV lifts
        (("III", "III", "IV", "III"), ("IV",) * 3, "III"),  # joint action, no own technology
        (("II", "IV", "IV", "IV"), ("IV",) * 3, "III"),  # 2,2,4,4,4 → 4, but relations II: III
        (("II–III", "II", "II", "II"), (None,) * 3, "II"),  # 2.5,2.5,2,2,2 → 2
        ((None, None, None, None), (None,) * 3, None),  # no evidence, no default
    ],
)
def test_heuristic_phase(core, mature, expected):
    assert heuristic_phase(_case(core, mature)) == expected


def test_phase_check_reports_every_case_and_disagreements():
    rows = phase_check()
    assert len(rows) == 21
    for r in rows:
        assert r["heuristic_phase"] == heuristic_phase(CASES[r["case"]])
        lo, hi = phase_bounds(r["heuristic_phase"])
        s = phase_bounds(r["study_phase"])[0]
        expected = "agrees" if lo == hi == s else "range" if lo <= s <= hi else "differs"
        assert r["verdict"] == expected and r["agrees"] == (expected == "agrees")
    # León–Guadalajara and Villa El Salvador: the study's text contradicts its own
    # placement (l. 2578-2602, 4576-4577), and the heuristic shows it.
    assert {r["case"] for r in rows if r["verdict"] == "differs"} >= {
        "mx-leon-guadalajara-calzado",
        "pe-villa-el-salvador",
    }


def test_phase_check_cli_says_plainly_what_the_rule_is(capsys):
    assert main(["evidence", "phase-check"]) == 0
    out = capsys.readouterr().out
    assert "io_clusters' own" in out and "not the study's" in out
    assert "reproduces" not in out and "agrees with" in out
    rows = phase_check()
    agree = sum(r["verdict"] == "agrees" for r in rows)
    assert f"agrees with the study's phase in {agree} of 21 cases" in out


def test_evidence_show_prints_what_is_known(capsys):
    assert main(["evidence", "show", "--id", "pe-yanacocha-mineria"]) == 0
    out = capsys.readouterr().out
    for word in ("actors:", "problems:", "recommendations:", "note:", "l. 3326–3327"):
        assert word in out
    assert main(["evidence", "show", "--id", "pe-gamarra-textil", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["actors"] and doc["problems"] and doc["recommendations"] and doc["notes"]
    assert doc["line_refs"]["heading"] == [[4143, 4143]]
    assert all(d["lines"] for d in doc["dimensions"].values())


# --- concordances ---------------------------------------------------------------------


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


# --- pairing on the Peruvian table ----------------------------------------------------


@pytest.fixture(scope="module")
def peru_result(peru_path):
    t = read_table(peru_path)
    with pytest.warns(Warning, match="s31"):
        res = detect_clusters(t, seed=0, n_boot=60)
    return t, res


def _build(res, table, core, support=(), *, cid="X1", intra=0.6, stability=0.9):
    """A candidate with the given members, independent of the clustering's own cut."""
    template = res.candidates[0]
    proto = template.members[0]
    names = dict(zip(table.codes, table.names, strict=True))
    share = (table.x / table.x.sum()).to_dict()  # output shares weigh the core
    members = tuple(
        replace(proto, code=code, name=names[code], role=role, output_share=float(share[code]))
        for codes, role in ((core, "core"), (support, "supporting"))
        for code in codes
    )
    reading = (
        "stable" if stability >= 0.75 else "doubtful" if stability >= 0.6 else "not to be trusted"
    )
    wanted = {
        "id": cid,
        "label": names[core[0]],
        "members": members,
        "intra_flow_share": intra,
        "core_intra_flow_share": intra,
        "stability": stability,
        "stability_reading": reading,
    }
    own = {f.name for f in fields(template)}  # works before and after the clustering rewrite
    return replace(template, **{k: v for k, v in wanted.items() if k in own})


def _core(cand) -> tuple[str, ...]:
    return tuple(m.code for m in cand.members if m.role == "core") or tuple(
        m.code for m in cand.members
    )


def _pair(t, res, *cands, geography=None):
    return pair_evidence(t, replace(res, candidates=list(cands)), geography=geography)


def test_mining_pairs_with_yanacocha_relations_scarce(peru_result):
    t, res = peru_result
    mining = _build(res, t, ["s04", "s23"], ["s25", "s34"])
    r = _pair(t, res, mining).for_candidate("X1").rosenfeld
    assert r.status == "paired"
    assert "local_relations_scarce" in r.flags
    assert [(c.id, c.phase) for c in r.cases] == [("pe-yanacocha-mineria", "I")]
    assert r.phase == "I" and r.cases[0].lines  # the case's own line references
    # the sentence: an incipient agglomeration in a named place, suppliers and purchases
    # largely outside the zone, national flows
    for words in ("incipient agglomeration", "Cajamarca", "456 supplier firms", "imported"):
        assert words in r.sentence_en
    assert "national" in r.sentence_en and "Cajamarca" in r.sentence_es


def test_textiles_lists_gamarra_and_the_camelids_as_a_range(peru_result):
    t, res = peru_result
    textiles = _build(res, t, ["s11", "s12"])
    r = _pair(t, res, textiles).for_candidate("X1").rosenfeld
    phases = {c.id: c.phase for c in r.cases}
    assert phases["pe-gamarra-textil"] == "III" and phases["pe-sur-andino-camelidos"] == "II"
    assert r.phase == "II–III"
    assert r.status == "paired" and "local_relations_scarce" not in r.flags


def test_the_real_run_pairs_mining_and_textiles(peru_result):
    t, res = peru_result
    ev = pair_evidence(t, res)

    def with_core(*codes):
        return next((c.id for c in res.candidates if set(codes) <= set(_core(c))), None)

    mining, textiles = with_core("s04", "s23"), with_core("s11", "s12")
    if mining is None or textiles is None:
        pytest.skip("this clustering did not propose cores holding s04+s23 and s11+s12")
    m = ev.for_candidate(mining).rosenfeld
    assert m.status == "paired" and "local_relations_scarce" in m.flags
    assert [c.id for c in m.cases] == ["pe-yanacocha-mineria"]
    assert ev.for_candidate(textiles).rosenfeld.phase == "II–III"


def test_no_status_from_instability_or_weak_linkage_alone(peru_result):
    t, res = peru_result
    for cand in res.candidates:
        core = list(_core(cand))
        firm = _build(res, t, core, cid=cand.id, intra=0.6, stability=0.95)
        shaky = _build(res, t, core, cid=cand.id, intra=0.05, stability=0.2)
        a = _pair(t, res, firm).for_candidate(cand.id).rosenfeld
        b = _pair(t, res, shaky).for_candidate(cand.id).rosenfeld
        assert a.status == b.status, cand.id
        assert not {"weak_linkage", "unstable"} & set(a.flags)
        assert {"weak_linkage", "unstable"} <= set(b.flags)
    ev = pair_evidence(t, res)
    assert all(p.rosenfeld.status != "contradicted" for p in ev.pairings)


def test_matching_is_two_sided(peru_result, shared_io):
    t, res = peru_result
    manufacturing = [f"s{k:02d}" for k in range(11, 23)]  # 12 manufacturing sectors
    ev = _pair(t, res, _build(res, t, manufacturing))
    gamarra = [m for m in ev.for_candidate("X1").matches if m.case_id == "pe-gamarra-textil"]
    assert not gamarra  # Gamarra covers s11, s12: a small share of the aggregate's output
    # CEPAL's "Other services" spans 24 ISIC divisions; Cusco's tourism touches 3 of them
    for core in (["s35", "s39", "s40"], ["s36", "s40"]):
        holds = _pair(t, res, _build(res, t, core)).for_candidate("X1")
        assert "pe-cusco-turismo" not in [m.case_id for m in holds.matches], core
    # a table that tells hotels and restaurants apart matches tourism both ways
    chile = read_table(shared_io / CHL111)  # 78 Hoteles (ISIC 55), 79 Restaurantes (56)
    tour = _pair(chile, res, _build(res, chile, ["78", "79"])).for_candidate("X1")
    cusco = next(m for m in tour.matches if m.case_id == "pe-cusco-turismo")
    assert cusco.coverage == pytest.approx(2 / 3, abs=1e-3) and cusco.core_coverage == 1.0
    assert not cusco.same_country and tour.rosenfeld.status == "io_only"  # an analogue
    # a mining core with a small third member: mining is most of its output
    mining = _build(res, t, ["s04", "s23", "s27"])
    x = t.x
    expected = x["s04"] / (x["s04"] + x["s23"] + x["s27"])  # only s04 covers gold (0729)
    r = _pair(t, res, mining).for_candidate("X1")
    yanacocha = next(m for m in r.matches if m.case_id == "pe-yanacocha-mineria")
    assert yanacocha.core_coverage == pytest.approx(expected, abs=1e-3) and expected > 0.5
    assert r.rosenfeld.status == "paired"


def _geo(cid: str, *concentrated: str) -> dict[str, CandidateGeography]:
    regions = tuple(
        {"region": r, "lq": 2.0, "share": 0.1, "concentrated": True} for r in concentrated
    ) + ({"region": "Tacna", "lq": 0.5, "share": 0.01, "concentrated": False},)
    return {cid: CandidateGeography(cid, ("3",), regions)}


def test_regional_matching_decides_by_department(peru_result):
    t, res = peru_result
    mining = _build(res, t, ["s04", "s23"])
    here = _pair(t, res, mining, geography=_geo("X1", "Pasco", "Cajamarca")).for_candidate("X1")
    assert here.rosenfeld.status == "paired"
    assert [c.id for c in here.rosenfeld.cases] == ["pe-yanacocha-mineria"]
    assert next(m for m in here.matches if m.same_country).region_supported
    assert here.rosenfeld.verify_in[0] == "Cajamarca (LQ 2.00)"  # where the case is, first
    away = _pair(t, res, mining, geography=_geo("X1", "Ica", "Moquegua")).for_candidate("X1")
    assert away.rosenfeld.status == "io_only" and not away.rosenfeld.cases
    assert [c.id for c in away.rosenfeld.evidence_elsewhere] == ["pe-yanacocha-mineria"]
    assert "Evidence elsewhere in the country" in away.rosenfeld.sentence_en
    textiles = _build(res, t, ["s11", "s12"])
    south = _pair(t, res, textiles, geography=_geo("X1", "arequipa")).for_candidate("X1")
    assert [c.id for c in south.rosenfeld.cases] == ["pe-sur-andino-camelidos"]
    assert south.rosenfeld.phase == "II"
    assert [c.id for c in south.rosenfeld.evidence_elsewhere] == ["pe-gamarra-textil"]


def test_contradicted_only_for_an_explicit_denial_where_concentrated(peru_result, shared_io):
    t, res = peru_result
    chile = read_table(shared_io / CHL111)  # sector 15 copper mining, 57 non-ferrous metals
    copper = _build(res, chile, ["15", "57"])
    national = _pair(chile, res, copper).for_candidate("X1").rosenfeld
    assert national.status == "paired" and "denied_linkage" in national.flags
    assert "local_relations_scarce" in national.flags  # Antofagasta is phase I
    there = _pair(chile, res, copper, geography=_geo("X1", "Antofagasta")).for_candidate("X1")
    quote = CASES["cl-antofagasta-cobre"].denies[0].quote
    assert there.rosenfeld.status == "contradicted"
    assert quote in there.rosenfeld.sentence_en and "l. 1898–1900" in there.rosenfeld.sentence_en
    mine_only = _build(res, chile, ["15", "13"])  # no refining in the core: nothing denied
    r = _pair(chile, res, mine_only, geography=_geo("X1", "Antofagasta")).for_candidate("X1")
    assert r.rosenfeld.status == "paired" and "denied_linkage" not in r.rosenfeld.flags


def test_table_without_concordance_is_io_only_and_says_why():
    from .conftest import PLANTED_Z

    Z = PLANTED_Z  # codes unknown to every concordance
    t = IOTable.from_arrays(Z, Z.sum(0) + Z.sum(1) + 20, codes=[f"p{i}" for i in range(6)])
    res = detect_clusters(t, n_boot=0, min_goods_sectors=2, max_core_output_share=1.0)
    assert res.candidates
    ev = pair_evidence(t, res)
    assert all(p.rosenfeld.status == "io_only" for p in ev.pairings)
    assert all("no ISIC concordance" in p.rosenfeld.reasons[-1] for p in ev.pairings)


# --- fieldwork ------------------------------------------------------------------------


def _fill(path, sheet_prefix, rows):
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith(sheet_prefix))
    for r, values in rows.items():
        for col, v in zip("BCDEF", values, strict=False):
            ws[f"{col}{r}"] = v
    wb.save(path)
    return ws.title


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("II – Articulación comercial", "II"),
        ("IV – Innovación y tecnología propias", "IV"),  # "I" of "Innovación" is no phase
        ("II–III", "II–III"),
        ("II-III", "II–III"),
        ("III – IV", "III–IV"),
        ("sin evidencia / no evidence", None),
        (None, None),
    ],
)
def test_fieldwork_phase_cells(cell, expected):
    assert parse_phase_cell(cell) == expected


def test_fieldwork_round_trip(peru_path, tmp_path):
    store = tmp_path / "store.json"
    with pytest.warns(Warning, match="s31"):
        first = run(peru_path, out=tmp_path / "r1", seed=0, n_boot=20, evidence_store=store)
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
                "II–III",
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
    assert records[0]["dimensions"]["relaciones_productivas"]["phase"] == "II–III"
    assert EvidenceStore(store).add(records) == 1
    assert EvidenceStore(store).add(records) == 0  # importing the same file again adds nothing
    (fw_case,) = EvidenceStore(store).cases()
    # heuristic over relations II–III (twice, 2.5 each) and technology I: median 2.5
    assert fw_case.phase == "II–III"
    with pytest.warns(Warning, match="s31"):
        second = run(peru_path, out=tmp_path / "r2", seed=0, n_boot=20, evidence_store=store)
    before = first.evidence.for_candidate(target["id"]).rosenfeld.status
    after = second.evidence.for_candidate(target["id"])
    assert before == "io_only" and after.rosenfeld.status == "paired"
    assert after.rosenfeld.phase == "II–III"
    fw = [m for m in after.matches if m.source.startswith("fieldwork:")]
    assert fw and fw[0].region == "Piura"
    assert len(load_cases()) == 21  # the study's catalogue is untouched
    # the run's evidence records and the workbook carry what the study says
    doc2 = json.loads((tmp_path / "r2" / "candidates.json").read_text(encoding="utf-8"))
    local = next(
        m
        for c in doc2["candidates"]
        for m in c["matched_cases"]
        if m["same_country"] and m["source"] == "study"
    )
    case = CASES[local["case_id"]]
    assert local["actors"] == case.actors and local["problems"] and local["recommendations"]
    assert local["notes"] == [n.to_dict() for n in case.notes]
    assert local["line_refs"]["heading"] == [list(r) for r in case.line_refs["heading"]]
    ws = openpyxl.load_workbook(tmp_path / "r2" / "candidates.xlsx")["Evidencia"]
    heads = [c.value for c in ws[1]]
    for h in ("Actores", "Problemas", "Recomendaciones", "Notas", "Líneas del estudio"):
        assert h in heads
    col = heads.index("Líneas del estudio")
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[2] == case.name)
    assert f"heading: l. {case.line_refs['heading'][0][0]}" in row[col]


def test_fieldwork_without_core_phases_has_no_phase(peru_path, tmp_path):
    with pytest.warns(Warning, match="s31"):
        run(peru_path, out=tmp_path / "r", seed=0, n_boot=0, evidence_store=tmp_path / "n")
    doc = json.loads((tmp_path / "r" / "candidates.json").read_text(encoding="utf-8"))
    tpl = write_template(doc, tmp_path / "fw.xlsx")
    _fill(
        tpl,
        doc["candidates"][0]["id"][:31],
        {14: ("IV – Alta, fruto de la interacción constante", "x", "src", None)},
    )
    store = EvidenceStore(tmp_path / "store.json")
    store.add(read_fieldwork(tpl))
    (case,) = store.cases()
    assert case.phase is None  # never the maximum, never a default "I"


def test_two_sheets_for_one_candidate_are_both_kept(peru_path, tmp_path):
    with pytest.warns(Warning, match="s31"):
        run(peru_path, out=tmp_path / "r", seed=0, n_boot=0, evidence_store=tmp_path / "n")
    doc = json.loads((tmp_path / "r" / "candidates.json").read_text(encoding="utf-8"))
    tpl = write_template(doc, tmp_path / "fw.xlsx")
    wb = openpyxl.load_workbook(tpl)
    cid = doc["candidates"][0]["id"]
    src = next(ws for ws in wb.worksheets if ws.title.startswith(cid[:20]))
    src["B10"], src["C10"], src["D10"] = "II – Articulación comercial", "team A", "visit A"
    src.title = "first visit"  # short, so that openpyxl's "<title> Copy" stays ≤ 31
    copy = wb.copy_worksheet(src)
    copy.title = "second visit"
    copy["B10"], copy["C10"], copy["D10"] = "III – Relaciones productivas integradas", "B", "b"
    wb.save(tpl)
    records = read_fieldwork(tpl)
    assert [r["candidate_id"] for r in records] == [cid, cid]
    store = EvidenceStore(tmp_path / "store.json")
    assert store.add(records) == 2 and store.add(records) == 0
    ids = [c.id for c in store.cases()]
    assert len(set(ids)) == 2 and ids[1] == ids[0] + "-2"
    assert sorted(c.phase for c in store.cases()) == ["II", "III"]


def test_malformed_fieldwork_gives_cell_errors_and_changes_nothing(peru_path, tmp_path):
    with pytest.warns(Warning, match="s31"):
        run(
            peru_path,
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
