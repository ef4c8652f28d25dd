"""Shared helpers of the readers: safe opening, sheets as sparse rows, text files, coercion.

A1 cell addresses live in :mod:`io_clusters.cellref` (re-exported here); number rules
in :mod:`io_clusters.readers.numbers`.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..cellref import cell_ref, col_index, col_letter
from ..errors import (
    BadCell,
    EncryptedWorkbookError,
    FileFormatError,
    FormulaError,
    LayoutError,
    MergedCellError,
    NonNumericCellError,
    ResourceLimitError,
    SheetNotFoundError,
    SpecError,
    TableReadError,
)
from ..table import ReadIssue
from . import fastbook, numbers
from .package import DEFAULT_LIMITS, Limits, scan_package, size_text

log = logging.getLogger(__name__)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


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


@dataclass(frozen=True, slots=True)
class SheetRange(CellRange):
    """A :class:`CellRange` resolved against a workbook: its sheet is always named."""

    sheet: str


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


def require_file(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Return ``path`` as a Path, raising FileNotFoundError / FileFormatError early."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise FileFormatError(f"{p}: is a directory, expected a table file (.xlsx or .csv)")
    size = p.stat().st_size
    if size == 0:
        raise FileFormatError(f"{p}: the file is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise ResourceLimitError(
            f"{p.name}: {size_text(size)} exceeds the file-size limit of "
            f"{size_text(limits.max_file_bytes)} "
            "(raise it with --max-file-mb N, or Limits(max_file_bytes=…))"
        )
    return p


def workbook_notes(wb: Any) -> tuple[str, ...]:
    """Remarks on hidden sheets."""
    hidden = [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"]
    if hidden:
        return (f"hidden sheet(s): {', '.join(hidden)} — check that the table is not hidden",)
    return ()


def open_workbook(path: Path, limits: Limits = DEFAULT_LIMITS, *, engine: str = "auto") -> Any:
    """Open an xlsx workbook with cached values, refusing what is not one.

    Parameters
    ----------
    path : Path
    limits : Limits
    engine : {"auto", "openpyxl"}
        ``"auto"`` reads the values with python-calamine when the package scan vouches
        for the workbook (:mod:`io_clusters.readers.fastbook`), else with openpyxl;
        ``"openpyxl"`` always uses openpyxl.

    Returns
    -------
    openpyxl.Workbook or FastBook
        Both answer ``sheetnames``, ``worksheets``, ``wb[name]`` and
        :func:`sheet_values`.

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
    scan = scan_package(path, limits)
    refusal = scan.fast_refusal(limits) if engine == "auto" else f"engine {engine!r} asked"
    book = fastbook.load(path) if refusal is None else None
    if book is not None:
        log.debug("%s: values read by python-calamine", path.name)
        return book
    log.debug("%s: values read by openpyxl (%s)", path.name, refusal or "calamine failed")
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


class SparseRow(Sequence[Any]):
    """A read-only row of a sheet holding only its real cells (``None`` elsewhere).

    Used for rows whose cells are far apart (one cell in column XFD), where a tuple
    would hold thousands of ``None``; indexing and slicing behave like a tuple's.
    """

    __slots__ = ("_cells", "_len")

    def __init__(self, cells: dict[int, Any]):
        self._cells = {c - 1: v for c, v in cells.items()}  # 0-based like a tuple
        self._len = max(cells)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return tuple(self._cells.get(i) for i in range(*k.indices(self._len)))
        if k < 0:
            k += self._len
        if not 0 <= k < self._len:
            raise IndexError("row index out of range")
        return self._cells.get(k)

    def __iter__(self) -> Any:
        return (self._cells.get(i) for i in range(self._len))


