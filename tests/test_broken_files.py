"""A corpus of broken files, generated here: each gives its specific error class and a
message naming the sheet or cell, and the CLI shows one line, never a traceback."""

from __future__ import annotations

import shutil

import numpy as np
import openpyxl
import pytest

from io_clusters import read_table, validate
from io_clusters.cli import main
from io_clusters.errors import (
    DuplicateCodeError,
    EncryptedWorkbookError,
    FileFormatError,
    LayoutDetectionError,
    LayoutError,
    MergedCellError,
    NonNumericCellError,
    SheetNotFoundError,
    SpecError,
    TableValidationError,
    exit_code_for,
)

from .conftest import EXAMPLE_SPEC, bcch_workbook, spec_workbook


def _set(sheet, ref, value):
    def mutate(wb):
        wb[sheet][ref] = value

    return mutate


def _read_spec(path, spec=EXAMPLE_SPEC):
    return read_table(path, layout=spec)


def _strict(path, spec=EXAMPLE_SPEC):
    return validate(read_table(path, layout=spec), strict=True)


def _spec_copy(tmp_path, old, new):
    text = EXAMPLE_SPEC.read_text(encoding="utf-8").replace(old, new)
    p = tmp_path / "spec.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _transpose(wb):
    ws = wb["MIP"]
    vals = [[ws.cell(8 + i, 3 + j).value for j in range(4)] for i in range(4)]
    for i in range(4):
        for j in range(4):
            ws.cell(8 + i, 3 + j, vals[j][i])


def _merge(wb):
    wb["MIP"].merge_cells("D9:E9")


def _dupe(wb):
    wb["MIP"]["A10"] = "P01"
    wb["MIP"]["E6"] = "P01"


def _shuffle_header(wb):
    ws = wb["MIP"]
    ws["C6"], ws["D6"] = "P02", "P01"


def _rename(wb):
    wb["MIP"].title = "Hoja1"


def _negative(wb):
    wb["MIP"]["D9"] = -5.0


def _inf(wb):
    wb["MIP"]["E10"] = "inf"


def _huge(wb):
    wb["MIP"]["E10"] = 1e305


def _scale(wb):
    ws = wb["MIP"]
    for r in range(8, 12):
        for c in range(7, 11):
            ws.cell(r, c, ws.cell(r, c).value * 1000)
    for r in range(13, 16):
        for c in range(3, 7):
            ws.cell(r, c, ws.cell(r, c).value * 1000)


def _bcch_no_output(wb):
    wb["4x4_2020"]["O8"] = None


def _bcch_text(wb):
    wb["4x4_2020"]["E13"] = "ver nota"


def _bcch_row_codes(wb):
    wb["4x4_2020"]["B14"] = "7"


def _bcch_merge(wb):
    wb["4x4_2020"].merge_cells("C12:D12")


SPEC_CASES = [
    # id, mutate, spec replacement (old, new) or None, exception, text that must appear
    ("text-in-numeric-cell", _set("MIP", "D9", "12,5 mil"), None, NonNumericCellError, "MIP!D9"),
    ("merged-cells-across-block", _merge, None, MergedCellError, "D9:E9"),
    ("duplicated-code", _dupe, None, DuplicateCodeError, "P01"),
    ("wrong-sheet-name", _rename, None, SheetNotFoundError, "'Hoja1'"),
    ("column-codes-shuffled", _shuffle_header, None, LayoutError, "C6"),
    ("missing-code", _set("MIP", "A9", None), None, LayoutError, "MIP!A9"),
    ("non-square-range", None, ('z = "C8:F11"', 'z = "C8:G11"'), LayoutError, "square"),
    (
        "output-range-too-short",
        None,
        ('output = "J8:J11"', 'output = "J8:J10"'),
        SpecError,
        "J8:J10",
    ),
    ("bad-toml", None, ("[table]", "[table"), SpecError, "TOML"),
    ("unknown-spec-key", None, ("units =", "unit ="), SpecError, "unit"),
]


@pytest.mark.parametrize(
    ("case", "mutate", "edit", "exc", "needle"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES]
)
def test_spec_broken_workbooks(tmp_path, case, mutate, edit, exc, needle):
    path = spec_workbook(tmp_path / f"{case}.xlsx", mutate)
    spec = _spec_copy(tmp_path, *edit) if edit else EXAMPLE_SPEC
    with pytest.raises(exc) as info:
        _read_spec(path, spec)
    assert needle in str(info.value)
    code = main(["inspect", str(path), "--layout", str(spec)])
    assert code == exit_code_for(info.value)  # the documented code of that error class


