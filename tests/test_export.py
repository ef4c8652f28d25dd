"""The deliverables a ministry can forward (issue 17): one language, printable, readable.

Unit tests run everywhere; the real-table tests read ``../shared`` and skip without it;
the LibreOffice and Chromium tests skip where those programs are absent (``make test``
installs them where it can: scripts/ensure_office.sh, scripts/ensure_chromium.sh).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from io_clusters import IOTable, run, validate
from io_clusters.errors import DataWarning
from io_clusters.export.i18n import (
    cepal_sector_names,
    enum,
    enum_values,
    sector_names,
    short_names,
    translate_finding,
    translate_warning,
)
from io_clusters.export.xlsx import _display, _lines

from .conftest import CHL111, PERU, SHARED_IO, planted_blocks

#: English display values that must never appear in a Spanish workbook.
ENGLISH_VALUES = {
    "core",
    "supporting",
    "key",
    "backward",
    "forward",
    "weak",
    "stable",
    "doubtful",
    "not to be trusted",
    "not computed",
    "io_only",
    "paired",
    "contradicted",
    "warning",
    "info",
}
#: Fragments of the analysis' English messages (clustering warnings, validation).
ENGLISH_FRAGMENTS = (
    "bootstrap Jaccard",
    "doubtful membership",
    "pervasive service",
    "trade little",
    "table imbalance",
    "relative error",
    "zero output",
    "the analysis",
    "negative intermediate",
    "not checked",
    "exports exceed",
    "the table has no",
    "column sum",
)


# ------------------------------------------------------------------ catalogue
def test_every_enumeration_has_a_spanish_value_unlike_its_english_one():
    for kind in ("role", "key_sector_class", "stability_reading", "status", "severity"):
        for machine, (es, en) in enum_values(kind).items():
            assert enum(kind, machine, "es") == es and enum(kind, machine, "en") == en
            if machine != "error":  # "error" is the same word in both languages
                assert es.lower() != machine.lower(), (kind, machine)


def test_catalogue_and_schema_know_every_unclustered_reason():
    from io_clusters.clustering import UNCLUSTERED_REASONS

    from .conftest import ROOT

    for key in UNCLUSTERED_REASONS:
        assert enum("unclustered_reason", key, "es") != key, key
    schema = json.loads((ROOT / "schemas" / "candidates.schema.json").read_text("utf-8"))
    allowed = schema["properties"]["unclustered_reasons"]["additionalProperties"]["enum"]
    assert set(allowed) == set(UNCLUSTERED_REASONS)


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("unstable: bootstrap Jaccard 0.52 < 0.6", "inestable: Jaccard medio por remuestreo 0.52"),
        ("doubtful membership: bootstrap Jaccard 0.74 < 0.75", "pertenencia dudosa"),
        ("contains pervasive service sector(s): s25, s34", "servicios generalizados: s25, s34"),
        ("members trade little with each other (intra_flow_share 0.05)", "flujos internos 0.05"),
        (
            "table imbalance: Z·1 + f vs output x: worst sector s17 with relative error 0.02 "
            "(difference 3.5)",
            "desequilibrio de la tabla: Z·1 + f frente a la producción x: peor sector s17",
        ),
        ("unstable: the chain holds in 40% of replicates", "se mantiene en el 40 % de"),
        ("its boundary moves between replicates (tree Jaccard 0.59)", "Jaccard del árbol 0.59"),
        ("the cut rule regroups it in many replicates (rule Jaccard 0.45)", "de la regla 0.45"),
        (
            "core member(s) whose strongest link inside the core is below 0.15: s19",
            "menor que 0.15: s19",
        ),
        ("supporting service sector(s) attached by their sales to the core: s34", ": s34"),
        ("some future warning", "ver el detalle en candidates.json"),
    ],
)
def test_candidate_warnings_are_translated_keeping_the_figures(english, spanish):
    assert spanish in translate_warning(english, "es")
    assert translate_warning(english, "en") == english


def test_every_validation_message_of_a_messy_table_reads_in_spanish():
    rng = np.random.default_rng(0)
    Z = rng.uniform(1, 10, (5, 5))
    Z[0, 1] = -1e-15  # negligible negative flow
    Z[:, 4] = 0.0
    Z[4, :] = 0.0  # isolated sector
    fd = np.c_[rng.uniform(5, 10, 5), np.zeros(5)]
    x = Z.sum(1) + fd.sum(1)
    fd[2, 1] = 2 * x[2]  # exports twice the output ...
    t = IOTable.from_arrays(
        Z,
        x,
        codes=["a", "b", "c", "d", "e"],
        names=["A", "B", "C", "D", "D"],
        final_demand=pd.DataFrame(fd, columns=["CONS", "EXP"]),
        table_id="messy",
    )
    findings = [f.to_dict() for f in validate(t).findings]
    checks = {f["check"] for f in findings}
    assert {"exports_above_output", "isolated", "names", "negative_flows"} <= checks
    for f in findings:
        es = translate_finding(f, "es")
        assert not any(frag in es for frag in ENGLISH_FRAGMENTS), es
        assert "validation.json" not in es, f  # every message of this table is known


def test_cepal_concordance_names_all_forty_sectors_in_spanish():
    conc = cepal_sector_names()
    assert sorted(conc) == [f"s{i:02d}" for i in range(1, 41)]
    english = {c: r["name_en"] for c, r in conc.items()}
    es = sector_names(english, "es")
    assert es["s13"] == "Calzado" and es["s02"] == "Caza y pesca"
    assert sum(es[c] == english[c] for c in conc) == 0  # every name differs in Spanish
    # a table whose names are not CEPAL's keeps them (e.g. Chile's Spanish names)
    assert sector_names({"s01": "Cultivos anuales"}, "es") == {"s01": "Cultivos anuales"}
    assert short_names({"x": "Fabricación de productos de molinería"}, "es")["x"] == "Molinería"


def test_display_widths_and_line_estimates():
    assert _display(0.1234, "0.0%") == "12.3%"
    assert _display(1234567.891, "#,##0.0") == "1,234,567.9"
    assert _display(1.23456, "0.00") == "1.23"
    assert _lines("uno dos tres", 100) == 1
    assert _lines("palabra " * 30, 20) >= 240 // 21


# ------------------------------------------------------------------ validation checks
def test_exports_above_output_names_the_sector_and_the_share():
    Z = np.full((3, 3), 2.0)
    fd = pd.DataFrame({"CONS": [10.0, 10.0, 10.0], "EXP_x": [1.0, 30.0, 1.0]})
    x = Z.sum(1) + fd["CONS"].to_numpy() + np.array([1.0, 2.0, 1.0])  # s02 exports > output
    t = IOTable.from_arrays(Z, x, codes=["s01", "s02", "s03"], final_demand=fd, table_id="e")
    (f,) = validate(t).by_check("exports_above_output")
    assert f.severity == "warning" and f.sectors == ("s02",)
    assert f.value == pytest.approx(30.0 / x[1])
    assert "s02" in f.cells[0]


def test_negative_adjustment_and_missing_parts_are_findings():
    Z = np.full((3, 3), 2.0)
    fd = pd.DataFrame({"CONS": [10.0, 10.0, 10.0], "Adjustment": [-1.0, 0.5, -3.0]})
    x = Z.sum(1) + fd.sum(axis=1).to_numpy()
    t = IOTable.from_arrays(Z, x, codes=["a", "b", "c"], final_demand=fd, table_id="adj")
    report = validate(t)
    (neg,) = report.by_check("negative_adjustment")
    assert neg.sectors == ("a", "c") and neg.value == -3.0
    assert report.by_check("missing_value_added") and report.by_check("missing_imports")


@pytest.fixture
def no_mathtext(monkeypatch):
    """Fail if any text reaches matplotlib's mathtext parser (issue 18 item 11)."""
    import matplotlib.mathtext

    def refuse(*_a, **_k):
        raise AssertionError("a label reached matplotlib's mathtext")

    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse", refuse)


