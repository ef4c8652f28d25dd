"""Reader for the Banco Central de Chile's input-output workbooks (``bcch-mip``).

Handles the published *Matriz de insumo-producto … doméstica a precio básico,
actividad por actividad* files (2008 at 12 and 111 activities, 2013 at 12 activities).
Their layouts differ (sheet names, a blank column before the totals, units), so the
reader locates everything by its labels instead of fixed cells:

* the table sheet is the one whose title (column B, first rows) starts with
  ``Matriz de insumo``;
* the header row has ``Actividad`` in column B; the next row holds the column codes
  from column C onwards;
* data rows carry the same codes in column B; final-demand columns follow the
  ``Total`` column, one label per column (two header rows are joined), and the column
  labelled ``Producción`` is gross output ``x``;
* the rows below the block hold imports, taxes, value added and its components;
* activity names come from the ``Glosas``/``Glosa`` sheet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..cellref import cell_ref
from ..errors import LayoutError, SheetNotFoundError
from ..table import IOTable, ReadIssue, TableMeta, slug
from ._cells import CellRange, Coercer, LabelCleaner, check_merged, sheet_values

NAME = "bcch-mip"


def _norm(v: Any) -> str:
    """Lower-case, accent-free, single-spaced text of a cell value."""
    if v is None:
        return ""
    s = unicodedata.normalize("NFKD", str(v)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", s).strip().lower()


def _code(v: Any) -> str | None:
    """Return ``v`` as an activity code string if it looks like one (``1``, ``'12'``)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str) and v.strip().isdigit():
        return v.strip()
    return None


def _cell(rows: list[Sequence[Any]], r: int, c: int) -> Any:
    """Value at 0-based (r, c) or None outside the used range."""
    if r < len(rows) and c < len(rows[r]):
        return rows[r][c]
    return None


def table_sheets(wb: Any) -> list[str]:
    """Return the names of every sheet titled as an IO table (column B, first rows)."""
    found = []
    for ws in wb.worksheets:
        for r in range(1, 8):
            title = _norm(ws.cell(row=r, column=2).value)
            if title.startswith("matriz de insumo") and "coeficiente" not in title:
                found.append(ws.title)
                break
    return found


def find_table_sheet(wb: Any) -> str | None:
    """Return the name of the first sheet holding the IO table, or None."""
    sheets = table_sheets(wb)
    return sheets[0] if sheets else None


def detect(wb: Any) -> bool:
    """Return True if the workbook looks like a BCCh MIP workbook."""
    has_glosas = any(_norm(s).startswith("glosa") for s in wb.sheetnames)
    return has_glosas and find_table_sheet(wb) is not None


def _names(wb: Any) -> dict[str, tuple[str, str]]:
    """Code → (name, cell of the name) from the Glosas sheet."""
    for sheet in wb.sheetnames:
        if _norm(sheet).startswith("glosa"):
            out: dict[str, tuple[str, str]] = {}
            for r, row in enumerate(sheet_values(wb[sheet]), start=1):
                code = _code(row[1]) if len(row) > 2 else None
                if code is not None and isinstance(row[2], str) and row[2].strip():
                    if code in out:  # a second listing (another classification) starts
                        break
                    out[code] = (row[2].strip(), f"{sheet}!C{r}")
            return out
    return {}


def _header_row(rows: list[Sequence[Any]], sheet: str, path: Path) -> int:
    for r, row in enumerate(rows[:40]):
        if len(row) > 1 and _norm(row[1]) == "actividad":
            return r
    raise LayoutError(
        f"{path.name}: sheet {sheet!r}: no header row with 'Actividad' in column B "
        "within the first 40 rows; is this a Banco Central de Chile MIP sheet?"
    )


def _choose_sheet(wb: Any, path: Path, sheet: str | None) -> tuple[str, list[ReadIssue]]:
    """Return the table sheet to read: the one named, or the first (warning if several)."""
    sheets = table_sheets(wb)
    if sheet is not None:
        if sheet not in wb.sheetnames:
            raise SheetNotFoundError(
                f"{path.name}: no sheet named {sheet!r}; the workbook has: "
                + ", ".join(repr(s) for s in wb.sheetnames)
            )
        return sheet, []
    if not sheets:
        raise LayoutError(
            f"{path.name}: no sheet titled 'Matriz de insumo-producto' in column B; "
            f"sheets: {', '.join(wb.sheetnames)}"
        )
    issues = []
    if len(sheets) > 1:
        issues.append(
            ReadIssue(
                "table_sheet",
                f"the workbook has {len(sheets)} table sheets ({', '.join(map(repr, sheets))}); "
                f"sheet {sheets[0]!r} was read — pass sheet='NAME' (--sheet) to read another",
                (f"{sheets[0]}!B1",),
            )
        )
    return sheets[0], issues