def sheet_values(ws: Any) -> list[Sequence[Any]]:
    """Return the rows of a worksheet as tuples of values (row 1 first), from its real cells.

    Each row is as long as its last non-empty cell (rows may differ in length); rows
    after the last non-empty cell are left out. Only the cells the file holds are
    visited: a "phantom used range" (one space typed far away) costs one cell, not the
    whole rectangle (``ws.iter_rows`` would create every cell of it). A row whose few
    cells are far apart is a :class:`SparseRow`, so memory follows the real cells.
    """
    if isinstance(ws, fastbook.FastSheet):
        return list(ws.values)
    cells = getattr(ws, "_cells", None)
    if cells is None:  # read-only or foreign worksheet objects
        return [tuple(r) for r in ws.iter_rows(values_only=True)]
    by_row: dict[int, dict[int, Any]] = {}
    filled: set[int] = set()
    for (r, c), cell in cells.items():
        v = cell.value
        if v is None:
            continue
        by_row.setdefault(r, {})[c] = v
        if not (isinstance(v, str) and not v.strip()):
            filled.add(r)
    if not filled:
        return []
    out: list[Sequence[Any]] = []
    for r in range(1, max(filled) + 1):
        row = by_row.get(r) if r in filled else None
        if not row:
            out.append(())
            continue
        last = max(row)
        if last > 4 * len(row) + 64:
            out.append(SparseRow(row))
        else:
            out.append(tuple(row.get(c) for c in range(1, last + 1)))
    return out


def check_merged(ws: Any, blocks: Iterable[CellRange], path: Path) -> list[str]:
    """Raise MergedCellError if a merged range overlaps any of ``blocks``.

    Returns remarks on hidden rows or columns inside the blocks (a warning: hidden
    numbers are read like the others, but the user may not know they are there).
    """
    blocks = list(blocks)
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
    hidden_rows = sorted(
        {r for b in blocks for r in range(b.r1, b.r2 + 1) if ws.row_dimensions[r].hidden}
    )
    hidden_cols = sorted(
        {
            c
            for b in blocks
            for c in range(b.c1, b.c2 + 1)
            if (d := ws.column_dimensions.get(col_letter(c))) is not None and d.hidden
        }
    )
    notes = []
    if hidden_rows:
        notes.append(
            f"sheet {ws.title!r}: {len(hidden_rows)} hidden row(s) inside the table "
            f"({', '.join(map(str, hidden_rows[:10]))}); they were read"
        )
    if hidden_cols:
        notes.append(
            f"sheet {ws.title!r}: {len(hidden_cols)} hidden column(s) inside the table "
            f"({', '.join(col_letter(c) for c in hidden_cols[:10])}); they were read"
        )
    return notes


