"""Multi-regional tables: pymrio interop, country-sector services, a focus region.

A multi-regional input-output system (MRIO: OECD ICIO, EXIOBASE, Eora …) is, for this
package, one :class:`~io_clusters.table.IOTable` whose sectors are *country-sectors*
coded ``"REGION:SECTOR"`` (``"PER:C24"``, ``"reg1:food"``). Every analysis of the
package then applies unchanged: linkages over the whole system and candidate clusters
whose members may sit in several countries.

* :func:`from_pymrio` / :func:`to_pymrio` convert from and to a
  :class:`pymrio.IOSystem` (``pip install io_clusters[mrio]``), so pymrio's own
  parsers (``pymrio.parse_oecd``, ``parse_exiobase3``, ``parse_eora26``) bring the
  large databases in.
* :func:`classify_country_sectors` decides services *per sector*, the same way in every
  region (ISIC Rev.4 sections, :mod:`io_clusters.services`), so that Peru's and
  China's ``C24`` are both goods and both ``H49`` services.
* :func:`focus_candidates` keeps the candidates that hold at least one sector of a
  focus region and says which foreign country-sectors they hold and how much of the
  focus members' intermediate trade crosses the border; :func:`focus_view` reduces the
  tree and the similarity matrix to the focus region's neighbourhood for the figures.

Symbols follow pymrio and Miller & Blair (2009, ch. 3): Z inter-industry flows between
country-sectors (row sells to column), Y final demand by region and category, x gross
output, F factor inputs (value added) by country-sector.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import AnalysisError, LayoutError, OptionError
from .services import ServiceClassification, classify_services
from .table import IOTable, TableMeta, slug

if TYPE_CHECKING:  # pragma: no cover
    from .clustering import Candidate, ClusterResult

log = logging.getLogger(__name__)

__all__ = [
    "SEP",
    "check_focus",
    "classify_country_sectors",
    "country_sector_candidates",
    "focus_candidates",
    "focus_view",
    "from_pymrio",
    "is_multiregional",
    "region_output_share",
    "seed_country_sectors",
    "split_codes",
    "to_pymrio",
]

#: Separator of region and sector in country-sector codes and names.
SEP = ":"
#: Extensions of a pymrio system that hold value added, in order of preference
#: (``factor_inputs``: OECD ICIO, EXIOBASE, the test system; ``VA``: Eora26).
VALUE_ADDED_EXTENSIONS: tuple[str, ...] = ("factor_inputs", "VA")
#: Final-demand columns of a subset: sales to the country-sectors left out.
REST_INTERMEDIATE = "rest:exports (intermediate)"
REST_FINAL = "rest:exports (final demand)"
#: Leaves of the focus neighbourhood drawn in the dendrogram and heat map.
MAX_VIEW_LEAVES = 150
#: OECD ICIO industry codes, 2021 (``D01T02``, ``D35``) and 2023 (``A01_02``, ``C10T12``).
_ICIO = re.compile(r"^([A-U])?(\d{2})(?:[T_](\d{2}))?$")


def _pymrio() -> Any:
    try:
        import pymrio
    except ImportError as exc:  # pragma: no cover - the extra is installed in tests
        raise OptionError(
            "multi-regional systems need pymrio: pip install 'io_clusters[mrio]'"
        ) from exc
    return pymrio


# ------------------------------------------------------------------------ codes
def split_codes(codes: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(regions, sectors) of ``"REGION:SECTOR"`` codes, or None for a one-region table.

    A table is multi-regional when every code holds the separator and at least two
    regions occur; the region is the part before the first ``":"``.

    >>> split_codes(["PER:01", "CHN:01"])
    (['PER', 'CHN'], ['01', '01'])
    >>> split_codes(["01", "02"]) is None
    True
    """
    if not codes or not all(SEP in str(c) for c in codes):
        return None
    parts = [str(c).split(SEP, 1) for c in codes]
    regions = [p[0] for p in parts]
    if len(set(regions)) < 2:
        return None
    return regions, [p[1] for p in parts]


def is_multiregional(table: IOTable) -> bool:
    """Return True when the table's codes are ``"REGION:SECTOR"`` over two or more regions."""
    return split_codes(table.codes) is not None


def _flat(label: Any) -> str:
    """One string for a (possibly multi-level) index label."""
    if isinstance(label, tuple):
        return " / ".join(str(p) for p in label if str(p) != "")
    return str(label)


