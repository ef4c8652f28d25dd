"""Reader for CEPAL's Latin American multi-regional IO table (``cepal-lac``).

The *Matriz Insumo-Producto de América Latina 2011* (sheet ``LAC_IOT_2011``) has one
row per country and sector with columns ``Country_iso3``, ``Nosector`` (``s01``…),
``Sector``, then intermediate sales ``<ISO3>s<k>`` to every sector of every country,
final demand ``CONS_<ISO3>``/``GFCF_<ISO3>``, extra-regional exports ``EXP_*``,
``Adjustment`` and ``Output``. The reader selects one country's domestic block: Z is
the rows of that country × its own ``<ISO3>s<k>`` columns; every other use of its
output becomes a final-demand category, so that Z·1 + f = x holds row by row.

Row sums are the only balance this file allows: value added and imports of the
country are in other rows of the full sheet, not in the per-country extract.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..cellref import cell_ref
from ..errors import LayoutError
from ..table import IOTable, ReadIssue, TableMeta, slug
from ._cells import Coercer, LabelCleaner, check_widths, read_text, sheet_values

NAME = "cepal-lac"
_REQUIRED = ("Country_iso3", "Nosector", "Output")


def detect_columns(columns: list[str]) -> bool:
    """Return True if a header row has CEPAL LAC IOT columns."""
    return all(c in columns for c in _REQUIRED)


def _load_frame(
    path: Path, wb: Any | None, encoding: str | None, delimiter: str | None
) -> tuple[pd.DataFrame, str, int, list[int], tuple[str, ...], tuple[ReadIssue, ...]]:
    """Return (raw frame, sheet label, header line, line of each row, notes, issues)."""
    if wb is None:
        text = read_text(path, encoding, delimiter)
        if not text.rows:
            raise LayoutError(f"{path.name}: no header row")
        header = [h.strip() for h in text.rows[0]]
        check_widths(text, len(header), path.name)
        frame = pd.DataFrame(text.rows[1:], columns=header, dtype=object)
        return frame, path.name, text.lines[0], text.lines[1:], text.notes, text.issues
    for ws in wb.worksheets:
        rows = sheet_values(ws)
        for r, row in enumerate(rows[:30], start=1):
            cols = [str(v).strip() if v is not None else "" for v in row]
            if detect_columns(cols):
                width = len(cols)
                data = [tuple(x[:width]) + (None,) * (width - len(x)) for x in rows[r:]]
                frame = pd.DataFrame(data, columns=cols, dtype=object)
                lines = list(range(r + 1, r + 1 + len(data)))
                return frame, ws.title, r, lines, (), ()
    raise LayoutError(f"{path.name}: no sheet has a header row with {', '.join(_REQUIRED)}")


def _block_columns(path: Path, codes: list[str], country: str, columns: list[str]) -> list[str]:
    """Return the columns of the domestic block (``PERs1`` … for codes ``s01`` …)."""
    nums = []
    for code in codes:
        m = re.fullmatch(r"s0*(\d+)", code)
        if not m:
            raise LayoutError(f"{path.name}: sector code {code!r} is not of the form s01…s99")
        nums.append(int(m.group(1)))
    z_cols = [f"{country}s{k}" for k in nums]
    missing = [c for c in z_cols if c not in columns]
    if missing:
        raise LayoutError(
            f"{path.name}: columns for the domestic block are missing: {', '.join(missing[:5])}"
        )
    return z_cols


def _country(path: Path, countries: list[str], country: str | None) -> str:
    """Return the country asked for (or the file's only one), checked against the file."""
    if country is None:
        if len(countries) != 1:
            raise LayoutError(
                f"{path.name}: the file holds {len(countries)} countries "
                f"({', '.join(countries[:20])}); choose one with --country ISO3"
            )
        country = countries[0]
    country = country.strip().upper()
    if country not in countries:
        raise LayoutError(
            f"{path.name}: no rows for country {country!r}; the file has {', '.join(countries)}"
        )
    return country


def read(
    path: Path,
    wb: Any = None,
    *,
    country: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> IOTable:
    """Read one country's domestic table from a CEPAL LAC IOT file (CSV or xlsx).

    Parameters
    ----------
    path : Path
    wb : openpyxl.Workbook, optional
        The opened workbook for an xlsx file; None for CSV.
    country : str, optional
        ISO3 code of the country; required when the file holds several countries.
    decimal : {".", ","}, optional
        Decimal separator of numbers stored as text (a ``;``-separated file defaults
        to the decimal comma).
    encoding, delimiter : str, optional
        Of a CSV file; detected when omitted (UTF-8, else Windows-1252, said so).

    Returns
    -------
    IOTable
        Units: millions of current US dollars (CEPAL's unit for the 2011 table).
    """
    frame, sheet, _header_line, lines, text_notes, issues = _load_frame(
        path, wb, encoding, delimiter
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    countries = sorted({str(v).strip() for v in frame["Country_iso3"] if str(v).strip()})
    country = _country(path, countries, country)
    rows = frame.index[frame["Country_iso3"].astype(str).str.strip() == country]
    sub = frame.loc[rows]
    clean = LabelCleaner()
    col_pos = {c: i + 1 for i, c in enumerate(frame.columns)}
    name_col = "Sector" if "Sector" in frame.columns else "Nosector"
    codes = [
        clean(str(v).strip(), f"{sheet}!{cell_ref(lines[r], col_pos['Nosector'])}")
        for r, v in zip(rows, sub["Nosector"], strict=True)
    ]
    names = [
        clean(str(v).strip(), f"{sheet}!{cell_ref(lines[r], col_pos[name_col])}")
        for r, v in zip(rows, sub[name_col], strict=True)
    ]
    z_cols = _block_columns(path, codes, country, list(frame.columns))
    co = Coercer(sheet, text_source=wb is None, decimal=decimal)
    if decimal is None and any("';'" in n for n in text_notes):
        co.decimal = ","
    num_cols = [c for c in frame.columns if c not in ("Country_iso3", "Nosector", "Sector")]
    co.settle(
        (lines[r], col_pos[c], v)
        for c in num_cols
        for r, v in zip(rows, sub[c], strict=True)
        if isinstance(v, str) and "," in v
    )

    def numeric(col: str) -> np.ndarray:
        j = col_pos[col]
        return np.array(
            [co.value(v, lines[r], j) for r, v in zip(rows, sub[col], strict=True)],
            dtype="float64",
        )

    Z = np.column_stack([numeric(c) for c in z_cols])
    x = numeric("Output")
    sector_col = re.compile(r"^([A-Z]{3})s\d+$")
    foreign_int = [c for c in frame.columns if (m := sector_col.match(c)) and m.group(1) != country]
    own_fd = [c for c in (f"CONS_{country}", f"GFCF_{country}") if c in frame.columns]
    foreign_fd = [
        c for c in frame.columns if re.match(r"^(CONS|GFCF)_[A-Z]{3}$", c) and c not in own_fd
    ]
    extra = [c for c in frame.columns if c.upper().startswith("EXP_")]
    fd: dict[str, np.ndarray] = {c.split("_")[0]: numeric(c) for c in own_fd}
    if foreign_int:
        fd["EXP_LAC_intermediate"] = np.sum([numeric(c) for c in foreign_int], axis=0)
    if foreign_fd:
        fd["EXP_LAC_final"] = np.sum([numeric(c) for c in foreign_fd], axis=0)
    if extra:
        fd["EXP_extra_regional"] = np.sum([numeric(c) for c in extra], axis=0)
    if "Adjustment" in frame.columns:
        fd["Adjustment"] = numeric("Adjustment")
    co.raise_if_bad(path, f"the rows of {country}")
    z_first_row = lines[int(rows[0])]
    contiguous = list(rows) == list(range(int(rows[0]), int(rows[0]) + len(rows)))
    year_m = re.search(r"(?:19|20)\d{2}", path.name)
    year = int(year_m.group(0)) if year_m else None
    notes = [
        f"domestic block {z_cols[0]}..{z_cols[-1]} of {len(countries)} country file",
        *text_notes,
        *co.notes(),
    ]
    return IOTable.from_blocks(
        codes=codes,
        names=names,
        Z=Z,
        x=x,
        final_demand=fd,
        meta=TableMeta(
            table_id=slug(f"{country}-{year or ''}-cepal-lac"),
            country=country,
            year=year,
            units="millones de dólares corrientes (millions of current USD)",
            layout=NAME,
            domestic=True,
            sheet=sheet,
            z_origin=(z_first_row, col_pos[z_cols[0]]) if contiguous else None,
            notes=tuple(notes),
            citation="CEPAL, Matriz Insumo-Producto de América Latina 2011 (preliminar), "
            "sheet LAC_IOT_2011",
            issues=(*issues, *co.issues(), *clean.issues()),
        ),
    )
