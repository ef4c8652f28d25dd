"""Where the clusters are: regional activity data, location quotients, FLQ tables.

Regional data are activity × region values (value added, output, employment or
establishments). Two kinds of activities are read:

* INEI's gross value added by department and activity (24 departments — Lima includes
  Callao — × 12 activities, 2007-2019; classification ``"inei-12"``), placed in ISIC
  Rev.4 through the package's concordance;
* any long CSV with ``region, activity, value`` and ``classification = "isic4"``, the
  activity being an ISIC Rev.4 code at section (``C``), division (``13``), group
  (``131``) or class (``1311``) level — e.g. employment by department and CIIU division
  from INEI's Censo Nacional Económico. ``io_clusters/data/regional/`` ships a synthetic
  example.

A table sector's activities are the regional activities that its ISIC codes fall in
(prefix rule, both ways: a division-level sector reads a section-level activity, a
class-level one its group…); for INEI's 12 activities, the one activity that covers
most of its codes (ties: its first code's).

**Broad activities cannot locate a candidate.** An activity is *broad* when it is an
activity of more than a third of the table's sectors (INEI's "Manufactura" holds 29 of
CEPAL Peru's 40) or when its ISIC codes span several ISIC sections (INEI's "Otros
Servicios"; "Electricidad, Gas y Agua" = D + E). A candidate is *located* only when no
core member depends on a broad activity; otherwise its ``regions`` are empty and a
note names the activity and the finer data that would locate it.

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
Regional output of a sector is its national output times its activities' regional
share; the regional table's final demand and primary inputs are the residuals (they
include trade with the rest of the country).

A candidate is *concentrated* in a region when its LQ exceeds 1 **and** the region
holds at least :data:`MIN_SHARE` (5 %) of the national activity: a high quotient in a
small economy (Moquegua's manufacturing LQ 3.1 is one smelter, 5.3 % of the nation's
manufacturing) is not where a cluster is to be verified on its own.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import geo
from .concordance import codes_match, load_concordances, sector_isic
from .errors import AnalysisError, LayoutError, OptionError
from .table import IOTable, slug

DEFAULT_DELTA = 0.3
METHODS = ("slq", "cilq", "flq", "aflq")
#: Smallest share of the national activity for a region to count as concentrated.
MIN_SHARE = 0.05
#: An activity of more than this share of the table's sectors is broad.
BROAD_SHARE = 1 / 3

#: ISIC Rev.4 sections and their divisions (UN 2008, ST/ESA/STAT/SER.M/4/Rev.4, Part 2).
ISIC_SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (45, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 63),
    "K": (64, 66),
    "L": (68, 68),
    "M": (69, 75),
    "N": (77, 82),
    "O": (84, 84),
    "P": (85, 85),
    "Q": (86, 88),
    "R": (90, 93),
    "S": (94, 96),
    "T": (97, 98),
    "U": (99, 99),
}
_DIVISIONS = {d for lo, hi in ISIC_SECTIONS.values() for d in range(lo, hi + 1)}


def isic_section(code: str) -> str | None:
    """Return the ISIC Rev.4 section of a code (a section letter or 2-4 digits)."""
    c = str(code).strip().upper()
    if c in ISIC_SECTIONS:
        return c
    if re.fullmatch(r"\d{2,4}", c) and int(c[:2]) in _DIVISIONS:
        d = int(c[:2])
        return next(s for s, (lo, hi) in ISIC_SECTIONS.items() if lo <= d <= hi)
    return None


def isic_expand(code: str) -> tuple[str, ...]:
    """Digits codes of an ISIC code: a section gives its divisions, digits stay as they are."""
    c = str(code).strip().upper()
    if c in ISIC_SECTIONS:
        lo, hi = ISIC_SECTIONS[c]
        return tuple(f"{d:02d}" for d in range(lo, hi + 1) if d in _DIVISIONS)
    return (c,)


def _plain(text: str) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", s).strip()


def _region_name(raw: str) -> str:
    """Return a Peruvian department's official name when ``raw`` is one, else ``raw``."""
    d = geo.department(raw)
    return d.name if d is not None else str(raw).strip()


