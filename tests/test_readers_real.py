"""Each real file in ../shared/data/io is read by its named layout and by detection.

Expected figures come from ../shared/data/io/SOURCES.md (sector counts, total output,
balance residuals), which documents the publishers' files.
"""

from __future__ import annotations

import time

import numpy as np
import openpyxl
import pytest

from io_clusters import detect_layout, read_table, validate

from .conftest import CHL08, CHL13, CHL111, PERU

# file, layout, n, total output (SOURCES.md), relative tolerance on the total
CASES = [
    (CHL08, "bcch-mip", 12, 183_577_846, 1e-8),
    (CHL13, "bcch-mip", 12, 249_017, 1e-5),
    (CHL111, "bcch-mip", 111, 183_577_846, 1e-8),
    (PERU, "cepal-lac", 40, 305_776, 2e-6),
]


@pytest.mark.parametrize(("name", "layout", "n", "total", "rtol"), CASES)
def test_named_and_detected_layout_agree(shared_io, name, layout, n, total, rtol):
    path = shared_io / name
    assert detect_layout(path) == layout
    named = read_table(path, layout=layout)
    detected = read_table(path)
    assert named.n == detected.n == n
    assert named.meta.layout == detected.meta.layout == layout
    assert named.x.sum() == pytest.approx(total, rel=rtol)
    assert np.array_equal(named.Z.to_numpy(), detected.Z.to_numpy())
    assert len(named.meta.sha256) == 64
    assert named.meta.source.endswith(name)


@pytest.mark.parametrize(
    ("name", "row_abs", "col_abs"),
    [
        (CHL08, 3.7e-9 * 1.01, 3.5e-4),
        (CHL13, 7.3e-12 * 1.01, 1e-7),
        (CHL111, 2.3e-4 * 1.01, 1.1e-4),
    ],
)
def test_bcch_balances_match_sources(shared_io, name, row_abs, col_abs):
    """SOURCES.md: row balance max abs diff 3.7e-9 / 7.3e-12 / 2.3e-4. Column balance is exact
    (2.7e-5 for 111) against the output *row*; we check against the output *column*, which
    SOURCES.md says differs from the row by 3.4e-4 (12x12 2008); the 111 file's row and
    column differ by 8.1e-5, so its bound is 2.7e-5 + 8.1e-5."""
    t = read_table(shared_io / name)
    Z, x = t.Z.to_numpy(), t.x.to_numpy()
    row = Z.sum(1) + t.final_demand.to_numpy().sum(1) - x
    col = Z.sum(0) + t.imports.to_numpy() + t.value_added.to_numpy().sum(0) - x
    ulps = 4 * np.spacing(x)  # summation order may change the last bits
    assert (np.abs(row) <= np.maximum(row_abs, ulps)).all()
    assert np.abs(col).max() <= col_abs
    report = validate(t)
    assert report.by_check("row_balance")[0].severity == "info"
    assert report.by_check("column_balance")[0].severity == "info"


def test_bcch_111_names_codes_and_empty_strings(shared_io):
    path = shared_io / CHL111
    t = read_table(path)
    assert t.codes[:3] == ("1", "2", "3") and t.codes[-1] == "111"
    assert t.names[0] == "Cultivos anuales (cereales y otros) y forrajeras"
    assert t.names[-1] == "Otras actividades de servicios"
    assert list(t.final_demand.columns)[-1] == "Exportaciones"
    # independently: the Z block C12:DI122 holds 1,267 empty strings (SOURCES.md), read as 0
    ws = openpyxl.load_workbook(path, read_only=True, data_only=True)["111x111"]
    empties = [
        (r, c)
        for r, row in enumerate(
            ws.iter_rows(min_row=12, max_row=122, min_col=3, max_col=113, values_only=True)
        )
        for c, v in enumerate(row)
        if v == ""
    ]
    assert len(empties) == 1267
    Z = t.Z.to_numpy()
    assert all(Z[r, c] == 0.0 for r, c in empties)
    (note,) = [n for n in t.meta.notes if "empty cell(s)" in n]
    assert int(note.split()[0].replace(",", "")) >= 1267


def test_bcch_2013_names_and_units(shared_io):
    t = read_table(shared_io / CHL13)
    assert t.meta.units == "miles de millones de pesos de 2013"
    assert t.meta.year == 2013
    assert t.names[0] == "Agropecuario-silvícola y Pesca"
    assert t.names[11] == "Administración pública"
    assert t.meta.sheet == "1" and t.meta.z_origin == (12, 3)