# ----------------------------------------------------------------------- pymrio
def from_pymrio(
    mrio: Any, regions: Sequence[str] | None = None, sectors: Sequence[str] | None = None
) -> IOTable:
    """Build an :class:`IOTable` of country-sectors from a pymrio ``IOSystem``.

    Parameters
    ----------
    mrio : pymrio.IOSystem
        A system with flows ``Z`` (or coefficients ``A`` and output ``x``) indexed by
        (region, sector), and final demand ``Y`` with (region, category) columns.
        Output ``x`` is taken as given, else computed as Z·1 + Y·1 (``pymrio.calc_x``).
        Value added is the ``F`` of the ``factor_inputs`` extension (OECD ICIO,
        EXIOBASE) or of ``VA`` (Eora26), where present.
    regions, sectors : sequence of str, optional
        Keep only these regions and sectors (default: all). The system stays balanced:
        sales to the country-sectors left out become the final-demand columns
        ``"rest:exports (intermediate)"`` and ``"rest:exports (final demand)"``, and
        purchases from them the table's ``imports``.

    Returns
    -------
    IOTable
        Codes and names ``"REGION:SECTOR"`` in the system's order; final-demand
        columns ``"REGION:CATEGORY"``; value-added rows named after the extension's rows;
        ``meta.layout == "pymrio"``.

    Raises
    ------
    LayoutError
        When the system has no flows, or its index is not (region, sector), or a region
        contains ``":"``.
    OptionError
        When ``regions`` or ``sectors`` name ones the system does not have.

    See Also
    --------
    to_pymrio : the way back.

    Examples
    --------
    >>> import pymrio, io_clusters as ic
    >>> t = ic.from_pymrio(pymrio.load_test())
    >>> t.n, t.codes[0]
    (48, 'reg1:food')
    """
    pymrio = _pymrio()
    Z = mrio.Z
    if Z is None:
        if getattr(mrio, "A", None) is None or getattr(mrio, "x", None) is None:
            raise LayoutError("the pymrio system has neither flows Z nor coefficients A and x")
        Z = pymrio.calc_Z(mrio.A, mrio.x)
    if not isinstance(Z.index, pd.MultiIndex) or Z.index.nlevels != 2:
        raise LayoutError(
            f"pymrio Z must be indexed by (region, sector), got {Z.index.nlevels} level(s)"
        )
    reg = [str(r) for r in Z.index.get_level_values(0)]
    sec = [str(s) for s in Z.index.get_level_values(1)]
    bad = sorted({r for r in reg if SEP in r})
    if bad:
        raise LayoutError(f"region names may not contain {SEP!r}: {', '.join(bad)}")
    keep = _subset_mask(reg, sec, regions, sectors)
    Y = mrio.Y
    x = mrio.x if getattr(mrio, "x", None) is not None else None
    if x is None:
        if Y is None:
            raise LayoutError("the pymrio system has neither output x nor final demand Y")
        x = pymrio.calc_x(Z, Y)
    z_all = Z.to_numpy(dtype="float64")
    x_all = np.asarray(x, dtype="float64").reshape(-1)
    codes = [f"{r}{SEP}{s}" for r, s, k in zip(reg, sec, keep, strict=True) if k]
    fd = _final_demand(Y, z_all, keep, codes)
    va = _value_added(mrio, Z.columns, keep)
    imports = None
    if not keep.all():
        imports = z_all[np.ix_(~keep, keep)].sum(axis=0)
    units = _units(mrio)
    name = str(getattr(mrio, "name", None) or "mrio")
    n_reg = len({r for r, k in zip(reg, keep, strict=True) if k})
    n_sec = len({s for s, k in zip(sec, keep, strict=True) if k})
    meta = TableMeta(
        table_id=slug(name),
        year=_year(mrio),
        units=units,
        layout="pymrio",
        domestic=False if keep.all() else None,
        notes=(f"pymrio system {name!r}: {n_reg} regions x {n_sec} sectors",),
    )
    return IOTable.from_arrays(
        z_all[np.ix_(keep, keep)],
        x_all[keep],
        codes=codes,
        names=codes,
        final_demand=fd,
        value_added=va,
        imports=imports,
        meta=meta,
    )


