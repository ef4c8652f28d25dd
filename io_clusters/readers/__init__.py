"""Readers of IO tables: one module per layout, chosen by name or detected.

=============== ============================================================
layout          files
=============== ============================================================
``bcch-mip``    Banco Central de Chile MIP workbooks (12 and 111 activities)
``cepal-lac``   CEPAL Latin American IOT rows (CSV or xlsx), one country
``oecd-iot``    OECD harmonised national IOTs (wide or long; CSV or xlsx)
``spec``        any workbook described by a TOML layout spec
``interchange`` io_clusters' own CSV/xlsx grid (written by ``write_table``)
=============== ============================================================
"""

from __future__ import annotations

import codecs
import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import (
    FileFormatError,
    LayoutDetectionError,
    LayoutError,
    OptionError,
    ResourceLimitError,
    SpecError,
    TableReadError,
)
from ..table import IOTable, ReadIssue
from ..validate import NEGATIVE_TOLERANCE, NEGATIVES, treat_negatives
from . import bcch, cepal, interchange, oecd, spec
from ._cells import (
    file_sha256,
    has_control,
    open_workbook,
    require_file,
    sheet_values,
    sniff,
    sniff_text,
    strip_control,
    workbook_notes,
)
from .package import DEFAULT_LIMITS, Limits, inspect_package

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reader:
    """One layout: its name, how it is recognised, how it is read.

    Attributes
    ----------
    name : str
        The layout name (``layout=`` of :func:`read_table`).
    read : callable
        ``read(path, wb, **options)`` returning an :class:`~io_clusters.IOTable`;
        ``wb`` is the opened workbook, or None for a text file.
    options : frozenset of str
        The keyword options ``read`` takes (``country``, ``decimal``, ``sheet`` …).
    detect_text : callable, optional
        ``detect_text(header_fields, head_rows)`` → bool, for text files.
    detect_workbook : callable, optional
        ``detect_workbook(wb)`` → bool, for workbooks.
    workbook_only : bool
        True when the layout reads only workbooks.
    """

    name: str
    read: Callable[..., IOTable]
    options: frozenset[str]
    detect_text: Callable[[list[str], list[list[str]]], bool] | None = None
    detect_workbook: Callable[[Any], bool] | None = None
    workbook_only: bool = False


def _interchange_workbook(wb: Any) -> bool:
    if "table" not in wb.sheetnames:
        return False
    first = next(iter(sheet_values(wb["table"])), ())
    return interchange.detect_header([str(v) if v is not None else "" for v in first])


def _cepal_workbook(wb: Any) -> bool:
    for ws in wb.worksheets:
        for row in sheet_values(ws)[:30]:
            if cepal.detect_columns([str(v).strip() if v is not None else "" for v in row]):
                return True
    return False


def _oecd_rows(rows: list[list[Any]]) -> bool:
    if not rows or not rows[0]:
        return False
    width = len(rows[0])
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=[str(c) for c in rows[0]], dtype=object)
    return bool(len(frame.columns)) and oecd.detect_frame(frame)


_TEXT_OPTIONS = frozenset({"decimal", "encoding", "delimiter"})

#: Every layout, in detection order (the interchange grid first: it is the most specific).
REGISTRY: dict[str, Reader] = {
    r.name: r
    for r in (
        Reader(
            interchange.NAME,
            interchange.read,
            _TEXT_OPTIONS,
            detect_text=lambda header, _rows: interchange.detect_header(header),
            detect_workbook=_interchange_workbook,
        ),
        Reader(
            bcch.NAME,
            bcch.read,
            frozenset({"sheet", "decimal"}),
            detect_workbook=bcch.detect,
            workbook_only=True,
        ),
        Reader(
            cepal.NAME,
            cepal.read,
            _TEXT_OPTIONS | {"country"},
            detect_text=lambda header, _rows: cepal.detect_columns(header),
            detect_workbook=_cepal_workbook,
        ),
        Reader(
            oecd.NAME,
            oecd.read,
            _TEXT_OPTIONS | {"country"},
            detect_text=lambda _header, rows: _oecd_rows(rows),
            detect_workbook=lambda wb: _oecd_rows(
                [list(r) for r in sheet_values(wb.worksheets[0])[:200]]
            ),
        ),
        Reader(spec.NAME, spec.read, frozenset({"spec", "decimal"}), workbook_only=True),
    )
}

