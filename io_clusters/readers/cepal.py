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

from ..errors import BadCell, LayoutError, NonNumericCellError
from ..table import IOTable, TableMeta, slug
from ._cells import assemble, cell_ref

NAME = "cepal-lac"
_REQUIRED = ("Country_iso3", "Nosector", "Output")


def detect_columns(columns: list[str]) -> bool:
    """Return True if a header row has CEPAL LAC IOT columns."""
    return all(c in columns for c in _REQUIRED)


def _load_frame(path: Path, wb: Any | None) -> tuple[pd.DataFrame, str, int]:
    """Return (raw text frame, sheet label, 1-based line of the header)."""
    if wb is None:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return frame, path.name, 1
    for ws in wb.worksheets:
        for r, row in enumerate(ws.iter_rows(values_only=True, max_row=30), start=1):
            cols = [str(v).strip() if v is not None else "" for v in row]
            if detect_columns(cols):
                data = list(ws.iter_rows(min_row=r + 1, values_only=True))
                frame = pd.DataFrame(data, columns=cols)
                return frame, ws.title, r
    raise LayoutError(f"{path.name}: no sheet has a header row with {', '.join(_REQUIRED)}")


def read(path: Path, wb: Any = None, country: str | None = None, **_: Any) -> IOTable:
    """Read one country's domestic table from a CEPAL LAC IOT file (CSV or xlsx).

    Parameters
    ----------
    path : Path
    wb : openpyxl.Workbook, optional
        The opened workbook for an xlsx file; None for CSV.
    country : str, optional
        ISO3 code of the country; required when the file holds several countries.

    Returns
    -------
    IOTable
        Units: millions of current US dollars (CEPAL's unit for the 2011 table).
    """
    frame, sheet, header_line = _load_frame(path, wb)
    frame.columns = [str(c).strip() for c in frame.columns]
    countries = sorted({str(v).strip() for v in frame["Country_iso3"] if str(v).strip()})
    if country is None:
        if len(countries) != 1:
            raise LayoutError(
                f"{path.name}: the file holds {len(countries)} countries "
                f"({', '.join(countries[:20])}); choose one with --country ISO3"
            )
        country = countries[0]
    country = country.upper()
    if country not in countries:
        raise LayoutError(
            f"{path.name}: no rows for country {country!r}; the file has {', '.join(countries)}"
        )
    rows = frame.index[frame["Country_iso3"].astype(str).str.strip() == country]
    sub = frame.loc[rows]
    codes = [str(v).strip() for v in sub["Nosector"]]
    names = [str(v).strip() for v in sub.get("Sector", sub["Nosector"])]
    nums = []
    for code in codes:
        m = re.fullmatch(r"s0*(\d+)", code)
        if not m:
            raise LayoutError(f"{path.name}: sector code {code!r} is not of the form s01…s99")
        nums.append(int(m.group(1)))
    z_cols = [f"{country}s{k}" for k in nums]
    missing = [c for c in z_cols if c not in frame.columns]
    if missing:
        raise LayoutError(
            f"{path.name}: columns for the domestic block are missing: {', '.join(missing[:5])}"
        )
    col_pos = {c: i + 1 for i, c in enumerate(frame.columns)}

    bad: list[BadCell] = []
    n_empty = 0

    def numeric(col: str) -> np.ndarray:
        nonlocal n_empty
        out = np.empty(len(rows))
        for k, (r, v) in enumerate(zip(rows, sub[col], strict=True)):
            line = header_line + 1 + int(r)
            if v is None or (isinstance(v, str) and not v.strip()):
                n_empty += 1
                out[k] = 0.0
                continue
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                bad.append(BadCell(sheet, cell_ref(line, col_pos[col]), v))
                out[k] = np.nan
        return out

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
    if bad:
        shown = "; ".join(str(b) for b in bad[:10])
        raise NonNumericCellError(
            f"{path.name}: {len(bad)} non-numeric cell(s): {shown}; replace them with numbers",
            bad,
        )
    z_first_row = header_line + 1 + int(rows[0])
    contiguous = list(rows) == list(range(int(rows[0]), int(rows[0]) + len(rows)))
    year_m = re.search(r"(?:19|20)\d{2}", path.name)
    year = int(year_m.group(0)) if year_m else None
    notes = [f"domestic block {z_cols[0]}..{z_cols[-1]} of {len(countries)} country file"]
    if n_empty:
        notes.append(f"{n_empty} empty cell(s) read as 0")
    return assemble(
        codes,
        names,
        Z,
        x,
        fd,
        {},
        None,
        TableMeta(
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
        ),
    )
