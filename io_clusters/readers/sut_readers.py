"""Readers and writer of supply-use tables.

A ``[sut]`` layout spec reads workbooks (two blocks, possibly on two sheets); the
supply-use interchange format is CSV (or an xlsx ``supply_use`` sheet).

Spec keys of ``[sut]``: ``supply`` and ``use`` (products × industries ranges; the use
block may be on another sheet: ``"Utilizacion!C6:F9"``), ``products`` and
``industries`` (code ranges; ``use_products``/``use_industries`` are checked against
them when given), optional ``product_names``, ``industry_names``, ``imports_use``,
``units``, ``year``, ``country``, ``table_id``; tables ``[final_demand]`` (category =
p cells) and ``[value_added]`` (category = k cells).

Interchange (``# io_clusters supply-use v1``)::

    kind,code,name,i:I1,i:I2,fd:households
    supply,P1,Product 1,90,0,
    supply,P2,Product 2,10,100,
    use,P1,Product 1,20,30,40
    use,P2,Product 2,25,15,70
    primary,VA,Value added,55,55,
    industry,name,Industry names,Agro,Food,

(``imports_use`` rows may follow; an ``industry`` row gives the industries' names.)

Lines starting with ``#`` before the header hold ``key: value`` metadata
(``table_id``, ``country``, ``year``, ``units``, ``citation``, ``note``), as in the
table interchange format. The xlsx variant holds the same grid in a sheet named
``supply_use`` and the metadata as two columns (key, value) in a sheet named ``meta``.

Damaged files are refused with a documented error (a
:class:`~io_clusters.errors.TableReadError` subclass) naming the line or cell: the CSV
is read with the csv module (quoted line breaks, U+0085 or U+2028 stay in their field;
a malformed line is named); text that is not UTF-8 is read as Windows-1252 with a
warning (a UTF-16 byte-order mark is honoured); every row needs one field per header
column; codes are unique and not blank; the use (and imports_use) rows list the supply
rows' products in the same order. Control characters in labels are replaced by spaces
(a warning names the cells). Warnings travel in ``meta.issues``, reported by
:func:`~io_clusters.sut.validate_sut`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..cellref import cell_ref
from ..errors import DuplicateCodeError, LayoutError, OptionError, ResourceLimitError, SpecError
from ..export import atomic_path
from ..sut import SupplyUseTable
from ..table import ReadIssue, slug
from ._cells import (
    CellRange,
    Coercer,
    LabelCleaner,
    SheetRange,
    check_merged,
    check_widths,
    file_sha256,
    get_sheet,
    open_workbook,
    parse_range,
    read_text,
    require_file,
    sheet_values,
    sniff,
    strip_control,
)
from .interchange import _comment_pairs, _parse_meta, _safe_text, _unescape
from .package import DEFAULT_LIMITS
from .spec import read_toml

MAGIC = "# io_clusters supply-use"
_KEYS = {
    "supply",
    "use",
    "products",
    "industries",
    "use_products",
    "use_industries",
    "product_names",
    "industry_names",
    "imports_use",
    "units",
    "year",
    "country",
    "table_id",
}


def read_sut(
    path: str | Path,
    layout: str | Path | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> SupplyUseTable:
    r"""Read a supply-use table: a workbook with a ``[sut]`` spec, or the interchange format.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx`` workbook (with ``layout``, or a ``supply_use`` sheet) or an
        interchange ``.csv`` file.
    layout : str or Path, optional
        A layout spec ``.toml`` with a ``[sut]`` section.
    encoding : str, optional
        Encoding of a CSV file; default UTF-8 (UTF-16 with a byte-order mark), else
        Windows-1252 with a warning.
    delimiter : {",", ";", "\t"}, optional
        Field separator of a CSV file (default: detected from the header line).
    decimal : {".", ","}, optional
        Decimal separator of numbers stored as text (detected when omitted; a file
        separated by ``;`` defaults to the decimal comma).

    Returns
    -------
    SupplyUseTable
        Not validated here: call :func:`~io_clusters.sut.validate_sut`.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    TableReadError
        Any of its subclasses, with a message naming the file, line or cell and the
        problem (:class:`~io_clusters.errors.FileFormatError` for a corrupt or
        undecodable file, :class:`~io_clusters.errors.LayoutError` for a grid that does
        not follow the format, :class:`~io_clusters.errors.SpecError` for a bad spec).
    OptionError
        ``decimal`` or ``delimiter`` is not one of the values above.
    """
    p = require_file(path)
    if layout is not None:
        return _read_spec(p, Path(layout))
    if decimal not in (None, ".", ","):
        raise OptionError(f"decimal must be '.' or ',', got {decimal!r}")
    if delimiter not in (None, ",", ";", "\t"):
        raise OptionError(f"delimiter must be ',', ';' or a tab, got {delimiter!r}")
    if sniff(p) == "text":
        return _read_interchange_csv(p, encoding, delimiter, decimal)
    wb = open_workbook(p)
    if "supply_use" in wb.sheetnames:
        return _read_interchange_xlsx(p, wb, decimal)
    raise LayoutError(
        f"{p.name}: a supply-use workbook needs a layout spec with a [sut] section "
        "(--layout sut_spec.toml) or a 'supply_use' sheet in the interchange format"
    )


class _SutRanges:
    """The ranges of a ``[sut]`` spec resolved against the workbook, sheets read once."""

    def __init__(self, wb: Any, p: Path, spec_name: str, default: str):
        self.wb, self.p, self.spec_name, self.default = wb, p, spec_name, default
        self.rows: dict[str, list[Any]] = {}
        self.clean = LabelCleaner()
        self.notes: tuple[str, ...] = ()
        self.issues: tuple[ReadIssue, ...] = ()

    def coerced(self, r: SheetRange, what: str) -> np.ndarray:
        """Return the cells of ``r`` as numbers, or raise naming every bad cell."""
        co = Coercer(r.sheet)
        out = co.block(self.rows[r.sheet], r)
        co.raise_if_bad(self.p, what)
        self.notes += tuple(f"{what}: {n}" for n in co.notes())
        self.issues += co.issues()
        return out

    def range(self, text: str) -> SheetRange:
        """Return the range ``text`` (on the supply block's sheet unless it names one)."""
        r = parse_range(text)
        sheet = r.sheet or self.default
        get_sheet(self.wb, sheet, self.p)
        if sheet not in self.rows:
            self.rows[sheet] = sheet_values(self.wb[sheet])
        return SheetRange(sheet, r.r1, r.c1, r.r2, r.c2)

    def line(self, text: str, n: int, what: str) -> tuple[SheetRange, list[Any]]:
        """Return a one-row or one-column range of ``n`` cells and its raw values."""
        r = self.range(text)
        if 1 not in r.shape or r.size != n:
            raise SpecError(
                f"{self.spec_name}: {what} = {r} must be one row or column of {n} cells"
            )
        rows = self.rows[r.sheet]
        vals = []
        for rr in range(r.r1, r.r2 + 1):
            row = rows[rr - 1] if rr - 1 < len(rows) else ()
            for cc in range(r.c1, r.c2 + 1):
                vals.append(row[cc - 1] if cc - 1 < len(row) else None)
        return r, vals

    def codes(self, text: str, n: int, what: str) -> list[str]:
        """Return the codes of a range: none missing, none repeated."""
        r, vals = self.line(text, n, what)
        out = []
        for k, v in enumerate(vals):
            if v is None or str(v).strip() == "":
                at = (r.r1 + k, r.c1) if r.shape[1] == 1 else (r.r1, r.c1 + k)
                raise LayoutError(
                    f"{self.p.name}: {what}: code missing at {CellRange(r.sheet, *at, *at)}"
                )
            at = (r.r1 + k, r.c1) if r.shape[1] == 1 else (r.r1, r.c1 + k)
            out.append(self.clean(_text(v), str(CellRange(r.sheet, *at, *at))).strip())
        if len(set(out)) != len(out):
            dup = sorted(c for c, k in Counter(out).items() if k > 1)
            raise DuplicateCodeError(
                f"{self.p.name}: {what}: duplicate code(s) {', '.join(dup)} in {r}"
            )
        return out


def _check_size(p: Path, n_products: int, n_industries: int) -> None:
    """Refuse more products or industries than the sector limit of the table readers."""
    limit = DEFAULT_LIMITS.max_sectors
    if max(n_products, n_industries) > limit:
        raise ResourceLimitError(
            f"{p.name}: {n_products:,} products × {n_industries:,} industries exceed the "
            f"limit of {limit:,} sectors"
        )


def _sut_section(spec: dict[str, Any], spec_path: Path) -> dict[str, Any]:
    """Return the checked ``[sut]`` section of a supply-use spec."""
    t = spec.get("sut")
    if not isinstance(t, dict):
        raise SpecError(f"{spec_path.name}: a supply-use spec needs a [sut] section")
    unknown = sorted(set(t) - _KEYS)
    if unknown:
        raise SpecError(f"{spec_path.name}: unknown key(s) in [sut]: {', '.join(unknown)}")
    for key in ("supply", "use", "products", "industries"):
        if key not in t:
            raise SpecError(f"{spec_path.name}: [sut] is missing {key!r}")
    for key, v in t.items():
        if key != "year" and not isinstance(v, str):
            raise SpecError(
                f"{spec_path.name}: [sut] {key} must be text in quotes "
                f'(a cell range such as "C6:F9", or a label); got {v!r}'
            )
    if "year" in t and not re.fullmatch(r"\d{1,4}", str(t["year"]).strip()):
        raise SpecError(f"{spec_path.name}: [sut] year must be a whole number; got {t['year']!r}")
    if "country" in t and not re.fullmatch(r"[A-Za-z]{3}", t["country"].strip()):
        raise SpecError(
            f"{spec_path.name}: [sut] country {t['country']!r} is not an ISO 3166 alpha-3 "
            "code (e.g. PER, CHL)"
        )
    for section in ("final_demand", "value_added"):
        sec = spec.get(section, {})
        if not isinstance(sec, dict) or not all(isinstance(v, str) for v in sec.values()):
            raise SpecError(
                f'{spec_path.name}: [{section}] must be a table of label = "cell range" lines'
            )
    return t


def _read_spec(p: Path, spec_path: Path) -> SupplyUseTable:
    spec, _ = read_toml(spec_path)
    t = _sut_section(spec, spec_path)
    wb = open_workbook(p)
    first = parse_range(t["supply"])
    sr = _SutRanges(wb, p, spec_path.name, first.sheet or wb.sheetnames[0])
    S_r, U_r = sr.range(t["supply"]), sr.range(t["use"])
    if S_r.shape != U_r.shape:
        raise LayoutError(
            f"{p.name}: supply block {S_r} is {S_r.shape}, use block {U_r} is "
            f"{U_r.shape}; both must be products × industries of the same size"
        )
    n_p, n_k = S_r.shape
    _check_size(p, n_p, n_k)
    prods, inds = _spec_codes(sr, t, n_p, n_k)
    arrays = _spec_blocks(sr, t, {"supply": S_r, "use": U_r})
    fd, va = _spec_vectors(sr, spec, n_p, n_k)
    pnames = _spec_names(sr, t, "product_names", n_p)
    inames = _spec_names(sr, t, "industry_names", n_k)
    table_id = sr.clean(t["table_id"], f"{spec_path.name}: table_id") if "table_id" in t else ""
    import pandas as pd

    return SupplyUseTable.from_arrays(
        arrays["supply"],
        arrays["use"],
        final_demand=pd.DataFrame(fd) if fd else None,
        value_added=pd.DataFrame(va).T if va else None,
        products=prods,
        industries=inds,
        imports_use=arrays.get("imports_use"),
        product_names=pnames,
        industry_names=inames,
        table_id=table_id.strip() or slug(p.stem),
        country=t["country"].strip().upper() if "country" in t else None,
        year=int(str(t["year"]).strip()) if "year" in t else None,
        units=strip_control(t.get("units", "")),
        source=str(p),
        sha256=file_sha256(p),
        layout="sut-spec",
        notes=sr.notes,
        issues=(*sr.issues, *sr.clean.issues()),
    )


def _spec_codes(
    sr: _SutRanges, t: dict[str, Any], n_p: int, n_k: int
) -> tuple[list[str], list[str]]:
    """Return (product codes, industry codes), checked against the use block's when given."""
    prods = sr.codes(t["products"], n_p, "products")
    inds = sr.codes(t["industries"], n_k, "industries")
    for key, ref, n in (("use_products", prods, n_p), ("use_industries", inds, n_k)):
        if key in t and sr.codes(t[key], n, key) != ref:
            raise LayoutError(
                f"{sr.p.name}: {key} ({t[key]}) differ from the supply block's codes; "
                "both blocks must list products and industries in the same order"
            )
    return prods, inds


def _spec_blocks(
    sr: _SutRanges, t: dict[str, Any], blocks: dict[str, SheetRange]
) -> dict[str, np.ndarray]:
    """Return the supply, use (and imports_use) blocks as numbers, or raise naming cells."""
    if "imports_use" in t:
        blocks["imports_use"] = sr.range(t["imports_use"])
    for r in blocks.values():
        check_merged(sr.wb[r.sheet], [r], sr.p)
    return {name: sr.coerced(r, f"the {name} block {r}") for name, r in blocks.items()}


def _spec_vectors(
    sr: _SutRanges, spec: dict[str, Any], n_p: int, n_k: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return the ``[final_demand]`` (p cells) and ``[value_added]`` (k cells) vectors."""
    fd: dict[str, np.ndarray] = {}
    va: dict[str, np.ndarray] = {}
    for section, target, n in (("final_demand", fd, n_p), ("value_added", va, n_k)):
        for label, text in spec.get(section, {}).items():
            r, _ = sr.line(text, n, f"{section}.{label}")
            label = sr.clean(label, f"[{section}] {label[:40]!r}")
            target[label] = sr.coerced(r, f"{section} {label!r} ({r})").reshape(-1)
    return fd, va


def _spec_names(sr: _SutRanges, t: dict[str, Any], key: str, n: int) -> list[str] | None:
    """Return the names in range ``t[key]`` of ``n`` cells (None when not given)."""
    if key not in t:
        return None
    r, vals = sr.line(t[key], n, key)
    return [sr.clean(_text(v), f"{key}: {r}") for v in vals]


def _bom_encoding(p: Path) -> str | None:
    """Return ``"utf-16"`` when the file starts with a UTF-16 byte-order mark, else None."""
    with open(p, "rb") as fh:
        head = fh.read(2)
    return "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else None


def _read_interchange_csv(
    p: Path, encoding: str | None, delimiter: str | None, decimal: str | None
) -> SupplyUseTable:
    """Read the CSV variant: decoded with a fallback (said so), one field per header column."""
    bom = _bom_encoding(p) if encoding is None else None
    text = read_text(p, encoding or bom, delimiter)
    first = text.delimiter.join(text.comments[0][1]).strip() if text.comments else ""
    if not first.startswith(MAGIC):
        raise LayoutError(
            f"{p.name}: not a supply-use interchange file (its first '#' line must be "
            f"{MAGIC + ' v1'!r}; found {first[:40]!r})"
        )
    if not text.rows:
        raise LayoutError(f"{p.name}: no header line after the '#' lines")
    check_widths(text, len(text.rows[0]), p.name)
    notes = [*text.notes, *(["read as UTF-16 (byte-order mark)"] if bom else [])]
    if decimal is None and text.delimiter == ";":
        decimal = ","
        notes.append("decimal comma assumed (semicolon-separated file); pass decimal='.' if not")
    grid = _Grid(p, p.name, text.rows, text.lines, decimal=decimal)
    return grid.table(_comment_pairs(text.comments, text.delimiter, p.name), notes, text.issues)


def _read_interchange_xlsx(p: Path, wb: Any, decimal: str | None) -> SupplyUseTable:
    """Read the xlsx variant: the grid in sheet ``supply_use``, metadata in sheet ``meta``."""
    values = sheet_values(wb["supply_use"])
    lines = [k + 1 for k, r in enumerate(values) if any(_text(v).strip() for v in r)]
    if not lines:
        raise LayoutError(f"{p.name}: sheet 'supply_use' is empty")
    pairs = []
    if "meta" in wb.sheetnames:
        for r, row in enumerate(sheet_values(wb["meta"])[1:], start=2):
            if len(row) and row[0] is not None:
                value = "" if len(row) < 2 or row[1] is None else _text(_unescape(row[1]))
                pairs.append((_text(row[0]), value, f"{p.name}: meta!B{r}"))
    grid = _Grid(p, "supply_use", [values[k - 1] for k in lines], lines, decimal=decimal, wb=wb)
    return grid.table(pairs, [], ())


def _text(v: Any) -> str:
    """Return a label cell as text: ``""`` for a blank cell, whole numbers without ``.0``."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_ROW_KINDS = ("supply", "use", "imports_use", "primary")


class _Grid:
    """The rows of a supply-use grid (CSV, or sheet ``supply_use``) and the line of each.

    Every message names the file and the line (CSV) or cell; labels are cleaned of
    control characters (recorded), numbers coerced by :class:`Coercer` (every bad cell
    listed).
    """

    def __init__(
        self,
        p: Path,
        sheet: str,
        rows: list[Any],
        lines: list[int],
        *,
        decimal: str | None = None,
        wb: Any = None,
    ):
        self.p, self.sheet, self.rows, self.lines, self.wb = p, sheet, rows, lines, wb
        self.clean = LabelCleaner()
        self.co = Coercer(sheet, text_source=wb is None, decimal=decimal)

    def cell(self, i: int, j: int) -> Any:
        """Return the raw value of row ``i``, column ``j`` (0-based; None past the row's end)."""
        row = self.rows[i]
        return row[j] if j < len(row) else None

    def where(self, i: int, j: int) -> str:
        """Return ``"file.csv!D7"`` (CSV: file and line) or ``"supply_use!D7"``."""
        return f"{self.sheet}!{cell_ref(self.lines[i], j + 1)}"

    def label(self, i: int, j: int, *, strip: bool = True) -> str:
        """Return the text of a label cell, unescaped and cleaned of control characters."""
        text = self.clean(_unescape(_text(self.cell(i, j))), self.where(i, j))
        return text.strip() if strip else text

    def header(self) -> tuple[list[int], list[int], list[str], list[str]]:
        """Return (``i:`` columns, ``fd:`` columns, industry codes, final-demand categories)."""
        head = [_text(v).strip() for v in self.rows[0]]
        if head[:3] != ["kind", "code", "name"] or not any(h.startswith("i:") for h in head):
            hint = (
                "; the fields seem separated by another character"
                if len(head) == 1 and any(d in head[0] for d in ";\t|")
                else ""
            )
            raise LayoutError(
                f"{self.p.name}: line {self.lines[0]}: the header must start with "
                f"kind,code,name and have i:<industry> columns; found {head[:5]}{hint}"
            )
        icols = [j for j, h in enumerate(head) if h.startswith("i:")]
        fcols = [j for j, h in enumerate(head) if h.startswith("fd:")]
        inds = [self.clean(head[j][2:].strip(), self.where(0, j)) for j in icols]
        cats = [self.clean(head[j][3:].strip(), self.where(0, j)) for j in fcols]
        self._unique("industry", inds, [self.where(0, j) for j in icols])
        self._unique("final-demand category", cats, [self.where(0, j) for j in fcols])
        return icols, fcols, inds, cats

    def _unique(self, what: str, codes: list[str], places: list[str]) -> None:
        """Refuse blank or repeated codes, naming their cells or lines."""
        for code, place in zip(codes, places, strict=True):
            if not code:
                raise LayoutError(f"{self.p.name}: {what} code missing at {place}")
        dup = sorted(c for c, k in Counter(codes).items() if k > 1)
        if dup:
            at = [pl for c, pl in zip(codes, places, strict=True) if c == dup[0]]
            raise DuplicateCodeError(
                f"{self.p.name}: duplicate {what} code(s) {', '.join(map(repr, dup))} "
                f"({dup[0]!r} at {', '.join(at)})"
            )

    def kinds(self) -> tuple[dict[str, list[int]], int | None]:
        """Return the positions of the rows of each kind, and of the ``industry`` row."""
        found: dict[str, list[int]] = {k: [] for k in _ROW_KINDS}
        industry: list[int] = []
        for i in range(1, len(self.rows)):
            kind = _text(self.cell(i, 0)).strip()
            if kind == "industry":
                industry.append(i)
            elif kind in found:
                found[kind].append(i)
            else:
                hint = " ('#' lines go before the header)" if kind.startswith("#") else ""
                raise LayoutError(
                    f"{self.p.name}: line {self.lines[i]}: unknown kind {kind[:40]!r}{hint} "
                    "(supply/use/imports_use/primary/industry)"
                )
        if len(industry) > 1:
            raise LayoutError(
                f"{self.p.name}: lines {', '.join(str(self.lines[i]) for i in industry)}: "
                "more than one 'industry' row"
            )
        if not found["supply"]:
            raise LayoutError(f"{self.p.name}: no 'supply' rows in the supply-use grid")
        return found, industry[0] if industry else None

    def codes(self, kind: str, idx: list[int]) -> list[str]:
        """Return the codes of the rows ``idx`` (column B), unique and not blank."""
        codes = [self.label(i, 1) for i in idx]
        self._unique(f"{kind}-row", codes, [self.where(i, 1) for i in idx])
        return codes

    def same_products(self, kind: str, idx: list[int], prods: list[str]) -> None:
        """Refuse ``use``/``imports_use`` rows that do not list the supply rows' products."""
        codes = [self.label(i, 1) for i in idx]
        if codes == prods:
            return
        k = next((k for k, (a, b) in enumerate(zip(codes, prods, strict=False)) if a != b), None)
        where = (
            f"; first difference at {self.where(idx[k], 1)}: {codes[k]!r}, expected {prods[k]!r}"
            if k is not None
            else ""
        )
        raise LayoutError(
            f"{self.p.name}: the {kind} rows ({len(codes)}) must list the same products, in "
            f"the same order, as the supply rows ({len(prods)}){where}"
        )

    def numbers(self, idx: list[int], cols: list[int]) -> np.ndarray:
        """Return the cells of rows ``idx`` × columns ``cols`` as floats (bad cells recorded)."""
        out = np.zeros((len(idx), len(cols)))
        for a, i in enumerate(idx):
            for b, j in enumerate(cols):
                out[a, b] = self.co.value(self.cell(i, j), self.lines[i], j + 1)
        return out

    def settle(self, cols: list[int]) -> None:
        """Let the number cells holding a comma fix the decimal separator."""
        self.co.settle(
            (self.lines[i], j + 1, v)
            for i in range(1, len(self.rows))
            for j in cols
            if isinstance(v := self.cell(i, j), str) and "," in v
        )

    def table(
        self, pairs: list[tuple[str, str, str]], notes: list[str], issues: tuple[ReadIssue, ...]
    ) -> SupplyUseTable:
        """Return the supply-use table of the grid, or raise naming the line or cell."""
        icols, fcols, inds, cats = self.header()
        rows, industry = self.kinds()
        _check_size(self.p, len(rows["supply"]), len(icols))
        prods = self.codes("supply", rows["supply"])
        self.same_products("use", rows["use"], prods)
        if rows["imports_use"]:
            self.same_products("imports_use", rows["imports_use"], prods)
        va_labels = self.codes("primary", rows["primary"])
        self.settle(icols + fcols)
        blocks = {k: self.numbers(rows[k], icols) for k in _ROW_KINDS}
        fd = self.numbers(rows["use"], fcols)
        if self.wb is not None:
            block = CellRange("supply_use", self.lines[1], 1, self.lines[-1], len(self.rows[0]))
            notes = [*notes, *check_merged(self.wb["supply_use"], [block], self.p)]
        self.co.raise_if_bad(self.p, "the supply-use grid")
        meta = _parse_meta(pairs, self.clean)
        import pandas as pd

        return SupplyUseTable.from_arrays(
            blocks["supply"],
            blocks["use"],
            final_demand=pd.DataFrame(fd, columns=cats) if fcols else None,
            value_added=pd.DataFrame(blocks["primary"], index=va_labels) if va_labels else None,
            products=prods,
            industries=inds,
            imports_use=blocks["imports_use"] if rows["imports_use"] else None,
            product_names=[self.label(i, 2, strip=False) for i in rows["supply"]],
            industry_names=None
            if industry is None
            else [self.label(industry, j, strip=False) for j in icols],
            table_id=meta.get("table_id") or slug(self.p.stem),
            country=meta.get("country"),
            year=meta.get("year"),
            units=strip_control(str(meta.get("units", ""))),
            citation=strip_control(meta["citation"]) if meta.get("citation") else None,
            source=str(self.p),
            sha256=file_sha256(self.p),
            layout="sut-interchange",
            sheet=self.sheet,
            notes=(*meta["notes"], *notes, *self.co.notes()),
            issues=(*issues, *self.co.issues(), *self.clean.issues()),
        )


def _sut_grid(sut: SupplyUseTable) -> list[list[Any]]:
    """Return the interchange grid of ``sut``: header, then the rows by kind (None: blank)."""
    fd_cols = [str(c) for c in sut.final_demand.columns]
    grid: list[list[Any]] = [
        ["kind", "code", "name", *(f"i:{c}" for c in sut.industries), *(f"fd:{c}" for c in fd_cols)]
    ]
    pad: list[Any] = [None] * len(fd_cols)
    S, U, Y = (f.to_numpy().tolist() for f in (sut.supply, sut.use, sut.final_demand))
    for i, (code, name) in enumerate(zip(sut.products, sut.product_names, strict=True)):
        grid.append(["supply", code, name, *S[i], *pad])
    for i, (code, name) in enumerate(zip(sut.products, sut.product_names, strict=True)):
        grid.append(["use", code, name, *U[i], *Y[i]])
    if sut.imports_use is not None:
        M = sut.imports_use.to_numpy().tolist()
        grid += [["imports_use", code, code, *M[i], *pad] for i, code in enumerate(sut.products)]
    for label, row in sut.value_added.iterrows():
        grid.append(["primary", str(label), str(label), *row.to_numpy().tolist(), *pad])
    grid.append(["industry", "name", "industry names", *sut.industry_names, *pad])
    return grid


def _sut_meta(sut: SupplyUseTable) -> list[tuple[str, str]]:
    """Return the (key, value) metadata pairs written with a supply-use table."""
    m = sut.meta
    pairs = [(k, getattr(m, k)) for k in ("table_id", "country", "year", "units", "citation")]
    return [(k, strip_control(str(v))) for k, v in pairs if v not in (None, "")]


def write_sut(sut: SupplyUseTable, path: str | Path) -> Path:
    """Write ``sut`` in the supply-use interchange format, atomically.

    ``.xlsx`` writes a workbook (sheets ``supply_use`` and ``meta``); any other suffix
    writes CSV. Text a spreadsheet would run as a formula is escaped; control
    characters in text are replaced by spaces (logged).
    """
    path = Path(path)
    grid = _sut_grid(sut)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".xlsx":
            _write_sut_xlsx(grid, _sut_meta(sut), tmp)
            return path
        out = io.StringIO()
        out.write(f"{MAGIC} v1\n")
        for k, v in _sut_meta(sut):
            out.write(f"# {k}: {v}\n")
        w = csv.writer(out, lineterminator="\n")
        for row in grid:
            w.writerow([_csv_field(v) for v in row])
        tmp.write_text(out.getvalue(), encoding="utf-8")
    return path


def _csv_field(v: Any) -> Any:
    """Return a grid value as a CSV field: blank, shortest round-tripping float, safe text."""
    if v is None:
        return ""
    return repr(v) if isinstance(v, float) else _safe_text(v)


def _write_sut_xlsx(grid: list[list[Any]], pairs: list[tuple[str, str]], path: Path) -> None:
    """Write the grid to sheet ``supply_use`` and the metadata to sheet ``meta``."""
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    wb = openpyxl.Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on one empty worksheet
    ws.title = "supply_use"
    for row in grid:
        ws.append([_safe_text(v) for v in row])
    meta_ws = wb.create_sheet("meta")
    meta_ws.append(["key", "value"])
    for k, v in [("format", f"{MAGIC[2:]} v1"), *pairs]:
        meta_ws.append([k, _safe_text(v)])
    wb.save(path)
