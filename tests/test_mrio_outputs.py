"""A focus run's deliverables (issue 20 item 3): foreign country-sectors and border shares.

A small three-country table with a planted cross-border chain (Peru's copper ore →
Chinese basic metals → US machinery, :func:`tests.test_mrio.planted_mrio`) is run with
``focus="PER"``; the workbook and report.html must show what ``candidates.json`` holds
for every candidate — the foreign members and the shares of the Peruvian members'
intermediate sales and purchases that cross the border — and a run without a focus
none of it. Every expected value is read from the run's own ``candidates.json``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import openpyxl
import pytest

import io_clusters as ic
from io_clusters.export.i18n import label
from io_clusters.export.summary import View, method_text, output_share_note

from .conftest import planted_blocks
from .test_export import _ink, _pdf_pages, _render, to_pdf
from .test_mrio import CHAIN, SECTORS20, planted_mrio

#: The candidates.json fields the candidates sheet shows with a focus region.
FOCUS_KEYS = (
    "focus_region",
    "foreign_members",
    "cross_border_sales_share",
    "cross_border_purchases_share",
)
SHARE_KEYS = FOCUS_KEYS[2:]


@pytest.fixture(scope="module")
def three_countries():
    return planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN)


@pytest.fixture(scope="module", params=["en", "es"])
def focus_run(request, three_countries, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"focus_{request.param}")
    res = ic.run(three_countries, out=out, n_boot=0, focus="PER", lang=request.param)
    doc = json.loads(res.outputs["candidates"].read_text(encoding="utf-8"))
    return request.param, res, doc


def _sheet_rows(path, title):
    ws = openpyxl.load_workbook(path)[title]
    return ws, [[c.value for c in row] for row in ws.iter_rows()]


def _header_positions(header, lang):
    return {k: header.index(label(k, lang)) for k in FOCUS_KEYS if label(k, lang) in header}


def test_focus_headers_are_words_not_the_json_names():
    # the economist's review: machine names are no headers; in Spanish "otras regiones"
    # reads in Peru as other departamentos, so the wording is "países" / "exterior"
    for k in FOCUS_KEYS:
        for lang in ("en", "es"):
            assert label(k, lang) != k and "_" not in label(k, lang)
        assert "regiones" not in label(k, "es")
    assert "países" in label("foreign_members", "es")
    assert all("exterior" in label(k, "es") for k in SHARE_KEYS)
    assert all("abroad" in label(k, "en") for k in SHARE_KEYS)


def test_workbook_holds_the_json_values_of_every_focus_candidate(focus_run):
    lang, res, doc = focus_run
    assert doc["candidates"] and all(c["focus_region"] == "PER" for c in doc["candidates"])
    ws, rows = _sheet_rows(res.outputs["workbook"], label("sheet_candidates", lang))
    header = rows[0]
    pos = _header_positions(header, lang)
    assert set(pos) == set(FOCUS_KEYS)
    share_fmt = ws.cell(2, header.index(label("output_share", lang)) + 1).number_format
    by_id = {r[0]: r for r in rows[1:] if r[0]}
    for c in doc["candidates"]:
        row = by_id[c["id"]]
        assert row[pos["focus_region"]] == c["focus_region"]
        shown = row[pos["foreign_members"]]
        codes = [part.split(" ")[0] for part in shown.split("; ")] if shown != "—" else []
        assert codes == c["foreign_members"]
        r = 2 + doc["candidates"].index(c)
        for k in SHARE_KEYS:
            assert row[pos[k]] == pytest.approx(c[k], abs=1e-12)
            assert ws.cell(r, pos[k] + 1).number_format == share_fmt == "0.0%"
    # the planted chain's candidate lists the Chinese and US sectors as foreign
    planted = [c for c in doc["candidates"] if set(CHAIN) <= {m["code"] for m in c["members"]}]
    assert len(planted) == 1 and set(CHAIN[1:]) <= set(planted[0]["foreign_members"])
    assert set(CHAIN[1:]) <= set(by_id[planted[0]["id"]][pos["foreign_members"]].split("; "))


def test_workbook_explains_the_cross_border_shares(focus_run):
    lang, res, doc = focus_run
    _, rows = _sheet_rows(res.outputs["workbook"], label("sheet_candidates", lang))
    below = [r[0] for r in rows[1 + len(doc["candidates"]) :] if isinstance(r[0], str)]
    assert len(below) == 1
    note = below[0]
    for k in FOCUS_KEYS[1:]:
        assert label(k, lang) in note
    assert "PER" in note
    # the shares cover every focus member of the candidate, core and supporting alike
    words = (
        ("otros países", "intermedias", "todos los miembros", "núcleo", "apoyo")
        if lang == "es"
        else ("other countries", "sales", "all the candidate", "core", "supporting")
    )
    assert all(w in note for w in words) and "otras regiones" not in note
    # … and the output shares are of every country's output, not of Peru's
    assert note.endswith(output_share_note(View(lang, {"PER:A": "PER:A", "CHN:A": "CHN:A"})))
    _, method = _sheet_rows(res.outputs["workbook"], label("sheet_method", lang))
    titled = {r[0]: r[1] for r in method if r[0]}
    assert note.startswith(titled[label("cross_border_title", lang)])


def _cards(html):
    """The candidate cards of a report: id → the card's HTML."""
    parts = re.split(r"<div class='cand' id='", html)[1:]
    return {p.split("'", 1)[0]: p for p in parts}


