"""Linkage analysis against published figures, identities and properties.

Sources of expected numbers:
* Miller & Blair (2009) ch. 2, Tables 2.3-2.4 (A, L, x for new final demand);
* Eurostat (2008) Manual, ch. 15 (Beutel), Germany 1995: backward linkages and Ghosh
  forward linkages (Table 15.10 via the R package iotables' tests; manufacturing FL is
  1.6910, not the 1.6691 typo of that test file — see ../shared/METHOD.md §3 Case 2);
* Banco Central de Chile's published A and Leontief-inverse blocks in the workbooks;
* pymrio's test fixture (IndEcol/pymrio tests/test_math.py) for L and G row 1;
* regression values marked "METHOD.md" were computed independently with numpy in
  ../shared/METHOD.md §2.4 and §3 (not by this package).
"""

from __future__ import annotations

import time

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from io_clusters import IOTable, load_example, read_table
from io_clusters.errors import DataWarning, NotProductiveError
from io_clusters.linkages import (
    ghosh_inverse,
    leontief_inverse,
    linkages,
    technical_coefficients,
)
from io_clusters.readers.bcch import read_published

from .conftest import CHL08, CHL13, CHL111


def test_miller_blair_chapter_2():
    t = load_example("miller_blair_2x2")
    np.testing.assert_allclose(
        technical_coefficients(t), [[0.15, 0.25], [0.20, 0.05]], rtol=0, atol=1e-15
    )
    L = leontief_inverse(t).to_numpy()
    np.testing.assert_allclose(L, [[1.25412541, 0.330033], [0.2640264, 1.12211221]], rtol=1e-5)
    np.testing.assert_allclose(L @ [600, 1500], [1247.5, 1841.6], atol=0.05)  # book: x'


def test_miller_blair_derived_indices():
    df = linkages(load_example("miller_blair_2x2"))
    exp = {  # METHOD.md §3 Case 1 and "Extra regression values"
        "bl_direct": [0.35, 0.30],
        "fl_direct": [0.65, 0.15],
        "bl_total": [1.5181518152, 1.4521452145],
        "power_dispersion": [1.0222222222, 0.9777777778],
        "fl_total_leontief": [1.5841584158, 1.3861386139],
        "sensitivity_dispersion_leontief": [1.0666666667, 0.9333333333],
        "fl_total_ghosh": [1.9141914191, 1.2541254125],
        "sensitivity_dispersion": [1.2083333333, 0.7916666667],
        "bl_direct_norm": [1.0769230769, 0.9230769231],
        "fl_direct_norm": [1.625, 0.375],
        "cv_backward": [0.9223131929, 0.7713892158],
        "cv_forward": [0.4388938642, 1.1164843913],
        "cv_forward_leontief": [0.8249579114, 0.8754655386],
        "bl_weighted_fd": [1.0374037404, 0.9922992299],
        "fl_weighted_output": [1.2985074627, 0.8507462687],
        "hem_total": [1210.5263157895, 2588.2352941176],
        "hem_backward": [413.1578947368, 805.8823529412],
        "hem_forward": [728.9473684211, 452.9411764706],
        "hem_total_pct": [40.3508771930, 86.2745098039],
    }
    for col, values in exp.items():
        np.testing.assert_allclose(df[col].to_numpy(), values, rtol=1e-9, err_msg=col)
    assert df["key_sector_class"].tolist() == ["key", "weak"]


def test_eurostat_germany_1995():
    df = linkages(load_example("eurostat_germany_1995"))
    np.testing.assert_allclose(
        df["bl_total"], [1.7048, 1.8413, 1.8136, 1.6035, 1.5951, 1.3782], atol=5e-5
    )
    np.testing.assert_allclose(
        df["fl_total_ghosh"], [2.1126, 1.6910, 1.3558, 1.5848, 2.1037, 1.2106], atol=5e-5
    )
    L = leontief_inverse(load_example("eurostat_germany_1995")).to_numpy()
    np.testing.assert_allclose(np.diag(L)[:3], [1.0339, 1.4292, 1.0289], atol=5e-5)  # Table 15.10
    # the classic Leontief row sums are clearly not what the manual publishes (METHOD.md)
    np.testing.assert_allclose(
        df["fl_total_leontief"], [1.0915, 2.4239, 1.1648, 1.6318, 2.4050, 1.2196], atol=5e-5
    )


