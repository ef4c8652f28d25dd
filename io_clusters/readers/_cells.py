"""Shared helpers of the readers: cell references, safe opening, number coercion."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import (
    BadCell,
    EncryptedWorkbookError,
    FileFormatError,
    MergedCellError,
    NonNumericCellError,
    SheetNotFoundError,
    SpecError,
)
from ..table import IOTable, TableMeta

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


def col_letter(col: int) -> str:
    """Return the Excel column letters of 1-based column ``col`` (1 → ``"A"``)."""
    if col < 1:
        raise ValueError(f"column must be >= 1, got {col}")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """Return the 1-based column number of Excel column ``letters`` (``"AA"`` → 27)."""
    n = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise ValueError(f"not a column name: {letters!r}")
        n = n * 26 + (ord(ch) - 64)
    return n


def cell_ref(row: int, col: int) -> str:
    """Return the A1 reference of the 1-based (row, col) cell."""
    return f"{col_letter(col)}{row}"


_RANGE_RE = re.compile(
    r"^(?:(?P<sheet>'[^']+'|[^!]+)!)?\$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>\d+)"
    r"(?::\$?(?P<c2>[A-Za-z]{1,3})\$?(?P<r2>\d+))?$"
)


@dataclass(frozen=True, slots=True)
class CellRange:
    """A rectangular, 1-based, inclusive block of cells, optionally on a named sheet."""

    sheet: str | None
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the block."""
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    @property
    def size(self) -> int:
        """Number of cells."""
        rows, cols = self.shape
        return rows * cols

    def __str__(self) -> str:
        ref = cell_ref(self.r1, self.c1)
        if (self.r2, self.c2) != (self.r1, self.c1):
            ref += f":{cell_ref(self.r2, self.c2)}"
        return f"{self.sheet}!{ref}" if self.sheet else ref


