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
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LayoutError, SpecError
from ..export import atomic_path
from ..sut import SupplyUseTable
from ..table import slug
from ._cells import (
    CellRange,
    Coercer,
    SheetRange,
    check_merged,
    file_sha256,
    get_sheet,
    open_workbook,
    parse_range,
    require_file,
    sheet_values,
    sniff,
)
from .interchange import _safe_text, _unescape
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


def read_sut(path: str | Path, layout: str | Path | None = None) -> SupplyUseTable:
    """Read a supply-use table: a workbook with a ``[sut]`` spec, or the interchange format."""
    p = require_file(path)
    if layout is not None:
        return _read_spec(p, Path(layout))
    if sniff(p) == "text":
        return _read_interchange_csv(p)
    wb = open_workbook(p)
    if "supply_use" in wb.sheetnames:
        rows = [tuple(r) for r in wb["supply_use"].iter_rows(values_only=True)]
        text = io.StringIO()
        csv.writer(text).writerows([["" if v is None else v for v in r] for r in rows])
        return _parse_grid(p, list(csv.reader(io.StringIO(text.getvalue()))), [], "supply_use")
    raise LayoutError(
        f"{p.name}: a supply-use workbook needs a layout spec with a [sut] section "
        "(--layout sut_spec.toml) or a 'supply_use' sheet in the interchange format"
    )


