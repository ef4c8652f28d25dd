"""Hostile and broken inputs: one named test per safe-reading and safe-writing rule."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from io_clusters import IOTable, read_table, run, validate, write_table
from io_clusters.errors import (
    FileFormatError,
    FormulaError,
    LayoutError,
    MergedCellError,
    NonNumericCellError,
    ResourceLimitError,
    SheetNotFoundError,
    TableReadError,
)
from io_clusters.readers import Limits
from io_clusters.readers.numbers import parse

from .conftest import EXAMPLE_SPEC, PLANTED_Z, SPEC_X, SPEC_Z, bcch_workbook, spec_workbook


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


def _billion_laughs(tmp_path):
    """A workbook whose workbook.xml declares nine nested entity expansions."""
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

    return _rezip(good, tmp_path / "lol.xlsx", edit)


def test_billion_laughs_is_refused(tmp_path):
    with pytest.raises(FileFormatError, match="could not read the workbook"):
        read_table(_billion_laughs(tmp_path), layout=EXAMPLE_SPEC)


@pytest.mark.slow
def test_billion_laughs_is_refused_quickly(tmp_path):
    """Refused before any expansion: well under the seconds an expansion would take."""
    bomb = _billion_laughs(tmp_path)
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


# ------------------------------------------------ issue 18: files economists actually produce
def _small_table(name: str = "Minería") -> IOTable:
    return IOTable.from_arrays(
        [[1.0, 2.0], [3.0, 4.0]],
        [20.0, 30.0],
        codes=["a", "b"],
        names=["Agro", name],
        final_demand=[17.0, 23.0],
        country="PER",
    )


@pytest.mark.parametrize("char", ["\u0085", "\u2028", "\u2029", "\x0c", "\x0b", "\x1c"])
def test_line_boundary_character_in_a_name_keeps_its_row(tmp_path, char):
    """Item 13: str.splitlines broke the row at these characters and zeroed the sector."""
    path = tmp_path / "t.csv"
    path.write_text(
        f"kind,code,name,z:a,z:b,x\nsector,a,Agro,1,2,20\nsector,b,Min{char}ería,3,4,30\n",
        encoding="utf-8",
    )
    t = read_table(path)
    assert t.Z.loc["b"].tolist() == [3.0, 4.0] and t.x["b"] == 30.0
    assert t.names[1] == "Min ería"  # cleaned on reading, and the cell is named
    (issue,) = [i for i in t.meta.issues if i.check == "control_characters"]
    assert issue.cells == ("t.csv!C3",)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_writer_escapes_control_characters(tmp_path, suffix):
    """Items 11 and 13: BEL/U+0085 in a name crashed the xlsx writer or broke CSV lines."""
    t = _small_table("Min\x07er\u0085ía")
    path = write_table(t, tmp_path / f"t{suffix}")
    back = read_table(path)
    assert back.names == ("Agro", "Min er ía")
    np.testing.assert_array_equal(back.Z.to_numpy(), t.Z.to_numpy())
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8")
        assert "\x07" not in text and "\u0085" not in text


def test_control_characters_in_codes_and_table_id_are_cleaned(tmp_path):
    """Item 11, reading side: a NUL in a code or a BEL in the table id, cell named."""
    path = tmp_path / "t.csv"
    path.write_text(
        "# table_id: per\x07-2011\nkind,code,name,z:a,z:b,x\n"
        "sector,a,Agro,1,2,20\nsector,b\x00,Mining,3,4,30\n",
        encoding="utf-8",
    )
    t = read_table(path)
    assert t.codes == ("a", "b") and t.meta.table_id == "per -2011"
    (issue,) = [i for i in t.meta.issues if i.check == "control_characters"]
    assert set(issue.cells) == {"t.csv: line 1", "t.csv!B4"}


def test_control_character_class_is_exactly_the_unicode_categories():
    """The one-regex test of labels matches Cc, Zl and Zp, code point by code point."""
    import sys
    import unicodedata

    from io_clusters.readers._cells import has_control, strip_control

    wanted = {"Cc", "Zl", "Zp"}
    differ = [
        hex(i)
        for i in range(sys.maxunicode + 1)
        if has_control(chr(i)) != (unicodedata.category(chr(i)) in wanted)
    ]
    assert differ == []
    assert strip_control("a\u2028b\x85\x85c\t") == "a b c"


def test_spreadsheet_padded_metadata_lines(tmp_path):
    """Item 19: a spreadsheet round trip writes '# country: PER,,,,'."""
    path = tmp_path / "t.csv"
    write_table(_small_table(), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    padded = [ln + ",,,," if ln.startswith("#") else ln for ln in lines]
    padded.insert(1, "# year: 2011,,,,")
    path.write_text("\n".join(padded) + "\n", encoding="utf-8")
    t = read_table(path)
    assert t.meta.country == "PER" and t.meta.year == 2011


@pytest.mark.parametrize(("value", "needle"), [("Peru", "ISO 3166"), ("PE1", "ISO 3166")])
def test_country_codes_are_validated(tmp_path, value, needle):
    path = tmp_path / "t.csv"
    write_table(_small_table(), path)
    text = path.read_text(encoding="utf-8").replace("# country: PER", f"# country: {value}")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"# country: {value}") + 1
    with pytest.raises(LayoutError, match=rf"line {line}: country '{value}' .*{needle}"):
        read_table(path)


def test_interchange_xlsx_refuses_merged_numbers_and_reports_hidden_rows(tmp_path):
    """Item 17: merged cells over numbers were read as 0; hidden rows went unmentioned."""
    path = write_table(_small_table(), tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["table"].merge_cells("D2:E2")
    wb.save(tmp_path / "merged.xlsx")
    with pytest.raises(MergedCellError, match="D2:E2"):
        read_table(tmp_path / "merged.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["table"].row_dimensions[3].hidden = True
    wb.save(tmp_path / "hidden.xlsx")
    t = read_table(tmp_path / "hidden.xlsx")
    assert any("1 hidden row(s)" in n and "(3)" in n for n in t.meta.notes)


@pytest.mark.parametrize(
    ("sep", "decimal_text", "expected"),
    [(";", "1,5", 1.5), ("\t", "1,5", 1.5), (";", "1.234,5", 1234.5), ("\t", "2.5", 2.5)],
)
def test_spanish_locale_csv(tmp_path, sep, decimal_text, expected):
    """Item 22: what Excel/LibreOffice save in a Spanish locale (';' or tabs, decimal commas)."""
    rows = [
        ["kind", "code", "name", "z:a", "z:b", "x"],
        ["sector", "a", "Agro", decimal_text, "2", "20"],
        ["sector", "b", "Minería", "3", "4", "30"],
    ]
    path = tmp_path / "es.csv"
    path.write_bytes("\n".join(sep.join(r) for r in rows).encode("cp1252"))
    t = read_table(path)
    assert t.Z.loc["a", "a"] == expected and t.names == ("Agro", "Minería")
    assert any("separated by" in n for n in t.meta.notes)


def test_one_number_rule_for_every_reader(tmp_path):
    """Item 22: '1,531.80' is read by every layout; '1_000', 'nan', 'inf' by none."""
    cepal = tmp_path / "cepal.csv"
    cepal.write_text(
        "Country_iso3,Nosector,Sector,PERs1,PERs2,Output\n"
        'PER,s01,Agro,"1,531.80",2,2000\nPER,s02,Mining,3,4,30\n',
        encoding="utf-8",
    )
    assert read_table(cepal).Z.iloc[0, 0] == 1531.8
    for text in ("1_000", "nan", "inf", "-Infinity"):
        ic = tmp_path / "ic.csv"
        ic.write_text(
            f"kind,code,name,z:a,z:b,x\nsector,a,A,{text},2,20\nsector,b,B,3,4,30\n",
            encoding="utf-8",
        )
        with pytest.raises(NonNumericCellError, match=r"ic\.csv!D2"):
            read_table(ic)
        cepal.write_text(
            "Country_iso3,Nosector,Sector,PERs1,PERs2,Output\n"
            f"PER,s01,Agro,{text},2,2000\nPER,s02,Mining,3,4,30\n",
            encoding="utf-8",
        )
        with pytest.raises(NonNumericCellError, match=r"cepal\.csv!D2"):
            read_table(cepal)


def test_short_row_names_its_line(tmp_path):
    """Item 23: a short row gave IndexError with no line number (or silent zeros)."""
    path = tmp_path / "t.csv"
    path.write_text(
        "# io_clusters interchange v1\nkind,code,name,z:a,z:b,x\nsector,a,A,1,2,20\nsector,b,B,3\n",
        encoding="utf-8",
    )
    with pytest.raises(LayoutError, match="line 4 has 4 field"):
        read_table(path)
    path.write_text("kind,code\nsector\n", encoding="utf-8")
    with pytest.raises(TableReadError):
        read_table(path, layout="interchange")


def test_codes_with_surrounding_spaces_agree(tmp_path):
    """Item 23: ' a' in a row and 'z: a' in the header 'differed'."""
    path = tmp_path / "t.csv"
    path.write_text(
        "kind,code,name,z: a ,z:b,x\nsector, a ,A,1,2,20\nsector,b ,B,3,4,30\n", encoding="utf-8"
    )
    assert read_table(path).codes == ("a", "b")


def test_bcch_workbook_with_two_table_sheets_says_which_is_read(tmp_path):
    """Item 20 (BCCh part): the first table sheet was read without a word."""

    def second_sheet(wb):
        copy = wb.copy_worksheet(wb["4x4_2020"])
        copy.title = "4x4_2021"
        copy["C12"] = 99.0

    path = bcch_workbook(tmp_path / "two.xlsx", second_sheet)
    t = read_table(path)
    assert t.meta.sheet == "4x4_2020" and t.summary()["sheet"] == "4x4_2020"
    (issue,) = [i for i in t.meta.issues if i.check == "table_sheet"]
    assert "'4x4_2020', '4x4_2021'" in issue.message and "sheet='NAME'" in issue.message
    other = read_table(path, sheet="4x4_2021")
    assert other.Z.iloc[0, 0] == 99.0 and other.meta.sheet == "4x4_2021"
    with pytest.raises(SheetNotFoundError, match="4x4_2099"):
        read_table(path, sheet="4x4_2099")


def test_phantom_used_range_reads_only_real_cells(tmp_path):
    """Item 24: one space typed in XFD1048576 declares 1.7e10 cells; only real ones count."""
    from io_clusters.readers._cells import open_workbook, sheet_values

    def phantom(wb):
        wb["4x4_2020"]["XFD1048576"] = " "

    path = bcch_workbook(tmp_path / "phantom.xlsx", phantom)
    t = read_table(path)  # was: ResourceLimitError (declared cells) or minutes and GBs
    np.testing.assert_array_equal(t.Z.to_numpy(), SPEC_Z)
    ws = open_workbook(path)["4x4_2020"]
    before = len(ws._cells)
    rows = sheet_values(ws)
    assert len(ws._cells) == before  # no cell of the empty rectangle was created
    assert len(rows) == 27 and sum(len(r) for r in rows) < 400


def test_bcch_real_workbook_with_a_phantom_cell(shared_io, tmp_path):
    """Item 24 on the real 12x12 BCCh workbook: a space typed far away changes nothing."""
    from .conftest import CHL08

    wb = openpyxl.load_workbook(shared_io / CHL08)
    sheet = next(ws for ws in wb.worksheets if ws.max_row > 20)
    sheet.cell(1_000_000, 2000, " ")
    wb.save(tmp_path / "phantom.xlsx")
    original = read_table(shared_io / CHL08)
    t = read_table(tmp_path / "phantom.xlsx")
    np.testing.assert_allclose(t.Z.to_numpy(), original.Z.to_numpy(), rtol=1e-15)  # resaved


def test_sparse_sheet_costs_its_real_cells(tmp_path):
    """Item 24: 2,000 cells scattered over 1e6 rows × 16,384 columns (a sparse workbook)."""
    from io_clusters.readers._cells import open_workbook, sheet_values

    def scatter(wb):
        ws = wb.create_sheet("notes")
        for k in range(1, 2001):
            ws.cell(k * 500, 1 + (k * 7919) % 16384, f"n{k}")

    path = bcch_workbook(tmp_path / "sparse.xlsx", scatter)
    np.testing.assert_array_equal(read_table(path).Z.to_numpy(), SPEC_Z)
    rows = sheet_values(open_workbook(path)["notes"])
    assert len(rows) == 1_000_000
    stored = sum(len(r._cells) if hasattr(r, "_cells") else len(r) for r in rows)
    assert stored < 2000 * 200  # the dense rectangle would be 1.6e10 cells
    assert rows[499][7919] == "n1"  # row 500, column 1 + 7919 (0-based 7919)


def test_inspect_names_the_sheet_read(tmp_path, capsys):
    """Item 20: `inspect` says which of two table sheets was read."""
    from io_clusters.cli import main

    def second_sheet(wb):
        wb.copy_worksheet(wb["4x4_2020"]).title = "4x4_2021"

    path = bcch_workbook(tmp_path / "two.xlsx", second_sheet)
    main(["inspect", str(path)])
    out = capsys.readouterr().out
    assert "table_sheet" in out and "sheet '4x4_2020' was read" in out


@pytest.mark.parametrize(
    ("edit", "needle"), [('country = "PER"', 'country = "Peru"'), ("year = 2007", 'year = "2OO7"')]
)
def test_spec_country_and_year_are_checked(tmp_path, edit, needle):
    """Item 19 for specs: a country that is not ISO alpha-3, a year given as text."""
    from io_clusters.errors import SpecError

    spec = tmp_path / "spec.toml"
    spec.write_text(EXAMPLE_SPEC.read_text(encoding="utf-8").replace(edit, needle, 1), "utf-8")
    with pytest.raises(SpecError, match=r"alpha-3|whole number"):
        read_table(spec_workbook(tmp_path / "t.xlsx"), layout=spec)