def _subset_mask(
    reg: Sequence[str],
    sec: Sequence[str],
    regions: Sequence[str] | None,
    sectors: Sequence[str] | None,
) -> np.ndarray:
    keep = np.ones(len(reg), dtype=bool)
    for what, chosen, have in (("region", regions, reg), ("sector", sectors, sec)):
        if chosen is None:
            continue
        if isinstance(chosen, str):
            chosen = [chosen]
        chosen = [str(c) for c in chosen]
        unknown = sorted(set(chosen) - set(have))
        if unknown:
            raise OptionError(
                f"{what}(s) not in the pymrio system: {', '.join(unknown)}; it has "
                + ", ".join(dict.fromkeys(have))
            )
        keep &= np.isin(np.asarray(have, dtype=object), chosen)
    if keep.sum() < 2:
        raise OptionError("the chosen regions and sectors leave fewer than two country-sectors")
    return keep


def _final_demand(
    Y: pd.DataFrame | None, z_all: np.ndarray, keep: np.ndarray, codes: Sequence[str]
) -> pd.DataFrame:
    idx = pd.Index(codes, name="code")
    if Y is None:
        out = pd.DataFrame(index=idx, dtype="float64")
    else:
        y = Y.to_numpy(dtype="float64")[keep]
        cols = list(Y.columns)
        col_region = [str(c[0]) if isinstance(c, tuple) else None for c in cols]
        kept_regions = {c.split(SEP, 1)[0] for c in codes}
        inside = [r is None or r in kept_regions for r in col_region]
        names = [
            f"{c[0]}{SEP}{_flat(c[1:]) if len(c) > 2 else c[1]}" if isinstance(c, tuple) else str(c)
            for c in cols
        ]
        out = pd.DataFrame(
            y[:, inside], index=idx, columns=[n for n, k in zip(names, inside, strict=True) if k]
        )
        if not all(inside):
            out[REST_FINAL] = y[:, ~np.asarray(inside)].sum(axis=1)
    if not keep.all():
        out[REST_INTERMEDIATE] = z_all[np.ix_(keep, ~keep)].sum(axis=1)
    return out


def _value_added(mrio: Any, columns: pd.Index, keep: np.ndarray) -> pd.DataFrame | None:
    names = list(mrio.get_extensions()) if hasattr(mrio, "get_extensions") else []
    for ext_name in VALUE_ADDED_EXTENSIONS:
        if ext_name not in names:
            continue
        F = getattr(getattr(mrio, ext_name), "F", None)
        if F is None:
            continue
        F = F.reindex(columns=columns)
        rows = [_flat(r) for r in F.index]
        data = F.to_numpy(dtype="float64")[:, keep]
        log.info("value added from the pymrio extension %r (%d rows)", ext_name, len(rows))
        return pd.DataFrame(data, index=rows)
    return None


def _units(mrio: Any) -> str:
    unit = getattr(mrio, "unit", None)
    if isinstance(unit, pd.DataFrame) and unit.shape[1]:
        values = sorted({str(u) for u in unit.iloc[:, 0]})
        return values[0] if len(values) == 1 else ", ".join(values)
    return str(unit) if isinstance(unit, str) else ""


def _year(mrio: Any) -> int | None:
    for value in (getattr(mrio, "year", None), getattr(getattr(mrio, "meta", None), "year", None)):
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            continue
    return None