@dataclass(frozen=True, slots=True)
class RegionalData:
    """Activity × region values for one year, measure and price basis.

    Attributes
    ----------
    values : DataFrame, shape (activities, regions)
        In ``units``; index = activity codes, columns = region names.
    activity_names : dict of str to str
    classification : str
        Concordance of the activities: ``"inei-12"``, ``"isic4"``, or ``"table"`` when
        the file's activities are the table's own sectors.
    year, prices, units, source, measure : metadata
        ``prices`` is the price basis (``"constant_2007"``, ``"current"``, or empty for
        counts such as employment); ``measure`` what the values are (value added,
        employment, establishments …).
    """

    values: pd.DataFrame
    activity_names: dict[str, str]
    classification: str
    year: int | None = None
    prices: str = ""
    units: str = ""
    source: str = ""
    measure: str = ""

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

    def describe(self) -> dict[str, Any]:
        """Return what the values are: source, year, prices, measure, units, classification."""
        return {
            "source": self.source,
            "year": self.year,
            "prices": self.prices,
            "measure": self.measure,
            "units": self.units,
            "classification": self.classification,
        }


def read_regional(
    path: str | Path, *, year: int | None = None, prices: str = "constant"
) -> RegionalData:
    """Read regional activity data.

    Accepted layouts:

    * INEI's departmental VAB in long form (columns ``prices``, ``departamento``,
      ``year``, ``activity_no``, ``activity``, ``vab_miles_soles``; activity 0, the
      department total, is left out) — ``prices`` ``"constant"`` or ``"current"``;
    * a long CSV with ``region``, ``activity``, ``value`` and optionally
      ``classification`` (``"isic4"``: activities are ISIC Rev.4 codes at section,
      division, group or class level; default ``"table"``: the table's sector codes),
      ``year``, ``measure``, ``units``, ``prices``, ``source``, ``activity_name``.

    Region names that are Peruvian departments (exact, accents and case folded) are
    given their official spelling.

    Parameters
    ----------
    path : path
    year : int, optional
        Default: the latest year in the file.
    prices : {"constant", "current"}
        Price basis of INEI's file (other files carry theirs in a ``prices`` column).

    Raises
    ------
    LayoutError
        Unknown columns, non-numeric or negative values, a (region, activity) given
        twice, unknown ISIC codes, or ISIC codes nested in others (double counting);
        every offending value is listed.
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
        frame, names, meta = _read_inei(rows, p.name, year, prices)
    elif {"region", "activity", "value"} <= cols:
        frame, names, meta = _read_long(rows, cols, p.name, year)
    else:
        raise LayoutError(
            f"{p.name}: expected INEI's departmental VAB columns or region,activity,value; "
            f"found {', '.join(sorted(cols))}"
        )
    return RegionalData(_activity_by_region(frame, p.name), names, **meta)


def _read_inei(
    rows: list[dict[str, str]], file: str, year: int | None, prices: str
) -> tuple[pd.DataFrame, dict[str, str], dict[str, Any]]:
    """Return the long (region, activity, value) frame, names and metadata of INEI's file."""
    if prices not in ("constant", "current"):
        raise OptionError("prices must be 'constant' or 'current'")
    basis = "constant_2007" if prices == "constant" else "current"
    rows = [r for r in rows if r["prices"] == basis and r["activity_no"] != "0"]
    years = sorted({int(r["year"]) for r in rows})
    y = years[-1] if year is None else int(year)
    if y not in years:
        raise OptionError(f"year {y} not in {file} ({years[0]}-{years[-1]})")
    rows = [r for r in rows if int(r["year"]) == y]
    frame = pd.DataFrame(
        {
            "region": [_region_name(r["departamento"]) for r in rows],
            "activity": [r["activity_no"] for r in rows],
            "value": [float(r["vab_miles_soles"]) for r in rows],
        }
    )
    names = {r["activity_no"]: r["activity"] for r in rows}
    meta = {
        "classification": "inei-12",
        "year": y,
        "prices": basis,
        "units": f"miles de soles ({'de 2007' if prices == 'constant' else 'corrientes'})",
        "source": f"INEI, Valor Agregado Bruto por departamentos y actividades ({file})",
        "measure": "valor agregado bruto (VAB)",
    }
    return frame, names, meta