class _SutRanges:
    """The ranges of a ``[sut]`` spec resolved against the workbook, sheets read once."""

    def __init__(self, wb: Any, p: Path, spec_name: str, default: str):
        self.wb, self.p, self.spec_name, self.default = wb, p, spec_name, default
        self.rows: dict[str, list[Any]] = {}

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
            out.append(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
        if len(set(out)) != len(out):
            dup = sorted(c for c, k in Counter(out).items() if k > 1)
            raise LayoutError(f"{self.p.name}: {what}: duplicate code(s) {', '.join(dup)} in {r}")
        return out


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
    prods, inds = _spec_codes(sr, t, n_p, n_k)
    arrays = _spec_blocks(sr, t, {"supply": S_r, "use": U_r})
    fd, va = _spec_vectors(sr, spec, n_p, n_k)
    pnames = _spec_names(sr, t, "product_names", n_p)
    inames = _spec_names(sr, t, "industry_names", n_k)
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
        table_id=t.get("table_id") or slug(p.stem),
        country=t.get("country"),
        year=int(t["year"]) if "year" in t else None,
        units=str(t.get("units", "")),
        source=str(p),
        sha256=file_sha256(p),
        layout="sut-spec",
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
    arrays = {}
    for name, r in blocks.items():
        co = Coercer(r.sheet)
        arrays[name] = co.block(sr.rows[r.sheet], r)
        co.raise_if_bad(sr.p, f"the {name} block {r}")
    return arrays


def _spec_vectors(
    sr: _SutRanges, spec: dict[str, Any], n_p: int, n_k: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return the ``[final_demand]`` (p cells) and ``[value_added]`` (k cells) vectors."""
    fd: dict[str, np.ndarray] = {}
    va: dict[str, np.ndarray] = {}
    for section, target, n in (("final_demand", fd, n_p), ("value_added", va, n_k)):
        for label, text in spec.get(section, {}).items():
            r, _ = sr.line(text, n, f"{section}.{label}")
            co = Coercer(r.sheet)
            target[label] = co.block(sr.rows[r.sheet], r).reshape(-1)
            co.raise_if_bad(sr.p, f"{section} {label!r} ({r})")
    return fd, va


def _spec_names(sr: _SutRanges, t: dict[str, Any], key: str, n: int) -> list[str] | None:
    """Return the names in range ``t[key]`` of ``n`` cells (None when not given)."""
    if key not in t:
        return None
    return [str(v) for v in sr.line(t[key], n, key)[1]]


def _read_interchange_csv(p: Path) -> SupplyUseTable:
    lines = p.read_text(encoding="utf-8-sig").splitlines()
    meta = [ln[1:].strip() for ln in lines if ln.startswith("#")]
    if not meta or not meta[0].startswith(MAGIC[2:]):
        raise LayoutError(f"{p.name}: not a supply-use interchange file (first line {MAGIC!r})")
    body = [ln for ln in lines if not ln.startswith("#")]
    return _parse_grid(p, list(csv.reader(body)), meta[1:], p.name)


def _parse_grid(
    p: Path, rows: list[list[str]], meta_lines: list[str], sheet: str
) -> SupplyUseTable:
    import pandas as pd

    icols, fcols, inds = _grid_header(p, rows[0])
    co = Coercer(sheet, text_source=True)
    blocks, names, fd_rows, inames = _grid_rows(p, rows, icols, fcols, co)
    co.raise_if_bad(p, "the supply-use grid")
    prods = [c for c, _ in blocks["supply"]]
    if [c for c, _ in blocks["use"]] != prods:
        raise LayoutError(
            f"{p.name}: the use rows must list the same products, in the same order, "
            "as the supply rows"
        )
    meta = dict(m.split(":", 1) for m in meta_lines if ":" in m)
    return SupplyUseTable.from_arrays(
        np.array([v for _, v in blocks["supply"]]),
        np.array([v for _, v in blocks["use"]]),
        final_demand=pd.DataFrame([fd_rows[c] for c in prods], columns=[n for _, n in fcols])
        if fcols
        else None,
        value_added=pd.DataFrame(
            [v for _, v in blocks["primary"]], index=[c for c, _ in blocks["primary"]]
        )
        if blocks["primary"]
        else None,
        products=prods,
        industries=inds,
        imports_use=np.array([v for _, v in blocks["imports_use"]])
        if blocks["imports_use"]
        else None,
        product_names=[names["supply"][c] for c in prods],
        industry_names=inames,
        table_id=meta.get("table_id", slug(p.stem)).strip(),
        country=(meta.get("country") or "").strip() or None,
        units=meta.get("units", "").strip(),
        source=str(p),
        sha256=file_sha256(p),
        layout="sut-interchange",
    )


def _grid_header(
    p: Path, first_row: list[str]
) -> tuple[list[int], list[tuple[int, str]], list[str]]:
    """Return (``i:`` column positions, (position, category) of ``fd:`` columns, industries)."""
    header = [h.strip() for h in first_row]
    if header[:3] != ["kind", "code", "name"] or not any(h.startswith("i:") for h in header):
        raise LayoutError(
            f"{p.name}: header must start with kind,code,name and have i:<industry> columns"
        )
    icols = [j for j, h in enumerate(header) if h.startswith("i:")]
    fcols = [(j, h[3:]) for j, h in enumerate(header) if h.startswith("fd:")]
    return icols, fcols, [header[j][2:] for j in icols]


def _grid_rows(
    p: Path,
    rows: list[list[str]],
    icols: list[int],
    fcols: list[tuple[int, str]],
    co: Coercer,
) -> tuple[dict[str, list], dict[str, dict[str, str]], dict[str, list[float]], list[str] | None]:
    """Return (rows by kind, names by kind, final demand by product, industry names)."""
    blocks: dict[str, list] = {"supply": [], "use": [], "imports_use": [], "primary": []}
    names: dict[str, dict[str, str]] = {"supply": {}, "use": {}}
    fd_rows: dict[str, list[float]] = {}
    inames = None
    for r, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip():
            continue
        kind, code, name = row[0].strip(), _unescape(row[1].strip()), _unescape(row[2])
        if kind == "industry":
            inames = [_unescape(row[j]) if j < len(row) else "" for j in icols]
            continue
        if kind not in blocks:
            raise LayoutError(
                f"{p.name}: line {r}: unknown kind {kind!r} "
                "(supply/use/imports_use/primary/industry)"
            )
        vals = [co.value(row[j] if j < len(row) else "", r, j + 1) for j in icols]
        blocks[kind].append((code, vals))
        if kind in names:
            names[kind][code] = name
        if kind == "use":
            fd_rows[code] = [co.value(row[j] if j < len(row) else "", r, j + 1) for j, _ in fcols]
    return blocks, names, fd_rows, inames


def write_sut(sut: SupplyUseTable, path: str | Path) -> Path:
    """Write ``sut`` in the supply-use interchange format (CSV), atomically."""
    path = Path(path)
    fd_cols = [str(c) for c in sut.final_demand.columns]
    out = io.StringIO()
    out.write(f"{MAGIC} v1\n")
    for k in ("table_id", "country", "units"):
        v = getattr(sut.meta, k)
        if v:
            out.write(f"# {k}: {v}\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["kind", "code", "name", *(f"i:{c}" for c in sut.industries), *(f"fd:{c}" for c in fd_cols)]
    )
    pad = [""] * len(fd_cols)
    for i, (code, name) in enumerate(zip(sut.products, sut.product_names, strict=True)):
        w.writerow(
            ["supply", code, _safe_text(name), *map(repr, sut.supply.to_numpy()[i].tolist()), *pad]
        )
    for i, (code, name) in enumerate(zip(sut.products, sut.product_names, strict=True)):
        w.writerow(
            [
                "use",
                code,
                _safe_text(name),
                *map(repr, sut.use.to_numpy()[i].tolist()),
                *map(repr, sut.final_demand.to_numpy()[i].tolist()),
            ]
        )
    if sut.imports_use is not None:
        for i, code in enumerate(sut.products):
            w.writerow(
                [
                    "imports_use",
                    code,
                    code,
                    *map(repr, sut.imports_use.to_numpy()[i].tolist()),
                    *pad,
                ]
            )
    for label, row in sut.value_added.iterrows():
        w.writerow(["primary", str(label), str(label), *map(repr, row.to_numpy().tolist()), *pad])
    w.writerow(
        ["industry", "name", "industry names", *(_safe_text(n) for n in sut.industry_names), *pad]
    )
    with atomic_path(path) as tmp:
        tmp.write_text(out.getvalue(), encoding="utf-8")
    return path
