"""The io_clusters interchange format (``interchange``): one grid, CSV or xlsx.

A table round-trips through this format without loss of its figures or provenance.

CSV layout::

    # io_clusters interchange v1
    # country: PER
    # year: 2011
    # units: millions of USD
    # note: any remark (repeatable)
    kind,code,name,z:s01,z:s02,x,fd:CONS,fd:EXP
    sector,s01,Agriculture,10,60,200,100,30
    sector,s02,Mining,5,20,300,10,265
    primary,VA,Value added,185,220,,,
    imports,IMP,Imported inputs,0,0,,,

* ``kind`` is ``sector`` (one row per sector, in table order), ``primary`` (a
  primary-input row: value-added component, taxes…) or ``imports`` (imported
  intermediate inputs by purchasing sector);
* columns ``z:<code>`` hold Z (rows sell to columns) and must list the sector codes
  in the same order as the ``sector`` rows; ``x`` is gross output; ``fd:<category>``
  are final-demand categories;
* lines starting with ``#`` before the header hold ``key: value`` metadata
  (``table_id``, ``country``, ``year``, ``units``, ``layout``, ``source``, ``sha256``,
  ``citation``, ``note``). Separators a spreadsheet pads them with (``# country:
  PER,,,,``) are stripped; ``country`` must be an ISO 3166 alpha-3 code and ``year`` a
  whole number, or the line is refused.

Reading uses the csv module on the file, so only line feeds end a row (a name holding
U+0085 or U+2028 stays one name). Files a Spanish-locale spreadsheet saves (separated
by ``;`` or tabs, decimal commas, Windows-1252 text) are recognised and said so. Every
row must have one field per header column; codes are stripped of surrounding spaces.
Writing replaces control characters and line separators in text by spaces (logged).

The xlsx variant holds the same grid in a sheet named ``table`` and the metadata as
two columns (key, value) in a sheet named ``meta``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..cellref import cell_ref
from ..errors import DuplicateCodeError, LayoutError
from ..export import atomic_path, escape_formula
from ..table import IOTable, ReadIssue, TableMeta, slug
from ._cells import (
    CellRange,
    Coercer,
    LabelCleaner,
    check_merged,
    check_widths,
    has_control,
    parse_isic,
    plain_numbers,
    read_text,
    sheet_values,
    sniff_text,
    strip_control,
)

log = logging.getLogger(__name__)

NAME = "interchange"
MAGIC = "# io_clusters interchange"
_META_KEYS = ("table_id", "country", "year", "units", "layout", "source", "sha256", "citation")


def detect_header(columns: list[str]) -> bool:
    """Return True if a header row is the interchange grid's."""
    return columns[:3] == ["kind", "code", "name"] and any(c.startswith("z:") for c in columns)


def _grid_from_table(table: IOTable) -> list[list[Any]]:
    fd_cols = [str(c) for c in table.final_demand.columns]
    isic = table.meta.isic
    header = [
        "kind",
        "code",
        "name",
        *(["isic"] if isic else []),
        *(f"z:{c}" for c in table.codes),
        "x",
    ]
    header += [f"fd:{c}" for c in fd_cols]
    grid: list[list[Any]] = [header]
    z = table.Z.to_numpy()
    fd = table.final_demand.to_numpy()
    for i, (code, name) in enumerate(zip(table.codes, table.names, strict=True)):
        extra = [";".join(isic[i])] if isic else []
        grid.append(
            ["sector", code, name, *extra, *z[i].tolist(), float(table.x.iloc[i]), *fd[i].tolist()]
        )
    pad = [None] * (1 + len(fd_cols))
    blank = [None] if isic else []
    for label, row in table.value_added.iterrows():
        grid.append(["primary", str(label), str(label), *blank, *row.to_numpy().tolist(), *pad])
    if table.imports is not None:
        grid.append(["imports", "IMP", "imports", *blank, *table.imports.to_numpy().tolist(), *pad])
    return grid