def _read_long(
    rows: list[dict[str, str]], cols: set[str], file: str, year: int | None
) -> tuple[pd.DataFrame, dict[str, str], dict[str, Any]]:
    """Return the long frame, names and metadata of a ``region,activity,value`` CSV."""
    y: int | None
    if "year" in cols:
        years = sorted({int(r["year"]) for r in rows if r["year"]})
        if year is not None and int(year) not in years:
            raise OptionError(f"year {year} not in {file} ({', '.join(map(str, years))})")
        y = years[-1] if year is None else int(year)
        rows = [r for r in rows if r["year"] and int(r["year"]) == y]
    else:
        y = year
    meta = _file_meta(rows, file)
    cls = meta["classification"] or "table"
    parsed = _parse_values(rows, file)
    acts = [str(r["activity"]).strip() for r in rows]
    if cls == "isic4":
        acts = [a.upper() for a in acts]
        _check_isic(acts, file)
    frame = pd.DataFrame(
        {"region": [_region_name(r["region"]) for r in rows], "activity": acts, "value": parsed}
    )
    names = {
        a: (r.get("activity_name") or "").strip() or (f"ISIC {a}" if cls == "isic4" else a)
        for a, r in zip(acts, rows, strict=True)
    }
    return (
        frame,
        names,
        {
            "classification": cls,
            "year": y,
            "prices": meta["prices"],
            "units": meta["units"],
            "source": meta["source"] or file,
            "measure": meta["measure"],
        },
    )


def _file_meta(rows: list[dict[str, str]], file: str) -> dict[str, str]:
    """Return the one classification, measure, units, prices and source of a long CSV."""
    meta = {}
    for key in ("classification", "measure", "units", "prices", "source"):
        found = sorted({(r.get(key) or "").strip() for r in rows} - {""})
        if len(found) > 1:
            raise LayoutError(f"{file}: one {key} per file, found {', '.join(found)}")
        meta[key] = found[0] if found else ""
    return meta


def _parse_values(rows: list[dict[str, str]], file: str) -> list[float]:
    """Return the ``value`` column as numbers; every value that is not one is listed."""
    bad = []
    parsed: list[float] = []
    for i, r in enumerate(rows, start=2):
        try:
            parsed.append(float(r["value"]))
        except (TypeError, ValueError):
            bad.append(f"row {i}: {r['value']!r}")
    if bad:
        raise LayoutError(f"{file}: values that are not numbers: {'; '.join(bad[:20])}")
    return parsed


