"""Supply and use tables → symmetric tables (Eurostat 2008, ch. 11, models A-D).

No published numerical supply-use example with printed symmetric results was found
with the search tool (the Eurostat manual's and the UN Handbook's tables are not in
the stored corpora), so the reference example below is derived by hand, step by step,
inside the test, independently of the implementation.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from io_clusters import SupplyUseTable, to_symmetric, validate_sut
from io_clusters.cli import main
from io_clusters.errors import (
    AnalysisError,
    DataWarning,
    DuplicateCodeError,
    FileFormatError,
    FormulaError,
    LayoutError,
    NonNumericCellError,
    OptionError,
    SpecError,
)
from io_clusters.readers.sut_readers import read_sut, write_sut

from .conftest import PLANTED_Z

# Two products, two industries; industry I1 makes 10 units of P2 as secondary output.
S = [[90, 0], [10, 100]]  # supply, products x industries
U = [[20, 30], [25, 15]]  # use, products x industries
Y = [40, 70]  # final demand by product = q - U·1
W = [55, 55]  # value added by industry = g - 1'U


def hand_results():
    """Every expected number, worked out with exact fractions."""
    q = [F(90), F(110)]  # product output, row sums of S
    g = [F(100), F(100)]  # industry output, column sums of S
    det = F(90 * 100 - 0 * 10)  # = 9000
    S_inv = [[F(100) / det, F(0)], [F(-10) / det, F(90) / det]]  # [[1/90, 0], [-1/900, 1/100]]

    def mm(a, b):
        return [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]

    Uf = [[F(v) for v in row] for row in U]
    # model A: Z = U S^-1 diag(q)
    US = mm(Uf, S_inv)  # [[17/90, 3/10], [47/180, 3/20]]
    A = [[US[i][j] * q[j] for j in range(2)] for i in range(2)]  # [[17, 33], [47/2, 33/2]]
    # model B: Z = U diag(g)^-1 S'
    St = [[F(S[j][i]) for j in range(2)] for i in range(2)]
    B = mm([[Uf[i][j] / g[j] for j in range(2)] for i in range(2)], St)  # [[18, 32], [45/2, 35/2]]
    # model C: Z = diag(g) S^-1 U; final demand diag(g) S^-1 Y
    TC = [[g[i] * S_inv[i][j] for j in range(2)] for i in range(2)]  # [[10/9, 0], [-1/9, 1]]
    C = mm(TC, Uf)  # [[200/9, 100/3], [205/9, 35/3]]
    fC = [sum(TC[i][k] * Y[k] for k in range(2)) for i in range(2)]  # [400/9, 590/9]
    # model D: Z = S' diag(q)^-1 U; final demand S' diag(q)^-1 Y
    TD = [[St[i][j] / q[j] for j in range(2)] for i in range(2)]  # [[1, 1/11], [0, 10/11]]
    D = mm(TD, Uf)  # [[245/11, 345/11], [250/11, 150/11]]
    fD = [sum(TD[i][k] * Y[k] for k in range(2)) for i in range(2)]  # [510/11, 700/11]
    return A, B, (C, fC), (D, fD)


def sut():
    return SupplyUseTable.from_arrays(
        S, U, final_demand=Y, value_added=W, products=["P1", "P2"], industries=["I1", "I2"]
    )


def as_float(m):
    return np.array([[float(v) for v in row] for row in m])


def test_four_models_against_hand_derived_example():
    A, B, (C, fC), (D, fD) = hand_results()
    assert A == [[17, 33], [F(47, 2), F(33, 2)]]
    with pytest.warns(DataWarning) if False else _no_warning():
        tA = to_symmetric(sut(), "A")
    np.testing.assert_allclose(tA.Z.to_numpy(), as_float(A), rtol=1e-12)
    np.testing.assert_allclose(tA.x.to_numpy(), [90, 110])
    np.testing.assert_allclose(tA.final_demand.to_numpy().ravel(), Y)
    np.testing.assert_allclose(to_symmetric(sut(), "B").Z.to_numpy(), as_float(B), rtol=1e-12)
    tC = to_symmetric(sut(), "C")
    np.testing.assert_allclose(tC.Z.to_numpy(), as_float(C), rtol=1e-12)
    np.testing.assert_allclose(
        tC.final_demand.to_numpy().ravel(), [float(v) for v in fC], rtol=1e-12
    )
    tD = to_symmetric(sut(), "D")
    np.testing.assert_allclose(tD.Z.to_numpy(), as_float(D), rtol=1e-12)
    np.testing.assert_allclose(
        tD.final_demand.to_numpy().ravel(), [float(v) for v in fD], rtol=1e-12
    )
    # industry tables balance: Z·1 + f = g, 1'Z + w = g
    for t in (tC, tD):
        np.testing.assert_allclose(
            t.Z.to_numpy().sum(1) + t.final_demand.to_numpy().sum(1), [100, 100]
        )
        np.testing.assert_allclose(
            t.Z.to_numpy().sum(0) + t.value_added.to_numpy().sum(0), [100, 100]
        )
    assert "model D" in tD.meta.notes[-1]


class _no_warning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", DataWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_model_a_negatives_are_reported_and_optionally_zeroed():
    # I1 makes much of P2 with a P1-heavy recipe: the product technology goes negative
    s = SupplyUseTable.from_arrays(
        [[50, 0], [50, 100]], [[40, 0], [0, 10]], products=["P1", "P2"], industries=["I1", "I2"]
    )
    with pytest.warns(DataWarning, match=r"negative flow.*\(P2, P1\).*secondary production: I1"):
        t = to_symmetric(s, "A")
    assert (t.Z.to_numpy() < 0).any()
    with pytest.warns(DataWarning, match="set to zero"):
        z = to_symmetric(s, "A", negatives="zero")
    assert (z.Z.to_numpy() >= 0).all()
    assert (to_symmetric(s, "D").Z.to_numpy() >= 0).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_no_secondary_production_all_models_agree(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(50, 200, n)
    Umat = rng.uniform(0, 1, (n, n)) * x[None, :] * 0.1
    s = SupplyUseTable.from_arrays(np.diag(x), Umat)
    expected = Umat / x[None, :]
    for model in "ABCD":
        t = to_symmetric(s, model)
        np.testing.assert_allclose(
            t.Z.to_numpy() / t.x.to_numpy()[None, :], expected, rtol=1e-10, atol=1e-14
        )


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1), st.floats(0.01, 0.3))
def test_round_trip_model_d_recovers_the_coefficients(n, seed, share):
    rng = np.random.default_rng(seed)
    Z = rng.uniform(0, 10, (n, n))
    x = Z.sum(0) + Z.sum(1) + rng.uniform(10, 50, n)
    A = Z / x
    # secondary production: industry j makes `share` of its output as product j+1
    Smat = np.zeros((n, n))
    for j in range(n):
        Smat[j, j] += (1 - share) * x[j]
        Smat[(j + 1) % n, j] += share * x[j]
    q = Smat.sum(1)
    Dmat = Smat.T / q[None, :]  # market shares, industries x products
    Umat = np.linalg.solve(Dmat, Z)  # the use table whose model-D transform is Z
    t = to_symmetric(SupplyUseTable.from_arrays(Smat, Umat), "D")
    np.testing.assert_allclose(t.Z.to_numpy() / t.x.to_numpy()[None, :], A, atol=1e-10)


def test_model_a_needs_a_square_invertible_supply():
    s = SupplyUseTable.from_arrays([[10, 0, 5], [0, 10, 5]], [[1, 1, 1], [1, 1, 1]])
    with pytest.raises(AnalysisError, match="square supply matrix"):
        to_symmetric(s, "A")
    assert to_symmetric(s, "D").n == 3  # industry x industry works for 2 products x 3 industries


def _sut_workbook(path, mutate=None):
    wb = openpyxl.Workbook()
    of = wb.active
    of.title = "Oferta"
    ut = wb.create_sheet("Utilizacion")
    for ws in (of, ut):
        ws["C4"], ws["D4"] = "I1", "I2"
        ws["A6"], ws["A7"] = "P1", "P2"
        ws["B6"], ws["B7"] = "Producto uno", "Producto dos"
    for i in range(2):
        for j in range(2):
            of.cell(6 + i, 3 + j, S[i][j])
            ut.cell(6 + i, 3 + j, U[i][j])
        ut.cell(6 + i, 6, Y[i])
    for j in range(2):
        ut.cell(9, 3 + j, W[j])
    if mutate:
        mutate(wb)
    wb.save(path)
    return path


SPEC = """[sut]
supply = "Oferta!C6:D7"
use = "Utilizacion!C6:D7"
products = "Oferta!A6:A7"
product_names = "Oferta!B6:B7"
industries = "Oferta!C4:D4"
use_products = "Utilizacion!A6:A7"
use_industries = "Utilizacion!C4:D4"
country = "PER"
[final_demand]
"Demanda final" = "Utilizacion!F6:F7"
[value_added]
"Valor agregado" = "Utilizacion!C9:D9"
"""


def test_spec_reader_two_sheets_and_cli(tmp_path, capsys):
    spec = tmp_path / "sut.toml"
    spec.write_text(SPEC, encoding="utf-8")
    path = _sut_workbook(tmp_path / "cou.xlsx")
    s = read_sut(path, spec)
    assert s.products == ("P1", "P2") and s.product_names == ("Producto uno", "Producto dos")
    assert validate_sut(s).ok
    np.testing.assert_array_equal(s.use.to_numpy(), U)
    out = tmp_path / "sym.csv"
    assert (
        main(["symmetric", str(path), "--layout", str(spec), "--model", "D", "--out", str(out)])
        == 0
    )
    from io_clusters import read_table

    t = read_table(out)
    np.testing.assert_allclose(t.Z.to_numpy(), as_float(hand_results()[3][0]), rtol=1e-12)


def test_run_accepts_a_supply_use_table(tmp_path):
    Z = PLANTED_Z + 5
    x = Z.sum(0) + Z.sum(1) + 50
    Smat = np.diag(0.95 * x) + np.roll(np.diag(0.05 * x), 1, axis=0)  # 5 % secondary output
    q = Smat.sum(1)
    Umat = np.linalg.solve(Smat.T / q[None, :], Z)
    assert (Umat > 0).all()
    fd = q - Umat.sum(1)
    path = write_sut(SupplyUseTable.from_arrays(Smat, Umat, final_demand=fd), tmp_path / "sut.csv")
    code = main(["run", str(path), "--model", "D", "--out", str(tmp_path / "r"), "--n-boot", "0"])
    assert code == 0 and (tmp_path / "r" / "candidates.xlsx").exists()


def test_interchange_round_trip(tmp_path):
    path = write_sut(sut(), tmp_path / "s.csv")
    back = read_sut(path)
    np.testing.assert_array_equal(back.supply.to_numpy(), S)
    np.testing.assert_array_equal(back.final_demand.to_numpy().ravel(), Y)
    np.testing.assert_array_equal(back.value_added.to_numpy().ravel(), W)


def test_broken_supply_use_files_name_block_and_cell(tmp_path):
    spec = tmp_path / "sut.toml"
    spec.write_text(SPEC, encoding="utf-8")
    bad = _sut_workbook(
        tmp_path / "bad.xlsx", lambda wb: wb["Utilizacion"].__setitem__("D7", "abc")
    )
    with pytest.raises(
        NonNumericCellError, match=r"use block Utilizacion!C6:D7.*Utilizacion!D7 = 'abc'"
    ):
        read_sut(bad, spec)
    swapped = _sut_workbook(
        tmp_path / "sw.xlsx", lambda wb: wb["Utilizacion"].__setitem__("A6", "P9")
    )
    with pytest.raises(LayoutError, match="use_products"):
        read_sut(swapped, spec)
    unbalanced = SupplyUseTable.from_arrays(
        S, U, final_demand=[40, 90], value_added=W, products=["P1", "P2"], industries=["I1", "I2"]
    )
    report = validate_sut(unbalanced)
    (f,) = report.by_check("product_balance")
    assert f.severity == "error" and f.sectors == ("P2",)
    assert (
        main(["symmetric", str(bad), "--layout", str(spec), "--out", str(tmp_path / "x.csv")]) == 6
    )


# ------------------------------------------------------------ damaged supply-use files
# One test per failure class found by hand and by the fuzzer (tests/fuzzing.py): each
# raised an undocumented exception (UnicodeDecodeError, IndexError, csv.Error,
# ValueError, AttributeError) or read damaged data silently before.


def _named_sut():
    return SupplyUseTable.from_arrays(
        S,
        U,
        final_demand=Y,
        value_added=W,
        products=["P1", "P2"],
        industries=["I1", "I2"],
        product_names=["Café", "Azúcar"],
        industry_names=["Agro", "Food"],
    )


def _damaged(tmp_path, edit, name="d.csv"):
    """Write the interchange CSV of the example, changed by ``edit(lines) -> lines``."""
    lines = write_sut(_named_sut(), tmp_path / "good.csv").read_text(encoding="utf-8")
    path = tmp_path / name
    path.write_text("\n".join(edit(lines.split("\n"))), encoding="utf-8")
    return path


def _line(lines, kind, code=None):
    """Return the position of the first row of ``kind`` (and ``code``)."""
    return next(k for k, ln in enumerate(lines) if ln.startswith(f"{kind},{code or ''}"))


def test_damaged_sut_non_utf8_text_is_read_as_cp1252_with_a_warning(tmp_path):
    good = write_sut(_named_sut(), tmp_path / "good.csv").read_text(encoding="utf-8")
    path = tmp_path / "latin1.csv"
    path.write_bytes(good.encode("cp1252"))  # was UnicodeDecodeError
    s = read_sut(path)
    assert s.product_names == ("Café", "Azúcar")
    (w,) = [f for f in validate_sut(s).warnings if f.check == "encoding"]
    assert "latin1.csv is not UTF-8" in w.message and "cp1252" in w.message


def test_damaged_sut_utf16_with_byte_order_mark_is_read(tmp_path):
    good = write_sut(_named_sut(), tmp_path / "good.csv").read_text(encoding="utf-8")
    path = tmp_path / "u16.csv"
    path.write_bytes(good.encode("utf-16"))  # was UnicodeDecodeError
    s = read_sut(path)
    np.testing.assert_array_equal(s.supply.to_numpy(), S)
    assert "read as UTF-16 (byte-order mark)" in s.meta.notes


def test_damaged_sut_binary_junk_is_not_a_text_table(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"# io_clusters supply-use v1\n" + bytes(range(256)) * 4)
    with pytest.raises(FileFormatError, match=r"junk\.csv: \d+ control bytes"):
        read_sut(path)  # was UnicodeDecodeError


@pytest.mark.parametrize("keep", [1, 2])
def test_damaged_sut_truncated_before_the_rows(tmp_path, keep):
    path = _damaged(tmp_path, lambda ls: ls[:keep])  # the magic (and table_id) only
    with pytest.raises(LayoutError, match=r"d\.csv: no header line"):
        read_sut(path)  # was IndexError


@pytest.mark.parametrize("fields", ["supply", "supply,P1", "supply,P1,Café,90.0"])
def test_damaged_sut_short_row_names_its_line(tmp_path, fields):
    def edit(ls):
        ls[_line(ls, "supply", "P1")] = fields
        return ls

    # line 4: magic, table_id, header, then the first supply row
    with pytest.raises(LayoutError, match=r"d\.csv: line 4 has \d field\(s\) but the header has 6"):
        read_sut(_damaged(tmp_path, edit))  # was IndexError (or zeros read silently)


def test_damaged_sut_short_industry_row_names_its_line(tmp_path):
    def edit(ls):
        ls[_line(ls, "industry")] = "industry"
        return ls

    with pytest.raises(LayoutError, match=r"d\.csv: line 9 has 1 field\(s\)"):
        read_sut(_damaged(tmp_path, edit))  # was IndexError


def test_damaged_sut_wide_row_names_its_line(tmp_path):
    def edit(ls):
        ls[_line(ls, "use", "P2")] += ",5,6"
        return ls

    with pytest.raises(LayoutError, match=r"line 7 has 8 field\(s\) but the header has 6"):
        read_sut(_damaged(tmp_path, edit))  # the extra numbers were dropped silently


def test_damaged_sut_missing_header_columns(tmp_path):
    def edit(ls):
        ls[2] = "kind,code,name,x:I1,x:I2,fd:final_demand"
        return ls

    with pytest.raises(LayoutError, match=r"line 3: the header must start with kind,code,name"):
        read_sut(_damaged(tmp_path, edit))


def test_damaged_sut_non_numeric_cell_names_line_and_column(tmp_path):
    def edit(ls):
        k = _line(ls, "use", "P2")
        ls[k] = ls[k].replace("15.0", "quince")
        return ls

    with pytest.raises(NonNumericCellError, match=r"d\.csv!E7 = 'quince'") as err:
        read_sut(_damaged(tmp_path, edit))
    assert [c.cell for c in err.value.cells] == ["E7"]


def test_damaged_sut_blank_lines_are_skipped_and_cells_keep_their_line(tmp_path):
    def edit(ls):
        k = _line(ls, "use", "P2")
        ls[k] = ls[k].replace("15.0", "x")
        return [ln for pair in zip(ls, [""] * len(ls), strict=True) for ln in pair]

    # every line doubled by a blank one: the use row of P2, line 7, is now line 13
    with pytest.raises(NonNumericCellError, match=r"d\.csv!E13 = 'x'"):
        read_sut(_damaged(tmp_path, edit))
    s = read_sut(_damaged(tmp_path, lambda ls: [x for ln in ls for x in (ln, "")]))
    np.testing.assert_array_equal(s.use.to_numpy(), U)


def test_damaged_sut_field_over_the_csv_limit_names_its_line(tmp_path):
    def edit(ls):
        k = _line(ls, "supply", "P2")
        ls[k] = ls[k].replace("Azúcar", "x" * 200_000)
        return ls

    with pytest.raises(FileFormatError, match=r"d\.csv: line 5: not valid CSV"):
        read_sut(_damaged(tmp_path, edit))  # was _csv.Error


def test_damaged_sut_duplicate_codes_are_refused(tmp_path):
    def dup_industry(ls):
        ls[2] = ls[2].replace("i:I2", "i:I1")
        return ls

    with pytest.raises(DuplicateCodeError, match=r"industry code\(s\) 'I1' .*d\.csv!D3, d\.csv!E3"):
        read_sut(_damaged(tmp_path, dup_industry))  # was read, one column lost later

    def dup_product(ls):
        return [ln.replace(",P2,", ",P1,") for ln in ls]

    with pytest.raises(DuplicateCodeError, match=r"supply-row code\(s\) 'P1' .*d\.csv!B5"):
        read_sut(_damaged(tmp_path, dup_product))


def test_damaged_sut_use_or_imports_rows_that_differ_from_supply(tmp_path):
    def swap(ls):
        k = _line(ls, "use", "P2")
        ls[k] = ls[k].replace("use,P2", "use,P9")
        return ls

    with pytest.raises(LayoutError, match=r"first difference at d\.csv!B7: 'P9', expected 'P2'"):
        read_sut(_damaged(tmp_path, swap))

    def short_imports(ls):
        ls.insert(_line(ls, "primary"), "imports_use,P1,P1,1.0,2.0,")
        return ls

    with pytest.raises(LayoutError, match=r"imports_use rows \(1\) must list the same products"):
        read_sut(_damaged(tmp_path, short_imports))  # was ValueError from pandas


def test_damaged_sut_line_separators_stay_in_their_field(tmp_path):
    def edit(ls):
        return [ln.replace("Café", "Ca\u2028fé\x07") for ln in ls]

    s = read_sut(_damaged(tmp_path, edit))  # str.splitlines cut the row: "unknown kind"
    assert s.product_names[0] == "Ca fé"
    (w,) = [f for f in validate_sut(s).warnings if f.check == "control_characters"]
    assert w.cells == ("d.csv!C4",)


def test_damaged_sut_metadata_is_checked(tmp_path):
    def bad_country(ls):
        return [ls[0], "# country: Peru", *ls[1:]]

    with pytest.raises(LayoutError, match=r"d\.csv: line 2: country 'Peru' is not an ISO"):
        read_sut(_damaged(tmp_path, bad_country))

    def late_comment(ls):
        k = _line(ls, "use", "P1")
        return [*ls[:k], "# country: CHL,,,,,", *ls[k:]]

    # a '#' line after the header was taken as metadata, wherever it was
    with pytest.raises(LayoutError, match=r"line 6: unknown kind '# country: CHL'.*before the hea"):
        read_sut(_damaged(tmp_path, late_comment))


def _sut_xlsx(tmp_path, edit=None, name="d.xlsx"):
    path = write_sut(_named_sut(), tmp_path / name)
    if edit:
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
    return path


def test_sut_xlsx_round_trip(tmp_path):
    s = read_sut(_sut_xlsx(tmp_path))
    np.testing.assert_array_equal(s.supply.to_numpy(), S)
    np.testing.assert_array_equal(s.use.to_numpy(), U)
    np.testing.assert_array_equal(s.final_demand.to_numpy().ravel(), Y)
    assert s.product_names == ("Café", "Azúcar") and s.industry_names == ("Agro", "Food")
    assert s.meta.layout == "sut-interchange" and validate_sut(s).ok


def test_damaged_sut_xlsx_empty_or_missing_sheet(tmp_path):
    def empty(wb):
        ws = wb["supply_use"]
        ws.delete_rows(1, ws.max_row)

    with pytest.raises(LayoutError, match=r"d\.xlsx: sheet 'supply_use' is empty"):
        read_sut(_sut_xlsx(tmp_path, empty))  # was IndexError

    def renamed(wb):
        wb["supply_use"].title = "Hoja1"

    with pytest.raises(LayoutError, match=r"d\.xlsx: a supply-use workbook needs a layout spec"):
        read_sut(_sut_xlsx(tmp_path, renamed))

    def header_only(wb):
        ws = wb["supply_use"]
        ws.delete_rows(2, ws.max_row)

    with pytest.raises(LayoutError, match=r"d\.xlsx: no 'supply' rows"):
        read_sut(_sut_xlsx(tmp_path, header_only))  # the message named no file


def test_damaged_sut_xlsx_broken_zip(tmp_path):
    data = _sut_xlsx(tmp_path).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match=r"cut\.xlsx: the workbook is corrupt or truncated"):
        read_sut(path)


def test_damaged_sut_xlsx_formula_without_value_is_not_zero(tmp_path):
    def formula(wb):
        wb["supply_use"]["D2"] = "=1+1"  # saved by openpyxl: no cached value

    with pytest.raises(FormulaError, match=r"supply_use!D2 =1\+1"):
        read_sut(_sut_xlsx(tmp_path, formula))  # was read as 0


def test_damaged_sut_spec_values_of_the_wrong_type(tmp_path):
    path = _sut_workbook(tmp_path / "cou.xlsx")
    for extra, match in (
        ('year = "abc"', r"\[sut\] year must be a whole number"),
        ("table_id = 5", r"\[sut\] table_id must be text in quotes"),
        ('country = "Peru"', r"country 'Peru' is not an ISO 3166"),
    ):
        spec = tmp_path / "s.toml"
        text = SPEC.replace('country = "PER"\n', "")
        spec.write_text(text.replace("[sut]\n", f"[sut]\n{extra}\n"), encoding="utf-8")
        with pytest.raises(SpecError, match=match):
            read_sut(path, spec)  # year: was ValueError; table_id: an int as the table id
    spec.write_text("final_demand = 3\n" + SPEC.split("[final_demand]")[0], encoding="utf-8")
    with pytest.raises(SpecError, match=r"\[final_demand\] must be a table"):
        read_sut(path, spec)  # was AttributeError


def test_cli_symmetric_damaged_supply_use_files_exit_with_documented_codes(tmp_path, capsys):
    good = write_sut(_named_sut(), tmp_path / "good.csv").read_bytes()
    cases = {
        "trunc.csv": (good[:28], 6),  # the magic line only
        "junk.csv": (good[:28] + bytes(range(256)) * 4, 4),
        "short.csv": (good.replace(b"supply,P1,Caf\xc3\xa9,90.0,0.0,", b"supply"), 6),
    }
    for name, (data, code) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        out = tmp_path / f"{name}.out.csv"
        assert main(["symmetric", str(path), "--out", str(out)]) == code, name
        err = capsys.readouterr().err
        assert err.startswith(f"io-clusters: error: {name}") or name in err, err
        assert not out.exists()


def test_damaged_sut_too_many_industries_is_a_resource_limit(tmp_path, monkeypatch):
    from io_clusters.errors import ResourceLimitError
    from io_clusters.readers import sut_readers
    from io_clusters.readers.package import Limits

    monkeypatch.setattr(sut_readers, "DEFAULT_LIMITS", Limits(max_sectors=1))
    path = write_sut(_named_sut(), tmp_path / "s.csv")
    with pytest.raises(ResourceLimitError, match=r"s\.csv: 2 products × 2 industries exceed"):
        read_sut(path)
    spec = tmp_path / "sut.toml"
    spec.write_text(SPEC, encoding="utf-8")
    with pytest.raises(ResourceLimitError, match=r"cou\.xlsx: 2 products × 2 industries"):
        read_sut(_sut_workbook(tmp_path / "cou.xlsx"), spec)


def test_sut_csv_from_a_spanish_locale_spreadsheet(tmp_path):
    """Fields separated by ';' and decimal commas (S, U, Y, W of the example are halved)."""
    half = SupplyUseTable.from_arrays(
        np.array(S) / 2, np.array(U) / 2, final_demand=np.array(Y) / 2, value_added=np.array(W) / 2
    )
    text = write_sut(half, tmp_path / "h.csv").read_text(encoding="utf-8")
    rows = [ln.split(",") for ln in text.splitlines()]
    path = tmp_path / "es.csv"
    path.write_text("\n".join(";".join(r) for r in rows).replace(".", ","), encoding="cp1252")
    s = read_sut(path)
    np.testing.assert_array_equal(s.supply.to_numpy(), [[45, 0], [5, 50]])
    np.testing.assert_array_equal(s.use.to_numpy(), [[10, 15], [12.5, 7.5]])
    assert any("decimal comma assumed" in n for n in s.meta.notes)
    # 12 number cells: supply 2 × 2, use 2 × 2, final demand 2, value added 2
    with pytest.raises(NonNumericCellError, match=r"12 non-numeric .*es\.csv!D7 = '12,5'"):
        read_sut(path, decimal=".")
    with pytest.raises(OptionError, match="decimal must be"):
        read_sut(path, decimal="x")


def test_cli_symmetric_and_run_take_the_readers_text_options(tmp_path, capsys):
    """--decimal/--delimiter/--encoding reach read_sut from `symmetric` and `run --model`."""
    half = SupplyUseTable.from_arrays(
        np.array(S) / 2, np.array(U) / 2, final_demand=np.array(Y) / 2, value_added=np.array(W) / 2
    )
    text = write_sut(half, tmp_path / "h.csv").read_text(encoding="utf-8")
    path = tmp_path / "es.csv"
    semicolons = "\n".join(";".join(ln.split(",")) for ln in text.splitlines())
    path.write_text(semicolons.replace(".", ","), encoding="cp1252")
    out = tmp_path / "sym.csv"
    assert main(["symmetric", str(path), "--out", str(out)]) == 0  # ';' implies ','
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    assert main(["symmetric", str(path), "--decimal", ".", "--out", str(bad)]) == 6
    assert "es.csv!D7 = '12,5'" in capsys.readouterr().err and not bad.exists()
    argv = ["symmetric", str(path), "--delimiter", ";", "--decimal", ",", "--encoding", "cp1252"]
    assert main([*argv, "--out", str(tmp_path / "ok.csv")]) == 0
    run_argv = ["run", str(path), "--model", "D", "--decimal", ".", "--n-boot", "0"]
    assert main([*run_argv, "--out", str(tmp_path / "run")]) == 6