def _meta_pairs(table: IOTable) -> list[tuple[str, str]]:
    m = table.meta
    pairs = [(k, getattr(m, k)) for k in _META_KEYS]
    out = [
        (k, str(v))
        for k, v in pairs
        if v not in (None, "") and not (k == "layout" and v in ("arrays", "embedded", NAME))
    ]
    out += [("note", note) for note in m.notes]
    return out


def write(table: IOTable, path: str | Path) -> Path:
    """Write ``table`` in the interchange format, atomically.

    Parameters
    ----------
    table : IOTable
    path : str or Path
        ``.csv`` or ``.xlsx``; the format follows the extension.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    grid = _grid_from_table(table)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".xlsx":
            _write_xlsx(grid, _meta_pairs(table), tmp)
        else:
            buf = io.StringIO()
            buf.write(f"{MAGIC} v1\n")
            for k, v in _meta_pairs(table):
                buf.write(f"# {k}: {strip_control(v)}\n")
            writer = csv.writer(buf, lineterminator="\n")
            for row in grid:
                writer.writerow(["" if v is None else _csv_value(v) for v in row])
            tmp.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _write_xlsx(grid: list[list[Any]], pairs: list[tuple[str, str]], path: Path) -> None:
    """Write the grid to sheet ``table`` and the metadata to sheet ``meta``."""
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    wb = openpyxl.Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on one empty worksheet
    ws.title = "table"
    for row in grid:
        ws.append([_safe_text(v) for v in row])
    ws.freeze_panes = "D2"
    meta_ws = wb.create_sheet("meta")
    meta_ws.append(["key", "value"])
    for k, v in [("format", "io_clusters interchange v1"), *pairs]:
        meta_ws.append([k, _safe_text(v)])
    wb.save(path)


def _csv_value(v: Any) -> Any:
    if isinstance(v, float):
        return repr(v)  # shortest round-tripping representation
    return _safe_text(v)


def _safe_text(v: Any) -> Any:
    """Escape text that a spreadsheet would run as a formula (OWASP CSV injection).

    Control characters and line/paragraph separators (BEL, NUL, form feed, U+0085,
    U+2028 …) are replaced by spaces: workbook writers refuse them and text tools break
    lines at them.
    """
    if isinstance(v, str) and has_control(v):
        log.warning("text %r holds control characters; written with spaces instead", v[:40])
        v = strip_control(v)
    return escape_formula(v)


def _unescape(v: Any) -> Any:
    if isinstance(v, str) and len(v) > 1 and v[0] == "'" and v[1] in "=+-@\t\r":
        return v[1:]
    return v


_COUNTRY = re.compile(r"^[A-Z]{3}$")
_TRAILING = " \t,;"


def _meta_value(key: str, value: str, where: str) -> Any:
    """Check one metadata value; ``where`` names its line or cell for messages."""
    if key == "country":
        code = value.strip().upper()
        if code and not _COUNTRY.match(code):
            raise LayoutError(
                f"{where}: country {value!r} is not an ISO 3166 alpha-3 code (e.g. PER, CHL)"
            )
        return code or None
    if key == "year":
        if not value.strip():
            return None
        try:
            return int(value.strip())
        except ValueError:
            raise LayoutError(f"{where}: year {value!r} is not a whole number") from None
    return value


def _parse_meta(pairs: list[tuple[str, str, str]], clean: LabelCleaner) -> dict[str, Any]:
    """Metadata from (key, value, where) triples; unknown keys are ignored."""
    meta: dict[str, Any] = {"notes": []}
    for k, v, where in pairs:
        k = k.strip().lower()
        v = v.strip().rstrip(_TRAILING)
        if k == "note":
            meta["notes"].append(strip_control(v))
        elif k in _META_KEYS:
            meta[k] = _meta_value(k, clean(v, where) if k == "table_id" else v, where)
    return meta


def _comment_pairs(
    comments: list[tuple[int, list[str]]], delimiter: str, name: str
) -> list[tuple[str, str, str]]:
    """(key, value, where) from ``# key: value`` rows, padded by spreadsheets or not."""
    out = []
    for line, fields in comments:
        while fields and not fields[-1].strip():
            fields = fields[:-1]
        body = delimiter.join(fields)[1:].strip()
        if ":" in body and not body.startswith("io_clusters interchange"):
            key, _, val = body.partition(":")
            out.append((key, val, f"{name}: line {line}"))
    return out


