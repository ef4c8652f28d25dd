"""Workbook values through python-calamine, and the package scan that decides when (issue 20).

Every workbook the scan vouches for must give exactly the table openpyxl gives; every
workbook it does not vouch for must go to openpyxl (error cells, hidden rows, sparse used
ranges, DTDs), and the scan's byte-level facts must be what a plain regex finds.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from io_clusters import read_table, run, write_table
from io_clusters.cellref import col_index
from io_clusters.errors import NonNumericCellError
from io_clusters.readers import fastbook, package
from io_clusters.readers._cells import open_workbook, sheet_values

from .conftest import EXAMPLE_SPEC, SPEC_Z, bcch_workbook, planted_blocks, spec_workbook

CHILE = (
    "chile_bcch_mip_2008_111x111.xlsx",
    "chile_bcch_mip_2008_12x12.xlsx",
    "chile_bcch_mip_2013_12x12.xlsx",
)


def _engines(monkeypatch: pytest.MonkeyPatch, path: Path, **kw):
    """Read ``path`` twice: as chosen (asserting calamine read it), then by openpyxl."""
    package._scan.cache_clear()
    used = []
    real = fastbook.load
    monkeypatch.setattr(fastbook, "load", lambda p: used.append(r := real(p)) or r)
    fast = read_table(path, **kw)
    assert used and isinstance(used[0], fastbook.FastBook), "calamine did not read it"
    monkeypatch.setattr(fastbook, "load", lambda p: None)
    slow = read_table(path, **kw)
    return fast, slow


def _assert_same(a, b) -> None:
    assert a.codes == b.codes and a.names == b.names
    pd.testing.assert_frame_equal(a.Z, b.Z, check_exact=True)
    pd.testing.assert_series_equal(a.x, b.x, check_exact=True)
    pd.testing.assert_frame_equal(a.final_demand, b.final_demand, check_exact=True)
    pd.testing.assert_frame_equal(a.value_added, b.value_added, check_exact=True)
    if a.imports is None:
        assert b.imports is None
    else:
        pd.testing.assert_series_equal(a.imports, b.imports, check_exact=True)
    assert a.meta == b.meta  # notes, issues, sheet, origin, units …


def _blank_and_empty(wb: openpyxl.Workbook) -> None:
    wb["MIP"]["D8"] = None  # a blank cell in Z
    wb["MIP"]["E9"] = ""  # an empty text in Z


def _text_numbers(wb: openpyxl.Workbook) -> None:
    for ref, text in {"C8": "1.000,0", "D8": "2.000", "E8": "(5)", "F8": "-"}.items():
        wb["MIP"][ref] = text


def _codes_as_numbers(wb: openpyxl.Workbook) -> None:
    for i in range(4):
        wb["MIP"].cell(row=8 + i, column=1, value=101 + i)
        wb["MIP"].cell(row=6, column=3 + i, value=101 + i)


SYNTHETIC = {
    "interchange": lambda p: write_table(planted_blocks(60), p),
    "spec": lambda p: spec_workbook(p),
    "spec, blank and empty cells": lambda p: spec_workbook(p, _blank_and_empty),
    "spec, numbers stored as Spanish text": lambda p: spec_workbook(p, _text_numbers),
    "spec, codes stored as numbers": lambda p: spec_workbook(p, _codes_as_numbers),
    "bcch": lambda p: bcch_workbook(p),
}


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_calamine_and_openpyxl_give_the_same_table(tmp_path, monkeypatch, name):
    path = SYNTHETIC[name](tmp_path / "t.xlsx")
    kw = {"layout": EXAMPLE_SPEC} if name.startswith("spec") else {}
    fast, slow = _engines(monkeypatch, path, **kw)
    _assert_same(fast, slow)


def test_codes_stored_as_numbers_read_as_whole_numbers(tmp_path, monkeypatch):
    """calamine gives 101.0 where openpyxl gives 101: the code must read '101'."""
    path = spec_workbook(tmp_path / "t.xlsx", _codes_as_numbers)
    fast, _ = _engines(monkeypatch, path, layout=EXAMPLE_SPEC)
    assert fast.codes == ("101", "102", "103", "104")


@pytest.mark.parametrize("name", CHILE)
def test_real_chilean_workbooks_read_the_same_by_both(shared_io, monkeypatch, name):
    fast, slow = _engines(monkeypatch, shared_io / name)
    _assert_same(fast, slow)


def _scan(path: Path) -> package.PackageScan:
    package._scan.cache_clear()
    return package.scan_package(path)


def test_error_cell_goes_to_openpyxl_and_is_named(tmp_path):
    """calamine reads #DIV/0! as "" (it would become 0); openpyxl names the cell."""

    def error(wb):
        wb["MIP"]["D9"] = "#DIV/0!"
        wb["MIP"]["D9"].data_type = "e"

    path = spec_workbook(tmp_path / "e.xlsx", error)
    assert b't="e"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert "error cells" in (_scan(path).fast_refusal() or "")
    assert not isinstance(open_workbook(path), fastbook.FastBook)
    with pytest.raises(NonNumericCellError, match=r"MIP!D9.*#DIV/0!"):
        read_table(path, layout=EXAMPLE_SPEC)