def test_pymrio_fixture():
    Z = np.array(
        [
            [10, 5, 1, 6, 5, 7],
            [0, 2, 0, 0, 5, 3],
            [10, 3, 20, 4, 2, 0],
            [5, 0, 0, 1, 10, 9],
            [0, 10, 1, 0, 20, 1],
            [5, 0, 0, 1, 10, 10],
        ],
        float,
    )
    t = IOTable.from_arrays(Z, [51, 15, 58, 50, 52, 39])
    np.testing.assert_allclose(
        leontief_inverse(t).to_numpy()[0],
        [
            1.3387146304736708,
            0.9689762471208287,
            0.05036622549592462,
            0.17820960407435948,
            0.5752019383714646,
            0.4985179148178926,
        ],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        ghosh_inverse(t).to_numpy()[0],
        [1.33871463, 0.28499301, 0.05727924, 0.1747153, 0.58648041, 0.38121958],
        atol=1e-8,
    )


@pytest.mark.parametrize("name", [CHL08, CHL13, CHL111])
def test_bcch_published_A_and_L(shared_io, name):
    """Our A and L match the Banco Central de Chile's own published sheets to 1e-9."""
    path = shared_io / name
    t = read_table(path)
    published = read_published(openpyxl.load_workbook(path, data_only=True), t.n)
    assert set(published) == {"A", "L"}
    np.testing.assert_allclose(
        technical_coefficients(t).to_numpy(), published["A"].to_numpy(), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        leontief_inverse(t).to_numpy(), published["L"].to_numpy(), rtol=0, atol=1e-9
    )
    assert list(published["L"].index) == list(t.codes)


def test_bcch_2008_output_multipliers(shared_io):
    df = linkages(read_table(shared_io / CHL08))
    published = [
        1.8292,
        2.3999,
        1.5806,
        1.9087,
        2.1327,
        1.7660,
        1.8244,
        1.6565,
        1.4466,
        1.3705,
        1.4290,
        1.3874,
    ]
    np.testing.assert_allclose(df["bl_total"], published, atol=5e-5)  # SOURCES.md §2


