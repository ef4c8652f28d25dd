"""A focus run's deliverables (issue 20 item 3): foreign country-sectors and border shares.

A small three-country table with a planted cross-border chain (Peru's copper ore →
Chinese basic metals → US machinery, :func:`tests.test_mrio.planted_mrio`) is run with
``focus="PER"``; the workbook and report.html must show what ``candidates.json`` holds
for every candidate — the foreign members and the shares of the Peruvian members'
intermediate sales and purchases that cross the border — and a run without a focus
none of it. Every expected value is read from the run's own ``candidates.json``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import openpyxl
import pytest

import io_clusters as ic
from io_clusters.export.i18n import label

from .conftest import planted_blocks
from .test_export import _ink, _pdf_pages, _render
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


def test_english_headers_are_the_json_names_and_spanish_ones_are_translated():
    for k in FOCUS_KEYS:
        assert label(k, "en") == k
        assert label(k, "es") != k and "_" not in label(k, "es")


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
    words = ("otras regiones", "intermedias") if lang == "es" else ("other regions", "sales")
    assert all(w in note for w in words)
    _, method = _sheet_rows(res.outputs["workbook"], label("sheet_method", lang))
    titled = {r[0]: r[1] for r in method if r[0]}
    assert titled[label("cross_border_title", lang)] == note


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
    proc = subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path)]
        + [str(res.outputs["workbook"])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    pdf = tmp_path / "candidates.pdf"
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