def test_report_cards_show_the_foreign_members_and_the_shares(focus_run):
    lang, res, doc = focus_run
    cards = _cards(res.outputs["report"].read_text(encoding="utf-8"))
    outside = label("cross_border_outside", lang).format(region="PER")
    assert set(cards) == {c["id"] for c in doc["candidates"]}
    for c in doc["candidates"]:
        card = cards[c["id"]]
        line = card[card.index(outside) :].split("</p>", 1)[0]
        for code in c["foreign_members"]:
            assert code in line
        if not c["foreign_members"]:
            assert f"{outside}</b>: —" in line
        for k in SHARE_KEYS:  # shares as the report prints percentages: one decimal, " %"
            assert f"{100 * c[k]:.1f} %" in line


def _no_focus_checks(res, lang):
    _, rows = _sheet_rows(res.outputs["workbook"], label("sheet_candidates", lang))
    assert rows[0] and not _header_positions(rows[0], lang)
    assert not any(isinstance(r[0], str) and label("foreign_members", lang) in r[0] for r in rows)
    _, method = _sheet_rows(res.outputs["workbook"], label("sheet_method", lang))
    assert label("cross_border_title", lang) not in {r[0] for r in method}
    html = res.outputs["report"].read_text(encoding="utf-8")
    assert "class='border'" not in html
    return rows[0]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_runs_without_a_focus_show_none_of_it(lang, three_countries, tmp_path):
    national = ic.run(planted_blocks(40), out=tmp_path / "national", n_boot=0, lang=lang)
    assert json.loads(national.outputs["candidates"].read_text(encoding="utf-8"))["candidates"]
    _no_focus_checks(national, lang)
    # the same multi-regional table without a focus: the other columns, nothing more
    unfocused = ic.run(three_countries, out=tmp_path / "all", n_boot=0, lang=lang, figures=False)
    header = _no_focus_checks(unfocused, lang)
    focused = ic.run(
        three_countries, out=tmp_path / "per", n_boot=0, lang=lang, figures=False, focus="PER"
    )
    _, rows = _sheet_rows(focused.outputs["workbook"], label("sheet_candidates", lang))
    dropped = [h for h in rows[0] if h not in {label(k, lang) for k in FOCUS_KEYS}]
    assert dropped == header and len(rows[0]) == len(header) + len(FOCUS_KEYS)