def _csv_grid(
    path: Path, encoding: str | None, delimiter: str | None
) -> tuple[list[Sequence[Any]], list[int], list[tuple[str, str, str]], Any]:
    text = read_text(path, encoding, delimiter)
    pairs = _comment_pairs(text.comments, text.delimiter, path.name)
    if text.rows:
        check_widths(text, len(text.rows[0]), path.name)
    return [tuple(r) for r in text.rows], text.lines, pairs, text


def _xlsx_grid(
    path: Path, wb: Any
) -> tuple[list[Sequence[Any]], list[int], list[tuple[str, str, str]], Any]:
    if "table" not in wb.sheetnames:
        raise LayoutError(f"{path.name}: interchange workbook needs a sheet named 'table'")
    values = sheet_values(wb["table"])
    lines = [k + 1 for k, r in enumerate(values) if len(r)]  # empty rows are ()
    rows = [values[k - 1] for k in lines]
    pairs = []
    if "meta" in wb.sheetnames:
        for r, row in enumerate(sheet_values(wb["meta"])[1:], start=2):
            if row and row[0] is not None:
                value = "" if len(row) < 2 or row[1] is None else str(_unescape(row[1]))
                pairs.append((str(row[0]), value, f"{path.name}: meta!B{r}"))
    return rows, lines, pairs, None