def parse_range(text: str) -> CellRange:
    """Parse ``"C8:AP47"``, ``"Glosas!C10:C49"`` or a single cell ``"B5"``.

    Raises
    ------
    SpecError
        When ``text`` is not an A1 range or its corners are reversed.
    """
    m = _RANGE_RE.match(str(text).strip())
    if not m:
        raise SpecError(f"not a cell range: {text!r} (expected e.g. 'C8:AP47' or 'Sheet!B2:B9')")
    sheet = m["sheet"].strip("'") if m["sheet"] else None
    c1, r1 = col_index(m["c1"]), int(m["r1"])
    c2 = col_index(m["c2"]) if m["c2"] else c1
    r2 = int(m["r2"]) if m["r2"] else r1
    if r2 < r1 or c2 < c1 or r1 < 1:
        raise SpecError(f"cell range {text!r} is reversed or starts before row 1")
    return CellRange(sheet, r1, c1, r2, c2)


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sniff(path: Path) -> str:
    """Return ``"zip"``, ``"ole"``, ``"text"`` or ``"empty"`` from a file's first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        return "empty"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    return "text"


def require_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, raising FileNotFoundError / FileFormatError early."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise FileFormatError(f"{p}: is a directory, expected a table file (.xlsx or .csv)")
    if p.stat().st_size == 0:
        raise FileFormatError(f"{p}: the file is empty (0 bytes)")
    return p


def open_workbook(path: Path) -> Any:
    """Open an xlsx workbook with cached values, refusing what is not one.

    Raises
    ------
    EncryptedWorkbookError
        Password-protected workbook (an OLE container with an ``EncryptedPackage``).
    FileFormatError
        Legacy ``.xls``, truncated/corrupt zip, or a non-workbook renamed ``.xlsx``.
    """
    import openpyxl

    kind = sniff(path)
    if kind == "ole":
        data = path.read_bytes()
        if _ENCRYPTED_STREAM in data:
            raise EncryptedWorkbookError(
                f"{path.name}: the workbook is password-protected; open it in Excel or "
                "LibreOffice, remove the password (File > Info/Properties) and save as .xlsx"
            )
        raise FileFormatError(
            f"{path.name}: this is a legacy binary .xls workbook; save it as .xlsx "
            f"(Excel: Save As > .xlsx, or `soffice --headless --convert-to xlsx {path.name}`)"
        )
    if kind != "zip":
        raise FileFormatError(
            f"{path.name}: not an xlsx workbook (the file does not start with a zip "
            "signature); if it is a CSV file, give it a .csv extension"
        )
    try:
        return openpyxl.load_workbook(path, read_only=False, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise FileFormatError(
            f"{path.name}: the workbook is corrupt or truncated ({type(exc).__name__}: {exc}); "
            "download or export it again"
        ) from exc
    except Exception as exc:  # openpyxl raises many types for malformed parts
        raise FileFormatError(
            f"{path.name}: openpyxl could not read the workbook ({type(exc).__name__}: {exc})"
        ) from exc


def get_sheet(wb: Any, name: str, path: Path) -> Any:
    """Return worksheet ``name`` or raise SheetNotFoundError listing the sheets present."""
    if name not in wb.sheetnames:
        raise SheetNotFoundError(
            f"{path.name}: no sheet named {name!r}; the workbook has: "
            + ", ".join(repr(s) for s in wb.sheetnames)
        )
    return wb[name]


def sheet_values(ws: Any) -> list[tuple[Any, ...]]:
    """Return every row of a worksheet as a tuple of values (row 1 first)."""
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def check_merged(ws: Any, blocks: Iterable[CellRange], path: Path) -> None:
    """Raise MergedCellError if a merged range overlaps any of ``blocks``."""
    for mr in getattr(ws, "merged_cells", None) or ():
        for b in blocks:
            if (
                mr.min_row <= b.r2
                and mr.max_row >= b.r1
                and mr.min_col <= b.c2
                and (mr.max_col >= b.c1)
            ):
                raise MergedCellError(
                    f"{path.name}: sheet {ws.title!r}: merged cells {mr.coord} overlap the "
                    f"block of numbers {b}; unmerge them (every number needs its own cell)"
                )


@dataclass(slots=True)
class Coercer:
    """Turn cell values into float64, collecting every cell that is not a number.

    Blank cells and empty strings are read as 0 and counted (the Banco Central de
    Chile's 111-activity workbook stores 1,267 zeros as ``''``). Plain decimal numbers
    stored as text (``"12.5"``) are accepted and counted; anything else is a bad cell.
    """

    sheet: str
    bad: list[BadCell] = field(default_factory=list)
    text_source: bool = False
    n_blank: int = 0
    n_empty_string: int = 0
    n_text_number: int = 0

    def value(self, v: Any, row: int, col: int) -> float:
        """Return ``v`` as a float, or NaN after recording a bad cell at (row, col)."""
        if v is None:
            self.n_blank += 1
            return 0.0
        if isinstance(v, bool):
            self.bad.append(BadCell(self.sheet, cell_ref(row, col), v))
            return float("nan")
        if isinstance(v, int | float | np.integer | np.floating):
            return float(v)
        if isinstance(v, str):
            s = v.strip()
            if s == "":
                self.n_empty_string += 1
                return 0.0
            try:
                out = float(s)
            except ValueError:
                self.bad.append(BadCell(self.sheet, cell_ref(row, col), v))
                return float("nan")
            if not self.text_source:
                self.n_text_number += 1
            return out
        self.bad.append(BadCell(self.sheet, cell_ref(row, col), v))
        return float("nan")

    def block(self, rows: Sequence[Sequence[Any]], r: CellRange) -> np.ndarray:
        """Coerce block ``r`` of ``rows`` (as from :func:`sheet_values`) to an array."""
        out = np.empty(r.shape, dtype="float64")
        for i in range(r.shape[0]):
            row = rows[r.r1 - 1 + i] if r.r1 - 1 + i < len(rows) else ()
            for j in range(r.shape[1]):
                c = r.c1 - 1 + j
                out[i, j] = self.value(row[c] if c < len(row) else None, r.r1 + i, r.c1 + j)
        return out

    def raise_if_bad(self, path: Path, what: str) -> None:
        """Raise NonNumericCellError listing up to 10 bad cells (all are in ``.cells``)."""
        if not self.bad:
            return
        shown = "; ".join(str(b) for b in self.bad[:10])
        more = f" (and {len(self.bad) - 10} more)" if len(self.bad) > 10 else ""
        raise NonNumericCellError(
            f"{path.name}: {len(self.bad)} non-numeric cell(s) in {what}: {shown}{more}; "
            "replace them with numbers (use 0 for no flow)",
            self.bad,
        )

    def notes(self) -> tuple[str, ...]:
        """Return human-readable remarks on what was coerced."""
        out = []
        if self.n_empty_string:
            out.append(f"{self.n_empty_string} empty-string cell(s) read as 0")
        if self.n_text_number:
            out.append(f"{self.n_text_number} number(s) stored as text were converted")
        return tuple(out)


def assemble(
    codes: Sequence[str],
    names: Sequence[str],
    Z: np.ndarray,
    x: np.ndarray,
    final_demand: dict[str, np.ndarray],
    primary: dict[str, np.ndarray],
    imports: np.ndarray | None,
    meta: TableMeta,
) -> IOTable:
    """Build an IOTable from the arrays a reader extracted (labelled by ``codes``)."""
    idx = pd.Index(list(codes), name="code")
    return IOTable(
        codes=tuple(codes),
        names=tuple(names),
        Z=pd.DataFrame(Z, index=idx, columns=idx),
        x=pd.Series(x, index=idx),
        final_demand=pd.DataFrame(final_demand, index=idx),
        value_added=pd.DataFrame(primary, index=idx).T,
        imports=None if imports is None else pd.Series(imports, index=idx),
        meta=meta,
    )


def parse_isic(value: object) -> tuple[str, ...]:
    """Split a cell like ``"10; 11"`` or ``1020`` into ISIC code strings."""
    if value is None:
        return ()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return tuple(t for t in re.split(r"[;,\s]+", text.strip()) if t)
