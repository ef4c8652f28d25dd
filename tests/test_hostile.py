"""Hostile and broken inputs: one named test per safe-reading and safe-writing rule."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from io_clusters import IOTable, read_table, run, validate
from io_clusters.errors import (
    FileFormatError,
    FormulaError,
    NonNumericCellError,
    ResourceLimitError,
)
from io_clusters.readers import Limits
from io_clusters.readers.numbers import parse

from .conftest import EXAMPLE_SPEC, PLANTED_Z, SPEC_X, SPEC_Z, spec_workbook


def _rezip(src: Path, dst: Path, edit) -> Path:
    """Copy an xlsx, letting ``edit(name, data)`` change or add parts."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item, data)
        extra = edit("__extra__", b"")
        if extra:
            for name, data in extra:
                zout.writestr(name, data)
    return dst


def test_billion_laughs_is_refused_quickly(tmp_path):
    good = spec_workbook(tmp_path / "good.xlsx")
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]>"
    )

    def edit(name, data):
        if name == "xl/workbook.xml":
            body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
            return lol + body.replace(b'name="MIP"', b'name="&lol9;"')
        return None if name == "__extra__" else data

    bomb = _rezip(good, tmp_path / "lol.xlsx", edit)
    t0 = time.perf_counter()
    with pytest.raises(FileFormatError, match="could not read the workbook"):
        read_table(bomb, layout=EXAMPLE_SPEC)
    assert time.perf_counter() - t0 < 5


def test_zip_bomb_is_refused_before_loading(tmp_path):
    good = spec_workbook(tmp_path / "good.xlsx")

    def edit(name, data):
        if name == "__extra__":
            return [("xl/media/padding.bin", b"\0" * (11 * 2**20))]  # 11 MiB that packs to ~11 KiB
        return data

    bomb = _rezip(good, tmp_path / "bomb.xlsx", edit)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ResourceLimitError, match=r"expands .* times"):
        read_table(bomb, layout=EXAMPLE_SPEC)


def test_declared_cell_count_is_checked_before_loading(tmp_path):
    good = spec_workbook(tmp_path / "good.xlsx")

    def edit(name, data):
        if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
            import re

            return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
        return None if name == "__extra__" else data

    big = _rezip(good, tmp_path / "big.xlsx", edit)
    # issue 18 item 24: the declared rectangle is not trusted, the real cells are counted
    assert read_table(big, layout=EXAMPLE_SPEC).n == 4
    n_cells = len(re.findall(rb"<c[ >]", zipfile.ZipFile(good).read("xl/worksheets/sheet1.xml")))
    with pytest.raises(ResourceLimitError, match=rf"hold {n_cells:,} cells"):
        read_table(big, layout=EXAMPLE_SPEC, limits=Limits(max_cells=n_cells - 1))


def test_configurable_limits(tmp_path):
    path = spec_workbook(tmp_path / "t.xlsx")
    with pytest.raises(ResourceLimitError, match="file-size limit"):
        read_table(path, layout=EXAMPLE_SPEC, limits=Limits(max_file_bytes=1000))
    with pytest.raises(ResourceLimitError, match="unpacks to"):
        read_table(path, layout=EXAMPLE_SPEC, limits=Limits(max_uncompressed_bytes=1000))
    with pytest.raises(ResourceLimitError, match="4 sectors exceed the limit of 3"):
        read_table(path, layout=EXAMPLE_SPEC, limits=Limits(max_sectors=3))


def test_formula_without_cached_value_names_the_cell(tmp_path):
    path = spec_workbook(tmp_path / "f.xlsx", lambda wb: wb["MIP"].__setitem__("D9", "=2+3"))
    with pytest.raises(FormulaError, match=r"MIP!D9 =2\+3.*recalculate and save"):
        read_table(path, layout=EXAMPLE_SPEC)


def test_external_links_hidden_sheets_and_rows_are_reported(tmp_path):
    def mutate(wb):
        wb["MIP"].row_dimensions[9].hidden = True
        wb["MIP"].column_dimensions["E"].hidden = True
        wb.create_sheet("notas").sheet_state = "hidden"

    path = spec_workbook(tmp_path / "h.xlsx", mutate)

    def edit(name, data):
        if name == "__extra__":
            return [("xl/externalLinks/externalLink1.xml", b"<externalLink/>")]
        return data

    linked = _rezip(path, tmp_path / "linked.xlsx", edit)
    notes = " | ".join(read_table(linked, layout=EXAMPLE_SPEC).meta.notes)
    assert "1 external link(s) (externalLink1.xml)" in notes
    assert "hidden sheet(s): notas" in notes
    assert "1 hidden row(s) inside the table (9)" in notes
    assert "1 hidden column(s) inside the table (E)" in notes


