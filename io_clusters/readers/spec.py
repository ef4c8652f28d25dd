"""Reader driven by a user-written layout spec (``spec``): any square table in a workbook.

A spec is a small TOML file naming the cell ranges of each part of the table; see
``io_clusters/data/specs/example_spec.toml`` and the README for a worked example.

Keys of ``[table]``:

``sheet`` (required)
    Sheet holding the intermediate block; ranges without ``Sheet!`` refer to it.
``z`` (required)
    A1 range of the n×n intermediate block (rows sell to columns).
``row_codes`` (required)
    n cells with the sector codes of the block's rows.
``col_codes``
    n cells with the codes over the block's columns; checked against ``row_codes``.
``names``
    n cells with sector names (``"Glosas!C10:C49"`` reads another sheet).
``output`` (required)
    n cells with gross output (a column beside the block or a row below it).
``imports``
    n cells with imported intermediate inputs by purchasing sector.
``units``, ``year``, ``country``, ``table_id``, ``citation``
    Metadata.
``isic``
    n cells with each sector's ISIC Rev.4 codes (``"10; 11"``), for the evidence
    pairing of tables whose classification io_clusters has no concordance for.
``transposed``
    ``true`` when the file's block has buyers in rows (it is transposed on reading).

Tables ``[final_demand]`` and ``[value_added]`` map a category name to a range of
n cells each. A table ``[isic]`` maps every sector code to its ISIC Rev.4 code(s)
(``s01 = "01"``, ``s08 = ["1020", "1030"]``; the first is the main activity) — the
concordance that decides which sectors are services and pairs the evidence, for tables
whose classification io_clusters does not know (an alternative to the ``isic`` range).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..cellref import cell_ref
from ..errors import LayoutError, SpecError
from ..table import IOTable, TableMeta, slug
from ._cells import (
    CellRange,
    Coercer,
    LabelCleaner,
    SheetRange,
    check_merged,
    get_sheet,
    parse_isic,
    parse_range,
    sheet_values,
)

NAME = "spec"
_TABLE_KEYS = {
    "sheet",
    "z",
    "row_codes",
    "col_codes",
    "names",
    "output",
    "imports",
    "units",
    "year",
    "country",
    "table_id",
    "citation",
    "transposed",
    "isic",
}


def read_toml(path: str | Path) -> tuple[dict[str, Any], str]:
    """Return (parsed TOML, file name) of a layout spec: the one loader of every spec.

    Raises
    ------
    SpecError
        Missing file, unreadable or non-UTF-8 file, invalid TOML.
    """
    p = Path(path)
    if not p.exists():
        raise SpecError(f"layout spec {p} does not exist")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8")), p.name
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{p.name}: cannot read the spec ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p.name}: not valid TOML ({exc})") from exc


def load_spec(spec: str | Path | dict[str, Any]) -> dict[str, Any]:
    """Load and check a layout spec from a TOML path or an already-parsed dict.

    Raises
    ------
    SpecError
        Unreadable TOML, unknown or missing keys, malformed ranges.
    """
    if isinstance(spec, dict):
        data = spec
        where = "spec"
    else:
        data, where = read_toml(spec)
    table = data.get("table")
    if not isinstance(table, dict):
        raise SpecError(f"{where}: needs a [table] section (see the README's spec example)")
    _check_table(table, where)
    _check_sections(data, table, where)
    return {"where": where, **data}


def _check_table(table: dict[str, Any], where: str) -> None:
    """Refuse unknown or missing keys of ``[table]``, malformed ranges, country and year."""
    unknown = sorted(set(table) - _TABLE_KEYS)
    if unknown:
        raise SpecError(
            f"{where}: unknown key(s) in [table]: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TABLE_KEYS))}"
        )
    for key in ("sheet", "z", "row_codes", "output"):
        if key not in table:
            raise SpecError(f"{where}: [table] is missing the required key {key!r}")
    for key in ("z", "row_codes", "col_codes", "names", "output", "imports", "isic"):
        if key in table:
            parse_range(table[key])
    country = table.get("country")
    if country is not None and not re.fullmatch(r"[A-Z]{3}", str(country).strip().upper()):
        raise SpecError(
            f"{where}: country = {country!r} is not an ISO 3166 alpha-3 code (e.g. PER, CHL)"
        )
    year = table.get("year")
    if year is not None and not (
        (isinstance(year, int) and not isinstance(year, bool)) or str(year).strip().isdigit()
    ):
        raise SpecError(f"{where}: year = {year!r} must be a whole number (e.g. 2007)")


def _check_sections(data: dict[str, Any], table: dict[str, Any], where: str) -> None:
    """Refuse malformed ``[final_demand]``, ``[value_added]``, ``[isic]`` and unknown sections."""
    for section in ("final_demand", "value_added"):
        sec = data.get(section, {})
        if not isinstance(sec, dict):
            raise SpecError(f"{where}: [{section}] must map category names to ranges")
        for rng in sec.values():
            parse_range(rng)
    isic = data.get("isic")
    if isic is not None:
        if "isic" in table:
            raise SpecError(
                f"{where}: give ISIC codes either as the [table] isic range or "
                "as an [isic] table, not both"
            )
        if not isinstance(isic, dict) or not all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(c, str) for c in v))
            for v in isic.values()
        ):
            raise SpecError(
                f'{where}: [isic] must map sector codes to ISIC code text, e.g. s01 = "01" or '
                's08 = ["1020", "1030"]'
            )
    unknown_sections = sorted(set(data) - {"table", "final_demand", "value_added", "isic"})
    if unknown_sections:
        raise SpecError(f"{where}: unknown section(s) {', '.join(unknown_sections)}")


def _line(rows_by_sheet: dict[str, list], rng: SheetRange, co: Coercer | None) -> list[Any]:
    """Return the cells of a one-row or one-column range (raw, or coerced with ``co``)."""
    rows = rows_by_sheet[rng.sheet]
    out = []
    for r in range(rng.r1, rng.r2 + 1):
        row = rows[r - 1] if r - 1 < len(rows) else ()
        for c in range(rng.c1, rng.c2 + 1):
            v = row[c - 1] if c - 1 < len(row) else None
            out.append(co.value(v, r, c) if co is not None else v)
    return out


def read(
    path: Path,
    wb: Any,
    *,
    spec: str | Path | dict[str, Any] | None = None,
    decimal: str | None = None,
) -> IOTable:
    """Read the table described by ``spec`` from workbook ``wb``.

    Parameters
    ----------
    path : Path
        The workbook file (messages and provenance).
    wb : openpyxl.Workbook
    spec : path or dict
        The layout spec (see module docstring).
    decimal : {".", ","}, optional
        Decimal separator of numbers stored as text (detected when omitted).

    Returns
    -------
    IOTable
    """
    if spec is None:
        raise SpecError("the 'spec' layout needs a layout spec: pass layout='path/to/spec.toml'")
    s = load_spec(spec)
    t = s["table"]
    sh = _Sheets(wb, path, str(t["sheet"]), s["where"])
    ranges = _Ranges.resolve(sh, s)
    structure_notes = ranges.merged_notes(wb, path)
    clean = LabelCleaner()
    codes = _codes(sh, t, clean)
    names = _names(sh, t, codes, clean)
    isic = None
    if "isic" in t:
        isic = tuple(parse_isic(v) for v in sh.line(sh.vector("isic", t["isic"])))
    elif "isic" in s:
        isic = _isic_table(s["isic"], codes, s["where"])
    cos: dict[str, Coercer] = {}
    Z, x, fd, va, imports = ranges.values(sh, cos, decimal)
    _raise_if_bad(cos, path, sh.main, sh.where)
    z = ranges.z
    transposed = bool(t.get("transposed", False))
    year = t.get("year")
    notes = (*(note for co in cos.values() for note in co.notes()), *structure_notes)
    return IOTable.from_blocks(
        codes=codes,
        names=names,
        Z=Z.T if transposed else Z,
        x=x,
        final_demand=fd,
        primary=va,
        imports=imports,
        meta=TableMeta(
            table_id=clean(t["table_id"], f"spec {sh.where}: table_id")
            if t.get("table_id")
            else slug(path.stem),
            country=str(t["country"]).strip().upper() if t.get("country") else None,
            year=int(year) if year is not None else None,
            units=str(t.get("units", "")),
            layout=NAME,
            sheet=z.sheet,
            z_origin=None if transposed else (z.r1, z.c1),
            notes=(f"layout spec: {sh.where}", *notes),
            citation=t.get("citation"),
            isic=isic,
            issues=(*(i for co in cos.values() for i in co.issues()), *clean.issues()),
        ),
    )


def _names(sh: _Sheets, t: dict[str, Any], codes: list[str], clean: LabelCleaner) -> list[str]:
    """Sector names from the ``names`` range (a blank name is the code), else the codes."""
    if "names" not in t:
        return codes
    names_r = sh.vector("names", t["names"])
    return [
        clean(str(v).strip(), f"{names_r.sheet}!{cell_ref(*_nth(names_r, k))}")
        if v is not None
        else c
        for k, (v, c) in enumerate(zip(sh.line(names_r), codes, strict=True))
    ]


@dataclass(frozen=True)
class _Ranges:
    """The numeric ranges of a spec, resolved and checked against the block's size."""

    z: SheetRange
    output: SheetRange
    final_demand: dict[str, SheetRange]
    value_added: dict[str, SheetRange]
    imports: SheetRange | None

    @classmethod
    def resolve(cls, sh: _Sheets, s: dict[str, Any]) -> _Ranges:
        t = s["table"]
        z = sh.block(t["z"])
        out_r = sh.vector("output", t["output"])
        fd_r = {k: sh.vector(f"final_demand.{k}", v) for k, v in s.get("final_demand", {}).items()}
        va_r = {k: sh.vector(f"value_added.{k}", v) for k, v in s.get("value_added", {}).items()}
        imp_r = sh.vector("imports", t["imports"]) if "imports" in t else None
        return cls(z, out_r, fd_r, va_r, imp_r)

    def merged_notes(self, wb: Any, path: Path) -> list[str]:
        """Check every sheet's numeric ranges for merged cells; return the notes."""
        numeric = [self.z, self.output, *self.final_demand.values(), *self.value_added.values()]
        numeric += [self.imports] if self.imports else []
        notes: list[str] = []
        for sheet in sorted({r.sheet for r in numeric}):
            notes += check_merged(wb[sheet], [r for r in numeric if r.sheet == sheet], path)
        return notes

    def values(
        self, sh: _Sheets, cos: dict[str, Coercer], decimal: str | None
    ) -> tuple[
        np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray | None
    ]:
        """Return (Z, x, final demand, value added, imports); one coercer per sheet in ``cos``."""

        def co_for(r: SheetRange) -> Coercer:
            return cos.setdefault(r.sheet, Coercer(r.sheet, decimal=decimal))

        Z = co_for(self.z).block(sh.rows[self.z.sheet], self.z)
        x = np.array(sh.line(self.output, co_for(self.output)))
        fd = {k: np.array(sh.line(r, co_for(r))) for k, r in self.final_demand.items()}
        va = {k: np.array(sh.line(r, co_for(r))) for k, r in self.value_added.items()}
        imp_r = self.imports
        imports = np.array(sh.line(imp_r, co_for(imp_r))) if imp_r else None
        return Z, x, fd, va, imports


