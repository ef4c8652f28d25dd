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
from dataclasses import dataclass
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
    rows = _Rows.of(frame, country, lines)
    clean = LabelCleaner()
    codes, names = rows.labels(sheet, clean)
    z_cols = _block_columns(path, codes, country, list(frame.columns))
    co = _coercer(rows, sheet, text_source=wb is None, decimal=decimal, text_notes=text_notes)
    Z = np.column_stack([rows.numeric(co, c) for c in z_cols])
    x = rows.numeric(co, "Output")
    fd = _final_demand(rows, co, country)
    co.raise_if_bad(path, f"the rows of {country}")
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
        meta=_meta(
            path,
            country,
            sheet=sheet,
            z_origin=rows.z_origin(z_cols[0]),
            notes=tuple(notes),
            issues=(*issues, *co.issues(), *clean.issues()),
        ),
    )


@dataclass(frozen=True)
class _Rows:
    """One country's rows of the raw frame, with the sheet line of each row."""

    frame: pd.DataFrame
    rows: pd.Index
    lines: list[int]
    col_pos: dict[str, int]

    @classmethod
    def of(cls, frame: pd.DataFrame, country: str, lines: list[int]) -> _Rows:
        rows = frame.index[frame["Country_iso3"].astype(str).str.strip() == country]
        col_pos = {c: i + 1 for i, c in enumerate(frame.columns)}
        return cls(frame.loc[rows], rows, lines, col_pos)

    def labels(self, sheet: str, clean: LabelCleaner) -> tuple[list[str], list[str]]:
        """Return (codes, names), cleaned of control characters."""
        name_col = "Sector" if "Sector" in self.frame.columns else "Nosector"
        return self._text("Nosector", sheet, clean), self._text(name_col, sheet, clean)

    def _text(self, col: str, sheet: str, clean: LabelCleaner) -> list[str]:
        j = self.col_pos[col]
        return [
            clean(str(v).strip(), f"{sheet}!{cell_ref(self.lines[r], j)}")
            for r, v in zip(self.rows, self.frame[col], strict=True)
        ]

    def numeric(self, co: Coercer, col: str) -> np.ndarray:
        """Return column ``col`` of these rows as float64 (bad cells recorded in ``co``)."""
        j = self.col_pos[col]
        return np.array(
            [
                co.value(v, self.lines[r], j)
                for r, v in zip(self.rows, self.frame[col], strict=True)
            ],
            dtype="float64",
        )

    def z_origin(self, first_col: str) -> tuple[int, int] | None:
        """Return the top-left cell of the block when the rows are contiguous."""
        first = int(self.rows[0])
        if list(self.rows) != list(range(first, first + len(self.rows))):
            return None
        return (self.lines[first], self.col_pos[first_col])


def _coercer(
    rows: _Rows, sheet: str, *, text_source: bool, decimal: str | None, text_notes: tuple[str, ...]
) -> Coercer:
    """Return a Coercer whose decimal separator is settled from the country's cells."""
    co = Coercer(sheet, text_source=text_source, decimal=decimal)
    if decimal is None and any("';'" in n for n in text_notes):
        co.decimal = ","
    columns = rows.frame.columns
    num_cols = [c for c in columns if c not in ("Country_iso3", "Nosector", "Sector")]
    co.settle(
        (rows.lines[r], rows.col_pos[c], v)
        for c in num_cols
        for r, v in zip(rows.rows, rows.frame[c], strict=True)
        if isinstance(v, str) and "," in v
    )
    return co


def _final_demand(rows: _Rows, co: Coercer, country: str) -> dict[str, np.ndarray]:
    """Return the country's own final demand and every other use of its output."""
    columns = list(rows.frame.columns)
    sector_col = re.compile(r"^([A-Z]{3})s\d+$")
    foreign_int = [c for c in columns if (m := sector_col.match(c)) and m.group(1) != country]
    own_fd = [c for c in (f"CONS_{country}", f"GFCF_{country}") if c in columns]
    foreign_fd = [c for c in columns if re.match(r"^(CONS|GFCF)_[A-Z]{3}$", c) and c not in own_fd]
    extra = [c for c in columns if c.upper().startswith("EXP_")]
    fd: dict[str, np.ndarray] = {c.split("_")[0]: rows.numeric(co, c) for c in own_fd}
    for label, cols in (
        ("EXP_LAC_intermediate", foreign_int),
        ("EXP_LAC_final", foreign_fd),
        ("EXP_extra_regional", extra),
    ):
        if cols:
            fd[label] = np.sum([rows.numeric(co, c) for c in cols], axis=0)
    if "Adjustment" in columns:
        fd["Adjustment"] = rows.numeric(co, "Adjustment")
    return fd


def _meta(
    path: Path,
    country: str,
    *,
    sheet: str,
    z_origin: tuple[int, int] | None,
    notes: tuple[str, ...],
    issues: tuple[ReadIssue, ...],
) -> TableMeta:
    year_m = re.search(r"(?:19|20)\d{2}", path.name)
    year = int(year_m.group(0)) if year_m else None
    return TableMeta(
        table_id=slug(f"{country}-{year or ''}-cepal-lac"),
        country=country,
        year=year,
        units="millones de dólares corrientes (millions of current USD)",
        layout=NAME,
        domestic=True,
        sheet=sheet,
        z_origin=z_origin,
        notes=notes,
        citation="CEPAL, Matriz Insumo-Producto de América Latina 2011 (preliminar), "
        "sheet LAC_IOT_2011",
        issues=issues,
    )