def to_pymrio(table: IOTable) -> Any:
    """Return a pymrio ``IOSystem`` holding the table's Z, Y, x and value added.

    Codes ``"REGION:SECTOR"`` become the (region, sector) index and final-demand
    columns ``"REGION:CATEGORY"`` the (region, category) columns of Y. A one-region
    table becomes a one-region system (region = ``meta.country`` or ``"region"``).
    Value-added rows (and imports, as a row ``"imports"``) form the
    ``factor_inputs`` extension.

    Parameters
    ----------
    table : IOTable

    Returns
    -------
    pymrio.IOSystem

    Notes
    -----
    Final-demand columns of a multi-regional table that name no region of the table
    (the ``"rest:…"`` columns of a subset) have no place in Y and are left out, with a
    warning in the log; x is kept as given, so the system still reports the output.

    See Also
    --------
    from_pymrio : the way in.
    """
    pymrio = _pymrio()
    split = split_codes(table.codes)
    if split is None:
        region = table.meta.country or "region"
        pairs = [(region, c) for c in table.codes]
        regions = {region}
    else:
        pairs = list(zip(*split, strict=True))
        regions = set(split[0])
    idx = pd.MultiIndex.from_tuples(pairs, names=["region", "sector"])
    Z = pd.DataFrame(table.Z.to_numpy(), index=idx, columns=idx)
    y_cols, y_keep, dropped = [], [], []
    for j, col in enumerate(table.final_demand.columns):
        col = str(col)
        head, _, tail = col.partition(SEP)
        if split is None:
            y_cols.append((next(iter(regions)), col))
        elif tail and head in regions:
            y_cols.append((head, tail))
        else:
            dropped.append(col)
            continue
        y_keep.append(j)
    if dropped:
        log.warning("final-demand columns naming no region left out of Y: %s", ", ".join(dropped))
    Y = pd.DataFrame(
        table.final_demand.to_numpy()[:, y_keep],
        index=idx,
        columns=pd.MultiIndex.from_tuples(y_cols, names=["region", "category"]),
    )
    x = pd.DataFrame({"indout": table.x.to_numpy()}, index=idx)
    units = table.meta.units or "unknown"
    unit = pd.DataFrame({"unit": units}, index=idx)
    F = pd.DataFrame(table.value_added.to_numpy(), index=table.value_added.index, columns=idx)
    if table.imports is not None:
        F.loc["imports"] = table.imports.to_numpy()
    F.index = pd.Index([str(i) for i in F.index], name="inputtype")
    kwargs: dict[str, Any] = {}
    if len(F):
        kwargs["factor_inputs"] = {
            "name": "Factor Inputs",
            "F": F,
            "unit": pd.DataFrame({"unit": units}, index=F.index),
        }
    return pymrio.IOSystem(
        Z=Z,
        Y=Y,
        x=x,
        unit=unit,
        name=table.meta.table_id,
        year=table.meta.year,
        **kwargs,
    )


# --------------------------------------------------------------------- services
def _icio_isic(sector: str) -> tuple[str, ...] | None:
    """ISIC Rev.4 divisions of an OECD ICIO industry code, else None."""
    m = _ICIO.match(sector.strip().upper())
    if not m:
        return None
    lo = int(m.group(2))
    hi = int(m.group(3) or lo)
    return tuple(f"{d:02d}" for d in range(lo, hi + 1)) if hi >= lo else None


def _sector_table(table: IOTable, sectors: Sequence[str]) -> IOTable:
    """Return a zero table of the distinct sectors (first occurrence), for the sector rules."""
    first: dict[str, str] = {}
    for s, name in zip(sectors, table.names, strict=True):
        first.setdefault(s, name.split(SEP, 1)[1] if SEP in name else name)
    k = len(first)
    return IOTable.from_arrays(
        np.zeros((k, k)), np.ones(k), codes=list(first), names=list(first.values())
    )


def _sector_isic(table: IOTable, sectors: Sequence[str]) -> dict[str, tuple[str, ...]] | None:
    """ISIC codes of every country-sector from its sector part (ICIO codes, concordances)."""
    distinct = list(dict.fromkeys(sectors))
    icio = {s: _icio_isic(s) for s in distinct}
    if all(icio.values()):
        by_sector: dict[str, tuple[str, ...]] = {s: v for s, v in icio.items() if v}
    else:
        from .concordance import sector_isic

        try:
            by_sector = sector_isic(_sector_table(table, sectors))
        except AnalysisError:
            return None
    return {c: by_sector[s] for c, s in zip(table.codes, sectors, strict=True)}


