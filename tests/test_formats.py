"""Happy paths of the spec, interchange and OECD layouts, and IOTable construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from io_clusters import IOTable, load_example, read_table, validate, write_table
from io_clusters.errors import DuplicateCodeError, LayoutError

from .conftest import (
    EXAMPLE_SPEC,
    SPEC_CODES,
    SPEC_FD,
    SPEC_IMP,
    SPEC_NAMES,
    SPEC_VA,
    SPEC_X,
    SPEC_Z,
    spec_workbook,
)


def test_example_spec_reads_the_documented_layout(tmp_path):
    t = read_table(spec_workbook(tmp_path / "mip.xlsx"), layout=EXAMPLE_SPEC)
    assert t.codes == tuple(SPEC_CODES) and t.names == tuple(SPEC_NAMES)
    np.testing.assert_array_equal(t.Z.to_numpy(), SPEC_Z)
    np.testing.assert_array_equal(t.x.to_numpy(), SPEC_X)
    np.testing.assert_array_equal(t.final_demand.to_numpy(), SPEC_FD)
    np.testing.assert_allclose(t.value_added.to_numpy(), SPEC_VA)
    np.testing.assert_allclose(t.imports.to_numpy(), SPEC_IMP)
    assert t.meta.year == 2007 and t.meta.country == "PER" and t.meta.layout == "spec"
    assert t.meta.cell_of(1, 2) == "MIP!E9"
    report = validate(t)
    assert report.ok and report.by_check("row_balance")[0].value == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_interchange_round_trip(tmp_path, suffix):
    src = read_table(spec_workbook(tmp_path / "mip.xlsx"), layout=EXAMPLE_SPEC)
    out = write_table(src, tmp_path / f"table{suffix}")
    back = read_table(out)
    assert back.meta.layout == "interchange"
    assert back.codes == src.codes and back.names == src.names
    for a, b in [
        (back.Z, src.Z),
        (back.final_demand, src.final_demand),
        (back.value_added, src.value_added),
    ]:
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(back.x, src.x)
    pd.testing.assert_series_equal(back.imports, src.imports)
    assert (back.meta.country, back.meta.year, back.meta.units) == ("PER", 2007, src.meta.units)


def test_interchange_round_trip_of_real_table(tmp_path, shared_io):
    from .conftest import CHL111

    src = read_table(shared_io / CHL111)
    back = read_table(write_table(src, tmp_path / "chl111.csv"))
    np.testing.assert_array_equal(back.Z.to_numpy(), src.Z.to_numpy())  # repr() round-trips floats
    assert back.names == src.names


def test_interchange_escapes_formula_text(tmp_path):
    t = IOTable.from_arrays(
        [[1, 2], [3, 4]], [10, 10], codes=["a", "b"], names=["=HYPERLINK(1)", "+x"]
    )
    path = write_table(t, tmp_path / "t.csv")
    assert "'=HYPERLINK(1)" in path.read_text(encoding="utf-8")
    assert read_table(path).names == ("=HYPERLINK(1)", "+x")


def _oecd_wide(tmp_path, prefix="TTL_"):
    inds = ["01T03", "05T09", "10T12"]
    Z = np.array([[20, 5, 60], [2, 10, 30], [15, 8, 40]], float)
    fd = {"HFCE": [50, 5, 120], "GFCF": [5, 3, 20], "EXPO": [30, 80, 40]}
    x = Z.sum(1) + np.array(fd["HFCE"]) + np.array(fd["GFCF"]) + np.array(fd["EXPO"])
    va = x - Z.sum(0) - np.array([1.0, 2.0, 3.0])
    rows = [[f"{prefix}{c}", *Z[i], *(fd[k][i] for k in fd)] for i, c in enumerate(inds)]
    rows.append(["TXS_INT_FNL", 1.0, 2.0, 3.0, "", "", ""])
    rows.append(["TTL_INT_FNL", *(Z.sum(0) + [1, 2, 3]), "", "", ""])
    rows.append(["VALU", *va, "", "", ""])
    rows.append(["OUTPUT", *x, "", "", ""])
    frame = pd.DataFrame(rows, columns=["ROW", *(f"D{c}" for c in inds), *fd])
    path = tmp_path / "PER2015ttl.csv"
    frame.rename(columns={"ROW": ""}).to_csv(path, index=False)
    return path, Z, x


def test_oecd_wide(tmp_path):
    path, Z, x = _oecd_wide(tmp_path)
    t = read_table(path)
    assert t.meta.layout == "oecd-iot" and t.meta.country == "PER" and t.meta.year == 2015
    assert t.codes == ("01T03", "05T09", "10T12")
    np.testing.assert_array_equal(t.Z.to_numpy(), Z)
    np.testing.assert_array_equal(t.x.to_numpy(), x)
    assert list(t.value_added.index) == ["TXS_INT_FNL", "VALU"]
    report = validate(t)
    assert report.ok, report
    assert report.by_check("column_balance")[0].severity == "info"


def test_oecd_long_format_matches_wide(tmp_path):
    path, Z, x = _oecd_wide(tmp_path)
    wide = pd.read_csv(path).rename(columns={"Unnamed: 0": "ROW"})
    long = wide.melt(id_vars="ROW", var_name="COL", value_name="Value").dropna()
    long.insert(0, "COU", "PER")
    long.insert(1, "TIME", 2015)
    lpath = tmp_path / "oecd_long.csv"
    long.to_csv(lpath, index=False)
    t = read_table(lpath)
    assert t.meta.layout == "oecd-iot" and t.meta.year == 2015
    np.testing.assert_array_equal(
        t.Z.loc[["01T03", "05T09", "10T12"], ["01T03", "05T09", "10T12"]].to_numpy(), Z
    )


def test_from_arrays_and_examples():
    t = IOTable.from_arrays(np.eye(2), [2, 3], final_demand=[[1, 0], [1, 1]], value_added=[1, 2])
    assert t.codes == ("1", "2") and list(t.final_demand.columns) == ["f1", "f2"]
    assert t.value_added.shape == (1, 2)
    with pytest.raises(DuplicateCodeError):
        IOTable.from_arrays(np.eye(2), [2, 3], codes=["a", "a"])
    with pytest.raises(LayoutError, match="square"):
        IOTable.from_arrays(np.ones((2, 3)), [1, 2])
    mb = load_example("miller_blair_2x2")
    assert mb.Z.to_numpy().tolist() == [[150, 500], [200, 100]]  # Miller & Blair (2009) Table 2.3
    de = load_example("eurostat_germany_1995")
    assert de.x["MAN"] == 1079446  # Eurostat (2008) Table 15.4, row P1
    assert validate(de).ok and validate(mb).ok


def test_table_is_frozen():
    t = load_example("miller_blair_2x2")
    with pytest.raises(AttributeError):
        t.x = None  # type: ignore[misc]
