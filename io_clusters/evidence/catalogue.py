"""The phase framework and the case catalogue of the PROMPYME study, as package data.

Source: PROEXPANSIÓN for PROMPYME, *Estudio sobre Cluster y Asociatividad* (Peru):
§1.2.4 and Cuadro 2 (phases and dimensions), chapters 2 and 3 (21 cases, Cuadros
3-23), chapter 5.1 (recommendations for the Peruvian cases). The wording in the data
files is io_clusters' own.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
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


def _load(name: str) -> dict[str, Any]:
    ref = resources.files("io_clusters.evidence") / "data" / name
    return tomllib.loads(ref.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_framework() -> dict[str, Any]:
    """Return the phase framework (phases, seven dimensions, five requirements)."""
    return _load("framework.toml")


@dataclass(frozen=True, slots=True)
class DimensionEvidence:
    """What the study says of one case on one dimension."""

    dimension: str
    phase: str | None
    en: str
    es: str


@dataclass(frozen=True, slots=True)
class Case:
    """One documented cluster case of the study (or of the user's fieldwork)."""

    id: str
    name: str
    country: str
    region: str
    section: str
    cuadro: int | None
    phase: str
    sector: str
    products: tuple[str, ...]
    resource: str
    isic: tuple[str, ...]
    enclave: bool
    actors: str
    problems: str
    recommendations: str
    notes: str
    dimensions: tuple[DimensionEvidence, ...]
    source: str = "study"
    table_id: str = ""
    sectors: tuple[str, ...] = ()

    @property
    def citation(self) -> str:
        """Where the case is in the study (or the fieldwork file)."""
        if self.source != "study":
            return self.source
        cuadro = f", Cuadro {self.cuadro}" if self.cuadro else ""
        return f"PROMPYME study §{self.section}{cuadro}"

    def dimension(self, dim: str) -> DimensionEvidence | None:
        """Evidence on one dimension, if any."""
        return next((d for d in self.dimensions if d.dimension == dim), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "region": self.region,
            "section": self.section,
            "cuadro": self.cuadro,
            "phase": self.phase,
            "sector": self.sector,
            "isic": list(self.isic),
            "source": self.source,
            "citation": self.citation,
            "dimensions": {
                d.dimension: {"phase": d.phase, "en": d.en, "es": d.es} for d in self.dimensions
            },
        }


def _case(raw: dict[str, Any], source: str = "study") -> Case:
    dims = tuple(
        DimensionEvidence(k, v.get("phase"), v.get("en", ""), v.get("es", ""))
        for k, v in raw.get("dimensions", {}).items()
    )
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
        enclave=bool(raw.get("enclave", False)),
        actors=raw.get("actors", ""),
        problems=raw.get("problems", ""),
        recommendations=raw.get("recommendations", ""),
        notes=raw.get("notes", ""),
        dimensions=dims,
        source=source,
    )


@lru_cache(maxsize=1)
def load_cases() -> tuple[Case, ...]:
    """Return the 21 cases of the study's chapters 2 and 3."""
    return tuple(_case(c) for c in _load("cases.toml")["cases"])


def _round_half_up(v: float) -> int:
    return int(v + 0.5)


def assess_phase(case: Case) -> str | None:
    """Phase implied by a case's dimension evidence (io_clusters' documented rule).

    Rule: take the phases signalled on the four dimensions Cuadro 2 describes for
    every phase (productive relations, technology, demand, institutions), their median
    rounded half up gives the phase; phase IV additionally needs the three dimensions
    Cuadro 2 describes only for mature clusters (productivity, cooperative competition,
    entry of agents) all to signal IV — otherwise the result is capped at III — and
    when they all do, a median of at least III becomes IV. None when no core dimension
    signals a phase. The study's own phase stays authoritative; this rule only checks
    how far the dimension evidence supports it.
    """
    core = [
        PHASES.index(d.phase) + 1
        for d in case.dimensions
        if d.dimension in CORE_DIMENSIONS and d.phase
    ]
    if not core:
        return None
    level = _round_half_up(median(core))
    mature = [d.phase for d in case.dimensions if d.dimension in MATURE_DIMENSIONS]
    all_mature = len(mature) == len(MATURE_DIMENSIONS) and all(p == "IV" for p in mature)
    if all_mature and median(core) >= 3:
        level = 4
    elif level == 4:
        level = 3
    return PHASES[level - 1]


def phase_check() -> list[dict[str, Any]]:
    """For every study case: the study's phase, the rule's phase, and whether they agree."""
    out = []
    for c in load_cases():
        rule = assess_phase(c)
        out.append(
            {
                "case": c.id,
                "name": c.name,
                "study_phase": c.phase,
                "rule_phase": rule,
                "agrees": rule == c.phase,
            }
        )
    return out
