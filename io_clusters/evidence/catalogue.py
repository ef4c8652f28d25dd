"""The phase framework and the case catalogue of the PROMPYME study, as package data.

Source: PROEXPANSIÓN for PROMPYME, *Estudio sobre Cluster y Asociatividad* (Peru):
§1.2.4 and Cuadro 2 (phases and dimensions), chapters 2 and 3 (21 cases, Cuadros
3-23), chapter 5.1 (recommendations for the Peruvian cases). The wording in the data
files is io_clusters' own; every statement carries the lines of the study it rests on
(line numbers of ``../shared/seed/estudio_cluster_asociatividad_prompyme.txt``).

The study gives no per-dimension scores and no rule that turns dimensions into a phase:
it places cases by the interaction and joint action among agents (ch. 5.1) and asks
for own technology to pass from phase III to IV (§1.2.4). :func:`heuristic_phase` is
io_clusters' own heuristic built on those two statements; the study's phase stays
authoritative.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from statistics import median
from typing import Any

PHASES: tuple[str, ...] = ("I", "II", "III", "IV")
#: Dimensions Cuadro 2 describes for every phase.
CORE_DIMENSIONS: tuple[str, ...] = (
    "relaciones_productivas",
    "tecnologia",
    "demanda",
    "institucionalidad",
)
#: Dimensions Cuadro 2 describes only for phase IV (note * of the Cuadro).
MATURE_DIMENSIONS: tuple[str, ...] = (
    "productividad",
    "competencia_cooperadora",
    "insercion_agentes",
)
DIMENSIONS: tuple[str, ...] = CORE_DIMENSIONS + MATURE_DIMENSIONS
#: The dash of a phase range ("II–III").
RANGE_DASH = "–"

#: A range of lines of the study, inclusive: (first, last).
LineRange = tuple[int, int]

_PHASE_RE = re.compile(r"^\s*(IV|I{1,3})\s*(?:[–—-]\s*(IV|I{1,3}))?\s*$")


def parse_lines(spec: Any) -> tuple[LineRange, ...]:
    """Parse line references (``["1702-1703", "1607"]``) into ``((1702, 1703), (1607, 1607))``."""
    out = []
    for item in spec or ():
        a, _, b = str(item).partition("-")
        first, last = int(a), int(b or a)
        if last < first:
            raise ValueError(f"bad line range {item!r}")
        out.append((first, last))
    return tuple(out)


def format_lines(lines: tuple[LineRange, ...]) -> str:
    """``((1702, 1703), (1607, 1607))`` → ``"l. 1702–1703, 1607"``."""
    if not lines:
        return ""
    parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in lines]
    return "l. " + ", ".join(parts)


def phase_bounds(phase: str) -> tuple[int, int]:
    """Bounds (1-4) of a phase or a range: ``"II"`` → (2, 2), ``"II–III"`` → (2, 3).

    Raises
    ------
    ValueError
        When ``phase`` is not one of I-IV nor a range of two of them.
    """
    m = _PHASE_RE.match(phase or "")
    if not m:
        raise ValueError(f"not a phase (I, II, III, IV) or a range such as 'II–III': {phase!r}")
    lo, hi = PHASES.index(m.group(1)) + 1, PHASES.index(m.group(2) or m.group(1)) + 1
    if hi < lo:
        lo, hi = hi, lo
    return lo, hi


def phase_label(lo: int, hi: int) -> str:
    """Phase (``lo == hi``) or range (``"II–III"``) from bounds 1-4."""
    return PHASES[lo - 1] if lo == hi else f"{PHASES[lo - 1]}{RANGE_DASH}{PHASES[hi - 1]}"


def span_of(phases: list[str]) -> str | None:
    """One phase when all agree, else the range from the lowest to the highest."""
    if not phases:
        return None
    bounds = [phase_bounds(p) for p in phases]
    return phase_label(min(b[0] for b in bounds), max(b[1] for b in bounds))


@lru_cache(maxsize=1)
def load_framework() -> dict[str, Any]:
    """Return the phase framework (phases, seven dimensions, five requirements)."""
    return _load("framework.toml")


def _load(name: str) -> dict[str, Any]:
    ref = resources.files("io_clusters.evidence") / "data" / name
    return tomllib.loads(ref.read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class DimensionEvidence:
    """What the study (or fieldwork) says of one case on one dimension."""

    dimension: str
    phase: str | None
    en: str
    es: str
    lines: tuple[LineRange, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """A remark on a case (e.g. one of the study's internal contradictions), with lines."""

    text: str
    lines: tuple[LineRange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"text": self.text, "lines": [list(r) for r in self.lines]}


@dataclass(frozen=True, slots=True)
class Denial:
    """A step the study explicitly says is absent from the cluster (quoted, with lines)."""

    isic: str
    quote: str
    lines: tuple[LineRange, ...]


@dataclass(frozen=True, slots=True)
class LocalRelations:
    """What the study says about relations within the zone of a phase-I case."""

    en: str
    es: str
    lines: tuple[LineRange, ...]


@dataclass(frozen=True, slots=True)
class Case:
    """One documented cluster case of the study (or of the user's fieldwork)."""

    id: str
    name: str
    country: str
    region: str
    section: str
    cuadro: int | None
    phase: str | None
    sector: str
    products: tuple[str, ...]
    resource: str
    isic: tuple[str, ...]
    actors: str
    problems: str
    recommendations: str
    notes: tuple[Note, ...]
    dimensions: tuple[DimensionEvidence, ...]
    source: str = "study"
    table_id: str = ""
    sectors: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    line_refs: dict[str, tuple[LineRange, ...]] = field(default_factory=dict)
    denies: tuple[Denial, ...] = ()
    local_relations: LocalRelations | None = None
    outside_study: tuple[str, ...] = ()

    @property
    def citation(self) -> str:
        """Where the case is in the study (or the fieldwork file)."""
        if self.source != "study":
            return self.source
        cuadro = f", Cuadro {self.cuadro}" if self.cuadro else ""
        return f"PROMPYME study §{self.section}{cuadro}"

    @property
    def place_lines(self) -> tuple[LineRange, ...]:
        """Lines that locate the case: its heading, Cuadro and region."""
        return tuple(r for k in ("heading", "cuadro", "region") for r in self.line_refs.get(k, ()))

    def dimension(self, dim: str) -> DimensionEvidence | None:
        """Evidence on one dimension, if any."""
        return next((d for d in self.dimensions if d.dimension == dim), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (everything the catalogue holds)."""
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "region": self.region,
            "departments": list(self.departments),
            "section": self.section,
            "cuadro": self.cuadro,
            "phase": self.phase,
            "sector": self.sector,
            "products": list(self.products),
            "resource": self.resource,
            "isic": list(self.isic),
            "actors": self.actors,
            "problems": self.problems,
            "recommendations": self.recommendations,
            "notes": [n.to_dict() for n in self.notes],
            "local_relations": None
            if self.local_relations is None
            else {
                "en": self.local_relations.en,
                "es": self.local_relations.es,
                "lines": [list(r) for r in self.local_relations.lines],
            },
            "denies": [
                {"isic": d.isic, "quote": d.quote, "lines": [list(r) for r in d.lines]}
                for d in self.denies
            ],
            "outside_study": list(self.outside_study),
            "line_refs": {k: [list(r) for r in v] for k, v in self.line_refs.items()},
            "source": self.source,
            "citation": self.citation,
            "dimensions": {
                d.dimension: {
                    "phase": d.phase,
                    "en": d.en,
                    "es": d.es,
                    "lines": [list(r) for r in d.lines],
                }
                for d in self.dimensions
            },
        }


def _case(raw: dict[str, Any], source: str = "study") -> Case:
    dims = tuple(
        DimensionEvidence(
            k, v.get("phase"), v.get("en", ""), v.get("es", ""), parse_lines(v.get("lines"))
        )
        for k, v in raw.get("dimensions", {}).items()
    )
    lr = raw.get("local_relations")
    return Case(
        id=raw["id"],
        name=raw["name"],
        country=raw["country"],
        region=raw["region"],
        section=raw.get("section", ""),
        cuadro=raw.get("cuadro"),
        phase=raw["phase"],
        sector=raw.get("sector", ""),
        products=tuple(raw.get("products", ())),
        resource=raw.get("resource", ""),
        isic=tuple(raw.get("isic", ())),
        actors=raw.get("actors", ""),
        problems=raw.get("problems", ""),
        recommendations=raw.get("recommendations", ""),
        notes=tuple(Note(n["text"], parse_lines(n.get("lines"))) for n in raw.get("notes", ())),
        dimensions=dims,
        source=source,
        departments=tuple(raw.get("departments", ())),
        line_refs={k: parse_lines(v) for k, v in raw.get("line_refs", {}).items()},
        denies=tuple(
            Denial(d["isic"], d["quote"], parse_lines(d.get("lines")))
            for d in raw.get("denies", ())
        ),
        local_relations=None
        if lr is None
        else LocalRelations(lr["en"], lr["es"], parse_lines(lr.get("lines"))),
        outside_study=tuple(raw.get("outside_study", ())),
    )


@lru_cache(maxsize=1)
def load_cases() -> tuple[Case, ...]:
    """Return the 21 cases of the study's chapters 2 and 3."""
    return tuple(_case(c) for c in _load("cases.toml")["cases"])


def _level(phase: str) -> float:
    lo, hi = phase_bounds(phase)
    return (lo + hi) / 2


def heuristic_phase(case: Case) -> str | None:
    """Phase that io_clusters' own heuristic reads from a case's dimension evidence.

    The study gives no per-dimension scores and no aggregation rule. This heuristic
    follows it where it can:

    1. **Relations lead.** The study measures maturity by the interaction among agents
       (ch. 5.1, "Lo que se debe promover son las redes"), so productive relations
       count twice; the median is taken over relations (twice), technology, demand and
       institutions. A median between two phases is reported as a range ("II–III"),
       never rounded.
    2. **Joint action lifts to IV.** Joint action is what moves a cluster to the next
       phase (ch. 5.1, "La acción conjunta hace a los clusters sostenibles"); Cuadro 2
       describes it for phase IV as cooperative competition. When cooperative
       competition signals IV and relations are at least III, the reading is IV.
    3. **IV needs own technology and developed institutions** (§1.2.4: phase III lacks
       relations that yield technological improvement; Cuadro 2: IV is own technology
       and full institutional development), on integrated relations: without technology
       IV, institutions at III or IV and relations at III or IV, the reading is capped
       at III.

    A dimension recorded as a range (fieldwork) counts at its midpoint. Returns None when
    no core dimension signals a phase — never a default.
    """
    signalled = {
        d.dimension: _level(d.phase)
        for d in case.dimensions
        if d.dimension in CORE_DIMENSIONS and d.phase
    }
    if not signalled:
        return None
    values = list(signalled.values())
    relations = signalled.get("relaciones_productivas")
    if relations is not None:
        values.append(relations)
    m = median(values)
    lo, hi = math.floor(m), math.ceil(m)
    coop = case.dimension("competencia_cooperadora")
    if coop is not None and coop.phase and _level(coop.phase) >= 4 and (relations or 0) >= 3:
        lo = hi = 4
    tech = signalled.get("tecnologia", 0)
    inst = signalled.get("institucionalidad", 0)
    if hi == 4 and not (tech >= 4 and inst >= 3 and (relations or 0) >= 3):
        lo, hi = min(lo, 3), 3
    return phase_label(lo, hi)


def compare_phases(study: str | None, heuristic: str | None) -> str:
    """Compare the study's phase with the heuristic's reading.

    Returns ``"agrees"`` (the same single phase), ``"range"`` (the study's phase lies
    within the heuristic's range) or ``"differs"``.
    """
    if study is None or heuristic is None:
        return "differs"
    s_lo, s_hi = phase_bounds(study)
    h_lo, h_hi = phase_bounds(heuristic)
    if (s_lo, s_hi) == (h_lo, h_hi):
        return "agrees"
    if h_lo <= s_lo and s_hi <= h_hi:
        return "range"
    return "differs"


def phase_check() -> list[dict[str, Any]]:
    """For every study case: the study's phase, the heuristic's reading, and the verdict.

    ``verdict`` is ``"agrees"`` (the heuristic gives the study's phase), ``"range"`` (the
    heuristic gives a range with the study's phase at one end) or ``"differs"``.
    """
    out = []
    for c in load_cases():
        reading = heuristic_phase(c)
        verdict = compare_phases(c.phase, reading)
        out.append(
            {
                "case": c.id,
                "name": c.name,
                "study_phase": c.phase,
                "heuristic_phase": reading,
                "verdict": verdict,
                "agrees": verdict == "agrees",
            }
        )
    return out