def read(
    path: Path,
    wb: Any = None,
    *,
    decimal: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> IOTable:
    r"""Read an interchange CSV (``wb`` is None) or xlsx file.

    Parameters
    ----------
    path : Path
    wb : openpyxl.Workbook, optional
        The opened workbook of an xlsx file.
    decimal : {".", ","}, optional
        Decimal separator of numbers stored as text (detected when omitted; a file
        separated by ``;`` defaults to the decimal comma).
    encoding : str, optional
        Text encoding of a CSV file (default: UTF-8, else Windows-1252, said so).
    delimiter : {",", ";", "\t"}, optional
        Field separator of a CSV file (default: detected from the header line).
    """
    if wb is None:
        fast = _read_csv_fast(path, encoding, delimiter, decimal)
        if fast is not None:
            return fast
        rows, lines, pairs, text = _csv_grid(path, encoding, delimiter)
        sheet = path.name
    else:
        rows, lines, pairs, text = _xlsx_grid(path, wb)
        sheet = "table"
    if not rows:
        raise LayoutError(f"{path.name}: the interchange grid is empty")
    clean = LabelCleaner()
    header, z_cols, col_codes = _header(path, rows[0], lines[0], sheet, clean)
    x_col, fd_cols = _output_columns(header)
    body, body_lines = rows[1:], lines[1:]
    kinds, sector_rows, codes, names = _sectors(path, body, body_lines, sheet, clean, len(header))
    _check_codes(path, codes, col_codes, kinds)
    notes: list[str] = list(text.notes) if text is not None else []
    if wb is not None:
        last = max(z_cols[-1], x_col, *(j for j, _ in fd_cols))
        blocks = [CellRange("table", body_lines[0], z_cols[0] + 1, body_lines[-1], last + 1)]
        notes += check_merged(wb["table"], blocks, path)
    if decimal is None and text is not None and text.delimiter == ";":
        decimal = ","
        notes.append("decimal comma assumed (semicolon-separated file); pass decimal='.' if not")
    co = Coercer(sheet, text_source=wb is None, decimal=decimal)
    grid = _Body(body, body_lines, co)
    grid.settle([*z_cols, x_col, *(j for j, _ in fd_cols)])
    Z, x, fd = grid.sector_blocks(sector_rows, z_cols, x_col, fd_cols)
    va, imports = grid.input_rows(kinds, z_cols, clean, sheet)
    co.raise_if_bad(path, "the interchange grid")
    meta = _table_meta(
        path,
        pairs,
        clean,
        sheet=sheet,
        z_origin=_z_origin([body_lines[i] for i in sector_rows], z_cols[0]),
        notes=(*notes, *co.notes()),
        isic=grid.isic(header, sector_rows),
        issues=(*(text.issues if text is not None else ()), *co.issues()),
    )
    return IOTable.from_blocks(
        codes=codes,
        names=names,
        Z=Z,
        x=x,
        final_demand=fd,
        primary=va,
        imports=imports,
        meta=meta,
    )


def _output_columns(header: list[str]) -> tuple[int, list[tuple[int, str]]]:
    """Return the position of column ``x`` and (position, category) of the ``fd:`` columns."""
    x_col = header.index("x")
    fd_cols = [(j, h[3:].strip()) for j, h in enumerate(header) if h.startswith("fd:")]
    return x_col, fd_cols


def _z_origin(sector_lines: list[int], first_z_col: int) -> tuple[int, int] | None:
    """Return the top-left cell of Z when the sector rows are consecutive lines."""
    first = sector_lines[0]
    if sector_lines != list(range(first, first + len(sector_lines))):
        return None
    return (first, first_z_col + 1)


@dataclass(frozen=True)
class _Body:
    """The grid's rows under the header, the line of each, and their number coercer."""

    rows: list[Sequence[Any]]
    lines: list[int]
    co: Coercer

    def settle(self, num_cols: list[int]) -> None:
        """Settle the decimal separator from the text cells of the number columns."""
        body = self.rows
        lo, hi = min(num_cols), max(num_cols) + 1
        if str not in set(map(type, chain.from_iterable(r[lo:hi] for r in body))):
            return  # no text among the numbers: nothing to settle
        self.co.settle(
            (self.lines[i], j + 1, body[i][j])
            for i in range(len(body))
            for j in num_cols
            if j < len(body[i]) and isinstance(body[i][j], str) and "," in body[i][j]
        )

    def cells(self, i: int, cols: list[int]) -> np.ndarray:
        row, line = self.rows[i], self.lines[i]
        return np.array(
            [self.co.value(row[j] if j < len(row) else None, line, j + 1) for j in cols]
        )

    def sector_blocks(
        self, sector_rows: list[int], z_cols: list[int], x_col: int, fd_cols: list[tuple[int, str]]
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Return (Z, x, final demand) from the sector rows."""
        n = len(sector_rows)
        lo, hi = z_cols[0], z_cols[-1] + 1
        Z = None
        if z_cols == list(range(lo, hi)):
            Z = plain_numbers([self.rows[i][lo:hi] for i in sector_rows], (n, n))
        if Z is None:
            Z = np.array([self.cells(i, z_cols) for i in sector_rows]).reshape(n, n)
        x = np.array([self.cells(i, [x_col])[0] for i in sector_rows])
        fd = {name: np.array([self.cells(i, [j])[0] for i in sector_rows]) for j, name in fd_cols}
        return Z, x, fd

    def input_rows(
        self, kinds: list[str], z_cols: list[int], clean: LabelCleaner, sheet: str
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Return (primary-input rows by name, imported inputs or None)."""
        body = self.rows
        va = {
            clean(_unescape(body[i][1]), f"{sheet}!B{self.lines[i]}").strip(): self.cells(i, z_cols)
            for i, kd in enumerate(kinds)
            if kd == "primary"
        }
        imp_rows = [i for i, kd in enumerate(kinds) if kd == "imports"]
        imports = self.cells(imp_rows[0], z_cols) if imp_rows else None
        return va, imports

    def isic(self, header: list[str], sector_rows: list[int]) -> tuple[tuple[str, ...], ...] | None:
        """Return the ISIC codes of the sector rows (None without an ``isic`` column)."""
        if "isic" not in header:
            return None
        j = header.index("isic")
        body = self.rows
        return tuple(parse_isic(body[i][j] if j < len(body[i]) else None) for i in sector_rows)


def _header(
    path: Path, row: Sequence[Any], line: int, sheet: str, clean: LabelCleaner
) -> tuple[list[str], list[int], list[str]]:
    """Return (header fields, z: columns, their codes), or raise saying what is wrong."""
    header = [str(h).strip() if h is not None else "" for h in row]
    if not detect_header(header):
        raise LayoutError(
            f"{path.name}: line {line}: header must start with kind,code,name and have "
            f"z:<code> columns; found {header[:5]}"
            + (
                "; the file seems separated by semicolons or tabs: pass delimiter=';'"
                if len(header) == 1 and any(d in header[0] for d in ";\t")
                else ""
            )
        )
    if "x" not in header:
        raise LayoutError(f"{path.name}: line {line}: no output column 'x' in the header")
    z_cols = [j for j, h in enumerate(header) if h.startswith("z:")]
    codes = [clean(header[j][2:].strip(), f"{sheet}!{cell_ref(line, j + 1)}") for j in z_cols]
    return header, z_cols, codes


def _sectors(
    path: Path,
    body: list[Sequence[Any]],
    lines: list[int],
    sheet: str,
    clean: LabelCleaner,
    width: int,
) -> tuple[list[str], list[int], list[str], list[str]]:
    """Return (row kinds, positions of the sector rows, their codes, their names)."""
    for i, r in enumerate(body):
        if len(r) < min(width, 3):
            raise LayoutError(
                f"{path.name}: line {lines[i]} has {len(r)} field(s); the header has {width}"
            )
    kinds = [str(r[0]).strip() if r[0] is not None else "" for r in body]
    rows = [i for i, kd in enumerate(kinds) if kd == "sector"]
    if not rows:
        raise LayoutError(f"{path.name}: no 'sector' rows in the interchange grid")
    codes = [clean(str(_unescape(body[i][1])).strip(), f"{sheet}!B{lines[i]}") for i in rows]
    names = [clean(_unescape(body[i][2]), f"{sheet}!C{lines[i]}") for i in rows]
    return kinds, rows, codes, names


def _check_codes(path: Path, codes: list[str], col_codes: list[str], kinds: list[str]) -> None:
    """Refuse duplicate codes, rows and columns that disagree, unknown row kinds."""
    if len(set(codes)) != len(codes):
        dup = sorted(c for c, k in Counter(codes).items() if k > 1)
        raise DuplicateCodeError(f"{path.name}: duplicate sector codes {', '.join(dup)}")
    if codes != col_codes:
        both = zip(codes, col_codes, strict=False)
        k = next((i for i, (a, b) in enumerate(both) if a != b), None)
        raise LayoutError(
            f"{path.name}: the sector rows ({len(codes)}) and the z: columns "
            f"({len(col_codes)}) must list the same codes in the same order"
            + (f" (first difference: {codes[k]!r} vs {col_codes[k]!r})" if k is not None else "")
        )
    unknown = sorted({kd for kd in kinds if kd not in ("sector", "primary", "imports", "")})
    if unknown:
        raise LayoutError(f"{path.name}: unknown row kind(s) {unknown}; use sector/primary/imports")


def _table_meta(
    path: Path,
    pairs: list[tuple[str, str, str]],
    clean: LabelCleaner,
    *,
    sheet: str,
    z_origin: tuple[int, int] | None,
    notes: tuple[str, ...],
    isic: tuple[tuple[str, ...], ...] | None,
    issues: tuple[ReadIssue, ...],
) -> TableMeta:
    """Build the metadata from the file's ``key: value`` pairs and the reader's remarks."""
    meta = _parse_meta(pairs, clean)
    for key in ("layout", "source", "sha256"):
        if meta.get(key):
            meta["notes"].insert(0, f"original {key}: {meta[key]}")
    return TableMeta(
        table_id=meta.get("table_id") or slug(path.stem),
        country=meta.get("country"),
        year=meta.get("year"),
        units=meta.get("units", ""),
        layout=NAME,
        sheet=sheet,
        z_origin=z_origin,
        notes=(*meta["notes"], *notes),
        citation=meta.get("citation"),
        domestic=None,
        isic=isic,
        issues=(*issues, *clean.issues()),
    )


def _count_lines(path: Path) -> int:
    """Physical lines of a file (a last line without a line feed counts)."""
    n, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _fields(line: str, k: int, path: Path) -> list[str]:
    """Fields of one CSV line; a malformed line is a layout error naming it."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        raise LayoutError(f"{path.name}: line {k} is not valid CSV ({exc})") from exc


def _csv_head(path: Path, enc: str) -> tuple[list[tuple[int, list[str]]], list[str]] | None:
    """Return the ``#`` rows (line, fields) and the header of an interchange CSV, or None."""
    comments: list[tuple[int, list[str]]] = []
    with open(path, encoding="utf-8-sig" if enc == "utf-8" else enc, newline="") as fh:
        for k, line in enumerate(fh, start=1):
            if not line.startswith("#"):
                header = [h.strip() for h in _fields(line, k, path)]
                break
            comments.append((k, _fields(line, k, path)))
        else:
            return None
    if not detect_header(header) or "x" not in header:
        return None
    return comments, header


def _numeric_frame(path: Path, enc: str, skip: int, width: int, labels: list[int]) -> Any:
    """Parse the grid with pandas' C engine; None unless every number column is numeric."""
    import pandas as pd

    try:
        frame = pd.read_csv(
            path,
            sep=",",
            header=None,
            skiprows=skip,
            encoding=enc,
            # converters, not dtype: a dtype mapping makes pandas build one Series per
            # column (about 0.1 s for 2,000 columns); converters keep the labels as text
            converters={j: str for j in labels},
            keep_default_na=False,
            na_values=[""],
            engine="c",
            low_memory=False,
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    if frame.shape[1] != width or skip + len(frame) != _count_lines(path):
        return None  # a short row, a blank line or a quoted line break: explain slowly
    dtypes = frame.dtypes.tolist()
    if any(dtypes[j].kind not in "fiu" for j in range(width) if j not in labels):
        return None  # text (or only blanks) in a column of numbers
    return frame


def _read_csv_fast(
    path: Path, encoding: str | None, delimiter: str | None, decimal: str | None
) -> IOTable | None:
    """Read a clean interchange CSV with pandas' C parser; None when anything is unusual.

    Taken only when every check passes: comma-separated with decimal points, no blank
    line, no quoted line break, no blank or text cell in the numbers, no control
    character in a label, known row kinds, the same codes in rows and columns. Any
    other file (or any doubt) goes to the cell-by-cell reader, whose messages name the
    row, column and value. The values are the same either way: pandas parses decimal
    numbers to the nearest double, as ``float()`` does.
    """
    parsed = _fast_frame(path, encoding, delimiter, decimal)
    if parsed is None:
        return None
    enc, comments, header, frame = parsed
    labels = _label_columns(header)
    numeric = [j for j in range(len(header)) if j not in labels]
    text = frame[labels].fillna("")  # blank labels: '' as in the cell-by-cell reader
    if has_control(" ".join(v for col in text for v in text[col])):
        return None  # control characters are cleaned, cell by cell, with a warning
    kinds = [k.strip() for k in text[0]]
    sector = np.array([k == "sector" for k in kinds])
    z_cols = [j for j, h in enumerate(header) if h.startswith("z:")]
    codes = [c.strip() for c in np.asarray(text[1])[sector]]
    if (
        not sector.any()
        or set(kinds) - {"sector", "primary", "imports"}
        or codes != [header[j][2:].strip() for j in z_cols]
        or len(set(codes)) != len(codes)
        or any(str(_unescape(c)) != c for c in codes)
    ):
        return None
    contiguous_numbers = numeric == list(range(numeric[0], numeric[0] + len(numeric)))
    block = (
        frame.iloc[:, numeric[0] : numeric[-1] + 1]
        if contiguous_numbers
        else frame.iloc[:, numeric]
    )
    numbers = block.to_numpy(dtype="float64")  # a slice, when it can be, takes no column copy
    pos = {j: k for k, j in enumerate(numeric)}
    x_col, fd_cols = _output_columns(header)
    need = np.array([pos[j] for j in (*z_cols, x_col, *(j for j, _ in fd_cols))], dtype=np.intp)
    zpos = np.array([pos[j] for j in z_cols], dtype=np.intp)
    if not (
        np.isfinite(numbers[np.ix_(sector, need)]).all()
        and np.isfinite(numbers[np.ix_(~sector, zpos)]).all()
    ):
        return None
    first_sector = int(np.flatnonzero(sector)[0])
    contiguous = bool(sector[first_sector : first_sector + len(codes)].all())
    skip = len(comments) + 1
    return _fast_table(
        path,
        _FastGrid(text, numbers, pos, np.array(kinds), sector, codes, zpos),
        header,
        pairs=_comment_pairs(comments, ",", path.name),
        z_origin=(skip + 1 + first_sector, z_cols[0] + 1) if contiguous else None,
        issues=() if encoding is not None or enc == "utf-8" else _encoding_issue(path, enc),
    )


def _label_columns(header: list[str]) -> list[int]:
    """Return the positions of the text columns: kind, code, name (and isic)."""
    return [0, 1, 2] + ([header.index("isic")] if "isic" in header else [])


def _fast_frame(
    path: Path, encoding: str | None, delimiter: str | None, decimal: str | None
) -> tuple[str, list[tuple[int, list[str]]], list[str], Any] | None:
    """Return (encoding, ``#`` rows, header, frame) of a plain comma-separated file, or None."""
    if decimal == ",":
        return None
    enc, delim, _header, _first = sniff_text(path, encoding, delimiter)
    if delim != ",":
        return None
    head = _csv_head(path, enc)
    if head is None:
        return None
    comments, header = head
    width, skip = len(header), len(comments) + 1
    frame = _numeric_frame(path, enc, skip, width, _label_columns(header))
    if frame is None:
        return None
    return enc, comments, header, frame


@dataclass(frozen=True)
class _FastGrid:
    """The checked grid of the fast path: text columns, numbers and the sector rows."""

    text: Any
    numbers: np.ndarray
    pos: dict[int, int]
    kinds: np.ndarray
    sector: np.ndarray
    codes: list[str]
    zpos: np.ndarray


def _fast_table(
    path: Path,
    g: _FastGrid,
    header: list[str],
    *,
    pairs: list[tuple[str, str, str]],
    z_origin: tuple[int, int] | None,
    issues: tuple[ReadIssue, ...],
) -> IOTable:
    """Build the table from a grid that passed every check of the fast path."""
    x_col, fd_cols = _output_columns(header)
    numbers, pos, sector, zpos = g.numbers, g.pos, g.sector, g.zpos
    imp_rows = np.flatnonzero(g.kinds == "imports")
    names_all = np.asarray(g.text[2])
    clean = LabelCleaner()
    isic = None
    if "isic" in header:
        isic = tuple(
            parse_isic(v or None) for v in np.asarray(g.text[header.index("isic")])[sector]
        )
    return IOTable.from_blocks(
        codes=g.codes,
        names=[str(_unescape(n)) for n in names_all[sector]],
        Z=numbers[np.ix_(sector, zpos)],
        x=numbers[sector, pos[x_col]],
        final_demand={name: numbers[sector, pos[j]] for j, name in fd_cols},
        primary={
            str(_unescape(g.text[1].iat[i])).strip(): numbers[i, zpos]
            for i in np.flatnonzero(g.kinds == "primary")
        },
        imports=numbers[imp_rows[0], zpos] if len(imp_rows) else None,
        meta=_table_meta(
            path,
            pairs,
            clean,
            sheet=path.name,
            z_origin=z_origin,
            notes=(),
            isic=isic,
            issues=issues,
        ),
    )


def _encoding_issue(path: Path, enc: str) -> tuple[ReadIssue, ...]:
    return (
        ReadIssue(
            "encoding",
            f"{path.name} is not UTF-8 text; it was read as {enc} (Windows Latin-1), the "
            "usual encoding of files saved by Excel in Spanish; check accented names",
        ),
    )