LAYOUTS: tuple[str, ...] = (bcch.NAME, cepal.NAME, oecd.NAME, spec.NAME, interchange.NAME)


def _text_head(path: Path, encoding: str | None, delimiter: str | None) -> list[list[str]]:
    """Return the first 200 rows of a text file (for detection), split by its separator."""
    import csv
    import io

    enc, delim, _header, _first = sniff_text(path, encoding, delimiter)
    with open(path, "rb") as fh:
        data = fh.read(1 << 20)
    text = data.decode(enc if enc != "utf-8" else "utf-8-sig", errors="replace")
    rows = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        if row and not row[0].startswith("#") and any(f.strip() for f in row):
            rows.append([f.strip() for f in row])
            if len(rows) >= 200:
                break
    return rows


def detect_layout(
    path: str | Path,
    wb: Any = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> str:
    """Return the name of the layout that fits ``path``.

    Raises
    ------
    LayoutDetectionError
        When no layout fits; the message says what was looked for.
    """
    p = require_file(path)
    kind = sniff(p)
    if kind == "text":
        _enc, delim, header, first = sniff_text(p, encoding, delimiter)
        if first.startswith(interchange.MAGIC):
            return interchange.NAME
        try:
            rows = _text_head(p, encoding, delimiter)
        except Exception as exc:  # csv.Error on binary junk
            raise FileFormatError(f"{p.name}: not a readable CSV file ({exc})") from exc
        for reader in REGISTRY.values():
            if reader.detect_text is not None and reader.detect_text(header, rows):
                return reader.name
        sep = "" if delim == "," else f" (fields separated by {delim!r})"
        raise LayoutDetectionError(
            f"{p.name}: no known CSV layout{sep} (looked for the interchange header "
            "'kind,code,name,z:…', CEPAL columns Country_iso3/Nosector/Output, OECD "
            "TTL_/DOM_ rows with OUTPUT); pass --layout NAME or a spec .toml"
        )
    wb = wb if wb is not None else open_workbook(p)
    for reader in REGISTRY.values():
        if reader.detect_workbook is not None and reader.detect_workbook(wb):
            return reader.name
    sheets = ", ".join(repr(s) for s in wb.sheetnames)
    if all(not sheet_values(ws) for ws in wb.worksheets):
        raise LayoutDetectionError(f"{p.name}: the workbook is empty (sheets: {sheets})")
    raise LayoutDetectionError(
        f"{p.name}: no known workbook layout (sheets: {sheets}); looked for a BCCh "
        "'Glosas' sheet with 'Matriz de insumo-producto', CEPAL/OECD headers and the "
        "interchange 'table' sheet. Describe the layout in a spec .toml and pass "
        "--layout spec.toml"
    )


_READ_TABLE_OPTIONS = (
    "layout",
    "country",
    "limits",
    "spec",
    "sheet",
    "decimal",
    "encoding",
    "delimiter",
    "negatives",
    "negative_tolerance",
)


def _check_options(unknown: dict[str, Any], given: dict[str, Any]) -> None:
    """Raise OptionError for unknown option names and impossible values."""
    if unknown:
        hints = []
        for name in sorted(unknown):
            close = difflib.get_close_matches(name, _READ_TABLE_OPTIONS, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise OptionError(
            f"unknown option(s) for read_table: {', '.join(hints)}; "
            f"accepted: {', '.join(_READ_TABLE_OPTIONS)}"
        )
    if given.get("decimal") not in (None, ".", ","):
        raise OptionError(f"decimal must be '.' or ',', got {given['decimal']!r}")
    if given.get("delimiter") not in (None, ",", ";", "\t"):
        raise OptionError(f"delimiter must be ',', ';' or a tab, got {given['delimiter']!r}")
    if given.get("encoding") is not None:
        try:
            codecs.lookup(str(given["encoding"]))
        except LookupError:
            raise OptionError(f"unknown encoding {given['encoding']!r}") from None
    if given["negatives"] not in NEGATIVES:
        raise OptionError(
            f"negatives must be one of {', '.join(NEGATIVES)}, got {given['negatives']!r}"
        )
    tol = given["negative_tolerance"]
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 <= tol < 1:
        raise OptionError(f"negative_tolerance must be a number in [0, 1), got {tol!r}")


_META_TEXT = ("table_id", "units", "citation", "sheet")


def _clean_labels(table: IOTable) -> IOTable:
    """Last guard: no control character leaves a reader in any text of the table.

    Codes, names, final-demand and primary-input labels, the table id, units, citation,
    sheet name and notes. Workbooks may hold them escaped (Excel's ``_x0007_``), which
    python-calamine decodes as the standard says; they are replaced by spaces here, and
    one warning lists where.
    """
    bad = [
        k
        for k, (c, n) in enumerate(zip(table.codes, table.names, strict=True))
        if has_control(c) or has_control(n)
    ]
    where = [f"sector {strip_control(table.codes[k])!r} (row {k + 1})" for k in bad]
    fd = {str(c): strip_control(str(c)) for c in table.final_demand.columns}
    va = {str(c): strip_control(str(c)) for c in table.value_added.index}
    where += [f"final-demand column {new!r}" for old, new in fd.items() if old != new]
    where += [f"primary-input row {new!r}" for old, new in va.items() if old != new]
    meta = table.meta
    where += [k for k in _META_TEXT if (v := getattr(meta, k)) and has_control(v)]
    notes = tuple(strip_control(n) for n in meta.notes)
    if notes != meta.notes:
        where.append("notes")
    if not where:
        return table
    issue = ReadIssue(
        "control_characters",
        "labels held control characters or line separators, replaced by spaces: "
        + ", ".join(where[:10]),
        tuple(where),
    )
    codes = tuple(strip_control(c) for c in table.codes)
    mapping = dict(zip(table.codes, codes, strict=True))
    return replace(
        table,
        codes=codes,
        names=tuple(strip_control(n) for n in table.names),
        Z=table.Z.rename(index=mapping, columns=mapping),
        x=table.x.rename(index=mapping),
        final_demand=table.final_demand.rename(index=mapping, columns=fd),
        value_added=table.value_added.rename(index=va, columns=mapping),
        imports=None if table.imports is None else table.imports.rename(index=mapping),
        meta=replace(
            meta,
            table_id=strip_control(meta.table_id),
            units=strip_control(meta.units),
            citation=None if meta.citation is None else strip_control(meta.citation),
            sheet=None if meta.sheet is None else strip_control(meta.sheet),
            notes=notes,
            issues=(*meta.issues, issue),
        ),
    )


def read_table(
    path: str | Path,
    layout: str | Path | None = None,
    country: str | None = None,
    *,
    limits: Limits | None = None,
    spec: str | Path | dict[str, Any] | None = None,
    sheet: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    negatives: str = "keep",
    negative_tolerance: float = NEGATIVE_TOLERANCE,
    **unknown: Any,
) -> IOTable:
    r"""Read an input-output table from a file.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx`` workbook or a ``.csv`` file.
    layout : str or Path, optional
        One of :data:`LAYOUTS`, or the path of a layout spec ``.toml`` (implies
        ``"spec"``). Detected from the file's content when omitted.
    country : str, optional
        ISO3 code, for multi-country files (CEPAL LAC, OECD long format).
    limits : Limits, optional
        Resource limits (file size, uncompressed size, cells, sectors); see
        :class:`~io_clusters.readers.package.Limits` for the defaults.
    spec : path or dict, optional
        Layout spec of the ``spec`` layout (same as ``layout="spec.toml"``).
    sheet : str, optional
        Table sheet of a BCCh workbook holding several (by default the first, and a
        warning names it).
    decimal : {".", ","}, optional
        Decimal separator of numbers stored as text; detected from the unambiguous
        cells when omitted (a ``;``-separated text file defaults to ``","``).
    encoding : str, optional
        Encoding of a text file; default UTF-8, else Windows-1252 with a warning.
    delimiter : {",", ";", "\t"}, optional
        Field separator of a text file; detected from the header line when omitted.
    negatives : {"keep", "zero", "error"}, default "keep"
        What to do with *negligible* negative intermediate flows (no larger than
        ``negative_tolerance`` × the purchasing sector's output; rounding in official
        tables): ``"zero"`` sets them to 0 here (a warning names the cells),
        ``"keep"`` and ``"error"`` leave them for :func:`io_clusters.validate` (pass
        it the same value). Larger negatives are never changed.
    negative_tolerance : float, default :data:`io_clusters.validate.NEGATIVE_TOLERANCE`
        See ``negatives``.

    Returns
    -------
    IOTable
        With ``meta.source``, ``meta.sha256`` and ``meta.layout`` filled in. The
        table is *not* validated here: call :func:`io_clusters.validate`.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    OptionError
        An unknown option (``decimall=","``), an impossible value, or an option the
        layout does not take (``sheet=`` for a CSV file).
    TableReadError
        Any of its subclasses, with a message naming the sheet and cell.

    Examples
    --------
    >>> from io_clusters import read_table
    >>> t = read_table("CdeR2008_MIP_12x12.xlsx")  # doctest: +SKIP
    >>> t.n, t.meta.layout  # doctest: +SKIP
    (12, 'bcch-mip')
    >>> read_table("table.csv", decimall=",")  # doctest: +SKIP
    Traceback (most recent call last):
    OptionError: unknown option(s) for read_table: 'decimall' (did you mean 'decimal'?) …
    """
    given = {
        "country": country,
        "spec": spec,
        "sheet": sheet,
        "decimal": decimal,
        "encoding": encoding,
        "delimiter": delimiter,
        "negatives": negatives,
        "negative_tolerance": negative_tolerance,
    }
    _check_options(unknown, given)
    limits = limits or DEFAULT_LIMITS
    p = require_file(path, limits)
    layout = _layout_asked(layout, spec, given)
    wb, extra_notes = _open(p, limits)
    if layout is None:
        layout = detect_layout(p, wb, encoding=encoding, delimiter=delimiter)
        log.info("%s: detected layout %s", p.name, layout)
    reader = REGISTRY[str(layout)]
    options = _reader_options(reader, p, wb, given)
    try:
        table = reader.read(p, wb, **options)
    except TableReadError:
        raise
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise LayoutError(
            f"{p.name}: the file does not match the {layout!r} layout ({type(exc).__name__}: {exc})"
        ) from exc
    if table.n > limits.max_sectors:
        raise ResourceLimitError(
            f"{p.name}: {table.n:,} sectors exceed the limit of {limits.max_sectors:,} "
            "(raise it with --max-sectors N, or Limits(max_sectors=…))"
        )
    meta = replace(
        table.meta,
        source=str(p),
        sha256=file_sha256(p),
        layout=str(layout),
        notes=(*table.meta.notes, *extra_notes),
    )
    table = _clean_labels(replace(table, meta=meta))
    return treat_negatives(table, negatives, negative_tolerance)


def _layout_asked(
    layout: str | Path | None, spec: str | Path | dict[str, Any] | None, given: dict[str, Any]
) -> str | None:
    """Return the layout asked for (a spec path becomes ``"spec"``), or None to detect it."""
    if layout is not None and (str(layout).endswith(".toml") or isinstance(layout, Path)):
        given["spec"] = layout
        layout = "spec"
    elif layout is None and spec is not None:
        layout = "spec"
    if layout is not None and layout not in REGISTRY:
        raise LayoutDetectionError(
            f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)} or a spec .toml"
        )
    return None if layout is None else str(layout)


