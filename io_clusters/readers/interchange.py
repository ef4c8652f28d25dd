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
  ``citation``, ``note``).

The xlsx variant holds the same grid in a sheet named ``table`` and the metadata as
two columns (key, value) in a sheet named ``meta``.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DuplicateCodeError, LayoutError
from ..table import IOTable, TableMeta, slug
from ._cells import Coercer, assemble, parse_isic

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
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = _grid_from_table(table)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "table"
            for row in grid:
                ws.append([_safe_text(v) for v in row])
            ws.freeze_panes = "D2"
            meta_ws = wb.create_sheet("meta")
            meta_ws.append(["key", "value"])
            for k, v in [("format", "io_clusters interchange v1"), *_meta_pairs(table)]:
                meta_ws.append([k, _safe_text(v)])
            wb.save(tmp)
        else:
            buf = io.StringIO()
            buf.write(f"{MAGIC} v1\n")
            for k, v in _meta_pairs(table):
                buf.write(f"# {k}: {' '.join(v.splitlines())}\n")
            writer = csv.writer(buf, lineterminator="\n")
            for row in grid:
                writer.writerow(["" if v is None else _csv_value(v) for v in row])
            Path(tmp).write_text(buf.getvalue(), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _csv_value(v: Any) -> Any:
    if isinstance(v, float):
        return repr(v)  # shortest round-tripping representation
    return _safe_text(v)


def _safe_text(v: Any) -> Any:
    """Escape text that a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _unescape(v: Any) -> Any:
    if isinstance(v, str) and len(v) > 1 and v[0] == "'" and v[1] in "=+-@\t\r":
        return v[1:]
    return v


def _parse_meta(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    meta: dict[str, Any] = {"notes": []}
    for k, v in pairs:
        k = k.strip().lower()
        if k == "note":
            meta["notes"].append(v)
        elif k == "year":
            meta["year"] = int(v) if str(v).strip() else None
        elif k in _META_KEYS:
            meta[k] = v
    return meta


def read(path: Path, wb: Any = None, **_: Any) -> IOTable:
    """Read an interchange CSV (``wb`` is None) or xlsx file."""
    if wb is None:
        text = path.read_text(encoding="utf-8-sig")
        lines = text.splitlines()
        pairs = []
        k = 0
        while k < len(lines) and lines[k].startswith("#"):
            body = lines[k][1:].strip()
            if ":" in body and not body.startswith("io_clusters interchange"):
                key, _, val = body.partition(":")
                pairs.append((key, val.strip()))
            k += 1
        rows = [tuple(r) for r in csv.reader(lines[k:])]
        sheet, first_line = path.name, k + 1
    else:
        if "table" not in wb.sheetnames:
            raise LayoutError(f"{path.name}: interchange workbook needs a sheet named 'table'")
        rows = [tuple(r) for r in wb["table"].iter_rows(values_only=True)]
        pairs = []
        if "meta" in wb.sheetnames:
            for r in list(wb["meta"].iter_rows(values_only=True))[1:]:
                if r and r[0] is not None:
                    pairs.append((str(r[0]), "" if r[1] is None else str(_unescape(r[1]))))
        sheet, first_line = "table", 1
    if not rows:
        raise LayoutError(f"{path.name}: the interchange grid is empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    if not detect_header(header):
        raise LayoutError(
            f"{path.name}: line {first_line}: header must start with kind,code,name and "
            f"have z:<code> columns; found {header[:5]}"
        )
    z_cols = [j for j, h in enumerate(header) if h.startswith("z:")]
    col_codes = [header[j][2:] for j in z_cols]
    if "x" not in header:
        raise LayoutError(f"{path.name}: line {first_line}: no output column 'x' in the header")
    x_col = header.index("x")
    fd_cols = [(j, h[3:]) for j, h in enumerate(header) if h.startswith("fd:")]
    body = rows[1:]
    kinds = [str(r[0]).strip() if r and r[0] is not None else "" for r in body]
    sector_rows = [i for i, kd in enumerate(kinds) if kd == "sector"]
    codes = [str(_unescape(body[i][1])).strip() for i in sector_rows]
    names = [str(_unescape(body[i][2])) for i in sector_rows]
    if len(set(codes)) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise DuplicateCodeError(f"{path.name}: duplicate sector codes {', '.join(dup)}")
    if codes != col_codes:
        raise LayoutError(
            f"{path.name}: the sector rows ({len(codes)}) and the z: columns "
            f"({len(col_codes)}) must list the same codes in the same order"
        )
    unknown = sorted({kd for kd in kinds if kd not in ("sector", "primary", "imports", "")})
    if unknown:
        raise LayoutError(f"{path.name}: unknown row kind(s) {unknown}; use sector/primary/imports")
    co = Coercer(sheet, text_source=wb is None)
    off = first_line  # spreadsheet row of body[0] is off + 1

    def cells(i: int, cols: list[int]) -> np.ndarray:
        return np.array(
            [co.value(body[i][j] if j < len(body[i]) else None, off + 1 + i, j + 1) for j in cols]
        )

    Z = np.array([cells(i, z_cols) for i in sector_rows]).reshape(len(codes), len(codes))
    x = np.array([cells(i, [x_col])[0] for i in sector_rows])
    fd = {name: np.array([cells(i, [j])[0] for i in sector_rows]) for j, name in fd_cols}
    va = {
        str(_unescape(body[i][1])): cells(i, z_cols)
        for i, kd in enumerate(kinds)
        if kd == "primary"
    }
    imp_rows = [i for i, kd in enumerate(kinds) if kd == "imports"]
    imports = cells(imp_rows[0], z_cols) if imp_rows else None
    co.raise_if_bad(path, "the interchange grid")
    isic = None
    if "isic" in header:
        j = header.index("isic")
        isic = tuple(parse_isic(body[i][j] if j < len(body[i]) else None) for i in sector_rows)
    meta = _parse_meta(pairs)
    for key in ("layout", "source", "sha256"):
        if meta.get(key):
            meta["notes"].insert(0, f"original {key}: {meta[key]}")
    contiguous = sector_rows == list(range(sector_rows[0], sector_rows[0] + len(codes)))
    return assemble(
        codes,
        names,
        Z,
        x,
        fd,
        va,
        imports,
        TableMeta(
            table_id=meta.get("table_id") or slug(path.stem),
            country=meta.get("country"),
            year=meta.get("year"),
            units=meta.get("units", ""),
            layout=NAME,
            sheet=sheet,
            z_origin=(off + 1 + sector_rows[0], z_cols[0] + 1) if contiguous else None,
            notes=tuple(meta["notes"]) + tuple(co.notes()),
            citation=meta.get("citation"),
            domestic=None,
            isic=isic,
        ),
    )