VALIDATION_CASES = [
    ("transposed-block", _transpose, "transposed"),
    ("negative-flow", _negative, "negative_flows"),
    ("huge-value", _huge, "magnitude"),
    ("unit-mismatch", _scale, "scale"),
]


@pytest.mark.parametrize(
    ("case", "mutate", "check"), VALIDATION_CASES, ids=[c[0] for c in VALIDATION_CASES]
)
def test_validation_catches_damaged_tables(tmp_path, case, mutate, check):
    path = spec_workbook(tmp_path / f"{case}.xlsx", mutate)
    with pytest.raises(TableValidationError) as info:
        _strict(path)
    checks = {f.check for f in info.value.report.errors}
    assert check in checks, info.value.report
    assert main(["inspect", str(path), "--layout", str(EXAMPLE_SPEC)]) == 7


def test_text_infinity_is_refused_naming_its_cell(tmp_path):
    """Issue 18 item 22: 'inf' text used to slip through float() and reach the analysis."""
    path = spec_workbook(tmp_path / "inf.xlsx", _inf)
    with pytest.raises(NonNumericCellError) as info:
        _read_spec(path)
    assert [str(c) for c in info.value.cells] == ["MIP!E10 = 'inf'"]


def test_huge_values_are_flagged_not_computed(tmp_path):
    """Issue 18 item 18: 1e305 overflows sums of squares (√(max/n) ≈ 6.7e153 for n = 4)."""
    path = spec_workbook(tmp_path / "huge.xlsx", _huge)
    report = validate(_read_spec(path))
    (finding,) = report.by_check("magnitude")
    assert finding.severity == "error"
    assert finding.cells == ("MIP!E10",)
    assert finding.value == 1e305
    assert report.by_check("coefficients") == ()  # later checks would overflow: skipped


def test_negative_flow_names_its_cell(tmp_path):
    path = spec_workbook(tmp_path / "neg.xlsx", _negative)
    report = validate(_read_spec(path))
    (finding,) = report.by_check("negative_flows")
    assert finding.cells == ("MIP!D9",)


def test_totals_row_read_as_sector(tmp_path):
    """A spec whose block includes the totals row and column: 5 'sectors'."""

    def add_totals(wb):
        ws = wb["MIP"]
        ws.insert_rows(12)
        ws["A12"], ws["B12"] = "TOT", "Total"
        for j in range(4):
            ws.cell(12, 3 + j, sum(ws.cell(8 + i, 3 + j).value for i in range(4)))
        # a totals column G with the row sums (the final-demand columns move right)
        ws.insert_cols(7)
        ws["G6"] = "TOT"
        for i in range(5):
            ws.cell(8 + i, 7, sum(ws.cell(8 + i, 3 + j).value for j in range(4)))

    path = spec_workbook(tmp_path / "totals.xlsx", add_totals)
    spec = tmp_path / "totals.toml"
    spec.write_text(
        '[table]\nsheet = "MIP"\nz = "C8:G12"\nrow_codes = "A8:A12"\ncol_codes = "C6:G6"\n'
        'names = "B8:B12"\noutput = "K8:K12"\n',
        encoding="utf-8",
    )
    with pytest.raises(TableValidationError) as info:
        validate(read_table(path, layout=spec), strict=True)
    found = info.value.report.by_check("totals_row")
    assert any(f.sectors == ("TOT",) and f.severity == "error" for f in found)


BCCH_CASES = [
    ("bcch-missing-output-column", _bcch_no_output, LayoutError, "Producción"),
    ("bcch-text-in-cell", _bcch_text, NonNumericCellError, "4x4_2020!E13 = 'ver nota'"),
    ("bcch-row-codes-mismatch", _bcch_row_codes, LayoutError, "B14"),
    ("bcch-merged-block", _bcch_merge, MergedCellError, "C12:D12"),
]


@pytest.mark.parametrize(
    ("case", "mutate", "exc", "needle"), BCCH_CASES, ids=[c[0] for c in BCCH_CASES]
)
def test_bcch_broken_workbooks(tmp_path, case, mutate, exc, needle):
    path = bcch_workbook(tmp_path / f"{case}.xlsx", mutate)
    with pytest.raises(exc) as info:
        read_table(path, layout="bcch-mip")
    assert needle in str(info.value)
    assert main(["inspect", str(path)]) == exit_code_for(info.value)