@dataclass(slots=True)
class Coercer:
    """Turn cell values into float64, collecting every cell that is not a number.

    Blank cells and empty strings are read as 0 and counted (the Banco Central de
    Chile's 111-activity workbook stores 1,267 zeros as ``''``). Numbers stored as
    text are parsed by the explicit rules of :mod:`io_clusters.readers.numbers`
    (Spanish ``1.234,5``, ``(123)`` negatives, ``-`` for nil …); the rules used are
    counted and reported in :meth:`notes`. ``decimal`` fixes the decimal separator
    (``"."`` or ``","``); by default each block's unambiguous cells decide it.
    """

    sheet: str
    bad: list[BadCell] = field(default_factory=list)
    text_source: bool = False
    decimal: str | None = None
    n_blank: int = 0
    n_empty_string: int = 0
    n_text_number: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    blank_cells: list[tuple[int, int]] = field(default_factory=list)
    not_available: list[str] = field(default_factory=list)
    _seen: str | None = None

    def _bad(self, v: Any, row: int, col: int, reason: str) -> float:
        ref = cell_ref(row, col)
        self.bad.append(BadCell(self.sheet, ref, v))
        self.reasons[ref] = reason
        return float("nan")

    def value(self, v: Any, row: int, col: int) -> float:
        """Return ``v`` as a float, or NaN after recording a bad cell at (row, col)."""
        if (
            v.__class__ is str
            and numbers.PLAIN.match(v)
            and ("." not in v or (self.decimal or self._seen or ".") == ".")
        ):  # the common case, without the rule chain (1.234 under decimal ',' is not plain)
            if not self.text_source:
                self.n_text_number += 1
                self.rules["plain"] = self.rules.get("plain", 0) + 1
            return float(v)
        if v is None:
            self.n_blank += 1
            if len(self.blank_cells) < 100_000:
                self.blank_cells.append((row, col))
            return 0.0
        if isinstance(v, str) and not v.strip():
            self.n_empty_string += 1
            return 0.0
        try:
            out, rule = numbers.to_number(v, self.decimal or self._seen or ".")
        except ValueError as exc:
            return self._bad(v, row, col, str(exc))
        if rule == "number":
            return float(out)  # type: ignore[arg-type]
        if not (self.text_source and rule == "plain"):
            self.n_text_number += 1
            self.rules[rule] = self.rules.get(rule, 0) + 1
        if rule in ("not_available", "dash") and len(self.not_available) < 1000:
            self.not_available.append(f"{self.sheet}!{cell_ref(row, col)}")
        return float(out)  # type: ignore[arg-type]

    def settle(self, texts: Iterable[tuple[int, int, Any]]) -> None:
        """Let unambiguous text cells ``(row, col, value)`` fix the decimal separator."""
        if self.decimal is not None:
            return
        seen: dict[str, tuple[int, int, str]] = {}
        for row_, col_, v in texts:
            if isinstance(v, str) and v.strip():
                conv = numbers.convention(v)
                if conv and conv not in seen:
                    seen[conv] = (row_, col_, v)
                    if len(seen) > 1:
                        break
        self._decide(seen)

    def _settle_convention(self, rows: Sequence[Sequence[Any]], r: CellRange) -> None:
        """Let the block's unambiguous text cells fix the decimal separator."""
        if self.decimal is not None:
            return
        seen: dict[str, tuple[int, int, str]] = {}
        for i in range(r.shape[0]):
            row = rows[r.r1 - 1 + i] if r.r1 - 1 + i < len(rows) else ()
            for j in range(r.shape[1]):
                c = r.c1 - 1 + j
                v = row[c] if c < len(row) else None
                if isinstance(v, str) and v.strip():
                    conv = numbers.convention(v)
                    if conv and conv not in seen:
                        seen[conv] = (r.r1 + i, r.c1 + j, v)
        self._decide(seen)

    def _decide(self, seen: dict[str, tuple[int, int, str]]) -> None:
        if self._seen:
            seen.setdefault(self._seen, (0, 0, ""))
        if len(seen) > 1:
            for conv, (row_, col_, text) in seen.items():
                if row_:
                    self._bad(
                        text,
                        row_,
                        col_,
                        "mixed decimal conventions in one table "
                        f"(this cell uses a decimal {'comma' if conv == ',' else 'point'}); "
                        "pass decimal=',' or '.'",
                    )
        elif seen:
            self._seen = next(iter(seen))

    def block(self, rows: Sequence[Sequence[Any]], r: CellRange) -> np.ndarray:
        """Coerce block ``r`` of ``rows`` (as from :func:`sheet_values`) to an array."""
        fast = plain_numbers([row[r.c1 - 1 : r.c2] for row in rows[r.r1 - 1 : r.r2]], r.shape)
        if fast is not None:
            return fast  # only numbers: nothing to settle, count or explain
        self._settle_convention(rows, r)
        out = np.empty(r.shape, dtype="float64")
        for i in range(r.shape[0]):
            row = rows[r.r1 - 1 + i] if r.r1 - 1 + i < len(rows) else ()
            for j in range(r.shape[1]):
                c = r.c1 - 1 + j
                out[i, j] = self.value(row[c] if c < len(row) else None, r.r1 + i, r.c1 + j)
        return out

    def raise_if_bad(self, path: Path, what: str) -> None:
        """Raise for non-numeric cells (all listed in ``.cells``) or uncached formulas."""
        if self.bad:
            unique: dict[tuple[str, str], BadCell] = {}
            for b in self.bad:
                unique.setdefault((b.sheet, b.cell), b)
            self.bad = list(unique.values())
            shown = "; ".join(
                f"{b} ({self.reasons[b.cell]})" if b.cell in self.reasons else str(b)
                for b in self.bad[:10]
            )
            more = f" (and {len(self.bad) - 10} more)" if len(self.bad) > 10 else ""
            raise NonNumericCellError(
                f"{path.name}: {len(self.bad)} non-numeric cell(s) in {what}: {shown}{more}; "
                "replace them with numbers (use 0 for no flow)",
                self.bad,
            )
        if self.blank_cells and path.suffix.lower() in (".xlsx", ".xlsm"):
            check_formulas(path, self.sheet, self.blank_cells)

    def notes(self) -> tuple[str, ...]:
        """Return human-readable remarks on what was coerced."""
        out = []
        if self.text_source and self.n_empty_string:
            out.append(f"{self.n_empty_string} empty-string cell(s) read as 0")
        elif not self.text_source and self.n_empty_string + self.n_blank:
            # a workbook: openpyxl tells a blank cell from an empty text, calamine does
            # not (both are ""), so the two are reported together, whichever read them
            n = self.n_empty_string + self.n_blank
            out.append(f"{n:,} empty cell(s) (blank or empty text) in the numbers read as 0")
        if self.n_text_number:
            rules = ", ".join(f"{k} ×{v}" for k, v in sorted(self.rules.items()))
            dec = self.decimal or self._seen or "."
            out.append(
                f"{self.n_text_number} number(s) stored as text were converted by the rules "
                f"{rules} (decimal separator {dec!r})"
            )
        return tuple(out)

    def issues(self) -> tuple[ReadIssue, ...]:
        """Return the warnings: cells marked not available (``…``, ``n.d.``, ``-``) read as 0."""
        n = self.rules.get("not_available", 0) + self.rules.get("dash", 0)
        if not n:
            return ()
        shown = ", ".join(self.not_available[:10]) + (" …" if n > 10 else "")
        return (
            ReadIssue(
                "not_available",
                f"{n} cell(s) marked not available or nil (…, n.d., -) were read as 0: {shown}; "
                "check that 0 is right for them",
                tuple(self.not_available),
            ),
        )