def _isic_table(table: dict[str, Any], codes: list[str], where: str) -> tuple[tuple[str, ...], ...]:
    """ISIC codes of every sector from the spec's ``[isic]`` table, in the table's order."""
    missing = [c for c in codes if c not in table]
    unknown = sorted(set(table) - set(codes))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"no ISIC code for sector(s) {', '.join(missing[:10])}")
        if unknown:
            parts.append(f"code(s) not in the table: {', '.join(unknown[:10])}")
        raise SpecError(f"{where}: [isic]: " + "; ".join(parts))
    out = []
    for c in codes:
        value = table[c]
        found = parse_isic(value) if isinstance(value, str) else tuple(str(v) for v in value)
        bad = [v for v in found if not (v.isdigit() and 2 <= len(v) <= 4)]
        if not found or bad:
            raise SpecError(f"{where}: [isic] {c} = {value!r}: ISIC Rev.4 codes have 2 to 4 digits")
        out.append(found)
    return tuple(out)


class _Sheets:
    """The spec's ranges resolved against the workbook, each sheet's values read once."""

    def __init__(self, wb: Any, path: Path, main: str, where: str):
        self.wb, self.path, self.main, self.where = wb, path, main, where
        self.rows: dict[str, list[Any]] = {}
        self.n = 0
        get_sheet(wb, main, path)

    def range(self, text: str) -> SheetRange:
        """Parse ``text``; ranges without a sheet refer to the main sheet, which must exist."""
        r = parse_range(text)
        sheet = r.sheet or self.main
        get_sheet(self.wb, sheet, self.path)
        if sheet not in self.rows:
            self.rows[sheet] = sheet_values(self.wb[sheet])
        return SheetRange(sheet, r.r1, r.c1, r.r2, r.c2)

    def block(self, text: str) -> SheetRange:
        """Return the square intermediate block (it fixes the number of sectors)."""
        z = self.range(text)
        n, m = z.shape
        if n != m:
            raise LayoutError(
                f"{self.path.name}: spec {self.where}: z = {z} is {n}×{m}; the intermediate "
                "block must be square (one row and one column per sector)"
            )
        self.n = n
        return z

    def vector(self, key: str, text: str) -> SheetRange:
        """Return a range of one row or one column of n cells, or raise."""
        r = self.range(text)
        if 1 not in r.shape or r.size != self.n:
            raise SpecError(
                f"spec {self.where}: {key} = {r} has {r.shape[0]}×{r.shape[1]} cells; it must be "
                f"one row or one column of {self.n} cells (the block has {self.n} sectors)"
            )
        return r

    def line(self, rng: SheetRange, co: Coercer | None = None) -> list[Any]:
        """Return the cells of a one-row or one-column range (coerced with ``co``)."""
        return _line(self.rows, rng, co)