def classify_country_sectors(
    table: IOTable,
    *,
    isic: Mapping[str, str | Sequence[str]] | None = None,
    supporting: Sequence[str] | None = None,
) -> ServiceClassification:
    """Services of a multi-regional table, decided per sector the same in every region.

    The rules of :func:`io_clusters.services.classify_services` (ISIC Rev.4 sections,
    user codes, name fallback) applied to the sector part of ``"REGION:SECTOR"``:

    * ``isic`` and ``supporting`` may name sectors (``"H49"``, ``"trade"``: every
      region's) or country-sectors (``"PER:H49"``: that one only);
    * without them, ISIC codes come from the table's own ``isic`` codes, from OECD ICIO
      industry codes (``D01T02``, ``C10T12``) or from a known classification of the
      sector codes; otherwise from sector names, with a warning.

    One-region tables are passed to :func:`~io_clusters.services.classify_services`.

    Returns
    -------
    ServiceClassification
        Keyed by country-sector code.
    """
    split = split_codes(table.codes)
    if split is None:
        return classify_services(table, isic=isic, supporting=supporting)
    sectors = split[1]
    codes = table.codes
    full_isic: Mapping[str, str | Sequence[str]] | None
    if isic is not None:
        full_isic = {
            c: isic[c] if c in isic else isic[s]
            for c, s in zip(codes, sectors, strict=True)
            if c in isic or s in isic
        }
    elif table.meta.isic is not None:
        full_isic = dict(zip(codes, table.meta.isic, strict=True))
    else:
        full_isic = _sector_isic(table, sectors)
    if supporting is not None:
        chosen = set(supporting)
        expanded = [c for c, s in zip(codes, sectors, strict=True) if c in chosen or s in chosen]
        known = set(codes) | set(sectors)
        expanded += sorted(chosen - known)  # unknown codes: classify_services names them
        return classify_services(table, isic=full_isic, supporting=expanded)
    if full_isic is not None and (isic is not None or all(full_isic.get(c) for c in codes)):
        return classify_services(table, isic=full_isic)
    by_sector = classify_services(_sector_table(table, sectors))
    return ServiceClassification(
        services={
            c: by_sector.services[s]
            for c, s in zip(codes, sectors, strict=True)
            if s in by_sector.services
        },
        isic={},
        rule=by_sector.rule,
        warnings=by_sector.warnings,
    )


# ------------------------------------------------------------------- seeds, sizes
def region_output_share(codes: Sequence[str], x: np.ndarray) -> np.ndarray:
    """Share of every country-sector in its own region's total output."""
    split = split_codes(codes)
    if split is None:
        return x / x.sum()
    reg = pd.Series(x, index=pd.Index(split[0]))
    totals = reg.groupby(level=0).transform("sum").to_numpy()
    return np.divide(x, totals, out=np.zeros_like(x, dtype="float64"), where=totals > 0)


def seed_country_sectors(
    codes: Sequence[str], x: np.ndarray, services: Mapping[str, str], min_output_share: float
) -> tuple[np.ndarray, list[str]]:
    """Seeds of a multi-regional table: goods country-sectors big *within their region*.

    The rule of :func:`io_clusters.clustering.seed_sectors` with the share taken of the
    region's total output instead of the whole system's: every Peruvian sector is below
    0.05 % of world output, so the national threshold would leave a small economy no
    seeds at all. Returns (seed indices, codes of too-small goods country-sectors).
    """
    share = region_output_share(codes, np.asarray(x, dtype="float64"))
    small = [c for i, c in enumerate(codes) if c not in services and share[i] < min_output_share]
    small_set = set(small)
    seeds = np.array(
        [i for i, c in enumerate(codes) if c not in services and c not in small_set], dtype=int
    )
    return seeds, small


def _regional_small_flags(
    table: IOTable, cand: Candidate, share: np.ndarray, pos: Mapping[str, int], floor: float
) -> Candidate:
    """Redo the ``small_member`` warning with shares of the members' own regions."""
    small = [c for c in cand.codes if share[pos[c]] < floor]
    flags = [f for f in cand.flags if f != "small_member"]
    warns = [w for w in cand.warnings if not w.startswith("member(s) below ")]
    if small:
        flags.append("small_member")
        warns.append(f"member(s) below {floor:.2%} of their region's output: " + ", ".join(small))
    return replace(cand, flags=tuple(flags), warnings=tuple(warns))


def country_sector_candidates(
    table: IOTable, candidates: Sequence[Candidate], options: Any
) -> list[Candidate]:
    """Candidates of a multi-regional table: sizes within regions, then the focus region.

    ``small_member`` compares each member with its own region's output (as the seeds
    do, :func:`seed_country_sectors`); with ``options.focus`` only the candidates holding
    a sector of that region are kept (:func:`focus_candidates`).
    """
    share = region_output_share(table.codes, table.x.to_numpy())
    pos = {c: i for i, c in enumerate(table.codes)}
    out = [
        _regional_small_flags(table, c, share, pos, options.min_output_share) for c in candidates
    ]
    if options.focus is not None:
        out = focus_candidates(table, out, options.focus)
    return out


