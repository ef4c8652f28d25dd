"""The main job end to end: `io-clusters run` on real tables, every output checked."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import openpyxl
import pytest

from io_clusters import IOTable, run
from io_clusters.cli import main
from io_clusters.errors import DataWarning

from .conftest import CHL111, PERU, ROOT

SCHEMA = json.loads((ROOT / "schemas" / "candidates.schema.json").read_text(encoding="utf-8"))
SHEETS_ES = [
    "Resumen ejecutivo",
    "Candidatos",
    "Miembros",
    "Cadenas más fuertes",
    "Encadenamientos",
    "Evidencia",
    "Fases",
    "Método y validación",
    "Ficha técnica",
]
SHEETS_EN = [
    "Executive summary",
    "Candidates",
    "Members",
    "Strongest chains",
    "Linkages",
    "Evidence",
    "Phases",
    "Method and validation",
    "Run details",
]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module", params=[PERU, CHL111])
def run_dir(request, tmp_path_factory):
    from .conftest import SHARED_IO, peru_file

    path = peru_file() if request.param == PERU else SHARED_IO / request.param
    if not path.exists():
        pytest.skip(f"real IO tables not available: {SHARED_IO} is absent")
    out = tmp_path_factory.mktemp("run")
    # the CLI logs data warnings (e.g. Peru's zero-output s31) to stderr
    code = main(["run", str(path), "--out", str(out), "--seed", "0"])
    assert code == 0
    return out


def test_outputs_exist(run_dir):
    for name in (
        "candidates.xlsx",
        "candidates.json",
        "linkages.csv",
        "report.html",
        "table.csv",
        "validation.json",
    ):
        assert (run_dir / name).stat().st_size > 0, name


def test_json_validates_against_published_schema(run_dir):
    doc = json.loads((run_dir / "candidates.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert doc["candidates"] and all(c["rosenfeld"]["status"] for c in doc["candidates"])


def test_workbook_sheets_rows_and_charts(run_dir):
    doc = json.loads((run_dir / "candidates.json").read_text(encoding="utf-8"))
    wb = openpyxl.load_workbook(run_dir / "candidates.xlsx")
    assert wb.sheetnames == SHEETS_ES
    assert all(len(name) <= 31 for name in wb.sheetnames)
    cands = wb["Candidatos"]
    assert cands.max_row == len(doc["candidates"]) + 1
    assert [cands.cell(r, 1).value for r in range(2, cands.max_row + 1)] == [
        c["id"] for c in doc["candidates"]
    ]
    assert cands.freeze_panes == "C2" and cands.auto_filter.ref  # id and label stay in view
    assert len(cands._charts) == 1
    assert len(wb["Encadenamientos"]._charts) == 1
    n_members = sum(len(c["members"]) for c in doc["candidates"])
    assert wb["Miembros"].max_row == n_members + 1
    lk_rows = sum(1 for _ in open(run_dir / "linkages.csv", encoding="utf-8")) - 1
    lk = wb["Encadenamientos"]
    assert lk.max_row == lk_rows + 2  # display header, machine-name header, one row a sector
    header = next(open(run_dir / "linkages.csv", encoding="utf-8")).strip().split(",")
    assert [c.value for c in lk[2]][: len(header)] == header  # machine names kept
    assert cands.conditional_formatting  # status colours
    col = 1 + [c.value for c in cands[1]].index("Estado Rosenfeld")
    statuses = {cands.cell(r, col).value for r in range(2, cands.max_row + 1)}
    words = ("solo tabla IO", "emparejado con casos", "contradicho por casos")
    assert all(str(v).startswith(words) for v in statuses), statuses  # flags may follow


def test_figures_png_and_svg(run_dir):
    doc = json.loads((run_dir / "candidates.json").read_text(encoding="utf-8"))
    figs = run_dir / "figures"
    names = ["dendrogram", "key_sectors", "similarity_heatmap"] + [
        f"network_{c['id']}" for c in doc["candidates"]
    ]
    for name in names:
        png, svg = figs / f"{name}.png", figs / f"{name}.svg"
        assert png.stat().st_size > 5000 and svg.stat().st_size > 5000, name
        assert "<svg" in svg.read_text(encoding="utf-8")[:2000]
    assert png_size(figs / "key_sectors.png") == (960, 840)  # 8 x 7 in at 120 dpi
    first = doc["candidates"][0]
    side = 840 if len(first["members"]) <= 8 else 1080  # 7 or 9 in at 120 dpi
    assert png_size(figs / f"network_{first['id']}.png") == (side, side)
    w, h = png_size(figs / "dendrogram.png")
    assert w == 1320 and h >= 480  # 11 in wide at 120 dpi


def test_report_is_self_contained(run_dir):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "url(http" not in html and "@import" not in html and "<link" not in html
    assert html.count("data:image/png;base64,") >= 3
    assert "Rosenfeld" in html


def test_same_seed_same_json_and_csv(tmp_path, peru_path):
    outs = []
    for name in ("a", "b"):
        with pytest.warns(DataWarning):
            run(peru_path, out=tmp_path / name, seed=4, n_boot=30, figures=False)
        outs.append(tmp_path / name)
    for f in ("linkages.csv", "table.csv", "validation.json"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    a, b = (json.loads((o / "candidates.json").read_text(encoding="utf-8")) for o in outs)
    assert a.pop("generated") != "" and b.pop("generated") != ""  # the one timestamp field
    a["table"].pop("source"), b["table"].pop("source")  # same file, same path: equal anyway
    assert a == b


def test_english_and_config(tmp_path, peru_path):
    conf = tmp_path / "run.toml"
    conf.write_text('[run]\nlang = "en"\nn_boot = 20\nseed = 2\n', encoding="utf-8")
    assert main(["run", str(peru_path), "--config", str(conf), "--out", str(tmp_path / "o")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "o" / "candidates.xlsx")
    assert wb.sheetnames == SHEETS_EN
    doc = json.loads((tmp_path / "o" / "candidates.json").read_text(encoding="utf-8"))
    assert doc["options"]["n_boot"] == 20 and doc["options"]["seed"] == 2 and doc["lang"] == "en"
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nbogus = 1\n", encoding="utf-8")
    assert main(["run", str(peru_path), "--config", str(bad)]) == 2


def test_formula_injection_is_escaped(tmp_path):
    rng = np.random.default_rng(1)
    Z = rng.uniform(1, 10, (6, 6))
    names = ['=HYPERLINK("http://x")', "+SUM(A1)", "-1+2", "@cmd", "normal", "otro"]
    t = IOTable.from_arrays(Z, Z.sum(1) + 50, codes=list("abcdef"), names=names, table_id="inj")
    res = run(t, out=tmp_path / "o", n_boot=0, figures=False)
    wb = openpyxl.load_workbook(res.outputs["workbook"])
    values = [
        c.value
        for row in wb["Encadenamientos"].iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    assert '\'=HYPERLINK("http://x")' in values and "'+SUM(A1)" in values
    assert not any(v.startswith(("=", "+", "@")) for v in values)
    html = res.outputs["report"].read_text(encoding="utf-8")
    assert "<script" not in html


@pytest.mark.office
def test_libreoffice_opens_the_workbook(tmp_path, peru_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; `make test` installs it where it can")
    with pytest.warns(DataWarning):
        res = run(peru_path, out=tmp_path / "o", n_boot=20, figures=False)
    out = tmp_path / "conv"
    for fmt in ("pdf", "csv"):
        proc = subprocess.run(
            [
                soffice,
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                str(out),
                str(res.outputs["workbook"]),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
    pdf = out / "candidates.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
    if shutil.which("pdfinfo"):
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 7  # every sheet printed
    first_sheet = (out / "candidates.csv").read_text(encoding="utf-8", errors="replace")
    assert "CEPAL" in first_sheet and "2011" in first_sheet  # the executive summary's source