_NUMBER_TYPES = frozenset({float, int})


def plain_numbers(block: Sequence[Sequence[Any]], shape: tuple[int, int]) -> np.ndarray | None:
    """Return ``block`` as a float64 array when it is ``shape`` and every cell a number.

    A number is a finite ``int`` or ``float`` (not a bool, a text, a date or a blank):
    for these :meth:`Coercer.value` returns ``float(v)`` and records nothing, so converting
    the whole block at once gives the same array. Any other block returns None (the
    caller then coerces it cell by cell, naming the cells that are not numbers).
    """
    if len(block) != shape[0] or any(len(row) != shape[1] for row in block):
        return None
    if not set(map(type, chain.from_iterable(block))) <= _NUMBER_TYPES:
        return None
    try:
        out = np.array(block, dtype=np.float64).reshape(shape)
    except (OverflowError, ValueError, TypeError):  # an int beyond float64, say
        return None
    return out if np.isfinite(out).all() else None  # NaN or infinity: named cell by cell


def check_formulas(path: Path, sheet: str, cells: Sequence[tuple[int, int]]) -> None:
    """Raise FormulaError if blank-looking cells hold formulas without cached values."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # the data-only load succeeded; this one must not crash either
        raise FileFormatError(f"{path.name}: cannot read the formulas ({exc})") from exc
    try:
        if sheet not in wb.sheetnames:
            return
        ws = wb[sheet]
        wanted: dict[int, set[int]] = {}
        for r, c in cells:
            wanted.setdefault(r, set()).add(c)
        found = []
        lo, hi = min(wanted), max(wanted)
        rows = ws.iter_rows(min_row=lo, max_row=hi, values_only=True)
        try:
            for r, row in enumerate(rows, start=lo):
                for c in wanted.get(r, ()):
                    v = row[c - 1] if c - 1 < len(row) else None
                    if isinstance(v, str) and v.startswith("="):
                        found.append(f"{sheet}!{cell_ref(r, c)} {v[:40]}")
        except Exception as exc:
            raise FileFormatError(f"{path.name}: cannot read the formulas ({exc})") from exc
    finally:
        wb.close()
    if found:
        shown = "; ".join(found[:10]) + (
            f" (and {len(found) - 10} more)" if len(found) > 10 else ""
        )
        raise FormulaError(
            f"{path.name}: {len(found)} formula cell(s) without a stored value: {shown}; open the "
            "file in Excel or LibreOffice, recalculate and save it (or run `soffice --headless "
            "--convert-to xlsx FILE`) so that the values are stored with the formulas"
        )


def parse_isic(value: object) -> tuple[str, ...]:
    """Split a cell like ``"10; 11"`` or ``1020`` into ISIC code strings."""
    if value is None:
        return ()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return tuple(t for t in re.split(r"[;,\s]+", text.strip()) if t)


# ----------------------------------------------------------------------------- labels
# Unicode categories Cc (U+0000-U+001F, U+007F-U+009F), Zl (U+2028) and Zp (U+2029), as
# one character class: the same set as ``unicodedata.category(ch) in ("Cc", "Zl", "Zp")``
# (tested over every code point), searched in C instead of character by character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control(text: str) -> bool:
    """Return True if ``text`` holds a control character or a line/paragraph separator."""
    return _CONTROL.search(text) is not None


def strip_control(text: str) -> str:
    """Replace control characters and line separators by spaces, collapsing the spaces."""
    if not has_control(text):
        return text
    out = _CONTROL.sub(" ", text)
    return re.sub(r" {2,}", " ", out).strip()


@dataclass(slots=True)
class LabelCleaner:
    """Clean sector codes, names and table ids of control characters, recording the cells.

    A BEL or NUL in a name breaks workbook writers; U+0085 or U+2028 break lines in
    text tools. They are replaced by spaces and every cleaned cell is reported.
    """

    cells: list[str] = field(default_factory=list)

    def __call__(self, value: Any, where: str) -> str:
        """Return ``value`` as clean text; ``where`` names the cell (``"Sheet!C5"``)."""
        text = "" if value is None else str(value)
        clean = strip_control(text)
        if clean != text:
            self.cells.append(where)
        return clean

    def issues(self) -> tuple[ReadIssue, ...]:
        """One warning listing the cleaned cells, if any."""
        if not self.cells:
            return ()
        shown = ", ".join(self.cells[:10]) + (" …" if len(self.cells) > 10 else "")
        return (
            ReadIssue(
                "control_characters",
                f"{len(self.cells)} label(s) held control characters or line separators "
                f"(BEL, NUL, U+0085, U+2028 …), replaced by spaces: {shown}",
                tuple(self.cells),
            ),
        )


# ------------------------------------------------------------------------- text files
_DELIMITERS = (",", ";", "\t")
_C0 = bytes(b for b in range(32) if b not in (9, 10, 13))
_TEXT_PROBE = 1 << 20
_TEXT_PROBE_MAX = 1 << 26  # 64 MiB: a header line longer than this is not a table's


def _header_complete(data: bytes) -> bool:
    """Return True once ``data`` holds a line feed after its leading ``#`` lines."""
    pos = 0
    while data.startswith(b"#", pos):
        nl = data.find(b"\n", pos)
        if nl < 0:
            return False
        pos = nl + 1
    return data.find(b"\n", pos) >= 0