def _activity_by_region(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """Return activity × region values of a long frame, refusing duplicates and negatives."""
    dup = frame[frame.duplicated(["region", "activity"], keep=False)]
    if len(dup):
        pairs = sorted({f"{r} × {a}" for r, a in zip(dup["region"], dup["activity"], strict=True)})
        raise LayoutError(f"{file}: (region, activity) given more than once: {', '.join(pairs)}")
    if (frame["value"] < 0).any():
        neg = frame[frame["value"] < 0]
        raise LayoutError(
            f"{file}: negative regional values: "
            + ", ".join(f"{r} × {a}" for r, a in zip(neg["region"], neg["activity"], strict=True))
        )
    values = frame.pivot_table(index="activity", columns="region", values="value", aggfunc="sum")
    values = values.fillna(0.0)
    order = sorted(values.index, key=lambda a: (len(str(a)), str(a)))
    values = values.loc[order]
    values.columns = [str(c) for c in values.columns]
    return values


def _check_isic(acts: list[str], name: str) -> None:
    """Refuse unknown ISIC codes and codes nested in others (they would count twice)."""
    distinct = sorted(set(acts))
    unknown = [a for a in distinct if isic_section(a) is None]
    if unknown:
        raise LayoutError(
            f"{name}: not ISIC Rev.4 section/division/group/class codes: {', '.join(unknown)}"
        )
    nested = []
    for a in distinct:
        for b in distinct:
            inner, outer = isic_expand(a), isic_expand(b)
            if a != b and all(any(x.startswith(y) for y in outer) for x in inner):
                nested.append(f"{a} inside {b}")
    if nested:
        raise LayoutError(
            f"{name}: activities nested in others would be counted twice; give one level per "
            f"branch: {', '.join(sorted(set(nested)))}"
        )


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


def sector_activities(table: IOTable, data: RegionalData) -> dict[str, tuple[str, ...]]:
    """Return the regional activities of every table sector (see the module docstring).

    A sector none of whose ISIC codes the data cover gets an empty tuple.
    """
    if data.classification == "table":
        missing = [c for c in table.codes if c not in data.values.index]
        if missing:
            raise AnalysisError(f"regional data lack the table's sectors {', '.join(missing[:10])}")
        return {c: (c,) for c in table.codes}
    isic = sector_isic(table)
    if data.classification == "isic4":
        expanded = {str(a): isic_expand(str(a)) for a in data.values.index}
        return {
            code: tuple(
                a
                for a, exp in expanded.items()
                if any(codes_match(k, e) for k in isic.get(code, ()) for e in exp)
            )
            for code in table.codes
        }
    concordances = load_concordances()
    if data.classification not in concordances:
        raise AnalysisError(f"no concordance for regional classification {data.classification!r}")
    acts = concordances[data.classification]["sectors"]
    out: dict[str, tuple[str, ...]] = {}
    for code in table.codes:
        votes: Counter[str] = Counter()
        first = None
        for k in isic.get(code, ()):
            for a, entry in acts.items():
                if any(codes_match(k, c) for c in entry["isic"]):
                    votes[a] += 1
                    first = first or a
        if not votes:
            out[code] = ()
            continue
        top = max(votes.values())
        winners = [a for a, v in votes.items() if v == top]
        out[code] = (first if first in winners else winners[0],)
    return out


def sector_activity(table: IOTable, data: RegionalData) -> dict[str, str]:
    """Return one regional activity per sector (the first of :func:`sector_activities`).

    Raises
    ------
    AnalysisError
        When a sector has no regional activity.
    """
    acts = sector_activities(table, data)
    missing = [c for c, a in acts.items() if not a]
    if missing:
        raise AnalysisError(f"sectors without a regional activity: {', '.join(missing[:10])}")
    return {c: a[0] for c, a in acts.items()}


@dataclass(frozen=True, slots=True)
class ActivityBreadth:
    """How broad a regional activity is relative to the table."""

    code: str
    name: str
    sectors: tuple[str, ...]
    sections: tuple[str, ...]
    broad: bool

    def reason(self, n_sectors: int, lang: str = "en") -> str:
        """Why the activity is broad, in words."""
        parts = []
        if len(self.sectors) > BROAD_SHARE * n_sectors:
            parts.append(
                f"abarca {len(self.sectors)} de los {n_sectors} sectores de la tabla"
                if lang == "es"
                else f"covers {len(self.sectors)} of the table's {n_sectors} sectors"
            )
        if len(self.sections) > 1:
            secs = ", ".join(self.sections)
            parts.append(
                f"mezcla las secciones CIIU {secs}"
                if lang == "es"
                else f"spans ISIC sections {secs}"
            )
        return (" y " if lang == "es" else " and ").join(parts)


def activity_breadth(table: IOTable, data: RegionalData) -> dict[str, ActivityBreadth]:
    """Breadth of every regional activity: the table sectors in it and its ISIC sections.

    Broad: an activity of more than :data:`BROAD_SHARE` of the table's sectors, or whose
    ISIC codes span more than one ISIC section. Activities that are the table's own
    sectors (classification ``"table"``) are never broad.
    """
    acts = sector_activities(table, data)
    members: dict[str, list[str]] = {str(a): [] for a in data.values.index}
    for code, aa in acts.items():
        for a in aa:
            members.setdefault(a, []).append(code)
    if data.classification == "isic4":
        isic_of = {a: isic_expand(a) for a in members}
    elif data.classification == "table":
        isic_of = {a: () for a in members}
    else:
        sectors = load_concordances()[data.classification]["sectors"]
        isic_of = {a: tuple(sectors.get(a, {}).get("isic", ())) for a in members}
    n = table.n
    out = {}
    for a, secs in members.items():
        sections = tuple(sorted({s for k in isic_of[a] if (s := isic_section(k))}))
        broad = data.classification != "table" and (
            len(secs) > BROAD_SHARE * n or len(sections) > 1
        )
        out[a] = ActivityBreadth(
            a, data.activity_names.get(a, a), tuple(secs), sections, bool(broad)
        )
    return out


@dataclass(frozen=True, slots=True)
class CandidateGeography:
    """Where one candidate's activities are concentrated — when the data can say it.

    Attributes
    ----------
    candidate_id : str
    activities : tuple of str
        The regional activities of its core members.
    regions : tuple of dict
        ``region``, ``lq``, ``share`` (of the national activity), ``concentrated``
        (LQ > 1 and share ≥ ``min_share``); concentrated regions first, then by LQ.
        Empty when the candidate is not located.
    located : bool
        False when a core member depends on a broad activity or on none.
    broad : tuple of str
        The broad activities behind its core.
    note_es, note_en : str
        What the location rests on, or why there is none and what data would give it.
    """

    candidate_id: str
    activities: tuple[str, ...]
    regions: tuple[dict[str, Any], ...]
    located: bool = True
    broad: tuple[str, ...] = ()
    note_es: str = ""
    note_en: str = ""
    activity_names: dict[str, str] = field(default_factory=dict)

    @property
    def concentrated(self) -> tuple[str, ...]:
        """Regions where it is concentrated, in order (empty when not located)."""
        return tuple(r["region"] for r in self.regions if r["concentrated"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields of a candidate."""
        return {
            "located": self.located,
            "location_note": {"es": self.note_es, "en": self.note_en},
            "regions": [dict(r) for r in self.regions],
            "regional_activities": [
                {"code": a, "name": self.activity_names.get(a, a), "broad": a in self.broad}
                for a in self.activities
            ],
        }


def _core(c: Any) -> list[str]:
    return [m.code for m in c.members if m.role == "core"]


def _divisions(table: IOTable, codes: list[str]) -> list[str]:
    try:
        isic = sector_isic(table)
    except AnalysisError:
        return []
    divs = {k[:2] for c in codes for k in isic.get(c, ()) if re.fullmatch(r"\d{2,4}", k)}
    return sorted(divs)


def candidate_geography(
    table: IOTable,
    data: RegionalData,
    candidates: list[Any],
    *,
    min_share: float = MIN_SHARE,
) -> list[CandidateGeography]:
    """Locate each candidate by the regional activities of its core members.

    The candidate's activity is the sum over the distinct activities of its core
    members: LQʳ = (Σₐ Eₐʳ / Eʳ) / (Σₐ Eₐⁿ / Eⁿ); share = Σₐ Eₐʳ / Σₐ Eₐⁿ. It is located
    only when none of these activities is broad (:func:`activity_breadth`) and every
    core member has one; otherwise ``regions`` is empty and the note says which
    activity stands in the way and which finer data would locate the candidate.

    Parameters
    ----------
    table : IOTable
    data : RegionalData
    candidates : list
        Records with ``id`` and ``members`` (``code``, ``name``, ``role``).
    min_share : float
        Smallest share of the national activity for a concentrated region (0.05).
    """
    if not 0 <= min_share < 1:
        raise OptionError(f"min_share must be in [0, 1), got {min_share}")
    acts = sector_activities(table, data)
    breadth = activity_breadth(table, data)
    names = {str(a): data.activity_names.get(str(a), str(a)) for a in data.values.index}
    E = data.values
    tot_r = E.sum(axis=0)
    tot_n = float(tot_r.sum())
    what = _what(data)
    out = []
    for c in candidates:
        core = _core(c)
        every = tuple(sorted({a for m in core for a in acts.get(m, ())}, key=lambda a: (len(a), a)))
        broad = tuple(a for a in every if breadth[a].broad)
        uncovered = [m for m in core if not acts.get(m)]
        if broad or uncovered or not every:
            es, en = _not_located_notes(table, c, core, acts, breadth, broad, uncovered, data)
            out.append(CandidateGeography(c.id, every, (), False, broad, es, en, names))
            continue
        Ea_r = E.loc[list(every)].sum(axis=0)
        Ea_n = float(Ea_r.sum())
        rows: list[dict[str, Any]] = []
        for r in E.columns:
            lq = float((Ea_r[r] / tot_r[r]) / (Ea_n / tot_n)) if Ea_n > 0 and tot_r[r] > 0 else 0.0
            share = float(Ea_r[r] / Ea_n) if Ea_n else 0.0
            rows.append(
                {
                    "region": str(r),
                    "lq": round(lq, 4),
                    "share": round(share, 4),
                    "concentrated": bool(lq > 1 and share >= min_share),
                }
            )
        rows.sort(key=lambda d: (not d["concentrated"], -d["lq"], d["region"]))
        label = "; ".join(f"{a} «{names[a]}»" for a in every)
        label_en = "; ".join(f'{a} "{names[a]}"' for a in every)
        conc = [
            f"{r['region']} (LQ {r['lq']:.2f}, {r['share']:.0%})" for r in rows if r["concentrated"]
        ]
        es = (
            f"Ubicado por la actividad {label} ({what['es']}); concentrado (LQ > 1 y al menos "
            f"{min_share:.0%} de la actividad nacional) en: {', '.join(conc) or 'ninguna región'}."
        )
        en = (
            f"Located by activity {label_en} ({what['en']}); concentrated (LQ > 1 and at least "
            f"{min_share:.0%} of the national activity) in: {', '.join(conc) or 'no region'}."
        )
        out.append(CandidateGeography(c.id, every, tuple(rows), True, (), es, en, names))
    return out


def _what(data: RegionalData) -> dict[str, str]:
    bits = [data.measure, str(data.year) if data.year else "", data.prices, data.units]
    text = ", ".join(b for b in bits if b)
    src = Path(data.source).name if data.source.endswith(".csv") else data.source
    return {"es": f"{text}; fuente: {src}", "en": f"{text}; source: {src}"}


def _not_located_notes(
    table: IOTable,
    c: Any,
    core: list[str],
    acts: dict[str, tuple[str, ...]],
    breadth: dict[str, ActivityBreadth],
    broad: tuple[str, ...],
    uncovered: list[str],
    data: RegionalData,
) -> tuple[str, str]:
    names = table.name_of
    es_parts, en_parts = [], []
    for a in broad:
        b = breadth[a]
        mem = [m for m in core if a in acts.get(m, ())]
        who = ", ".join(f"{m} {names.get(m, m)}" for m in mem)
        es_parts.append(
            f"{who} {'cae' if len(mem) == 1 else 'caen'} en la actividad regional {a} "
            f"«{b.name}», que {b.reason(table.n, 'es')}: sus cocientes de localización dicen "
            f"dónde está esa actividad, no este candidato"
        )
        en_parts.append(
            f"{who} {'falls' if len(mem) == 1 else 'fall'} in the regional activity {a} "
            f'"{b.name}", which {b.reason(table.n, "en")}: its location quotients say where '
            "that activity is, not this candidate"
        )
    if uncovered:
        who = ", ".join(f"{m} {names.get(m, m)}" for m in uncovered)
        es_parts.append(f"los datos regionales no cubren {who}")
        en_parts.append(f"the regional data do not cover {who}")
    divs = _divisions(table, [m for m in core if set(acts.get(m, ())) & set(broad)] + uncovered)
    div_es = f" {', '.join(divs)}" if divs else ""
    es = (
        f"Sin ubicar: {'; '.join(es_parts)}. Lo ubicarían datos por departamento y división "
        f"CIIU Rev.4{div_es} (empleo o establecimientos, p. ej. del Censo Nacional Económico "
        "del INEI; formato region, activity, value con classification = isic4)."
    )
    en = (
        f"Not located: {'; '.join(en_parts)}. Data by department and ISIC Rev.4 division"
        f"{div_es} (employment or establishments, e.g. INEI's Censo Nacional Económico; "
        "format region, activity, value with classification = isic4) would locate it."
    )
    return es, en


def verify_in(
    geography: CandidateGeography | None,
    cases: list[Any],
    *,
    country: str | None = "PER",
) -> list[dict[str, Any]]:
    """Where to verify a candidate on the ground: concentration ∪ its evidence's departments.

    Parameters
    ----------
    geography : CandidateGeography or None
        Its location (concentrated regions count only when located).
    cases : list
        Its matched cases, records or dicts with ``country``, ``name`` and
        ``departments`` (names) or else ``region`` (a place description); only cases of
        ``country`` count, resolved to departments through :mod:`io_clusters.geo`
        (exact names).
    country : str
        The table's country; department names are Peru's.

    Returns
    -------
    list of dict
        ``department``, ``code`` (INEI, or None for a non-Peruvian region),
        ``concentrated`` (bool), ``lq``, ``share`` (when concentrated), ``cases`` (names
        of the evidence cases placed there) — concentrated regions first, in order.
    """
    out: dict[str, dict[str, Any]] = {}
    if geography is not None and geography.located:
        for r in geography.regions:
            if r["concentrated"]:
                d = geo.department(r["region"])
                key = d.code if d else r["region"]
                out[key] = {
                    "department": d.name if d else r["region"],
                    "code": d.code if d else None,
                    "concentrated": True,
                    "lq": r["lq"],
                    "share": r["share"],
                    "cases": [],
                }
    if country != "PER":
        return list(out.values())
    data_regions = tuple(r["region"] for r in geography.regions) if geography else ()
    for k in cases:
        get = k.get if isinstance(k, dict) else lambda f, _k=k: getattr(_k, f, None)
        if get("country") != country:
            continue
        named = get("departments")  # the catalogue's own department names, when given
        deps = (
            tuple(d for n in named if (d := geo.department(n)) is not None)
            if named
            else geo.departments_in(get("region") or "")
        )
        for d in deps:
            key = d.code
            if key not in out and d.code == geo.CALLAO and "15" in out:
                if geo.in_data(d, data_regions) == out["15"]["department"]:
                    key = "15"  # data fold Callao into Lima
            entry = out.setdefault(
                key,
                {
                    "department": d.name,
                    "code": d.code,
                    "concentrated": False,
                    "lq": None,
                    "share": None,
                    "cases": [],
                },
            )
            if get("name") not in entry["cases"]:
                entry["cases"].append(get("name"))
    return list(out.values())


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
    acts = sector_activities(table, data)
    missing = [c for c, a in acts.items() if not a]
    if missing:
        raise AnalysisError(f"sectors without a regional activity: {', '.join(missing[:10])}")
    E = data.values
    E_n = E.sum(axis=1)
    E_r = E[regs].sum(axis=1)
    share = float(E_r.sum() / E_n.sum())
    # a sector's value is the sum over its activities (one activity for INEI's 12)
    V_r = np.array([float(E_r[list(acts[c])].sum()) for c in table.codes])
    V_n = np.array([float(E_n[list(acts[c])].sum()) for c in table.codes])
    with np.errstate(divide="ignore", invalid="ignore"):
        slq = np.where(V_n > 0, (V_r / float(E_r.sum())) / (V_n / float(E_n.sum())), 0.0)
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
    with np.errstate(divide="ignore", invalid="ignore"):
        reg_share = np.where(V_n > 0, V_r / V_n, 0.0)
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


def example_path() -> Path:
    """Path of the SYNTHETIC department × ISIC Rev.4 example shipped with the package.

    Invented employment numbers for eight departments (not INEI data), to show the
    ``region, activity, value, classification = isic4`` format.
    """
    from importlib import resources

    return Path(
        str(resources.files("io_clusters") / "data" / "regional" / "example_isic4_synthetic.csv")
    )