def test_hidden_rows_go_to_openpyxl_which_reports_them(tmp_path):
    def hide(wb):
        wb["MIP"].row_dimensions[9].hidden = True

    path = spec_workbook(tmp_path / "h.xlsx", hide)
    assert "hidden rows" in (_scan(path).fast_refusal() or "")
    t = read_table(path, layout=EXAMPLE_SPEC)
    assert any("hidden row" in n for n in t.meta.notes)


def _read_in_child(path: Path) -> subprocess.CompletedProcess:
    """read_table in a child process with 4 GiB of address space: an abort stays there."""
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**32, 2**32))\n"
        "from io_clusters import read_table\n"
        "from io_clusters.errors import TableReadError\n"
        "try:\n    print('n', read_table(sys.argv[1]).n)\n"
        "except TableReadError as exc:\n    print('error', type(exc).__name__)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300
    )


def test_position_given_twice_never_reaches_calamine(tmp_path):
    """calamine takes a cell's last r (measured: XFD1048576 here aborts it); the scan the first."""
    good = bcch_workbook(tmp_path / "g.xlsx")
    dup = tmp_path / "dup.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dup, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b'<c r="C12"', b'<c r="C12" r="XFD1048576"', 1)
            zout.writestr(item, data)
    assert "position given twice" in (_scan(dup).fast_refusal() or "")
    child = _read_in_child(dup)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.startswith(("n ", "error FileFormatError")), child.stdout


def test_phantom_cell_never_reaches_calamine(tmp_path):
    """One cell in XFD1048576: calamine would allocate the whole sheet (measured: abort)."""

    def phantom(wb):
        wb["4x4_2020"]["XFD1048576"] = "x"

    path = bcch_workbook(tmp_path / "p.xlsx", phantom)
    facts = dict(_scan(path).parts)
    assert max(f.rows[1] for f in facts.values() if f.rows) == 1_048_576
    assert max(f.cols[1] for f in facts.values() if f.cols) == col_index("XFD")
    assert "sparse used range" in (_scan(path).fast_refusal() or "")
    assert not isinstance(open_workbook(path), fastbook.FastBook)
    child = _read_in_child(path)
    assert child.returncode == 0 and child.stdout.strip() == "n 4", child.stderr[-2000:]
    np.testing.assert_array_equal(read_table(path).Z.to_numpy(), SPEC_Z)


def test_a_dtd_keeps_the_workbook_from_calamine(tmp_path):
    path = spec_workbook(tmp_path / "g.xlsx")
    dtd = tmp_path / "dtd.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(dtd, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/styles.xml":
                decl, _, body = data.rpartition(b"?>")
                data = decl + b"?>" * bool(decl) + b'<!DOCTYPE s [<!ENTITY e "x">]>' + body
            zout.writestr(item, data)
    assert _scan(dtd).dtd and _scan(dtd).fast_refusal() == "an XML part declares a DTD"


def test_calamine_rows_follow_openpyxl_rows(tmp_path):
    """Leading blank rows and columns, a blank row inside, trailing blanks: same rows."""

    def shape(wb):
        ws = wb.create_sheet("odd")
        ws["C3"], ws["E3"] = "a", 1.5
        ws["D5"] = 2.0
        ws["B7"], ws["F7"] = "   ", ""
        ws["A8"] = 7

    path = spec_workbook(tmp_path / "r.xlsx", shape)
    fast = open_workbook(path)
    slow = open_workbook(path, engine="openpyxl")
    assert isinstance(fast, fastbook.FastBook)
    for name in fast.sheetnames:
        a, b = sheet_values(fast[name]), sheet_values(slow[name])
        norm = [tuple(None if v in ("", "   ") else v for v in r) for r in b]
        assert [tuple(r) for r in a] == [tuple(r) for r in norm]
    assert fast["odd"].cell(3, 5).value == 1.5 and fast["odd"].cell(99, 99).value is None


