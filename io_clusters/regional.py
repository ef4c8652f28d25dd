"""Where the clusters are: regional activity data, location quotients, FLQ tables.

Regional data are activity × region values (value added, output or employment), such
as INEI's gross value added by department and activity (24 departments — Lima includes
Callao — × 12 activities, 2007-2019). Table sectors are placed in the regional
activities through ISIC Rev.4: a sector's *main activity* is the regional activity that
covers most of its ISIC codes (ties: the activity of its first code). Detail is lost
where the regional data are coarser than the table: all manufacturing branches share
INEI's activity 4, so a textile candidate and a fish-processing candidate get the same
manufacturing location quotients; primary activities (fishing, mining, agriculture)
and services keep their own.

Location quotients (Miller & Blair 2009, §8.2; Flegg & Webber 1997; Flegg & Tohmo 2013),
with Eᵢʳ the value of activity i in region r, Eʳ the region's total, Eᵢⁿ and Eⁿ the
national ones (the sums over regions):

* simple: SLQᵢʳ = (Eᵢʳ / Eʳ) / (Eᵢⁿ / Eⁿ);
* cross-industry: CILQᵢⱼʳ = SLQᵢʳ / SLQⱼʳ (SLQᵢʳ on the diagonal);
* FLQᵢⱼʳ = CILQᵢⱼʳ × λʳ with λʳ = [log₂(1 + Eʳ/Eⁿ)]^δ, δ ∈ [0, 1) (default
  :data:`DEFAULT_DELTA` = 0.3, the value Flegg & Tohmo 2013 found to work for Finnish
  regions and the usual choice when no regional survey table is available);
* AFLQᵢⱼʳ = FLQᵢⱼʳ × log₂(1 + SLQⱼʳ) where SLQⱼʳ > 1 (Flegg & Webber 2000).

Regional coefficients are aᵢⱼʳ = aᵢⱼ × min(LQᵢⱼ, 1): never above the national ones.
Regional output of a sector is its national output times its main activity's regional
share; the regional table's final demand and primary inputs are the residuals (they
include trade with the rest of the country).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import AnalysisError, LayoutError, OptionError
from .evidence.concordance import codes_match, load_concordances, sector_isic
from .table import IOTable, slug

DEFAULT_DELTA = 0.3
METHODS = ("slq", "cilq", "flq", "aflq")


def _plain(text: str) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", s).strip()


@dataclass(frozen=True, slots=True)
class RegionalData:
    """Activity × region values for one year and price basis.

    Attributes
    ----------
    values : DataFrame, shape (activities, regions)
        In ``units``; index = activity codes, columns = region names.
    activity_names : dict of str to str
    classification : str
        Concordance of the activities (``"inei-12"``) or ``"table"`` when the file's
        activities are the table's own sectors.
    year, prices, units, source : metadata
    """

    values: pd.DataFrame
    activity_names: dict[str, str]
    classification: str
    year: int | None = None
    prices: str = ""
    units: str = ""
    source: str = ""

    @property
    def regions(self) -> tuple[str, ...]:
        """Region names."""
        return tuple(str(c) for c in self.values.columns)

    def region_totals(self) -> pd.Series:
        """Eʳ: the total of every region."""
        return self.values.sum(axis=0)

    def resolve(self, region: str | list[str]) -> list[str]:
        """Return the region column names for a name (accent/case-insensitive) or a list."""
        wanted = [region] if isinstance(region, str) else list(region)
        by_plain = {_plain(r): r for r in self.regions}
        out = []
        for w in wanted:
            if _plain(w) not in by_plain:
                raise OptionError(f"unknown region {w!r}; the data have: {', '.join(self.regions)}")
            out.append(by_plain[_plain(w)])
        return out


def read_regional(
    path: str | Path, *, year: int | None = None, prices: str = "constant"
) -> RegionalData:
    """Read regional activity data.

    Accepted layouts:

    * INEI's departmental VAB in long form (columns ``prices``, ``departamento``,
      ``year``, ``activity_no``, ``activity``, ``vab_miles_soles``; activity 0, the
      department total, is left out) — ``prices`` ``"constant"`` or ``"current"``;
    * a generic long CSV with ``region``, ``activity``, ``value`` and optionally
      ``year``, ``activity_name``, ``classification`` (the activity codes' concordance
      name, default ``"table"``: activities are the table's sector codes).

    Parameters
    ----------
    year : int, optional
        Default: the latest year in the file.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    with open(p, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise LayoutError(f"{p.name}: no rows")
    cols = set(rows[0])
    if {"prices", "departamento", "year", "activity_no", "vab_miles_soles"} <= cols:
        if prices not in ("constant", "current"):
            raise OptionError("prices must be 'constant' or 'current'")
        basis = "constant_2007" if prices == "constant" else "current"
        rows = [r for r in rows if r["prices"] == basis and r["activity_no"] != "0"]
        years = sorted({int(r["year"]) for r in rows})
        y = years[-1] if year is None else int(year)
        if y not in years:
            raise OptionError(f"year {y} not in {p.name} ({years[0]}-{years[-1]})")
        rows = [r for r in rows if int(r["year"]) == y]
        frame = pd.DataFrame(
            {
                "region": [r["departamento"].title().replace(" De ", " de ") for r in rows],
                "activity": [r["activity_no"] for r in rows],
                "value": [float(r["vab_miles_soles"]) for r in rows],
            }
        )
        names = {r["activity_no"]: r["activity"] for r in rows}
        units = f"miles de soles ({'de 2007' if prices == 'constant' else 'corrientes'})"
        cls = "inei-12"
    elif {"region", "activity", "value"} <= cols:
        if "year" in cols:
            years = sorted({int(r["year"]) for r in rows})
            y = years[-1] if year is None else int(year)
            rows = [r for r in rows if int(r["year"]) == y]
        else:
            y = year
        try:
            frame = pd.DataFrame(
                {
                    "region": [r["region"] for r in rows],
                    "activity": [r["activity"] for r in rows],
                    "value": [float(r["value"]) for r in rows],
                }
            )
        except ValueError as exc:
            raise LayoutError(f"{p.name}: a value is not a number ({exc})") from exc
        names = {r["activity"]: r.get("activity_name") or r["activity"] for r in rows}
        units = ""
        cls = rows[0].get("classification") or "table"
    else:
        raise LayoutError(
            f"{p.name}: expected INEI's departmental VAB columns or region,activity,value; "
            f"found {', '.join(sorted(cols))}"
        )
    if (frame["value"] < 0).any():
        raise LayoutError(f"{p.name}: negative regional values")
    values = frame.pivot_table(index="activity", columns="region", values="value", aggfunc="sum")
    values = values.fillna(0.0)
    order = sorted(values.index, key=lambda a: (len(str(a)), str(a)))
    values = values.loc[order]
    values.columns = [str(c) for c in values.columns]
    return RegionalData(values, names, cls, y, prices, units, str(p))


def location_quotients(data: RegionalData) -> pd.DataFrame:
    """SLQ of every activity (rows) in every region (columns)."""
    E = data.values.to_numpy(dtype="float64")
    national = E.sum(axis=1, keepdims=True)
    shares_r = E / E.sum(axis=0, keepdims=True)
    shares_n = national / national.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        slq = np.where(shares_n > 0, shares_r / shares_n, 0.0)
    return pd.DataFrame(slq, index=data.values.index, columns=data.values.columns)


def flq_lambda(region_share: float, delta: float = DEFAULT_DELTA) -> float:
    """λ = [log₂(1 + Eʳ/Eⁿ)]^δ (Flegg & Webber 1997)."""
    if not 0 <= delta < 1:
        raise OptionError(f"delta must be in [0, 1), got {delta}")
    return math.log2(1 + region_share) ** delta


def sector_activity(table: IOTable, data: RegionalData) -> dict[str, str]:
    """Return the main regional activity of every table sector (see the module docstring)."""
    if data.classification == "table":
        missing = [c for c in table.codes if c not in data.values.index]
        if missing:
            raise AnalysisError(f"regional data lack the table's sectors {', '.join(missing[:10])}")
        return {c: c for c in table.codes}
    acts = load_concordances()[data.classification]["sectors"]
    isic = sector_isic(table)
    out = {}
    for code in table.codes:
        codes = isic.get(code, ())
        votes = Counter()
        first = None
        for k in codes:
            for a, entry in acts.items():
                if any(codes_match(k, c) for c in entry["isic"]):
                    votes[a] += 1
                    first = first or a
        if not votes:
            raise AnalysisError(f"sector {code} has no regional activity (ISIC {codes})")
        top = max(votes.values())
        winners = [a for a, v in votes.items() if v == top]
        out[code] = first if first in winners else winners[0]
    return out


def regionalize(
    table: IOTable,
    data: RegionalData,
    region: str | list[str],
    *,
    method: str = "flq",
    delta: float = DEFAULT_DELTA,
) -> IOTable:
    """Estimate a regional table from a national one by location quotients.

    Parameters
    ----------
    table : IOTable
        The national table.
    data : RegionalData
    region : str or list of str
        A region, or several taken together (all of them gives the nation back).
    method : {"slq", "cilq", "flq", "aflq"}
    delta : float
        δ of the FLQ/AFLQ (default 0.3).

    Returns
    -------
    IOTable
        Regional coefficients aᵢⱼ × min(LQᵢⱼ, 1) applied to regional output.
    """
    if method not in METHODS:
        raise OptionError(f"method must be one of {', '.join(METHODS)}")
    regs = data.resolve(region)
    act = sector_activity(table, data)
    E = data.values
    E_n = E.sum(axis=1)
    E_r = E[regs].sum(axis=1)
    share = float(E_r.sum() / E_n.sum())
    slq_act = (E_r / E_r.sum()) / (E_n / E_n.sum())
    slq = np.array([float(slq_act[act[c]]) for c in table.codes])
    n = table.n
    if method == "slq":
        lq = np.repeat(slq[:, None], n, axis=1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            lq = np.where(slq[None, :] > 0, slq[:, None] / slq[None, :], 0.0)
        np.fill_diagonal(lq, slq)
        if method in ("flq", "aflq"):
            lq = lq * flq_lambda(share, delta)
        if method == "aflq":
            lq = lq * np.where(slq > 1, np.log2(1 + slq), 1.0)[None, :]
    x = table.x.to_numpy()
    reg_share = np.array(
        [float(E_r[act[c]] / E_n[act[c]]) if E_n[act[c]] > 0 else 0.0 for c in table.codes]
    )
    xr = x * reg_share
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.where(x[None, :] > 0, table.Z.to_numpy() / x[None, :], 0.0)
    Ar = A * np.minimum(lq, 1.0)
    Zr = Ar * xr[None, :]
    name = "+".join(regs) if len(regs) < 4 else f"{len(regs)} regions"
    meta = replace(
        table.meta,
        table_id=slug(f"{table.meta.table_id}-{name}-{method}"),
        layout=f"{table.meta.layout}+{method}",
        z_origin=None,
        notes=(
            *table.meta.notes,
            f"regional table for {name} by {method.upper()} (delta {delta}) from "
            f"{Path(data.source).name or 'regional data'} ({data.year}); regional share "
            f"{share:.4f}; final demand and primary inputs are residuals",
        ),
    )
    idx = table.Z.index
    return IOTable(
        codes=table.codes,
        names=table.names,
        Z=pd.DataFrame(Zr, index=idx, columns=idx),
        x=pd.Series(xr, index=idx),
        final_demand=pd.DataFrame({"final_demand_residual": xr - Zr.sum(axis=1)}, index=idx),
        value_added=pd.DataFrame([xr - Zr.sum(axis=0)], index=["primary_residual"], columns=idx),
        imports=None,
        meta=meta,
    )


@dataclass(frozen=True, slots=True)
class CandidateGeography:
    """Where one candidate's activities are concentrated."""

    candidate_id: str
    activities: tuple[str, ...]
    regions: tuple[dict[str, Any], ...]  # region, lq, share, concentrated — sorted by lq

    @property
    def concentrated(self) -> tuple[str, ...]:
        """Regions with LQ > 1, most concentrated first."""
        return tuple(r["region"] for r in self.regions if r["concentrated"])


def candidate_geography(
    table: IOTable, data: RegionalData, candidates: list[Any]
) -> list[CandidateGeography]:
    """LQ and national share of each candidate's core activities in every region.

    The candidate's activity is the sum over the distinct main activities of its core
    members: LQʳ = (Σₐ Eₐʳ / Eʳ) / (Σₐ Eₐⁿ / Eⁿ); share = Σₐ Eₐʳ / Σₐ Eₐⁿ. An activity
    that is the main activity of more than a third of the table's sectors (INEI's
    manufacturing holds 29 of CEPAL's 40) cannot say where a candidate is; it is used
    only when the candidate has no other activity.
    """
    act = sector_activity(table, data)
    counts = Counter(act.values())
    broad = {a for a, k in counts.items() if k > len(act) / 3}
    E = data.values
    tot_r = E.sum(axis=0)
    tot_n = float(tot_r.sum())
    out = []
    for c in candidates:
        every = {act[m] for m in c.core if m in act}
        acts = tuple(sorted(every - broad or every, key=lambda a: (len(a), a)))
        Ea_r = E.loc[list(acts)].sum(axis=0)
        Ea_n = float(Ea_r.sum())
        rows = []
        for r in E.columns:
            lq = float((Ea_r[r] / tot_r[r]) / (Ea_n / tot_n)) if Ea_n > 0 and tot_r[r] > 0 else 0.0
            rows.append(
                {
                    "region": str(r),
                    "lq": round(lq, 4),
                    "share": round(float(Ea_r[r] / Ea_n) if Ea_n else 0.0, 4),
                    "concentrated": lq > 1,
                }
            )
        rows.sort(key=lambda d: (-d["lq"], d["region"]))
        out.append(CandidateGeography(c.id, acts, tuple(rows)))
    return out