def test_bcch_synthetic_reads_back(tmp_path):
    from .conftest import SPEC_VA, SPEC_X, SPEC_Z

    t = read_table(bcch_workbook(tmp_path / "ok.xlsx"))
    assert t.meta.layout == "bcch-mip" and t.meta.year == 2020
    np.testing.assert_allclose(t.Z.to_numpy(), SPEC_Z)
    np.testing.assert_allclose(t.x.to_numpy(), SPEC_X)
    np.testing.assert_allclose(t.value_added.to_numpy(), SPEC_VA)
    assert validate(t).ok


def test_truncated_workbook(tmp_path):
    good = spec_workbook(tmp_path / "good.xlsx")
    data = good.read_bytes()
    bad = tmp_path / "truncated.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="corrupt or truncated"):
        read_table(bad, layout=EXAMPLE_SPEC)
    assert main(["inspect", str(bad)]) == 4


def test_empty_workbook(tmp_path):
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(LayoutDetectionError, match="empty"):
        read_table(path)
    assert main(["inspect", str(path)]) == 5


def test_password_protected_workbook(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = spec_workbook(tmp_path / "plain.xlsx")
    enc = tmp_path / "protected.xlsx"
    with open(plain, "rb") as src, open(enc, "wb") as dst:
        OOXMLFile(src).encrypt("clave", dst)
    with pytest.raises(EncryptedWorkbookError, match="password-protected"):
        read_table(enc)
    assert main(["inspect", str(enc)]) == 4


def test_csv_renamed_xlsx(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_text("code,name\n1,a\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"not an xlsx workbook.*\.csv extension"):
        read_table(path)


def test_legacy_xls(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    with pytest.raises(FileFormatError, match=r"legacy binary \.xls.*soffice"):
        read_table(path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "nothing.csv"
    path.touch()
    with pytest.raises(FileFormatError, match="empty"):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "nope.xlsx")
    assert main(["inspect", str(tmp_path / "nope.xlsx")]) == 3


def test_csv_not_utf8_is_read_as_windows_1252_with_a_warning(tmp_path):
    """Issue 18 item 22: CEPAL's Latin-1 files gave a raw UnicodeDecodeError."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("kind,code,name,z:a,x\nsector,a,Minería,1,10\n".encode("latin-1"))
    t = read_table(path)
    assert t.names == ("Minería",)
    (issue,) = [i for i in t.meta.issues if i.check == "encoding"]
    assert "cp1252" in issue.message
    assert "encoding" in [f.check for f in validate(t).warnings]
    with pytest.raises(FileFormatError, match="not utf-8 text"):
        read_table(path, encoding="utf-8")


def test_unknown_csv_layout(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(LayoutDetectionError, match="--layout"):
        read_table(path)


def test_cli_error_is_one_line_without_traceback(tmp_path, capsys):
    path = spec_workbook(tmp_path / "t.xlsx", _set("MIP", "D9", "abc"))
    code = main(["inspect", str(path), "--layout", str(EXAMPLE_SPEC)])
    err = capsys.readouterr().err
    assert code == 6
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0
    assert err.startswith("io-clusters: error:") and "MIP!D9 = 'abc'" in err


def test_every_bad_cell_is_listed(tmp_path):
    def many(wb):
        for ref in ("C8", "D9", "E10", "F11", "J8"):
            wb["MIP"][ref] = "x"

    path = spec_workbook(tmp_path / "many.xlsx", many)
    with pytest.raises(NonNumericCellError) as info:
        _read_spec(path)
    assert [c.cell for c in info.value.cells] == ["C8", "D9", "E10", "F11", "J8"]


def test_copied_real_file_renamed_keeps_working(tmp_path, shared_io):
    """Detection looks at content, not names: a BCCh workbook renamed still reads."""
    from .conftest import CHL08

    dst = tmp_path / "renamed.xlsx"
    shutil.copy(shared_io / CHL08, dst)
    assert read_table(dst).meta.layout == "bcch-mip"


def test_windows_1252_byte_after_the_first_mebibyte(tmp_path):
    """Item 22: the encoding guessed from the first MiB is revised when a later byte says so."""
    path = tmp_path / "late.csv"
    rows = "".join(f"primary,v{k},value added {k},1,\n" for k in range(40_000))
    head = "kind,code,name,z:a,x\nsector,a,Agro,1,10\n" + rows
    assert len(head) > 1 << 20
    path.write_bytes(head.encode("ascii") + "primary,ñ,Minería,1,\n".encode("cp1252"))
    t = read_table(path)
    assert t.value_added.index[-1] == "ñ" and t.value_added.shape == (40_001, 1)
    assert [i.check for i in t.meta.issues] == ["encoding"]
