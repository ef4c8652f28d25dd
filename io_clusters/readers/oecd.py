"""Reader for OECD harmonised national input-output tables (``oecd-iot``).

Wide layout (one table per country and year, as in the bulk files ``PER2015ttl.csv``):
the first column holds row codes — ``TTL_<ind>`` (total use of products of industry
``ind``), or ``DOM_<ind>`` and ``IMP_<ind>`` for the domestic/imported split,
``TXS_INT_FNL`` / ``TXS_IMP_FNL`` (taxes less subsidies), ``TTL_INT_FNL`` (total
intermediate at purchasers' prices), ``VALU`` (value added) and ``OUTPUT``; the other
columns are ``D<ind>`` industries and final-demand codes (``HFCE``, ``NPISH``,
``GGFC``, ``GFCF``, ``INVNT``, ``CONS_ABR``, ``CONS_NONRES``, ``EXPO``, ``IMPO``).

Long layout (OECD.Stat/Data Explorer exports): columns ``ROW``, ``COL`` and
``Value`` (plus ``COU``/``LOCATION`` and ``TIME`` when several tables are stacked);
it is pivoted to the wide layout first.

When ``DOM_`` rows exist Z is the domestic block and imports are the column sums of
the ``IMP_`` rows; otherwise Z holds total (domestic + imported) flows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import LayoutError
from ..table import IOTable, ReadIssue, TableMeta, slug
from ._cells import Coercer, check_widths, read_text, sheet_values

NAME = "oecd-iot"
FD_CODES = ("HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "CONS_ABR", "CONS_NONRES", "EXPO", "IMPO")
_TOTAL_ROWS = {"TTL_INT_FNL"}


def detect_frame(frame: pd.DataFrame) -> bool:
    """Return True if a frame (first column = labels) looks like an OECD IOT."""
    cols = {str(c).upper() for c in frame.columns}
    if {"ROW", "COL", "VALUE"} <= cols:
        return True
    labels = [str(v) for v in frame.iloc[:, 0].tolist()] if len(frame.columns) else []
    return any(v.startswith(("TTL_", "DOM_")) for v in labels) and "OUTPUT" in labels


def _pivot_long(
    frame: pd.DataFrame, path: Path, country: str | None
) -> tuple[pd.DataFrame, str | None, int | None]:
    cols = {str(c).upper(): c for c in frame.columns}
    sub = frame
    cou_col = cols.get("COU") or cols.get("LOCATION") or cols.get("REF_AREA")
    if cou_col is not None:
        found = sorted(sub[cou_col].astype(str).unique())
        if country is None and len(found) > 1:
            raise LayoutError(
                f"{path.name}: {len(found)} countries ({', '.join(found[:10])}); pass --country"
            )
        country = country or found[0]
        sub = sub[sub[cou_col].astype(str) == country]
        if sub.empty:
            raise LayoutError(f"{path.name}: no rows for country {country!r}")
    year = None
    time_col = cols.get("TIME") or cols.get("TIME_PERIOD") or cols.get("YEAR")
    if time_col is not None:
        years = sorted(sub[time_col].astype(str).unique())
        if len(years) > 1:
            raise LayoutError(
                f"{path.name}: several years ({', '.join(years)}); split the file by year"
            )
        year = int(float(years[0]))
    wide = sub.pivot_table(
        index=cols["ROW"], columns=cols["COL"], values=cols["VALUE"], aggfunc="sum"
    )
    wide = wide.reset_index()
    return wide, country, year


def _frame(
    path: Path, wb: Any, encoding: str | None, delimiter: str | None
) -> tuple[pd.DataFrame, str, tuple[str, ...], tuple[ReadIssue, ...], bool]:
    """(raw frame, sheet label, notes, issues, semicolon-separated)."""
    if wb is None:
        text = read_text(path, encoding, delimiter)
        if not text.rows:
            raise LayoutError(f"{path.name}: the file has no header row")
        header = [h.strip() for h in text.rows[0]]
        check_widths(text, len(header), path.name)
        frame = pd.DataFrame(text.rows[1:], columns=header, dtype=object)
        return frame, path.name, text.notes, text.issues, text.delimiter == ";"
    ws = wb.worksheets[0]
    data = sheet_values(ws)
    if not data:
        raise LayoutError(f"{path.name}: sheet {ws.title!r} is empty")
    width = len(data[0])
    rows = [tuple(r[:width]) + (None,) * (width - len(r)) for r in data[1:]]
    columns = [str(c) if c is not None else "" for c in data[0]]
    return pd.DataFrame(rows, columns=columns, dtype=object), ws.title, (), (), False


def read(
    path: Path,
    wb: Any = None,
    *,
    country: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> IOTable:
    """Read an OECD IOT (wide or long; CSV, or the first sheet of an xlsx).

    ``decimal``, ``encoding`` and ``delimiter`` are as for the other text readers
    (detected when omitted).
    """
    frame, sheet, text_notes, issues, semicolon = _frame(path, wb, encoding, delimiter)
    if decimal is None and semicolon:
        decimal = ","
    long_layout = {"ROW", "COL", "VALUE"} <= {str(c).upper() for c in frame.columns}
    frame, country, year = _country_year(frame, path, country, long_layout)
    labels = [str(v).strip() for v in frame.iloc[:, 0]]
    columns = [str(c).strip() for c in frame.columns]
    prefix, z_rows, codes = _z_rows(path, labels, columns)
    co = Coercer(sheet, text_source=wb is None, decimal=decimal)
    co.settle(
        (i + 2, j + 1, v)
        for i in range(len(labels))
        for j in range(1, len(columns))
        if isinstance(v := frame.iat[i, j], str) and "," in v
    )
    cells = _Cells(frame, {c: j for j, c in enumerate(columns)}, co)
    dcols = [f"D{c}" for c in codes]
    Z = np.array([[cells.num(i, c) for c in dcols] for i in z_rows])
    out_i = labels.index("OUTPUT")
    x = np.array([cells.num(out_i, c) for c in dcols])
    fd = {
        code: np.array([cells.num(i, code) for i in z_rows])
        for code in FD_CODES
        if code in cells.col_of
    }
    imports = _imports(cells, labels, dcols) if prefix == "DOM_" else None
    va = {v: np.array([cells.num(labels.index(v), c) for c in dcols]) for v in _va_labels(labels)}
    co.raise_if_bad(path, f"sheet {sheet!r}")
    dpos = [cells.col_of[c] for c in dcols]
    contiguous = _consecutive(z_rows) and _consecutive(dpos)
    return IOTable.from_blocks(
        codes=codes,
        names=codes,
        Z=Z,
        x=x,
        final_demand=fd,
        primary=va,
        imports=imports,
        meta=TableMeta(
            table_id=slug(f"{country or 'xxx'}-{year or ''}-oecd-iot"),
            country=country,
            year=year,
            units="USD million (OECD IOT)",
            layout=NAME,
            domestic=prefix == "DOM_",
            sheet=sheet,
            z_origin=(z_rows[0] + 2, dpos[0] + 1) if contiguous and not long_layout else None,
            notes=(f"Z from {prefix} rows", *text_notes, *co.notes()),
            citation="OECD Input-Output Tables (harmonised national IOTs)",
            issues=(*issues, *co.issues()),
        ),
    )


def _country_year(
    frame: pd.DataFrame, path: Path, country: str | None, long_layout: bool
) -> tuple[pd.DataFrame, str | None, int | None]:
    """Return the wide frame, its country and year (from the data, else the file name)."""
    year = None
    if long_layout:
        frame, country, year = _pivot_long(frame, path, country)
    if year is None:
        m = re.search(r"(?:19|20)\d{2}", path.name)
        year = int(m.group(0)) if m else None
    if country is None:
        m = re.match(r"^([A-Z]{3})", path.name)
        country = m.group(1) if m else None
    return frame, country, year


def _z_rows(path: Path, labels: list[str], columns: list[str]) -> tuple[str, list[int], list[str]]:
    """Return (row prefix, rows of Z, industry codes), or raise saying what is missing."""
    prefix = "DOM_" if any(v.startswith("DOM_") for v in labels) else "TTL_"
    z_rows = [i for i, v in enumerate(labels) if v.startswith(prefix) and v not in _TOTAL_ROWS]
    codes = [labels[i][len(prefix) :] for i in z_rows]
    if not codes:
        raise LayoutError(f"{path.name}: no {prefix}<industry> rows in the first column")
    col_of = {c: j for j, c in enumerate(columns)}
    missing = [f"D{c}" for c in codes if f"D{c}" not in col_of]
    if missing:
        raise LayoutError(
            f"{path.name}: industry columns missing for rows {prefix}…: {', '.join(missing[:5])}"
        )
    if "OUTPUT" not in labels:
        raise LayoutError(f"{path.name}: no OUTPUT row (gross output) in the first column")
    return prefix, z_rows, codes


@dataclass(frozen=True)
class _Cells:
    """The wide frame's cells as numbers (bad cells recorded in ``co``)."""

    frame: pd.DataFrame
    col_of: dict[str, int]
    co: Coercer

    def num(self, i: int, col: str) -> float:
        v = self.frame.iat[i, self.col_of[col]]
        if isinstance(v, float) and np.isnan(v):
            v = None  # a cell missing from the long layout's pivot
        return self.co.value(v, i + 2, self.col_of[col] + 1)


def _imports(cells: _Cells, labels: list[str], dcols: list[str]) -> np.ndarray | None:
    """Return the column sums of the ``IMP_`` rows (None when there are none)."""
    imp_rows = [i for i, v in enumerate(labels) if v.startswith("IMP_")]
    return np.array([sum(cells.num(i, c) for i in imp_rows) for c in dcols]) if imp_rows else None


def _va_labels(labels: list[str]) -> list[str]:
    """Return the labels of primary-input rows (neither Z, imports, totals nor output)."""
    return [
        v
        for v in labels
        if v not in _TOTAL_ROWS
        and v != "OUTPUT"
        and not v.startswith(("TTL_", "DOM_", "IMP_"))
        and v
    ]


def _consecutive(positions: list[int]) -> bool:
    return positions == list(range(positions[0], positions[0] + len(positions)))