def test_zero_candidates_and_dollar_names_write_every_output(tmp_path, no_mathtext):
    """Issue 18 item 7: no crash on an empty candidate list; every sector still listed."""
    t = planted_blocks(24)
    names = [f"Sector ${i}$ uno" if i % 3 == 0 else f"Sector {i}" for i in range(24)]
    t = IOTable.from_arrays(
        t.Z.to_numpy(), t.x.to_numpy(), codes=list(t.codes), names=names, table_id="z"
    )
    res = run(t, out=tmp_path / "o", n_boot=0, threshold=1e-9)  # every sector alone
    assert res.clusters.candidates == []
    wb = openpyxl.load_workbook(res.outputs["workbook"])
    assert wb.sheetnames[0] == "Resumen ejecutivo"
    text = [c.value for row in wb["Resumen ejecutivo"].iter_rows() for c in row if c.value]
    assert "La tabla no propone candidatos." in text
    for code in res.clusters.unclustered:  # every sector, alone, listed with its reason
        assert code in text
    assert len(res.clusters.unclustered) >= 20
    assert (res.out_dir / "figures" / "dendrogram.png").stat().st_size > 5000


def test_too_aggregated_table_writes_the_message(tmp_path, no_mathtext):
    rng = np.random.default_rng(3)
    Z = rng.uniform(1, 10, (6, 6))
    names = ["Uno $x$ y $y$", "Dos $", "Tres", "Cuatro", "Cinco", "Seis"]
    t = IOTable.from_arrays(Z, Z.sum(1) + 50, codes=list("abcdef"), names=names, table_id="a")
    res = run(t, out=tmp_path / "o", n_boot=0)
    assert res.clusters.too_aggregated and not res.clusters.candidates
    wb = openpyxl.load_workbook(res.outputs["workbook"])
    text = " ".join(
        str(c.value) for row in wb["Resumen ejecutivo"].iter_rows() for c in row if c.value
    )
    assert "Tabla demasiado agregada" in text and res.clusters.message["es"] in text
    html = res.outputs["report"].read_text(encoding="utf-8")
    assert "Tabla demasiado agregada" in html
    assert (res.out_dir / "figures" / "key_sectors.png").stat().st_size > 5000


