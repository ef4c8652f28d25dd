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

import csv
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import (
    FileFormatError,
    LayoutDetectionError,
    LayoutError,
    ResourceLimitError,
    SpecError,
    TableReadError,
)
from ..table import IOTable
from . import bcch, cepal, interchange, oecd, spec
from ._cells import (
    DEFAULT_LIMITS,
    Limits,
    file_sha256,
    inspect_package,
    open_workbook,
    require_file,
    sniff,
    workbook_notes,
)

log = logging.getLogger(__name__)

LAYOUTS: tuple[str, ...] = (bcch.NAME, cepal.NAME, oecd.NAME, spec.NAME, interchange.NAME)


def _csv_header(path: Path) -> tuple[list[str], bool]:
    """Return (header columns, has interchange magic) of a CSV file."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            magic = first.startswith(interchange.MAGIC)
            line = first
            while line.startswith("#"):
                line = fh.readline()
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the CSV as UTF-8"
        ) from exc
    header = next(csv.reader([line]), [])
    return [h.strip() for h in header], magic


def detect_layout(path: str | Path, wb: Any = None) -> str:
    """Return the name of the layout that fits ``path``.

    Raises
    ------
    LayoutDetectionError
        When no layout fits; the message says what was looked for.
    """
    p = require_file(path)
    kind = sniff(p)
    if kind == "text":
        header, magic = _csv_header(p)
        if magic or interchange.detect_header(header):
            return interchange.NAME
        if cepal.detect_columns(header):
            return cepal.NAME
        try:
            head = pd.read_csv(p, dtype=str, keep_default_na=False, nrows=200, encoding="utf-8-sig")
        except Exception as exc:
            raise FileFormatError(f"{p.name}: not a readable CSV file ({exc})") from exc
        if oecd.detect_frame(head):
            return oecd.NAME
        raise LayoutDetectionError(
            f"{p.name}: no known CSV layout (looked for the interchange header "
            "'kind,code,name,z:…', CEPAL columns Country_iso3/Nosector/Output, OECD "
            "TTL_/DOM_ rows with OUTPUT); pass --layout NAME or a spec .toml"
        )
    wb = wb if wb is not None else open_workbook(p)
    if "table" in wb.sheetnames:
        first = next(wb["table"].iter_rows(values_only=True, max_row=1), ())
        if interchange.detect_header([str(v) if v is not None else "" for v in first]):
            return interchange.NAME
    if bcch.detect(wb):
        return bcch.NAME
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True, max_row=30):
            if cepal.detect_columns([str(v).strip() if v is not None else "" for v in row]):
                return cepal.NAME
    first_ws = wb.worksheets[0]
    data = list(first_ws.iter_rows(values_only=True, max_row=200))
    if data:
        frame = pd.DataFrame(data[1:], columns=[str(c) for c in data[0]])
        if len(frame.columns) and oecd.detect_frame(frame):
            return oecd.NAME
    sheets = ", ".join(repr(s) for s in wb.sheetnames)
    if all(
        ws.max_row <= 1 and ws.max_column <= 1 and ws.cell(1, 1).value is None
        for ws in wb.worksheets
    ):
        raise LayoutDetectionError(f"{p.name}: the workbook is empty (sheets: {sheets})")
    raise LayoutDetectionError(
        f"{p.name}: no known workbook layout (sheets: {sheets}); looked for a BCCh "
        "'Glosas' sheet with 'Matriz de insumo-producto', CEPAL/OECD headers and the "
        "interchange 'table' sheet. Describe the layout in a spec .toml and pass "
        "--layout spec.toml"
    )


def read_table(
    path: str | Path,
    layout: str | Path | None = None,
    country: str | None = None,
    *,
    limits: Limits | None = None,
    **options: Any,
) -> IOTable:
    """Read an input-output table from a file.

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
        :class:`~io_clusters.readers._cells.Limits` for the defaults.
    **options
        Passed to the layout's reader (e.g. ``spec=`` for ``layout="spec"``).

    Returns
    -------
    IOTable
        With ``meta.source``, ``meta.sha256`` and ``meta.layout`` filled in. The
        table is *not* validated here: call :func:`io_clusters.validate`.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    TableReadError
        Any of its subclasses, with a message naming the sheet and cell.

    Examples
    --------
    >>> from io_clusters import read_table
    >>> t = read_table("CdeR2008_MIP_12x12.xlsx")  # doctest: +SKIP
    >>> t.n, t.meta.layout  # doctest: +SKIP
    (12, 'bcch-mip')
    """
    limits = limits or DEFAULT_LIMITS
    p = require_file(path, limits)
    if layout is not None and (str(layout).endswith(".toml") or isinstance(layout, Path)):
        options["spec"] = layout
        layout = spec.NAME
    if layout is not None and layout not in LAYOUTS:
        raise LayoutDetectionError(
            f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)} or a spec .toml"
        )
    kind = sniff(p)
    wb = None
    extra_notes: tuple[str, ...] = ()
    if kind in ("zip", "ole"):
        wb = open_workbook(p, limits)
        extra_notes = inspect_package(p, limits) + workbook_notes(wb)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        open_workbook(p, limits)  # raises a FileFormatError that says what the file is
    if layout is None:
        layout = detect_layout(p, wb)
        log.info("%s: detected layout %s", p.name, layout)
    if layout == spec.NAME and wb is None:
        raise SpecError(f"{p.name}: the spec layout reads workbooks (.xlsx); this is a text file")
    if layout == bcch.NAME and wb is None:
        raise LayoutError(f"{p.name}: the bcch-mip layout reads .xlsx workbooks")
    readers = {
        bcch.NAME: bcch.read,
        cepal.NAME: cepal.read,
        oecd.NAME: oecd.read,
        spec.NAME: spec.read,
        interchange.NAME: interchange.read,
    }
    try:
        table = readers[layout](p, wb=wb, country=country, **options)
    except TableReadError:
        raise
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise LayoutError(
            f"{p.name}: the file does not match the {layout!r} layout ({type(exc).__name__}: {exc})"
        ) from exc
    if table.n > limits.max_sectors:
        raise ResourceLimitError(
            f"{p.name}: {table.n:,} sectors exceed the limit of {limits.max_sectors:,} "
            "(raise it with Limits(max_sectors=…))"
        )
    meta = replace(
        table.meta,
        source=str(p),
        sha256=file_sha256(p),
        layout=layout,
        notes=(*table.meta.notes, *extra_notes),
    )
    return replace(table, meta=meta)


def write_table(table: IOTable, path: str | Path) -> Path:
    """Write ``table`` in the interchange format (``.csv`` or ``.xlsx``), atomically."""
    return interchange.write(table, path)


__all__ = ["LAYOUTS", "Limits", "detect_layout", "read_table", "write_table"]