def _open(p: Path, limits: Limits) -> tuple[Any, tuple[str, ...]]:
    """Return (the opened workbook or None for a text file, notes on the package)."""
    kind = sniff(p)
    wb = None
    extra_notes: tuple[str, ...] = ()
    if kind in ("zip", "ole"):
        wb = open_workbook(p, limits)
        extra_notes = inspect_package(p, limits) + workbook_notes(wb)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        open_workbook(p, limits)  # raises a FileFormatError that says what the file is
    return wb, extra_notes


def _reader_options(reader: Reader, p: Path, wb: Any, given: dict[str, Any]) -> dict[str, Any]:
    """Return the options to pass to ``reader``; refuse those it does not take."""
    if reader.workbook_only and wb is None:
        err = SpecError if reader.name == "spec" else LayoutError
        raise err(
            f"{p.name}: the {reader.name} layout reads workbooks (.xlsx); this is a text file"
        )
    options = {
        k: v
        for k, v in given.items()
        if v is not None and k not in ("negatives", "negative_tolerance")
    }
    if "country" not in reader.options:
        options.pop("country", None)  # single-country layouts carry their own
    extra = sorted(set(options) - reader.options)
    if extra:
        raise OptionError(
            f"the {reader.name} layout takes no option {', '.join(extra)} "
            f"(it takes: {', '.join(sorted(reader.options)) or 'none'})"
        )
    return options


def write_table(table: IOTable, path: str | Path) -> Path:
    """Write ``table`` in the interchange format (``.csv`` or ``.xlsx``), atomically."""
    return interchange.write(table, path)


__all__ = ["LAYOUTS", "REGISTRY", "Limits", "Reader", "detect_layout", "read_table", "write_table"]
