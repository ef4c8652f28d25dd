"""Pairing of candidate clusters with qualitative evidence, and Rosenfeld's caveat.

An IO table shows transactions between industries; it never shows the character of
the relations between firms nor the benefits of a cluster (Rosenfeld 1997, as cited
by the PROMPYME study). Every candidate therefore gets a ``rosenfeld`` record:

``io_only``
    No qualitative evidence from the table's country: the candidate rests on
    transactions alone. Foreign cases sharing its activities are listed as analogues.
``paired``
    Evidence from the same country (the study's cases or the user's fieldwork) covers
    the candidate's activities: its phase, where it is, which dimensions are covered and
    which remain unverified.
``contradicted``
    The evidence disagrees with the IO signal, in either direction:
    (a) the table shows strong linkages (``intra_flow_share`` ≥ 0.3 and, where
    computed, bootstrap stability ≥ 0.6) but every matching case describes scarce
    productive relations (phase I on that dimension, e.g. an enclave);
    (b) a matching case is documented at phase III or IV but the table shows weak
    linkages (``intra_flow_share`` < 0.1, or stability < 0.6).

Matching: a case matches a candidate when more than half of the case's ISIC codes are
matched (prefix rule) by the ISIC codes of the candidate's *core* members; supporting
service sectors are left out because they attach to many activities. Fieldwork
evidence recorded for the same table matches by sector codes instead (Jaccard ≥ 0.5
between the recorded sectors and the candidate's members).

A national table cannot show the geographic concentration that is the study's first
requirement for a cluster; every record says so and lists the regions where the
evidence places the cluster.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from ..clustering import Candidate, ClusterResult
from ..errors import AnalysisError
from ..table import IOTable
from .catalogue import DIMENSIONS, Case, load_cases
from .concordance import coverage, detect_classification, sector_isic

STRONG_INTRA, WEAK_INTRA = 0.3, 0.1


def _plain(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


MIN_STABILITY = 0.6
MIN_COVERAGE = 0.5
STATUSES = ("io_only", "paired", "contradicted")


@dataclass(frozen=True, slots=True)
class CaseMatch:
    """A case whose activities the candidate covers."""

    case_id: str
    name: str
    country: str
    region: str
    phase: str
    same_country: bool
    coverage: float
    source: str
    citation: str
    region_supported: bool = False


@dataclass(frozen=True, slots=True)
class Rosenfeld:
    """Rosenfeld's caveat for one candidate."""

    status: str
    sentence_es: str
    sentence_en: str
    phase: str | None
    regions: tuple[str, ...]
    dimensions_covered: tuple[str, ...]
    dimensions_unverified: tuple[str, ...]
    reasons: tuple[str, ...]
    verify_in: tuple[str, ...] = ()
    geography_note_en: str = (
        "A national table cannot show geographic concentration, the study's first "
        "requirement for a cluster; check it in the regions listed."
    )
    geography_note_es: str = (
        "Una tabla nacional no muestra la concentración geográfica, primer requisito "
        "del estudio para un cluster; verifíquela en las regiones indicadas."
    )


@dataclass(frozen=True, slots=True)
class Pairing:
    """A candidate with its evidence."""

    candidate_id: str
    label: str
    isic: tuple[str, ...]
    matches: tuple[CaseMatch, ...]
    rosenfeld: Rosenfeld

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EvidenceResult:
    """Pairings of all candidates, plus documented cases the table did not propose."""

    pairings: tuple[Pairing, ...]
    classification: str | None
    unproposed_cases: tuple[str, ...]

    def for_candidate(self, candidate_id: str) -> Pairing:
        """Return the pairing of one candidate."""
        return next(p for p in self.pairings if p.candidate_id == candidate_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "classification": self.classification,
            "pairings": [p.to_dict() for p in self.pairings],
            "unproposed_cases": list(self.unproposed_cases),
        }


def _match(case: Case, cand: Candidate, codes: set[str], table_id: str) -> float:
    """Coverage of ``case`` by candidate ``cand`` (see the module docstring)."""
    if case.source != "study" and case.table_id == table_id and case.sectors:
        a, b = set(case.sectors), set(cand.codes)
        return len(a & b) / len(a | b)
    return coverage(case.isic, codes)


def _strong(c: Candidate) -> bool:
    stable = c.stability is None or c.stability >= MIN_STABILITY
    return c.intra_flow_share >= STRONG_INTRA and stable


def _weak(c: Candidate) -> bool:
    unstable = c.stability is not None and c.stability < MIN_STABILITY
    return c.intra_flow_share < WEAK_INTRA or unstable


def _status(c: Candidate, local: list[Case]) -> tuple[str, tuple[str, ...]]:
    if not local:
        return "io_only", ("no qualitative evidence from this country",)
    scarce = [
        k
        for k in local
        if (d := k.dimension("relaciones_productivas")) is not None and d.phase == "I"
    ]
    if _strong(c) and len(scarce) == len(local):
        why = tuple(
            f"{k.name}: {k.dimension('relaciones_productivas').en}"  # type: ignore[union-attr]
            + (" (enclave)" if k.enclave else "")
            for k in scarce
        )
        return "contradicted", ("strong table linkages, scarce relations in the evidence", *why)
    mature = [k for k in local if k.phase in ("III", "IV")]
    if mature and _weak(c):
        return "contradicted", (
            "documented as an interrelated cluster, weak linkages in the table",
            *(f"{k.name}: phase {k.phase}" for k in mature),
        )
    return "paired", ()


