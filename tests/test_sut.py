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
from io_clusters.errors import AnalysisError, DataWarning, LayoutError, NonNumericCellError
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