def test_identities_on_real_table(shared_io):
    t = read_table(shared_io / CHL111)
    A = technical_coefficients(t).to_numpy()
    L = leontief_inverse(t).to_numpy()
    x = t.x.to_numpy()
    B = t.Z.to_numpy() / x[:, None]
    G_direct = np.linalg.inv(np.eye(t.n) - B)
    np.testing.assert_allclose(ghosh_inverse(t).to_numpy(), G_direct, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(L @ (np.eye(t.n) - A), np.eye(t.n), atol=1e-10)
    df = linkages(t)
    for col in (
        "power_dispersion",
        "sensitivity_dispersion",
        "sensitivity_dispersion_leontief",
        "bl_direct_norm",
        "fl_direct_norm",
    ):
        assert df[col].mean() == pytest.approx(1.0, rel=1e-12), col
    assert (L >= 0).all()


def test_peru_key_sectors_computed_independently(peru_path):
    t = read_table(peru_path)
    with pytest.warns(DataWarning, match=r"s31 \(Aircraft and spacecraft\)"):
        df = linkages(t)
    assert "s31" not in df.index and len(df) == 39
    # independent computation with numpy.linalg.inv on the 39 sectors with output > 0
    keep = [c for c in t.codes if t.x[c] > 0]
    Z = t.Z.loc[keep, keep].to_numpy()
    x = t.x.loc[keep].to_numpy()
    L = np.linalg.inv(np.eye(len(x)) - Z / x)
    G = np.linalg.inv(np.eye(len(x)) - Z / x[:, None])
    power = len(x) * L.sum(0) / L.sum()
    sens = len(x) * G.sum(1) / G.sum()
    i05, i40, i23 = keep.index("s05"), keep.index("s40"), keep.index("s23")
    assert df.loc["s05", "power_dispersion"] == pytest.approx(power[i05], rel=1e-12)
    assert df.loc["s40", "sensitivity_dispersion"] == pytest.approx(sens[i40], rel=1e-12)
    assert df.loc["s23", "cv_backward"] == pytest.approx(
        L[:, i23].std(ddof=1) / L[:, i23].mean(), rel=1e-10
    )
    # SOURCES.md: meat & dairy has the largest output multiplier, 2.158; agriculture the
    # smallest, 1.317 (computed there with s31 kept as a zero column, hence abs=1e-3)
    assert df["bl_total"].idxmax() == "s05" and df["bl_total"].max() == pytest.approx(
        2.158, abs=1e-3
    )
    assert df["bl_total"].idxmin() == "s01" and df["bl_total"].min() == pytest.approx(
        1.317, abs=1e-3
    )
    expected_class = np.where(
        (power > 1) & (sens > 1),
        "key",
        np.where(power > 1, "backward", np.where(sens > 1, "forward", "weak")),
    )
    assert df["key_sector_class"].tolist() == expected_class.tolist()


def test_not_productive_names_sectors():
    # A = [[.5, .6, 0], [.8, .6, 0], [0, 0, .1]]: spectral radius (1.1 + sqrt(1.93)) / 2 = 1.24
    t = IOTable.from_arrays([[5, 6, 0], [8, 6, 0], [0, 0, 1]], [10, 10, 10], codes=["a", "b", "c"])
    with pytest.raises(NotProductiveError) as info:
        linkages(t)
    assert info.value.sectors == ("a", "b")  # column sums of A: 1.3, 1.2, 0.1
    assert "spectral radius 1.2446" in str(info.value)
    # a column sum above 1 alone is not fatal: A = [[.5, .1], [.8, .1]] has radius 0.646
    linkages(IOTable.from_arrays([[5, 1], [8, 1]], [10, 10]))


def test_extraction_closed_forms_match_direct_resolve():
    rng = np.random.default_rng(7)
    n = 8
    Z = rng.uniform(0, 10, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
    x = Z.sum(1) + rng.uniform(20, 60, n)
    df = linkages(IOTable.from_arrays(Z, x))
    A = Z / x
    B = Z / x[:, None]
    f = x - Z.sum(1)
    v = x - Z.sum(0)
    for j in range(n):
        keep = [k for k in range(n) if k != j]
        xt = np.linalg.solve(np.eye(n - 1) - A[np.ix_(keep, keep)], f[keep])
        assert df["hem_total"].iloc[j] == pytest.approx(x.sum() - xt.sum(), rel=1e-9)
        Ab = A.copy()
        Ab[:, j] = 0
        xb = np.linalg.solve(np.eye(n) - Ab, f)
        assert df["hem_backward"].iloc[j] == pytest.approx(x.sum() - xb.sum(), rel=1e-9)
        Bf = B.copy()
        Bf[j, :] = 0
        xf = v @ np.linalg.inv(np.eye(n) - Bf)
        assert df["hem_forward"].iloc[j] == pytest.approx(x.sum() - xf.sum(), rel=1e-9)


@st.composite
def productive_tables(draw):
    n = draw(st.integers(3, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    Z = rng.uniform(0, 100, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
    x = Z.sum(1) + Z.sum(0) + rng.uniform(1, 200, n)  # column sums of A < 1
    return Z, x


INDEX_COLS = [
    "bl_total",
    "fl_total_ghosh",
    "fl_total_leontief",
    "power_dispersion",
    "sensitivity_dispersion",
    "cv_backward",
    "cv_forward",
    "bl_direct",
    "fl_direct",
    "bl_weighted_output",
    "fl_weighted_output",
    "hem_total_pct",
    "hem_backward_pct",
    "hem_forward_pct",
]


@settings(max_examples=60, deadline=None)
@given(productive_tables(), st.randoms(use_true_random=False))
def test_permutation_invariance(table, rnd):
    Z, x = table
    n = len(x)
    perm = list(range(n))
    rnd.shuffle(perm)
    codes = [f"c{i}" for i in range(n)]
    base = linkages(IOTable.from_arrays(Z, x, codes=codes))
    permuted = linkages(
        IOTable.from_arrays(Z[np.ix_(perm, perm)], x[perm], codes=[codes[p] for p in perm])
    )
    back = permuted.loc[codes]
    np.testing.assert_allclose(
        back[INDEX_COLS].to_numpy(float), base[INDEX_COLS].to_numpy(float), rtol=1e-9
    )
    assert back["key_sector_class"].tolist() == base["key_sector_class"].tolist()


@settings(max_examples=60, deadline=None)
@given(productive_tables(), st.sampled_from([1e-3, 0.5, 7.0, 1e6]))
def test_scale_invariance(table, k):
    Z, x = table
    base = linkages(IOTable.from_arrays(Z, x))
    scaled = linkages(IOTable.from_arrays(Z * k, x * k))
    np.testing.assert_allclose(
        scaled[INDEX_COLS].to_numpy(float), base[INDEX_COLS].to_numpy(float), rtol=1e-8
    )


@settings(max_examples=40, deadline=None)
@given(productive_tables())
def test_extracting_an_unlinked_sector_changes_nothing_else(table):
    Z, x = table
    n = len(x)
    Z2 = np.zeros((n + 1, n + 1))
    Z2[:n, :n] = Z
    Z2[n, n] = 3.0  # only self-deliveries
    x2 = np.append(x, 50.0)
    df = linkages(IOTable.from_arrays(Z2, x2))
    L = np.linalg.inv(np.eye(n + 1) - Z2 / x2)
    # extracting the isolated sector removes exactly its own output
    assert df["hem_total"].iloc[n] == pytest.approx(50.0, rel=1e-12)
    assert df["hem_backward"].iloc[n] == pytest.approx(50.0 * (L[n, n] - 1) / L[n, n], rel=1e-12)
    # the others' total backward linkages equal those of the table without it
    alone = linkages(IOTable.from_arrays(Z, x))
    np.testing.assert_allclose(df["bl_total"].iloc[:n], alone["bl_total"], rtol=1e-10)
    np.testing.assert_allclose(df["fl_total_ghosh"].iloc[:n], alone["fl_total_ghosh"], rtol=1e-10)


def test_options_recorded_and_sum_only_path_agrees():
    t = load_example("eurostat_germany_1995")
    full = linkages(t)
    light = linkages(t, cv=False, extraction=False, weighted=False)
    assert "cv_backward" not in light and "hem_total" not in light
    np.testing.assert_allclose(light["bl_total"], full["bl_total"], rtol=1e-12)
    np.testing.assert_allclose(light["fl_total_ghosh"], full["fl_total_ghosh"], rtol=1e-12)
    assert light.attrs["io_clusters"]["options"]["cv"] is False
    assert full.attrs["io_clusters"]["cv_ddof"] == 1


def test_zero_output_sectors_listed_in_table_order_and_table_untouched():
    # sectors b and d have zero output; the record lists them in table order
    Z = np.array(
        [[10, 0, 5, 0, 2], [0, 0, 0, 0, 0], [4, 0, 8, 0, 6], [0] * 5, [3, 0, 1, 0, 9]], float
    )
    x = np.array([50, 0, 40, 0, 30], float)
    t = IOTable.from_arrays(Z, x, codes=["a", "b", "c", "d", "e"])
    before = t.Z.to_numpy().copy()
    with pytest.warns(DataWarning, match="b .*d "):
        df = linkages(t)
    assert df.attrs["io_clusters"]["dropped_zero_output"] == ["b", "d"]
    assert list(df.index) == ["a", "c", "e"]
    np.testing.assert_array_equal(t.Z.to_numpy(), before)  # factorised on a copy, in place


@pytest.mark.slow
def test_2000_sectors_under_3_seconds():
    """Timing: behind the ``slow`` marker (``make test-slow``), never in the default suite."""
    rng = np.random.default_rng(0)
    n = 2000
    Z = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.3)
    x = Z.sum(0) * rng.uniform(1.5, 3, n) + Z.sum(1)
    t = IOTable.from_arrays(Z, x)
    t0 = time.perf_counter()
    linkages(t)
    assert time.perf_counter() - t0 < 3.0