def read(path: Path, wb: Any, *, sheet: str | None = None, decimal: str | None = None) -> IOTable:
    """Read a Banco Central de Chile MIP workbook.

    Parameters
    ----------
    path : Path
        The workbook (for messages and provenance).
    wb : openpyxl.Workbook
        The workbook opened by :func:`io_clusters.readers._cells.open_workbook`.
    sheet : str, optional
        The table sheet; by default the first sheet titled "Matriz de insumo-producto"
        (a warning names it when the workbook has several).
    decimal : {".", ","}, optional
        Decimal separator of numbers stored as text (detected when omitted).

    Returns
    -------
    IOTable
        Domestic flows at basic prices; ``imports`` from the ``Importaciones`` row;
        ``value_added`` rows = taxes on products, import duties and the value-added
        components (or the total where there are no components).
    """
    sheet, issues = _choose_sheet(wb, path, sheet)
    ws = wb[sheet]
    rows = sheet_values(ws)
    lay = _locate(rows, sheet, path)
    n, r0 = len(lay.codes), lay.r0
    z_rng = CellRange(sheet, r0 + 1, 3, r0 + n, 2 + n)
    x_rng = CellRange(sheet, r0 + 1, lay.x_col + 1, r0 + n, lay.x_col + 1)
    fd_rngs = {k: CellRange(sheet, r0 + 1, c + 1, r0 + n, c + 1) for k, c in lay.fd_cols}
    prim_rngs = {k: CellRange(sheet, r + 1, 3, r + 1, 2 + n) for k, r in lay.primary.items()}
    structure_notes = check_merged(ws, [z_rng, x_rng, *fd_rngs.values(), *prim_rngs.values()], path)
    co = Coercer(sheet, decimal=decimal)
    Z = co.block(rows, z_rng)
    x = co.block(rows, x_rng)[:, 0]
    fd = {label: co.block(rows, r)[:, 0] for label, r in fd_rngs.items()}
    prim = {k: co.block(rows, r)[0] for k, r in prim_rngs.items()}
    co.raise_if_bad(path, f"sheet {sheet!r}")
    imports, va_rows, notes = _split_primary(prim, x)
    names_map = _names(wb)
    missing = [c for c in lay.codes if c not in names_map]
    if missing:
        notes.append(f"no name in the Glosas sheet for codes {', '.join(missing)}")
    clean = LabelCleaner()
    names = [clean(*names_map[c]) if c in names_map else c for c in lay.codes]
    units, year = _units_year(rows, lay.header_row, sheet, path)
    return IOTable.from_blocks(
        codes=lay.codes,
        names=names,
        Z=Z,
        x=x,
        final_demand=fd,
        primary=va_rows,
        imports=imports,
        meta=TableMeta(
            table_id=slug(f"chl-{year or ''}-bcch-{n}"),
            country="CHL",
            year=year,
            units=units,
            layout=NAME,
            domestic=True,
            sheet=sheet,
            z_origin=(z_rng.r1, z_rng.c1),
            notes=(*co.notes(), *structure_notes, *notes, f"table read from sheet {sheet!r}"),
            citation="Banco Central de Chile, Matriz de insumo-producto, doméstica a precio "
            "básico, actividad por actividad",
            issues=(*issues, *co.issues(), *clean.issues()),
        ),
    )


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where the parts of a BCCh table sheet are (0-based rows and columns)."""

    header_row: int
    codes: list[str]
    r0: int
    fd_cols: list[tuple[str, int]]
    x_col: int
    primary: dict[str, int]


def _locate(rows: list[Sequence[Any]], sheet: str, path: Path) -> _Layout:
    """Find the header, the square coded block, the demand columns and the rows below."""
    hr = _header_row(rows, sheet, path)
    code_row = hr + 1
    col_codes: list[str] = []
    c = 2
    while (code := _code(_cell(rows, code_row, c))) is not None:
        col_codes.append(code)
        c += 1
    n = len(col_codes)
    if n < 2:
        raise LayoutError(
            f"{path.name}: sheet {sheet!r}: expected activity codes from "
            f"{cell_ref(code_row + 1, 3)} rightwards, found {_cell(rows, code_row, 2)!r}"
        )
    # data rows: first run of rows with a code in column B
    r0 = next(
        (r for r in range(code_row + 1, len(rows)) if _code(_cell(rows, r, 1)) is not None),
        None,
    )
    if r0 is None:
        raise LayoutError(f"{path.name}: sheet {sheet!r}: no data rows with codes in column B")
    for i, expected in enumerate(col_codes):
        if _code(_cell(rows, r0 + i, 1)) != expected:
            raise LayoutError(
                f"{path.name}: sheet {sheet!r}: row code at {cell_ref(r0 + i + 1, 2)} is "
                f"{_cell(rows, r0 + i, 1)!r} but column {i + 1} of the header "
                f"({cell_ref(code_row + 1, 3 + i)}) is {expected!r}; the block must be square "
                "with rows and columns in the same order"
            )
    if _code(_cell(rows, r0 + n, 1)) is not None:
        raise LayoutError(
            f"{path.name}: sheet {sheet!r}: more coded rows than the {n} header columns "
            f"(extra code at {cell_ref(r0 + n + 1, 2)}); the block is not square"
        )
    fd_cols, x_col = _demand_columns(rows, hr, n, sheet, path)
    return _Layout(hr, col_codes, r0, fd_cols, x_col, _primary_rows(rows, r0 + n))


def _demand_columns(
    rows: list[Sequence[Any]], hr: int, n: int, sheet: str, path: Path
) -> tuple[list[tuple[str, int]], int]:
    """Final-demand columns and the output column, labelled in the two header rows."""
    fd_cols: list[tuple[str, int]] = []
    for col in range(2 + n, max(len(r) for r in rows)):
        label = " ".join(
            str(v).strip() for v in (_cell(rows, hr, col), _cell(rows, hr + 1, col)) if v
        )
        label = re.sub(r"\s+", " ", label)
        key = _norm(label)
        if not key or key == "total":
            continue
        if key.startswith("produccion"):
            return fd_cols, col
        fd_cols.append((label, col))
    raise LayoutError(
        f"{path.name}: sheet {sheet!r}: no output column labelled 'Producción' in header "
        f"row {hr + 1}; the total output column is required"
    )


def _primary_rows(rows: list[Sequence[Any]], start: int) -> dict[str, int]:
    """Labelled rows below the block (imports, taxes, value added), up to the next matrix."""
    primary: dict[str, int] = {}
    for r in range(start, len(rows)):
        label = _cell(rows, r, 1)
        key = _norm(label)
        if key.startswith("matriz"):
            break
        if key and key != "total":
            primary[str(label).strip()] = r
    return primary


def _split_primary(
    prim: dict[str, np.ndarray], x: np.ndarray
) -> tuple[np.ndarray | None, dict[str, np.ndarray], list[str]]:
    """Split the rows below: imports, value added (components, else total), remarks."""
    imports = None
    notes: list[str] = []
    va_rows: dict[str, np.ndarray] = {}
    va_total_key = None
    for k, v in prim.items():
        nk = _norm(k)
        if nk.startswith("importaciones"):
            imports = v
        elif nk.startswith("produccion"):
            diff = float(np.max(np.abs(v - x)))
            notes.append(f"output row '{k}' agrees with the output column to {diff:.3g}")
        elif nk.startswith("valor agregado"):
            va_total_key = k
        else:
            va_rows[k] = v
    components = [k for k in va_rows if not _norm(k).startswith(("impuestos sobre", "derechos"))]
    if va_total_key is not None:
        if components:
            gap = float(np.max(np.abs(sum(va_rows[k] for k in components) - prim[va_total_key])))
            notes.append(
                f"value-added components sum to the '{va_total_key.strip()}' row to {gap:.3g}"
            )
        else:
            va_rows[va_total_key] = prim[va_total_key]
    return imports, va_rows, notes


def _units_year(
    rows: list[Sequence[Any]], hr: int, sheet: str, path: Path
) -> tuple[str, int | None]:
    """Units from the title rows ("(millones de pesos de 2008)") and the reference year."""
    title_text = " ".join(str(_cell(rows, r, 1) or "") for r in range(hr))
    unit_m = re.search(r"\(([^)]*pesos[^)]*)\)", title_text, flags=re.I)
    units = unit_m.group(1).strip() if unit_m else ""
    year_m = re.search(r"(19|20)\d{2}", units) or re.search(r"(19|20)\d{2}", sheet + path.name)
    return units, int(year_m.group(0)) if year_m else None


def read_published(wb: Any, n: int) -> dict[str, pd.DataFrame]:
    """Return the BCCh's own published matrices found in the workbook.

    Parameters
    ----------
    wb : openpyxl.Workbook
    n : int
        Number of activities.

    Returns
    -------
    dict
        ``"A"`` (technical coefficients) and ``"L"`` (Leontief inverse) as (n, n)
        frames indexed by code, for whichever of the two the workbook holds.
    """
    found: dict[str, pd.DataFrame] = {}
    for ws in wb.worksheets:
        rows = sheet_values(ws)
        for r, row in enumerate(rows):
            key = _norm(row[1] if len(row) > 1 else None)
            kind = None
            if key.startswith("matriz de coeficientes directos e indirectos") or (
                key.startswith("matriz de coeficientes indirectos")
            ):
                kind = "L"
            elif key.startswith("matriz de coeficientes directos"):
                kind = "A"
            if kind is None or kind in found:
                continue
            r0 = next(
                (k for k in range(r + 1, len(rows)) if _code(_cell(rows, k, 1)) is not None), None
            )
            if r0 is None:
                continue
            codes = [_code(_cell(rows, r0 + i, 1)) for i in range(n)]
            block = np.array(
                [[float(_cell(rows, r0 + i, 2 + j) or 0.0) for j in range(n)] for i in range(n)]
            )
            idx = pd.Index(codes, name="code")
            found[kind] = pd.DataFrame(block, index=idx, columns=idx)
    return found