def test_scatter_markers_are_filled_and_axes_sit_at_the_edges(tmp_path):
    rng = np.random.default_rng(1)
    Z = rng.uniform(1, 10, (8, 8))
    t = IOTable.from_arrays(Z, Z.sum(1) + 40, codes=[f"c{i}" for i in range(8)], table_id="m")
    res = run(t, out=tmp_path / "o", n_boot=0, figures=False)
    with zipfile.ZipFile(res.outputs["workbook"]) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    (scatter,) = [c for c in charts if "<scatterChart>" in c]
    first = scatter.split("<ser>")[1]
    marker = re.search(r"<marker>(.*?)</marker>", first).group(1)
    assert '<symbol val="circle" />' in marker and "<a:solidFill>" in marker
    assert scatter.count('<crosses val="min" />') == 2  # axes at the bottom and left
    assert scatter.count("<ser>") == 3  # the sectors and the two lines at 1


# ------------------------------------------------------------------ real tables
@pytest.fixture(scope="module", params=[PERU, CHL111])
def real_run(request, tmp_path_factory):
    if not (SHARED_IO / request.param).exists():
        pytest.skip(f"real IO tables not available: {SHARED_IO} is absent")
    out = tmp_path_factory.mktemp("deliver")
    with warnings.catch_warnings():  # Peru's zero-output s31 is reported as a DataWarning
        warnings.simplefilter("ignore", DataWarning)
        res = run(SHARED_IO / request.param, out=out, n_boot=20, seed=0)
    return request.param, res


def _strings(wb):
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]


def test_spanish_workbook_has_no_english_value_or_warning(real_run):
    name, res = real_run
    wb = openpyxl.load_workbook(res.outputs["workbook"])
    assert wb.sheetnames[0] == "Resumen ejecutivo"
    for sheet, ref, v in _strings(wb):
        if sheet == "Encadenamientos" and ref[1:] == "2":  # the machine-name header row
            continue
        assert v.strip() not in ENGLISH_VALUES, (sheet, ref, v)
        assert not any(frag in v for frag in ENGLISH_FRAGMENTS), (sheet, ref, v)
    if name == PERU:  # CEPAL's English sector names are replaced by Spanish ones
        values = {v for _, _, v in _strings(wb)}
        assert "Agriculture and forestry" not in values
        assert "Agricultura y silvicultura" in values


def test_spanish_report_has_no_english_message(real_run):
    _, res = real_run
    html = res.outputs["report"].read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[^\"']+", "", html))
    for frag in ENGLISH_FRAGMENTS:
        assert frag not in text, frag
    cells = set(re.findall(r"<td[^>]*>([^<]*)</td>", html))
    assert not cells & ENGLISH_VALUES