def _sentences(
    c: Candidate, status: str, local: list[Case], foreign: list[Case]
) -> tuple[str, str]:
    if status == "io_only":
        tail_en = tail_es = ""
        if foreign:
            names = "; ".join(f"{k.name} ({k.country}, phase {k.phase})" for k in foreign[:3])
            tail_en = f" Analogues abroad: {names}."
            tail_es = f" Análogos en el extranjero: {names}."
        return (
            f"{c.label}: propuesto solo por las transacciones de la tabla; no hay evidencia "
            "cualitativa local sobre el carácter de las relaciones entre empresas ni sobre los "
            f"beneficios del cluster.{tail_es}",
            f"{c.label}: proposed by the table's transactions alone; there is no local "
            "qualitative evidence on the character of the relations between firms or on the "
            f"benefits of a cluster.{tail_en}",
        )
    where = "; ".join(f"{k.name} ({k.region}, fase {k.phase})" for k in local)
    where_en = "; ".join(f"{k.name} ({k.region}, phase {k.phase})" for k in local)
    if status == "contradicted":
        return (
            f"{c.label}: la evidencia contradice la señal de la tabla — {where}. Las "
            "transacciones no prueban relaciones entre empresas.",
            f"{c.label}: the evidence disagrees with the table's signal — {where_en}. "
            "Transactions do not prove relations between firms.",
        )
    return (
        f"{c.label}: emparejado con {where}. La tabla muestra transacciones; la evidencia "
        "cualitativa describe las relaciones, que deben verificarse en campo.",
        f"{c.label}: paired with {where_en}. The table shows transactions; the qualitative "
        "evidence describes the relations, to be verified in the field.",
    )


def pair_evidence(
    table: IOTable,
    clusters: ClusterResult,
    *,
    extra_cases: tuple[Case, ...] = (),
    geography: dict[str, Any] | None = None,
) -> EvidenceResult:
    """Pair every candidate with the study's cases (and the user's fieldwork).

    Parameters
    ----------
    table : IOTable
        The table the candidates came from (for its country and classification).
    clusters : ClusterResult
    extra_cases : tuple of Case
        User evidence (fieldwork), labelled by its ``source``; it adds to the study's
        catalogue and never replaces it.
    geography : dict, optional
        Candidate id → :class:`~io_clusters.regional.CandidateGeography`. A case located
        in a region where the candidate is concentrated (LQ > 1) is marked
        ``region_supported`` and ranked first; the sentences name where the candidate
        would have to be verified on the ground.

    Returns
    -------
    EvidenceResult
    """
    try:
        isic_of = sector_isic(table)
        no_concordance = None
    except AnalysisError as exc:  # pair nothing, and say why on every candidate
        isic_of, no_concordance = {}, str(exc)
    country = table.meta.country
    cases = (*load_cases(), *extra_cases)
    pairings = []
    covered_cases: set[str] = set()
    for cand in clusters.candidates:
        codes = {k for m in cand.core for k in isic_of.get(m, ())}
        matches = []
        for case in cases:
            cov = _match(case, cand, codes, table.meta.table_id)
            if cov > MIN_COVERAGE or (case.source != "study" and cov >= MIN_COVERAGE):
                matches.append((case, cov))
        geo = (geography or {}).get(cand.id)
        conc = [_plain(r) for r in geo.concentrated] if geo is not None else []
        supported = {k.id for k, _ in matches if conc and any(r in _plain(k.region) for r in conc)}
        matches.sort(
            key=lambda m: (
                m[0].country != country,
                m[0].id not in supported,
                m[0].source == "study",
                -m[1],
                m[0].id,
            )
        )
        local = [k for k, _ in matches if k.country == country]
        foreign = [k for k, _ in matches if k.country != country]
        covered_cases.update(k.id for k in local)
        status, reasons = _status(cand, local)
        if no_concordance:
            reasons = (*reasons, no_concordance)
        es, en = _sentences(cand, status, local, foreign)
        verify = ()
        if geo is not None:
            top = [r for r in geo.regions if r["concentrated"]][:5]
            verify = tuple(f"{r['region']} (LQ {r['lq']:.2f})" for r in top)
            if verify:
                es += f" Verificar en campo en: {', '.join(verify)}."
                en += f" To be verified on the ground in: {', '.join(verify)}."
        dims_cov = sorted({d.dimension for k in local for d in k.dimensions if d.en or d.es})
        signalled = {d.dimension for k in local for d in k.dimensions if d.phase}
        phase = Counter(k.phase for k in local).most_common(1)[0][0] if local else None
        pairings.append(
            Pairing(
                candidate_id=cand.id,
                label=cand.label,
                isic=tuple(sorted(codes)),
                matches=tuple(
                    CaseMatch(
                        case_id=k.id,
                        name=k.name,
                        country=k.country,
                        region=k.region,
                        phase=k.phase,
                        same_country=k.country == country,
                        coverage=round(cov, 3),
                        source=k.source,
                        citation=k.citation,
                        region_supported=k.id in supported,
                    )
                    for k, cov in matches
                ),
                rosenfeld=Rosenfeld(
                    status=status,
                    sentence_es=es,
                    sentence_en=en,
                    phase=phase,
                    regions=tuple(dict.fromkeys(k.region for k in local)),
                    dimensions_covered=tuple(d for d in DIMENSIONS if d in dims_cov),
                    dimensions_unverified=tuple(d for d in DIMENSIONS if d not in signalled),
                    reasons=reasons,
                    verify_in=verify,
                ),
            )
        )
    unproposed = tuple(
        k.id
        for k in cases
        if k.country == country and k.source == "study" and k.id not in covered_cases
    )
    return EvidenceResult(tuple(pairings), detect_classification(table), unproposed)