# ------------------------------------------------------------------------- focus
def check_focus(table: IOTable, focus: str) -> None:
    """Raise :class:`OptionError` unless ``focus`` is a region of a multi-regional table."""
    _focus_mask(table, focus)


def _focus_mask(table: IOTable, focus: str) -> np.ndarray:
    split = split_codes(table.codes)
    if split is None:
        raise OptionError(
            f"focus={focus!r} needs a multi-regional table (codes REGION:SECTOR over two "
            "or more regions, e.g. from io_clusters.from_pymrio)"
        )
    regions = np.asarray(split[0], dtype=object)
    if focus not in set(split[0]):
        raise OptionError(
            f"focus region {focus!r} is not in the table; regions: "
            + ", ".join(dict.fromkeys(split[0]))
        )
    return regions == focus


def cross_border_shares(
    Z: np.ndarray, focus_idx: Sequence[int], home: np.ndarray
) -> tuple[float | None, float | None]:
    """Shares of the focus sectors' intermediate sales and purchases that cross the border.

    For the focus country-sectors F (indices) of one region with mask ``home``:
    sales share = Σ_{i∈F, j∉home} z_ij / Σ_{i∈F, j≠i} z_ij and purchases share =
    Σ_{i∉home, j∈F} z_ij / Σ_{j∈F, i≠j} z_ij (self-deliveries excluded, as in the flow
    strength of :mod:`io_clusters.similarity`). None when the denominator is zero.
    """
    f = np.asarray(focus_idx, dtype=int)
    own = float(Z[f, f].sum())
    sales = float(Z[f, :].sum()) - own
    purchases = float(Z[:, f].sum()) - own
    abroad_sales = float(Z[np.ix_(f, ~home)].sum())
    abroad_purchases = float(Z[np.ix_(~home, f)].sum())
    return (
        round(abroad_sales / sales, 6) if sales > 0 else None,
        round(abroad_purchases / purchases, 6) if purchases > 0 else None,
    )


def focus_candidates(
    table: IOTable, candidates: Sequence[Candidate], focus: str
) -> list[Candidate]:
    """Candidates holding a sector of region ``focus`` in their core, with border figures.

    A candidate whose core is foreign and holds a focus sector only as a supporting or
    attached member (a Peruvian transport service serving a US chain) is not a cluster
    of the focus region and is left out (counted in the log). Each kept candidate gets
    ``focus_region``, ``foreign_members`` (its country-sectors outside ``focus``) and
    ``cross_border_sales_share`` / ``cross_border_purchases_share`` of its focus members,
    all of them, attached services included (:func:`cross_border_shares`); its label,
    chain and anchor are read from the focus region (:func:`_focus_naming`). Order is kept.

    Raises
    ------
    OptionError
        When the table is not multi-regional or has no region ``focus``.
    """
    home = _focus_mask(table, focus)
    pos = {c: i for i, c in enumerate(table.codes)}
    Z = table.Z.to_numpy()
    out = []
    outside = 0
    for cand in candidates:
        if not any(home[pos[c]] for c in cand.core):
            # a foreign core with a focus sector only attached or supporting (transport
            # serving a US chain) is not a cluster of the focus region
            outside += any(home[pos[c]] for c in cand.codes)
            continue
        mine = [pos[c] for c in cand.codes if home[pos[c]]]
        sales, purchases = cross_border_shares(Z, mine, home)
        out.append(
            replace(
                cand,
                **_focus_naming(table, cand, home, pos, Z),
                focus_region=focus,
                foreign_members=tuple(c for c in cand.codes if not home[pos[c]]),
                cross_border_sales_share=sales,
                cross_border_purchases_share=purchases,
            )
        )
    log.info(
        "focus %s: %d of %d candidates have a sector of it in their core (%d more hold one "
        "only as a supporting or attached member, and were left out)",
        focus,
        len(out),
        len(candidates),
        outside,
    )
    return out