def _code_text(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()


def _codes(sh: _Sheets, t: dict[str, Any], clean: LabelCleaner) -> list[str]:
    """Row codes (required, cleaned), checked against the column codes when given."""
    codes_r = sh.vector("row_codes", t["row_codes"])
    codes = []
    for k, v in enumerate(sh.line(codes_r)):
        cell = CellRange(codes_r.sheet, *_nth(codes_r, k), *_nth(codes_r, k))
        if v is None or str(v).strip() == "":
            raise LayoutError(f"{sh.path.name}: sector code missing at {cell}")
        codes.append(clean(_code_text(v), str(cell)))
    if "col_codes" not in t:
        return codes
    cc_r = sh.vector("col_codes", t["col_codes"])
    col_codes = [_code_text(v) for v in sh.line(cc_r)]
    if col_codes != codes:
        k = next(i for i, (a, b) in enumerate(zip(codes, col_codes, strict=True)) if a != b)
        col_cell = CellRange(cc_r.sheet, *_nth(cc_r, k), *_nth(cc_r, k))
        row_cell = CellRange(codes_r.sheet, *_nth(codes_r, k), *_nth(codes_r, k))
        raise LayoutError(
            f"{sh.path.name}: column code {col_codes[k]!r} at {col_cell} differs from row "
            f"code {codes[k]!r} at {row_cell}; "
            "rows and columns must list the sectors in the same order"
            + (" (is the block transposed or shifted?)" if set(col_codes) == set(codes) else "")
        )
    return codes


def _raise_if_bad(cos: dict[str, Coercer], path: Path, main: str, where: str) -> None:
    """Non-numeric cells of every sheet in one error, then formulas sheet by sheet."""
    bad = [b for co in cos.values() for b in co.bad]
    if bad:
        reasons = {k: v for co in cos.values() for k, v in co.reasons.items()}
        Coercer(main, bad=bad, reasons=reasons).raise_if_bad(path, f"the ranges of spec {where}")
    for co in cos.values():  # formulas without stored values, sheet by sheet
        co.raise_if_bad(path, f"the ranges of spec {where}")


def _nth(r: CellRange, k: int) -> tuple[int, int]:
    """(row, col) of the k-th cell of a one-row/one-column range."""
    return (r.r1 + k, r.c1) if r.shape[1] == 1 else (r.r1, r.c1 + k)