def test_summary_lists_every_unclustered_sector_with_its_name(real_run):
    name, res = real_run
    doc = json.loads(res.outputs["candidates"].read_text(encoding="utf-8"))
    wb = openpyxl.load_workbook(res.outputs["workbook"])
    rows = [[c.value for c in row] for row in wb["Resumen ejecutivo"].iter_rows(values_only=False)]
    by_code = {r[0]: r for r in rows if r[0]}
    names = sector_names(res.table.name_of, "es")
    expected = list(doc["unclustered"])
    if name == PERU:
        expected.append("s31")  # zero output, dropped by the analysis (CEPAL's aircraft)
    assert expected
    for code in expected:
        assert code in by_code, code
        assert names.get(code, cepal_sector_names().get(code, {}).get("name_es")) in by_code[code]
    text = " ".join(str(v) for r in rows for v in r if v)
    if name == PERU:
        assert "Torres Zorrilla" in text
        assert "106.6 %" in text  # s17's exports above output (CEPAL's Adjustment column)


def _pdf_pages(pdf: Path) -> list[tuple[float, int]]:
    """Median word height (pt) and "###" count of every page (``pdftotext -bbox``)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        hs = [
            float(b) - float(a) for a, b in re.findall(r'yMin="([\d.]+)"[^>]*yMax="([\d.]+)"', page)
        ]
        words = re.findall(r">([^<]*)</word>", page)
        pages.append((statistics.median(hs) if hs else 99.0, sum("###" in w for w in words)))
    return pages


def to_pdf(soffice: str, workbook: Path, out_dir: Path) -> Path:
    """Convert a workbook with LibreOffice (headless); return the PDF."""
    proc = subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out_dir), str(workbook)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out_dir / (workbook.stem + ".pdf")


@pytest.mark.office
def test_libreoffice_prints_every_page_readable(real_run, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext absent; `make test` installs them where it can")
    _, res = real_run
    pages = _pdf_pages(to_pdf(soffice, res.outputs["workbook"], tmp_path))
    assert len(pages) >= 9
    for i, (height, hashes) in enumerate(pages, start=1):
        assert hashes == 0, f"page {i} prints '###'"
        # word boxes are ~1.06 x the font size; 8.5 pt boxes ≈ 8 pt text
        assert height >= 8.5, f"page {i}: median text height {height:.1f} pt"


# ------------------------------------------------------------------ browser
_BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _render(html: Path, out: Path, width: int, height: int) -> tuple[Path, list[str]]:
    """Screenshot ``html``; return the PNG and the page's http(s) requests (net log)."""
    out.mkdir(parents=True, exist_ok=True)
    shot, netlog = out / f"shot_{width}.png", out / f"net_{width}.json"
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        f"--user-data-dir={out / 'profile'}",
        f"--log-net-log={netlog}",
        f"--screenshot={shot}",
        f"--window-size={width},{height}",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    urls = set(re.findall(r'"url":"(https?://[^"]+)"', netlog.read_text(errors="replace")))
    page = [u for u in urls if not any(h in u.split("/")[2] for h in _BROWSER_HOSTS)]
    return shot, sorted(page)


def _ink(png: Path) -> float:
    import matplotlib.image as mpimg

    img = mpimg.imread(png)[..., :3]
    return float((img.mean(axis=2) < 0.85).mean())


@pytest.mark.browser
def test_report_renders_in_chromium_without_external_requests(real_run, tmp_path):
    if _chromium() is None:
        pytest.skip("Chromium absent; `make test` installs it where it can")
    # the check can fail: a page with an external image is caught
    probe = tmp_path / "probe.html"
    probe.write_text('<html><body><img src="https://example.org/x.png">x</body></html>')
    _, requests = _render(probe, tmp_path / "probe", 400, 300)
    assert any("example.org" in u for u in requests)
    _, res = real_run
    for width, height in ((1280, 4000), (390, 3000)):  # desktop and a narrow phone
        shot, requests = _render(res.outputs["report"], tmp_path / "r", width, height)
        assert requests == [], requests
        ink = _ink(shot)
        assert 0.01 < ink < 0.6, f"screenshot at {width}px looks blank or broken ({ink:.3f})"
    html = res.outputs["report"].read_text(encoding="utf-8")
    assert "@media print" in html and "@media (max-width" in html
    assert html.index("Resumen ejecutivo") < html.index("Dendrograma")