def _at_end(path: Path, data: bytes) -> bool:
    return len(data) >= path.stat().st_size


@dataclass(frozen=True, slots=True)
class TextTable:
    """A delimited text file read with the csv module (quoted line breaks kept in fields).

    Attributes
    ----------
    comments : list of (line, fields)
        Leading rows whose first field starts with ``#``.
    rows : list of list of str
        The rows after them (blank lines dropped).
    lines : list of int
        1-based line number where each row starts.
    delimiter, encoding : str
        As detected or given.
    notes : tuple of str
        What was detected (separator, encoding).
    issues : tuple of ReadIssue
        Warnings (a file that is not UTF-8).
    """

    comments: list[tuple[int, list[str]]]
    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    encoding: str
    notes: tuple[str, ...] = ()
    issues: tuple[ReadIssue, ...] = ()


def _decode(data: bytes, name: str, encoding: str | None, partial: bool) -> tuple[str, str]:
    """Decode ``data``: the given encoding, else UTF-8, else Windows-1252 (CEPAL's files)."""
    head = data[:_TEXT_PROBE]
    control = len(head) - len(head.translate(None, _C0))
    if control > max(8, len(head) // 50) and not (encoding or "").startswith("utf-16"):
        raise FileFormatError(
            f"{name}: {control} control bytes (NUL …) in the first {len(head):,}: not a text "
            "table (binary data, or UTF-16 text: save it as UTF-8 CSV, or pass "
            "encoding='utf-16')"
        )
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except LookupError as exc:
            raise TableReadError(f"unknown encoding {encoding!r}") from exc
        except UnicodeDecodeError as exc:
            if not (partial and exc.start > len(data) - 4):
                raise FileFormatError(
                    f"{name}: not {encoding} text ({exc.reason} at byte {exc.start}); "
                    "pass the file's encoding (encoding='cp1252', 'utf-8' …)"
                ) from exc
            return data[: exc.start].decode(encoding), encoding
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if partial and exc.start > len(data) - 4:
            return data[: exc.start].decode("utf-8-sig"), "utf-8"
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _count_fields(line: str, delimiter: str) -> int:
    """Fields of ``line`` split by ``delimiter``; 1 when one field exceeds the csv limit.

    The wrong separator makes the whole header of a wide table one field: over the csv
    module's 131,072 characters for about 15,000 sectors, which is not an error of the
    file but a sign that this is not its separator.
    """
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 1


def _pick_delimiter(line: str) -> str:
    """Return the separator splitting the header line into most fields (comma on ties)."""
    counts = {d: _count_fields(line, d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 1 else ","


def sniff_text(
    path: Path, encoding: str | None = None, delimiter: str | None = None
) -> tuple[str, str, list[str], str]:
    """Return (encoding, delimiter, header fields, first line) from the file's first MiB.

    Read on (up to 64 MiB) while the header line has not ended: a table of 20,000
    sectors with long country-sector codes has a header of about a megabyte.
    """
    with open(path, "rb") as fh:
        data = fh.read(_TEXT_PROBE)
        while not _header_complete(data) and len(data) < _TEXT_PROBE_MAX:
            # a header wider than the probe (20,000 long country-sector codes): read on
            # until the header line ends
            more = fh.read(len(data))
            if not more:
                break
            data += more
    text, enc = _decode(data, path.name, encoding, partial=not _at_end(path, data))
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    first = lines[0] if lines else ""
    header = next((ln for ln in lines if ln.strip() and not ln.startswith("#")), "")
    try:
        delim = delimiter or _pick_delimiter(header)
        fields = next(csv.reader([header], delimiter=delim), [])
    except csv.Error as exc:  # e.g. a bare carriage return inside the header line
        raise LayoutError(f"{path.name}: the header line is not valid CSV ({exc})") from exc
    return enc, delim, [f.strip() for f in fields], first


def read_text(path: Path, encoding: str | None = None, delimiter: str | None = None) -> TextTable:
    """Read a delimited text file (CSV, semicolon- or tab-separated) into rows.

    The csv module reads the file object itself, so only line feeds and carriage returns
    end a row:
    U+0085, U+2028 or a form feed inside a name stay in that name (``str.splitlines``
    would cut the row there).

    Raises
    ------
    FileFormatError
        The file does not decode with the encoding given.
    """
    if delimiter is not None and delimiter not in _DELIMITERS:
        raise TableReadError(f"delimiter must be one of ',', ';', tab; got {delimiter!r}")
    enc, delim, _header, _first = sniff_text(path, encoding, delimiter)
    try:
        comments, rows, lines = _csv_rows(path, enc, delim)
    except UnicodeDecodeError as exc:  # past the first MiB: not the encoding it looked like
        if encoding is not None:
            raise FileFormatError(
                f"{path.name}: not {encoding} text ({exc.reason}); pass the file's encoding "
                "(encoding='cp1252', 'utf-8' …)"
            ) from exc
        enc = "cp1252"
        try:
            comments, rows, lines = _csv_rows(path, enc, delim)
        except UnicodeDecodeError:
            enc = "latin-1"
            comments, rows, lines = _csv_rows(path, enc, delim)
    notes = []
    issues = []
    if delim != ",":
        notes.append(f"fields separated by {'tab' if delim == chr(9) else repr(delim)}")
    if enc in ("cp1252", "latin-1") and encoding is None:
        issues.append(
            ReadIssue(
                "encoding",
                f"{path.name} is not UTF-8 text; it was read as {enc} (Windows Latin-1), the "
                "usual encoding of files saved by Excel in Spanish; check accented names",
            )
        )
    return TextTable(comments, rows, lines, delim, enc, tuple(notes), tuple(issues))


def _csv_rows(
    path: Path, enc: str, delim: str
) -> tuple[list[tuple[int, list[str]]], list[list[str]], list[int]]:
    """Stream the file through the csv module: (leading # rows, rows, line of each row)."""
    comments: list[tuple[int, list[str]]] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    with open(path, encoding="utf-8-sig" if enc == "utf-8" else enc, newline="") as fh:
        reader = csv.reader(fh, delimiter=delim)
        start = 1
        try:
            for fields in reader:
                if not rows and fields and fields[0].startswith("#"):
                    comments.append((start, fields))
                elif fields and any(f.strip() for f in fields):
                    rows.append(fields)
                    lines.append(start)
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileFormatError(
                f"{path.name}: line {reader.line_num}: not valid CSV ({exc})"
            ) from exc
    return comments, rows, lines


def check_widths(table: TextTable, width: int, name: str) -> None:
    """Refuse rows shorter than the header (naming the line); trim empty trailing fields."""
    for k, row in enumerate(table.rows):
        if len(row) > width and not any(f.strip() for f in row[width:]):
            del row[width:]
        if len(row) != width:
            raise LayoutError(
                f"{name}: line {table.lines[k]} has {len(row)} field(s) but the header has "
                f"{width}; every row needs one field per column (empty fields for blanks)"
            )