def _focus_naming(
    table: IOTable, cand: Candidate, home: np.ndarray, pos: Mapping[str, int], Z: np.ndarray
) -> dict[str, Any]:
    """Return the label, chain and anchor read from the focus region.

    A core whose strongest link is between two foreign sectors (``CHN:D24 → USA:D28`` in
    a candidate proposed to Peru) is named instead by the strongest flow of the core
    with a sector of the focus region at one end (the ``(+k)`` count is kept), and that
    flow becomes its ``chain``; the anchor is the core's largest focus sector.
    """
    out: dict[str, Any] = {}
    core = [pos[c] for c in cand.core]
    mine = [i for i in core if home[i]]
    x = table.x.to_numpy()
    if mine and not home[pos[cand.anchor]]:
        out["anchor"] = table.codes[max(mine, key=lambda i: x[i])]
    if cand.chain is None or any(home[pos[c]] for c in cand.chain):
        return out
    pairs = [(Z[i, j], i, j) for i in core for j in core if i != j and (home[i] or home[j])]
    flow, i, j = max(pairs, default=(0.0, -1, -1))
    if flow <= 0:
        return out
    head = f"{table.names[pos[cand.chain[0]]]} → {table.names[pos[cand.chain[1]]]}"
    suffix = cand.label[len(head) :] if cand.label.startswith(head) else ""
    out["label"] = f"{table.names[i]} → {table.names[j]}{suffix}"
    out["chain"] = (table.codes[i], table.codes[j])
    return out


def focus_view(
    table: IOTable, res: ClusterResult, *, max_leaves: int = MAX_VIEW_LEAVES
) -> ClusterResult:
    """Return the result reduced to the focus region's neighbourhood, for the figures.

    The neighbourhood is every member of the (focus) candidates, the focus region's
    seed sectors, then the foreign seeds most strongly linked to them by a direct flow
    (flow strength, :func:`io_clusters.similarity.flow_strength`) up to ``max_leaves``
    seeds. The tree is redrawn on those seeds (same linkage method, same distances
    1 − S), so the figure shows their relations, not the pruned global tree.
    Returns ``res`` unchanged without a focus or when fewer than three seeds remain.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    focus = res.options.get("focus")
    if not focus or len(res.tree_codes) < 3:
        return res
    codes = list(res.similarity.index)
    pos = {c: i for i, c in enumerate(codes)}
    sub = (
        table
        if list(table.codes) == codes
        else table.without(sorted(set(table.codes) - set(codes)))
    )
    home = _focus_mask(sub, focus)
    seeds = list(res.tree_codes)
    seed_set = set(seeds)
    members = [c for cand in res.candidates for c in cand.codes]
    chosen = list(dict.fromkeys([c for c in members if c in seed_set]))
    chosen += [c for c in seeds if home[pos[c]] and c not in chosen]
    if len(chosen) < max_leaves:
        Z = sub.Z.to_numpy()
        off = Z.copy()
        np.fill_diagonal(off, 0.0)
        sales, purchases = off.sum(axis=1), off.sum(axis=0)
        f = np.flatnonzero(home)
        with np.errstate(divide="ignore", invalid="ignore"):
            to_focus = np.nan_to_num(off[:, f] / np.maximum(sales[:, None], 1e-300))
            from_focus = np.nan_to_num(off[f, :] / np.maximum(purchases[None, :], 1e-300))
        strength = np.maximum(to_focus.max(axis=1), from_focus.max(axis=0))
        ranked = [codes[i] for i in np.argsort(-strength, kind="stable") if strength[i] > 0]
        for c in ranked:
            if len(chosen) >= max_leaves:
                break
            if c in seed_set and c not in chosen:
                chosen.append(c)
    chosen = chosen[:max_leaves] if len(chosen) > max_leaves else chosen
    if len(chosen) < 3:
        return res
    order = [c for c in seeds if c in set(chosen)]
    others = [c for c in dict.fromkeys(members) if c not in seed_set]
    S = res.similarity.loc[order + others, order + others]
    d = squareform(1.0 - S.loc[order, order].to_numpy(), checks=False)
    tree = linkage(np.clip(d, 0.0, None), method=res.options.get("method", "average"))
    cut = res.diagnostics.get("threshold_distance")
    k = int(fcluster(tree, t=cut, criterion="distance").max()) if cut is not None else 0
    diagnostics = {
        **res.diagnostics,
        "k": k,
        "view": f"neighbourhood of {focus}: {len(order)} of {len(seeds)} seed sectors",
    }
    return replace(res, similarity=S, tree=tree, tree_codes=tuple(order), diagnostics=diagnostics)