def test_escaped_control_characters_are_cleaned_everywhere(tmp_path):
    """calamine decodes Excel's _x000C_ (found by the fuzzer in the units, which then broke
    the output workbook); every text of the table is cleaned, with one warning."""
    good = bcch_workbook(tmp_path / "g.xlsx")
    bad = tmp_path / "ctl.xlsx"
    edits = {
        b"millones de pesos": b"millones de pesos_x000C_",
        b"Exportaciones": b"Export_x0007_aciones",
        b"Remuneraciones de asalariados": b"Remuneraciones_x2028_de asalariados",
    }
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                for old, new in edits.items():
                    assert old in data
                    data = data.replace(old, new, 1)
            zout.writestr(item, data)
    package._scan.cache_clear()
    t = read_table(bad)
    texts = [
        t.meta.units,
        *t.meta.notes,
        *map(str, t.final_demand.columns),
        *map(str, t.value_added.index),
    ]
    assert not [x for x in texts if re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", x)]
    assert t.meta.units == "millones de pesos de 2020"
    (issue,) = [i for i in t.meta.issues if i.check == "control_characters"]
    assert "units" in issue.cells and "final-demand column 'Export aciones'" in issue.cells
    out = run(t, out=tmp_path / "out", n_boot=0)  # the workbook accepts every text
    assert out.outputs["workbook"].exists()


def _patched(src: Path, dst: Path, edits: dict[str, tuple[bytes, bytes]], rename=None) -> Path:
    """Copy a workbook, replacing bytes in named parts (and renaming one part)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in edits:
                old, new = edits[item.filename]
                assert old in data, (item.filename, old)
                data = data.replace(old, new, 1)
            name = rename[1] if rename and item.filename == rename[0] else item.filename
            zout.writestr(name, data)
    return dst


SHEET = "xl/worksheets/sheet1.xml"
FAR = (b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')


def test_leading_zeros_cannot_hide_the_last_row(tmp_path):
    """A0000003 (row 3) sorted after A999999 by digit count: calamine aborted (review)."""
    decoy = b'<row r="15"><c r="XFD2"><v>1</v></c><c r="A0000003"><v>1</v></c>'
    edits = {SHEET: (b'<row r="15">', decoy + b'<c r="A999999"><v>1</v></c>')}
    path = _patched(spec_workbook(tmp_path / "g.xlsx"), tmp_path / "z.xlsx", edits)
    assert _scan(path).fast_refusal() is not None
    child = _read_in_child(path)
    assert child.returncode == 0, child.stderr[-2000:]


@pytest.mark.parametrize("where", ["xl/ws/sheet1.xml", "xl/worksheets/sheet1.XML"])
def test_sheets_are_found_where_the_relationships_put_them(tmp_path, where):
    """A sheet outside xl/worksheets/*.xml was never scanned: calamine aborted (review)."""
    edits = {SHEET: FAR}
    rels = "xl/_rels/workbook.xml.rels"
    edits[rels] = (b"/xl/worksheets/sheet1.xml", b"/" + where.encode())
    path = _patched(spec_workbook(tmp_path / "g.xlsx"), tmp_path / "o.xlsx", edits, (SHEET, where))
    facts = dict(_scan(path).parts)
    assert where in facts and facts[where].rows == (2, 1_048_576)
    assert "sparse used range" in (_scan(path).fast_refusal() or "")
    child = _read_in_child(path)
    assert child.returncode == 0, child.stderr[-2000:]


def test_a_sheet_named_but_missing_keeps_calamine_away(tmp_path):
    rels = "xl/_rels/workbook.xml.rels"
    edits = {rels: (b"/xl/worksheets/sheet1.xml", b"/xl/elsewhere/sheet9.xml")}
    path = _patched(spec_workbook(tmp_path / "g.xlsx"), tmp_path / "m.xlsx", edits)
    assert "missing from the package: xl/elsewhere/sheet9.xml" in _scan(path).fast_refusal()


D9 = b'<c r="D9" t="n"><v>5</v></c>'


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="D9" t ="e"><v>#DIV/0!</v></c>',
        b"<c r=\"D9\" t= 'e'><v>#DIV/0!</v></c>",
        b'<c r="D9" t="&#101;"><v>#DIV/0!</v></c>',
    ],
)
def test_error_cells_in_unusual_markup_are_still_named(tmp_path, cell):
    path = _patched(spec_workbook(tmp_path / "g.xlsx"), tmp_path / "e.xlsx", {SHEET: (D9, cell)})
    assert "unusual markup" in (_scan(path).fast_refusal() or "")
    with pytest.raises(NonNumericCellError, match=r"MIP!D9"):
        read_table(path, layout=EXAMPLE_SPEC)


@pytest.mark.parametrize("text", [b"NaN", b"inf", b"-Infinity"])
def test_nan_and_infinity_are_refused_with_the_cell_named(tmp_path, text):
    cell = b'<c r="D9" t="n"><v>' + text + b"</v></c>"
    path = _patched(spec_workbook(tmp_path / "g.xlsx"), tmp_path / "n.xlsx", {SHEET: (D9, cell)})
    assert _scan(path).fast_refusal() is None  # calamine reads it: the cell must be refused
    with pytest.raises(NonNumericCellError, match=r"MIP!D9 .*not a figure a table can hold"):
        read_table(path, layout=EXAMPLE_SPEC)


def test_merged_label_cells_read_as_excel_shows_them(tmp_path, monkeypatch):
    """The cells of a merge but its first read empty (calamine keeps what they store)."""
    merged = b'</sheetData><mergeCells count="1"><mergeCell ref="B8:B9"/></mergeCells>'
    edits = {SHEET: (b"</sheetData>", merged)}
    path = _patched(spec_workbook(tmp_path / "g.xlsx"), tmp_path / "mg.xlsx", edits)
    fast, slow = _engines(monkeypatch, path, layout=EXAMPLE_SPEC)
    _assert_same(fast, slow)
    assert fast.names[1] == "P02"  # the merged-away name is blank: the code stands in


# ------------------------------------------------------------------ scan = regex, always
_CELL = re.compile(rb"<(?:\w+:)?c[ >/\t\n\r]")
_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_TOKENS = [
    b'<c r="A1">',
    b'<c r="XFD1048576"',
    b'<c r="AAAA1">',
    b'<c r="B12345678">',
    b'<c r="b2">',
    b'<c r="C3" t="e">',
    b'<c  r="D4">',
    b"<c>",
    b"<c/>",
    b"<c\n",
    b"<x:c ",
    b"<cx:c>",
    b"<col ",
    b"<f>",
    b"<x:f ",
    b"<row r=",
    b'<row r="3">',
    b'<row  r="4">',
    b' r="X1"',
    b" r ",
    b"\tr=",
    b"</c>",
    b"<v>1</v>",
    b"<!-- -->",
    b'"',
    b">",
    b"1",
    b"Z",
]


def _reference(data: bytes) -> tuple[int, int, tuple | None, tuple | None, bool]:
    refs = _REF.findall(data)
    rows = [int(r) for _, r in refs]
    cols = [col_index(c.decode()) for c, _ in refs]
    box_r = (min(rows), max(rows)) if rows else None
    box_c = (min(cols), max(cols)) if cols else None
    formulas = re.search(rb"<(?:\w+:)?f[ >/\t\n\r]", data) is not None
    positions = len(re.findall(rb"(?<=[ \t\n\r])r(?=[ \t\n\r=])", data))
    stray = positions - len(refs) - len(re.findall(rb"<row r=", data))
    return len(_CELL.findall(data)), len(refs), box_r, box_c, formulas, stray


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=40))
def test_vectorised_tag_facts_equal_the_regex(tokens):
    data = b"".join(tokens) + b">"
    tags = package._tag_facts(data)
    cells, refs, rows, cols, formulas, stray = _reference(data)
    assert (tags.cells, tags.refs, tags.formulas) == (cells, refs, formulas)
    assert tags.stray_positions == stray
    if refs:
        assert (tags.box[0], tags.box[1]) == rows and (tags.box[2], tags.box[3]) == cols


def test_scan_facts_of_a_real_sized_sheet_equal_the_regex(tmp_path):
    path = write_table(planted_blocks(120), tmp_path / "t.xlsx")
    data = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    facts = dict(_scan(path).parts)["xl/worksheets/sheet1.xml"]
    cells, refs, rows, cols, formulas, stray = _reference(data)
    assert stray == 0
    assert facts == package.PartFacts(
        cells=cells,
        refs=refs,
        rows=rows,
        cols=cols,
        errors=False,
        hidden=False,
        formulas=formulas,
        irregular=False,
    )