@pytest.mark.office
def test_libreoffice_prints_the_focus_columns_readable(focus_run, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext absent; `make test` installs them where it can")
    lang, res, _ = focus_run
    pdf = to_pdf(soffice, res.outputs["workbook"], tmp_path)
    for i, (height, hashes) in enumerate(_pdf_pages(pdf), start=1):
        assert hashes == 0, f"page {i} prints '###'"
        assert height >= 8.5, f"page {i}: median text height {height:.1f} pt"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for k in FOCUS_KEYS:  # every header prints whole (the English ones on one line)
        assert label(k, lang) in (text if lang == "en" else " ".join(text.split()))


@pytest.mark.browser
def test_focus_report_renders_without_external_requests(focus_run, tmp_path):
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("Chromium absent; `make test` installs it where it can")
    _, res, _ = focus_run
    for width in (1280, 390):
        shot, requests = _render(res.outputs["report"], tmp_path / "r", width, 3000)
        assert requests == [], requests
        assert 0.01 < _ink(shot) < 0.6


def test_foreign_members_read_with_their_names_when_the_table_has_names():
    from io_clusters.export.summary import View, foreign_members_text

    view = View("en", {"CHN:D24": "Basic metals, China", "USA:D28": "USA:D28"})
    c = {"foreign_members": ["CHN:D24", "USA:D28"]}
    # a name that differs from the code follows it; one equal to the code is not repeated
    assert foreign_members_text(c, view) == "CHN:D24 Basic metals, China; USA:D28"
    assert foreign_members_text({"foreign_members": []}, view) == "—"


def test_cards_of_a_multiregional_table_word_the_geography_for_countries(focus_run, tmp_path):
    """A multi-regional table shows countries: the national-table note was wrong there."""
    from io_clusters.evidence.pairing import MULTIREGIONAL_GEOGRAPHY_EN, MULTIREGIONAL_GEOGRAPHY_ES

    lang, res, doc = focus_run
    note = MULTIREGIONAL_GEOGRAPHY_ES if lang == "es" else MULTIREGIONAL_GEOGRAPHY_EN
    key = f"geography_note_{lang}"
    assert doc["candidates"] and all(c["rosenfeld"][key] == note for c in doc["candidates"])
    cards = _cards(res.outputs["report"].read_text(encoding="utf-8"))
    html_note = note.replace("'", "&#x27;")
    assert all(html_note in card for card in cards.values())
    national = ic.run(planted_blocks(40), out=tmp_path / "n", n_boot=0, lang=lang, figures=False)
    ndoc = json.loads(national.outputs["candidates"].read_text(encoding="utf-8"))
    assert all(c["rosenfeld"][key] != note for c in ndoc["candidates"])
    assert note.replace("'", "&#x27;") not in national.outputs["report"].read_text(encoding="utf-8")


# ------------------------------------------------------------- the economist's review
def _exec_rows(res, lang):
    """The executive summary's candidate lines: every row under its header row."""
    _, rows = _sheet_rows(res.outputs["workbook"], label("sheet_exec", lang))
    head = next(i for i, r in enumerate(rows) if r[0] == label("rank", lang))
    out = []
    for r in rows[head + 1 :]:
        if not isinstance(r[0], int):
            break
        out.append(r)
    return out


def test_every_place_names_a_candidate_by_its_json_label(focus_run):
    """One name per candidate: candidates.json's ``label`` (its names are codes here)."""
    lang, res, doc = focus_run
    labels = {c["id"]: c["label"] for c in doc["candidates"]}
    wb = res.outputs["workbook"]
    col = label("chain", lang)
    execs = _exec_rows(res, lang)
    assert len(execs) == len(labels)
    for r in execs:  # "label\n(id)"
        name, cid = r[1].rsplit("\n", 1)
        assert name == labels[cid.strip("()")], col
    for sheet in ("sheet_candidates", "sheet_members"):
        _, rows = _sheet_rows(wb, label(sheet, lang))
        at = rows[0].index(label("label", lang))
        shown = {(r[0], r[at]) for r in rows[1:] if r[0] in labels}
        assert shown == set(labels.items()), sheet
    html = res.outputs["report"].read_text(encoding="utf-8")
    for cid, name in labels.items():
        assert f"<h3>{cid} {name} <span" in html  # the card
        assert f"<td>{name}\n({cid})</td>" in html  # the executive table
    # the planted chain's core is named from Peru, whatever link its chain field holds
    planted = next(
        c
        for c in doc["candidates"]
        if set(CHAIN)
        <= set(c["foreign_members"])
        | {m["code"] for m in c["members"] if m["code"].startswith("PER:")}
    )
    assert "PER:" in planted["label"]


def test_cand_label_prints_the_label_not_the_chain():
    from io_clusters.export.i18n import cepal_sector_names

    conc = cepal_sector_names()
    en = {k: conc[k]["name_en"] for k in ("s02", "s08", "s04")}
    view = View("es", en)
    # a chain label of CEPAL names is shown in Spanish, from the label's own two ends
    c = {"label": f"{en['s02']} → {en['s08']} (+1)", "chain": ["s04", "s08"]}
    assert view.cand_label(c) == f"{conc['s02']['name_es']} → {conc['s08']['name_es']} (+1)"
    # a user's label is kept, whatever the chain
    assert view.cand_label({"label": "Cadena pesquera", "chain": ["s02", "s08"]}) == (
        "Cadena pesquera"
    )
    assert View("en", en).cand_label(c) == c["label"]


def test_a_code_that_is_its_name_prints_once(focus_run, monkeypatch, tmp_path):
    """from_pymrio names a country-sector by its code: "PER:D24 PER:D24" is never printed."""
    lang, res, doc = focus_run
    doubled = re.compile(r"\b([A-Z]{3}:[A-Z0-9]+)\s+\1\b")
    for r in _exec_rows(res, lang):
        assert not doubled.search(r[2]), r[2]
        codes = r[2].split("; ")
        assert all(re.fullmatch(r"[A-Z]{3}:[A-Z0-9]+", k) for k in codes), r[2]
    html = res.outputs["report"].read_text(encoding="utf-8")
    chains = html[html.index("id='chains'") : html.index("id='candidates'")]
    assert doc["strongest_chains"] and not doubled.search(chains)
    seller = doc["strongest_chains"][0]["seller"]
    assert f"<td>{seller}</td>" in chains
    # figures: dendrogram leaves and network nodes
    from io_clusters.export import figures

    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, out, stem: drawn.append(fig) or [])
    table = planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN)
    figures.dendrogram_figure(table, res.clusters, tmp_path, lang)
    figures.network_figure(table, res.clusters.candidates[0], tmp_path, lang)
    leaves = [t.get_text() for t in drawn[0].axes[0].get_yticklabels()]
    assert leaves and leaves == list(res.clusters.tree_codes[i] for i in _leaf_order(res))
    nodes = [t.get_text() for t in drawn[1].axes[0].texts if ":" in t.get_text()]
    assert sorted(nodes) == sorted(res.clusters.candidates[0].codes)


