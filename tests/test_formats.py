"""Happy paths of the spec, interchange and OECD layouts, and IOTable construction."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from io_clusters import LAYOUTS, IOTable, load_example, read_table, validate, write_table
from io_clusters.errors import DuplicateCodeError, LayoutError, OptionError, TableValidationError

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


# ------------------------------------------- issue 19 item 3: readers behind one interface
def _ic_csv(path, cell="1.234"):
    path.write_text(
        f'kind,code,name,z:a,z:b,x\nsector,a,A,"{cell}",2,2000\nsector,b,B,3,4,3000\n',
        encoding="utf-8",
    )
    return path


def test_unknown_reader_options_raise_option_error(tmp_path):
    path = _ic_csv(tmp_path / "t.csv")
    with pytest.raises(OptionError, match="'decimall' \\(did you mean 'decimal'\\?\\)"):
        read_table(path, country="PER", decimall=",")
    with pytest.raises(OptionError, match="takes no option sheet"):
        read_table(path, sheet="MIP")  # the interchange layout has no sheets to choose
    with pytest.raises(OptionError, match="decimal must be"):
        read_table(path, decimal=";")
    with pytest.raises(OptionError, match="negatives must be"):
        read_table(path, negatives="drop")
    with pytest.raises(OptionError, match="unknown encoding"):
        read_table(path, encoding="klingon")


def test_decimal_reaches_the_number_coercer(tmp_path):
    """'1.234' is ambiguous: 1.234 with a decimal point, 1234 with a decimal comma."""
    path = _ic_csv(tmp_path / "t.csv")
    assert read_table(path).Z.iloc[0, 0] == 1.234
    assert read_table(path, decimal=",").Z.iloc[0, 0] == 1234.0
    assert read_table(path, decimal=".").Z.iloc[0, 0] == 1.234


def test_registry_names_every_layout():
    from io_clusters.readers import REGISTRY

    assert set(REGISTRY) == set(LAYOUTS)
    for reader in REGISTRY.values():
        params = inspect.signature(reader.read).parameters
        assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), reader.name
        assert reader.options <= set(params), reader.name  # every option is explicit


def test_from_blocks_is_keyword_only_and_replaces_assemble():
    import io_clusters.readers._cells as cells

    assert not hasattr(cells, "assemble")
    with pytest.raises(TypeError):
        IOTable.from_blocks(["a"], ["A"], np.eye(1), np.ones(1))  # type: ignore[misc]
    t = IOTable.from_blocks(
        codes=["a", "b"],
        names=["A", "B"],
        Z=np.array([[1.0, 2.0], [3.0, 4.0]]),
        x=np.array([10.0, 20.0]),
        final_demand={"C": np.array([7.0, 13.0])},
        primary={"VA": np.array([6.0, 14.0])},
    )
    assert list(t.final_demand.columns) == ["C"] and list(t.value_added.index) == ["VA"]
    assert validate(t).by_check("row_balance")[0].severity == "info"  # 1+2+7 = 10, 3+4+13 = 20


def _imports_of(module_path):
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):  # imports inside functions count too
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_no_import_cycle_between_table_and_readers():
    pkg = Path(__file__).resolve().parents[1] / "io_clusters"
    assert not {m for m in _imports_of(pkg / "cellref.py") if m.startswith(".")}
    assert not {m for m in _imports_of(pkg / "table.py") if "readers" in m}
    assert not {m for m in _imports_of(pkg / "readers" / "_cells.py") if m == "..table"} - {
        "..table"
    }


def test_validate_is_a_list_of_small_named_checks():
    from io_clusters import validate as validate_module  # noqa: F401
    from io_clusters.validate import CHECKS

    names = [name for name, _ in CHECKS]
    assert names[:3] == ["finite", "magnitude", "negative_flows"] and names[-1] == "reader"
    for name, check in CHECKS:
        assert len(inspect.getsource(check).splitlines()) <= 40, name


def test_raise_if_errors_holds_the_report():
    t = IOTable.from_arrays([[1.0, -5.0], [1.0, 1.0]], [10.0, 10.0])
    report = validate(t)
    with pytest.raises(TableValidationError) as info:
        report.raise_if_errors()
    assert info.value.report is report and "negative_flows" in str(info.value)
    validate(IOTable.from_arrays([[1.0, 2.0], [1.0, 1.0]], [10.0, 10.0])).raise_if_errors()


def test_duplicate_names_lists_the_sectors():
    t = IOTable.from_arrays(np.eye(3), [10.0] * 3, codes=["a", "b", "c"], names=["X", "Y", "X"])
    (finding,) = validate(t).by_check("names")
    assert finding.sectors == ("a", "c") and "X" in finding.message


# --------------------------------------- issue 20 item 1: vectorised CSV parsing, same result
def _tables_for_the_fast_path():
    rng = np.random.default_rng(7)
    n = 9
    Z = rng.lognormal(0, 6, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
    fd = pd.DataFrame(rng.uniform(1, 1e4, (n, 2)), columns=["CONS", "EXP"])
    x = Z.sum(1) + fd.to_numpy().sum(1)
    base = IOTable.from_arrays(
        Z,
        x,
        codes=[f"s{k:02d}" for k in range(n)],
        names=[f"Sector, {k} “ñ”" for k in range(n)],
        final_demand=fd,
        value_added=np.vstack([x - Z.sum(0) - 1.0, np.ones(n)]),
        imports=rng.uniform(0, 1, n),
        country="PER",
        year=2011,
        units="millones de soles",
        notes=("a note",),
        isic=tuple((str(1000 + k),) for k in range(n)),
    )
    return [base, load_example("eurostat_germany_1995")]


@pytest.mark.parametrize("k", [0, 1])
def test_fast_csv_path_gives_exactly_the_cell_by_cell_result(tmp_path, monkeypatch, k):
    from io_clusters.readers import interchange

    path = write_table(_tables_for_the_fast_path()[k], tmp_path / "t.csv")
    taken = []
    real = interchange._read_csv_fast
    monkeypatch.setattr(interchange, "_read_csv_fast", lambda *a: taken.append(r := real(*a)) or r)
    fast = read_table(path)
    assert taken and taken[0] is not None  # the vectorised parser read this clean file
    monkeypatch.setattr(interchange, "_read_csv_fast", lambda *a: None)
    slow = read_table(path)
    for part in ("Z", "final_demand", "value_added"):
        pd.testing.assert_frame_equal(getattr(fast, part), getattr(slow, part), check_exact=True)
    for part in ("x", "imports"):
        a, b = getattr(fast, part), getattr(slow, part)
        assert (a is None and b is None) or pd.testing.assert_series_equal(
            a, b, check_exact=True
        ) is None
    assert fast.codes == slow.codes and fast.names == slow.names
    assert fast.meta == slow.meta


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.replace(",0.0,", ",,", 1),  # a blank cell: read as 0 and counted
        lambda s: s.replace("\nsector,", "\n\nsector,", 1),  # a blank line
        lambda s: s.replace(",0.0,", ",1_000,", 1),  # refused, naming the cell
        lambda s: s.replace("Sector, 1", "Sector\u2028 1", 1),  # cleaned, naming the cell
    ],
)
def test_unusual_csv_falls_back_to_the_explaining_reader(tmp_path, monkeypatch, damage):
    from io_clusters.readers import interchange

    path = write_table(_tables_for_the_fast_path()[0], tmp_path / "t.csv")
    text = path.read_text(encoding="utf-8")
    assert damage(text) != text
    path.write_text(damage(text), encoding="utf-8")
    assert interchange._read_csv_fast(path, None, None, None) is None
    try:
        fast = read_table(path)
    except Exception as exc:  # the same error either way
        monkeypatch.setattr(interchange, "_read_csv_fast", lambda *a: None)
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            read_table(path)
        return
    monkeypatch.setattr(interchange, "_read_csv_fast", lambda *a: None)
    slow = read_table(path)
    pd.testing.assert_frame_equal(fast.Z, slow.Z)
    assert fast.meta == slow.meta


@pytest.mark.parametrize("n", [16_000, 26_000])
def test_a_header_wider_than_the_csv_field_limit_and_the_probe(tmp_path, n):
    """16,000 long country-sector codes make a header over the csv module's 131,072
    characters (the semicolon and tab probes made it one field: csv.Error); 26,000 make
    one over the first MiB read (found by the supply-use review)."""
    from io_clusters.readers._cells import sniff_text

    codes = [f"C{i % 50:02d}:Manufacture of goods of kind {i:05d}" for i in range(n)]
    header = "kind,code,name," + ",".join(f"z:{c}" for c in codes) + ",x\n"
    path = tmp_path / "wide.csv"
    path.write_text("# io_clusters interchange v1\n" + header + "sector,a,A\n", encoding="utf-8")
    assert len(header) > (131_072 if n < 20_000 else 2**20)
    enc, delim, fields, first = sniff_text(path)
    assert (enc, delim, len(fields)) == ("utf-8", ",", n + 4)
    assert fields[3] == f"z:{codes[0]}" and first.startswith("# io_clusters")