def test_cepal_peru(shared_io):
    t = read_table(shared_io / PERU, country="PER")
    assert t.codes[0] == "s01" and t.codes[-1] == "s40"
    assert t.name_of["s23"] == "Non-ferrous metals"
    assert t.x["s31"] == 0.0 and t.x["s10"] == pytest.approx(4, abs=0.5)
    report = validate(t)
    assert report.by_check("zero_output")[0].sectors == ("s31",)
    row = report.by_check("row_balance")[0]
    assert row.value <= 9.6e-7 * 1.01  # SOURCES.md: within 9.6e-7 relative
    # Z_PER,PER is 38.0 % of output (SOURCES.md)
    assert t.Z.to_numpy().sum() / t.x.sum() == pytest.approx(0.380, abs=0.0005)
    assert t.meta.cell_of(0, 0) == f"{PERU}!{'JX'}2"  # column 284 = JX, first data line 2


def test_cepal_unknown_country_is_explained(shared_io):
    from io_clusters.errors import LayoutError

    with pytest.raises(LayoutError, match="no rows for country 'CHL'"):
        read_table(shared_io / PERU, country="CHL")


@pytest.mark.slow  # a timing assertion: kept out of the default suite (issue 19 item 4)
def test_reading_111_workbook_is_fast(shared_io):
    """Issue 2: reading the 111x111 workbook takes under 2 s here."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        read_table(shared_io / CHL111)
        times.append(time.perf_counter() - t0)
    assert min(times) < 2.0, times


# ------------------------------------------- issue 18 item 21: negligible negative flows
def _with_negative(shared_io, tmp_path, value: float) -> tuple[object, str]:
    """The real 12x12 BCCh workbook with Z[0, 9] (a published zero) set to ``value``."""
    original = read_table(shared_io / CHL08)
    assert original.Z.iloc[0, 9] == 0.0
    r0, c0 = original.meta.z_origin
    wb = openpyxl.load_workbook(shared_io / CHL08)
    wb[original.meta.sheet].cell(r0, c0 + 9, value)
    path = tmp_path / "chl_negative.xlsx"
    wb.save(path)
    return path, f"{original.meta.sheet}!{openpyxl.utils.get_column_letter(c0 + 9)}{r0}"


def test_negligible_negative_is_a_warning_naming_its_cell(shared_io, tmp_path):
    """-0.15 in a sector whose output is ~1e6 (Brazil 2020's case): rounding, not an error."""
    path, cell = _with_negative(shared_io, tmp_path, -0.15)
    t = read_table(path)
    report = validate(t)
    assert report.ok, report
    (finding,) = report.by_check("negative_flows")
    assert finding.severity == "warning" and finding.cells == (cell,)
    assert f"{cell} = -0.15" in finding.message
    assert 0.15 <= 1e-4 * t.x.iloc[9]  # the documented tolerance: 1e-4 of the buyer's output
    strict = validate(t, negatives="error")
    assert [f.check for f in strict.errors] == ["negative_flows"]
    zeroed = read_table(path, negatives="zero")
    assert zeroed.Z.iloc[0, 9] == 0.0
    (issue,) = [i for i in zeroed.meta.issues if i.check == "negative_flows"]
    assert issue.cells == (cell,)
    report = validate(zeroed, negatives="zero")
    assert report.ok and [f.cells for f in report.by_check("negative_flows")] == [(cell,)]


def test_material_negative_is_an_error(shared_io, tmp_path):
    path, cell = _with_negative(shared_io, tmp_path, -5_000.0)
    t = read_table(path)
    assert 5_000 > 1e-4 * t.x.iloc[9]
    for negatives in ("keep", "zero", "error"):
        report = validate(read_table(path, negatives=negatives), negatives=negatives)
        (finding,) = report.by_check("negative_flows")
        assert finding.severity == "error" and finding.cells == (cell,)


def test_national_table_with_a_negligible_negative_runs_end_to_end(shared_io, tmp_path):
    """Issue 18, done when: a real table with a negligible negative runs, warning named."""
    from io_clusters import run

    path, cell = _with_negative(shared_io, tmp_path, -0.15)
    result = run(path, out=tmp_path / "out", figures=False, n_boot=5, seed=0)
    (finding,) = result.report.by_check("negative_flows")
    assert finding.severity == "warning" and finding.cells == (cell,)
    assert (tmp_path / "out").is_dir()


def test_cepal_peru_as_a_spanish_locale_spreadsheet_saves_it(shared_io, tmp_path):
    """Issue 18 item 22: ';'-separated, decimal commas (7,83E-07), Windows-1252 text."""
    import csv
    import io
    import re

    text = (shared_io / PERU).read_text(encoding="utf-8-sig")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([re.sub(r"(?<=\d)\.(?=\d)", ",", f) for f in row])
    path = tmp_path / "peru_es.csv"
    path.write_bytes(out.getvalue().encode("cp1252", errors="replace"))
    original = read_table(shared_io / PERU, country="PER")
    t = read_table(path, country="PER")
    np.testing.assert_array_equal(t.Z.to_numpy(), original.Z.to_numpy())
    np.testing.assert_array_equal(t.x.to_numpy(), original.x.to_numpy())
    assert any("separated by ';'" in n for n in t.meta.notes)