@pytest.mark.parametrize(
    ("text", "decimal", "value", "rule"),
    [
        ("1.234.567,89", ",", 1234567.89, "decimal_comma"),
        ("1 234,5", ",", 1234.5, "spaces"),
        ("1\u00a0234,5", ",", 1234.5, "spaces"),
        ("(123)", ".", -123.0, "parentheses"),
        ("(1.234,5)", ",", -1234.5, "parentheses"),
        ("-", ".", 0.0, "dash"),
        ("…", ".", 0.0, "not_available"),
        ("1,234,567.89", ".", 1234567.89, "decimal_point"),
        ("12.5", ".", 12.5, "plain"),
        ("1.234", ",", 1234.0, "decimal_comma"),
    ],
)
def test_number_rules(text, decimal, value, rule):
    assert parse(text, decimal) == (pytest.approx(value), rule)


def test_spanish_number_formats_in_a_workbook(tmp_path):
    texts = {"C8": "1.000,0", "D8": "2.000", "E8": "(5)", "F8": "-", "G8": "1 234,5", "J8": "…"}

    def mutate(wb):
        for ref, text in texts.items():
            wb["MIP"][ref] = text

    t = read_table(spec_workbook(tmp_path / "es.xlsx", mutate), layout=EXAMPLE_SPEC)
    row = t.Z.loc["P01"].tolist()
    assert row == [1000.0, 2000.0, -5.0, 0.0]  # the block shows decimal commas: '2.000' = 2000
    assert t.final_demand.iloc[0, 0] == 1234.5
    notes = " | ".join(t.meta.notes)
    assert "decimal separator ','" in notes and "decimal_comma ×2" in notes and "dash ×1" in notes
    (issue,) = t.meta.issues  # issue 18 item 21: a warning naming the cells, not an info line
    assert issue.check == "not_available" and issue.cells == ("MIP!F8", "MIP!J8")
    assert [f.cells for f in validate(t).warnings if f.check == "not_available"] == [issue.cells]


def test_mixed_decimal_conventions_are_refused(tmp_path):
    def mutate(wb):
        wb["MIP"]["C8"] = "1.234,5"
        wb["MIP"]["D8"] = "1,234.5"

    with pytest.raises(NonNumericCellError, match="mixed decimal conventions"):
        read_table(spec_workbook(tmp_path / "mixed.xlsx", mutate), layout=EXAMPLE_SPEC)


def test_formula_injection_label_is_inert_everywhere(tmp_path):
    Z = PLANTED_Z
    names = ['=HYPERLINK("http://evil","click")', "@SUM(1)", "\tTab", "ok", "fine", "<b>x</b>"]
    t = IOTable.from_arrays(Z, Z.sum(0) + Z.sum(1) + 20, codes=list("abcdef"), names=names)
    # 6 sectors: the guards for real tables are off, so the candidates carry the names
    res = run(
        t,
        out=tmp_path / "o",
        n_boot=0,
        figures=False,
        min_goods_sectors=2,
        max_core_output_share=1.0,
    )
    assert res.clusters.candidates
    wb = openpyxl.load_workbook(res.outputs["workbook"])
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and c.value.startswith(("=", "@", "\t"))), (
                    ws.title,
                    c.coordinate,
                )
    csv = pd.read_csv(res.outputs["linkages"], index_col=0)
    assert csv.loc["a", "name"].startswith("'=")
    html = res.outputs["report"].read_text(encoding="utf-8")
    assert "&quot;http://evil&quot;" in html and 'href="http://evil"' not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_dotdot_names_stay_inside_the_output_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = IOTable.from_arrays(SPEC_Z, SPEC_X, table_id="../../../etc/evil")
    res = run(t, n_boot=0, figures=False)
    assert res.out_dir.resolve().is_relative_to((tmp_path / "data" / "processed").resolve())
    assert res.out_dir.name == "etc-evil"
    assert not (tmp_path.parent / "etc").exists()


def test_failed_run_writes_nothing(tmp_path):
    t = IOTable.from_arrays([[5, 6, 0], [8, 6, 0], [0, 0, 1]], [10, 10, 10])  # not productive
    out = tmp_path / "o"
    with pytest.raises(Exception) as info:
        run(t, out=out, n_boot=0)
    assert type(info.value).__name__ in ("NotProductiveError", "TableValidationError")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_csv_that_is_binary_garbage(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(FileFormatError):
        read_table(path)


def test_xlsx_in_memory_bytes_are_not_a_path(tmp_path):
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "missing.xlsx")