def _leaf_order(res):
    from scipy.cluster.hierarchy import dendrogram

    return dendrogram(res.clusters.tree, no_plot=True)["leaves"]


def test_national_tables_keep_code_and_name():
    from io_clusters.export.i18n import code_name
    from io_clusters.export.summary import candidate_rows

    view = View("en", {"s01": "Agriculture", "s02": "Fishing"})
    doc = {
        "candidates": [
            {
                "id": "C-s01-s02",
                "label": "Agriculture → Fishing",
                "members": [
                    {"code": k, "role": "core", "output_share": 0.1} for k in ("s01", "s02")
                ],
            }
        ]
    }
    assert candidate_rows(doc, view)[0][2] == "s01 Agriculture; s02 Fishing"
    assert code_name("s01", "Agriculture") == "s01 Agriculture"
    assert code_name("PER:D24", "PER:D24") == code_name("PER:D24", "") == "PER:D24"
    assert output_share_note(view) is None  # a national table's shares are the nation's


def test_multiregional_cards_print_no_empty_regions(focus_run, tmp_path):
    lang, res, doc = focus_run
    regions = f"{label('regions', lang)}:"
    cards = _cards(res.outputs["report"].read_text(encoding="utf-8"))
    assert cards and not any(regions in card for card in cards.values())
    national = ic.run(planted_blocks(40), out=tmp_path / "n", n_boot=0, lang=lang, figures=False)
    ncards = _cards(national.outputs["report"].read_text(encoding="utf-8"))
    assert ncards and all(regions in card for card in ncards.values())
    assert output_share_note(View(lang, {"s01": "a", "s02": "b"})) is None


def test_output_shares_are_explained_as_every_region_s(focus_run):
    lang, res, doc = focus_run
    note = output_share_note(View(lang, {"PER:A": "PER:A", "CHN:A": "CHN:A"}))
    assert label("core_output_share", lang) in note
    assert ("todos los países" if lang == "es" else "all regions") in note
    _, rows = _sheet_rows(res.outputs["workbook"], label("sheet_exec", lang))
    assert note in [r[0] for r in rows]
    assert note.replace("'", "&#x27;") in res.outputs["report"].read_text(encoding="utf-8")


def test_the_method_text_reads_the_run_s_options(focus_run):
    lang, res, doc = focus_run
    text = method_text(doc, lang)
    _, rows = _sheet_rows(res.outputs["workbook"], label("sheet_method", lang))
    assert {r[0]: r[1] for r in rows if r[0]}[label("method", lang)] == text
    assert html.escape(text) in res.outputs["report"].read_text(encoding="utf-8")
    # the run's n_boot (0 here), not the default's 200 replicates
    assert doc["options"]["n_boot"] == 0 and "Hennig" not in text and "n_boot = 0" in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_number_of_the_method_text_is_an_option(lang):
    opts = {
        "n_boot": 50,
        "min_similarity": 0.45,
        "link_threshold": 0.15,
        "join_strength": 0.35,
        "max_core_output_share": 0.25,
        "chain_strength": 0.6,
        "similarity": "combined",
        "method": "complete",
        "services_rule": "isic",
    }
    text = method_text({"options": opts}, lang)
    sep = "," if lang == "es" else "."
    numbers = re.findall(r"(?<![\w.,])\d+(?:[.,]\d+)?", text.replace("Rev.4", ""))
    fixed = {"2000", "2001", "2003", "2007", "1"}  # the citations' years; "1 − similarity"
    assert sorted(n for n in numbers if n not in fixed) == sorted(
        ["50", f"0{sep}45", "15", f"0{sep}35", "25", f"0{sep}6"]
    )
    assert ("50 réplicas" if lang == "es" else "50 replicates") in text
    assert ("completo" if lang == "es" else "complete-linkage") in text
    # a cut given as a distance, or as a number of groups
    cut = method_text({"options": dict(opts, threshold=0.7)}, lang)
    assert f"0{sep}7" in cut and f"0{sep}45" not in cut
    assert ("en 6 grupos" if lang == "es" else "into 6 groups") in method_text(
        {"options": dict(opts, k=6)}, lang
    )
    none = method_text({"options": dict(opts, n_boot=0)}, lang)
    assert "Hennig" not in none and "n_boot = 0" in none
