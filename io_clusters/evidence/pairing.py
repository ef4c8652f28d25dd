"""Pairing of candidate clusters with qualitative evidence, and Rosenfeld's caveat.

An IO table shows transactions between industries; it never shows the character of
the relations between firms nor the benefits of a cluster (Rosenfeld 1997, as cited
by the PROMPYME study, l. 1046-1050). The study adds that a definition of clusters from
the IO table is valid for knowing the *sector* in which a cluster develops (l.
1050-1051). Every candidate therefore gets a ``rosenfeld`` record.

Matching (two-sided, on ISIC Rev.4 codes, prefix rule)
    A case matches a candidate when the overlap is substantial *both ways*, threshold
    :data:`MIN_OVERLAP` = 0.5 on each side:

    * ``coverage``: the share of the case's ISIC codes matched by the ISIC codes of the
      candidate's core members;
    * ``core_coverage``: the share of the core's output (members' ``output_share``;
      equal weights when unknown) in activities the case covers. A core member counts
      whole when one of its codes matches the case, except a catch-all sector spanning
      more than :data:`BROAD_DIVISIONS` ISIC divisions (CEPAL's "Other services",
      BCCh's "Industria manufacturera"), which counts only by the share of its
      divisions the case touches.

    Supporting members are left out: they attach to many activities. A 12-sector
    aggregate therefore no longer matches a two-division case, a candidate holding
    "Other services" no longer matches Cusco's tourism (3 of its 24 divisions), and a
    mining core with a small third member still matches Yanacocha (mining is most of
    its output). Fieldwork recorded for the same table matches by sector codes instead
    (Jaccard ≥ 0.5 between the recorded sectors and the candidate's members, two-sided
    by nature).

Regional matching
    Without regional data every same-country match is *local* and decides the status.
    With regional data (the candidate's concentrated regions, LQ > 1), only the
    same-country cases located in a department where the candidate is concentrated
    decide; the others are listed in ``evidence_elsewhere``. Department names are
    compared exactly after folding accents and case (:func:`department_key`), never as
    substrings.

Statuses
    ``io_only``
        No local case decides: the candidate rests on transactions alone (foreign
        analogues and evidence elsewhere in the country are listed).
    ``paired``
        Local cases cover the candidate's activities. ``rosenfeld.cases`` lists each
        (id, phase, region, line references); ``rosenfeld.phase`` is their phase, or a
        range such as "II–III" when they differ. A phase-I case adds the flag
        ``local_relations_scarce``: the study documents an incipient agglomeration in a
        named place whose relations within the zone are scarce, while the table's flows
        are national — it pairs, it does not contradict.
    ``contradicted``
        Only when a deciding case explicitly denies a link in the candidate's core (a
        step the study says is absent, quoted with its lines, e.g. Antofagasta's copper
        is transformed elsewhere) *and* the case lies in a department where the
        candidate is concentrated. Without regional data such a denial is a flag
        (``denied_linkage``), not a status.

Flags never change the status by themselves: ``weak_linkage`` (core intra-flow share
< :data:`WEAK_INTRA`, self-deliveries excluded where the clustering provides it) and
``unstable`` (the candidate's ``stability_reading`` is "not to be trusted").

A national table cannot show the geographic concentration that is the study's first
requirement for a cluster (l. 1198-1199); every record says so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from ..clustering import WEAK_LINKAGE, Candidate, ClusterResult
from ..concordance import codes_match, coverage, detect_classification, sector_isic
from ..errors import AnalysisError
from ..geo import DEPARTMENTS
from ..mrio import is_multiregional
from ..table import IOTable
from .catalogue import DIMENSIONS, Case, Denial, format_lines, load_cases, phase_bounds, span_of

#: Minimum overlap both ways (share of the case's ISIC codes covered by the candidate's
#: core, and share of core members covered by the case).
MIN_OVERLAP = 0.5
#: A sector spanning more ISIC divisions than this is a catch-all: a case covers it
#: only by the share of its divisions the case touches.
BROAD_DIVISIONS = 5
#: Core intra-flow share below which the table's linkage is weak (flag only); the same
#: threshold as the candidates' own ``weak_linkage`` flag.
WEAK_INTRA = WEAK_LINKAGE
STATUSES = ("io_only", "paired", "contradicted")
FLAGS = ("local_relations_scarce", "weak_linkage", "unstable", "denied_linkage")

#: Peru's departments as INEI names them (24 plus the Constitutional Province of
#: Callao), from the one geography table (:data:`io_clusters.geo.DEPARTMENTS`).
PERU_DEPARTMENTS: tuple[str, ...] = tuple(d.name for d in DEPARTMENTS)
#: Words before a department's name that do not belong to it (folded).
_PREFIXES = ("departamento del ", "departamento de ", "region de ", "region ")


def department_key(name: str) -> str:
    """Accent- and case-folded department name, for exact comparison.

    ``"Áncash"``, ``"ancash"`` and ``"Departamento de Ancash"`` all give ``"ancash"``;
    ``"Ica"`` gives ``"ica"`` and never matches ``"Centroamérica"`` (names are compared
    whole, not as substrings). The one place that knows how region names compare.
    """
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    s = " ".join(s.lower().replace("-", " ").split())
    for p in _PREFIXES:
        if s.startswith(p):
            s = s[len(p) :]
            break
    return s


def same_department(a: str, b: str) -> bool:
    """Return True when two region names denote the same department (exact, folded)."""
    return department_key(a) == department_key(b)


@dataclass(frozen=True, slots=True)
class CaseMatch:
    """A case whose activities overlap the candidate's (both ways)."""

    case_id: str
    name: str
    country: str
    region: str
    phase: str | None
    same_country: bool
    coverage: float
    source: str
    citation: str
    core_coverage: float = 0.0
    region_supported: bool = False
    local: bool = False
    departments: tuple[str, ...] = ()
    actors: str = ""
    problems: str = ""
    recommendations: str = ""
    notes: tuple[dict[str, Any], ...] = ()
    line_refs: dict[str, list[list[int]]] | None = None


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case cited in a Rosenfeld record: id, phase, region and where it is in the study."""

    id: str
    name: str
    phase: str | None
    region: str
    departments: tuple[str, ...]
    citation: str
    lines: tuple[tuple[int, int], ...]


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
    flags: tuple[str, ...] = ()
    cases: tuple[CaseRef, ...] = ()
    evidence_elsewhere: tuple[CaseRef, ...] = ()
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
            "matching": {
                "rule": "two-sided ISIC overlap (prefix rule): share of the case's codes "
                "covered by the core, and share of the core's output the case covers "
                f"(catch-all sectors of more than {BROAD_DIVISIONS} divisions by the share "
                "of divisions touched); fieldwork for the same table: Jaccard on sector codes",
                "min_case_coverage": MIN_OVERLAP,
                "min_core_coverage": MIN_OVERLAP,
                "regional": "with regional data, only cases in departments where the "
                "candidate is concentrated (LQ > 1) decide; exact folded names",
            },
            "pairings": [p.to_dict() for p in self.pairings],
            "unproposed_cases": list(self.unproposed_cases),
        }


def _member_coverage(member_isic: tuple[str, ...], case_isic: tuple[str, ...]) -> float:
    """How much of one core member the case covers (1, 0, or a share for a catch-all)."""
    divisions = {k[:2] for k in member_isic}
    touched = {k[:2] for k in member_isic if any(codes_match(k, c) for c in case_isic)}
    if len(divisions) > BROAD_DIVISIONS:
        return len(touched) / len(divisions)
    return 1.0 if touched else 0.0


def _overlap(
    case: Case,
    cand: Candidate,
    core_isic: dict[str, tuple[str, ...]],
    weights: dict[str, float],
    table_id: str,
) -> tuple[float, float]:
    """(coverage of the case by the candidate, coverage of the candidate's core by the case)."""
    if case.source != "study" and case.table_id == table_id and case.sectors:
        a, b = set(case.sectors), {m.code for m in cand.members}
        jac = len(a & b) / len(a | b)
        return jac, jac
    codes = {k for ks in core_isic.values() for k in ks}
    case_cov = coverage(case.isic, codes)
    total = sum(weights.get(m, 0.0) for m in core_isic)
    if not core_isic or total <= 0:
        return case_cov, 0.0
    covered = sum(weights[m] * _member_coverage(ks, case.isic) for m, ks in core_isic.items())
    return case_cov, covered / total


def _core_weights(cand: Candidate, core: tuple[str, ...]) -> dict[str, float]:
    """Output shares of the core members (equal weights when none is known)."""
    share = {m.code: float(getattr(m, "output_share", 0.0) or 0.0) for m in cand.members}
    w = {c: max(share.get(c, 0.0), 0.0) for c in core}
    return w if sum(w.values()) > 0 else dict.fromkeys(core, 1.0)


def _core_codes(cand: Candidate) -> tuple[str, ...]:
    """Codes of the candidate's core members (all members when none is marked core)."""
    core = tuple(m.code for m in cand.members if m.role == "core")
    return core or tuple(m.code for m in cand.members)


def _concentrated(cand: Candidate, geography: dict[str, Any] | None) -> tuple[str, ...] | None:
    """Regions where the candidate is concentrated; None when there are no regional data."""
    geo = (geography or {}).get(cand.id)
    if geo is not None:
        return tuple(geo.concentrated)
    regions = getattr(cand, "regions", None)
    if not regions:
        return None
    out = []
    for r in regions:
        get = r.get if isinstance(r, dict) else lambda k, r=r: getattr(r, k, None)
        if get("concentrated"):
            out.append(str(get("region")))
    return tuple(out)


def _in_regions(case: Case, regions: tuple[str, ...]) -> bool:
    keys = {department_key(r) for r in regions}
    return any(department_key(d) in keys for d in case.departments)


def _phase_one(case: Case) -> bool:
    return case.phase is not None and phase_bounds(case.phase) == (1, 1)


def _ref(case: Case) -> CaseRef:
    return CaseRef(
        id=case.id,
        name=case.name,
        phase=case.phase,
        region=case.region,
        departments=case.departments,
        citation=case.citation,
        lines=case.place_lines,
    )


def _flags(
    cand: Candidate, deciding: list[Case], denied: list[tuple[Case, Denial]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    flags, reasons = [], []
    if any(_phase_one(k) for k in deciding):
        flags.append("local_relations_scarce")
        reasons.append(
            "a local case is in phase I: the study documents an incipient agglomeration "
            "with scarce relations within its zone; the table's flows are national"
        )
    intra = getattr(cand, "core_intra_flow_share", cand.intra_flow_share)
    if intra < WEAK_INTRA:
        flags.append("weak_linkage")
        reasons.append(f"weak table linkage: core intra-flow share {intra:.2f} < {WEAK_INTRA}")
    # the candidate's own reading (based on whether its chain holds in the bootstrap)
    if getattr(cand, "stability_reading", "") == "not to be trusted":
        cohesion = getattr(cand, "cohesion", None)
        held = "n/a" if cohesion is None else f"{cohesion:.0%} of replicates"
        flags.append("unstable")
        reasons.append(f"bootstrap: the chain is not to be trusted (it holds in {held})")
    if denied:
        flags.append("denied_linkage")
        for k, d in denied:
            reasons.append(
                f"{k.name}: the study says a step is absent (ISIC {d.isic}): "
                f"«{d.quote}» ({format_lines(d.lines)})"
            )
    return tuple(flags), tuple(reasons)


def _denials(deciding: list[Case], codes: set[str]) -> list[tuple[Case, Denial]]:
    """Return the steps deciding cases say are absent that fall in the candidate's core."""
    return [
        (k, d) for k in deciding for d in k.denies if any(codes_match(d.isic, c) for c in codes)
    ]


def _status(
    cand: Candidate,
    deciding: list[Case],
    elsewhere: list[Case],
    denied: list[tuple[Case, Denial]],
    regional: bool,
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    flags, reasons = _flags(cand, deciding, denied)
    if not deciding:
        why = (
            "local evidence only outside the departments where the candidate is concentrated"
            if elsewhere
            else "no qualitative evidence from this country"
        )
        return "io_only", (why, *reasons), tuple(f for f in flags if f != "local_relations_scarce")
    if denied and regional:
        return (
            "contradicted",
            (
                "a local case in a department where the candidate is concentrated denies a "
                "link in its core",
                *reasons,
            ),
            flags,
        )
    return "paired", reasons, flags


def _place(case: Case) -> str:
    """Return the case's departments when known (a named place), else its region text."""
    return ", ".join(case.departments) or case.region


def _names(cases: list[Case], lang: str) -> str:
    word = "fase" if lang == "es" else "phase"
    return "; ".join(f"{k.name} ({_place(k)}, {word} {k.phase or '?'})" for k in cases)


def _sentences(
    c: Candidate,
    status: str,
    deciding: list[Case],
    elsewhere: list[Case],
    foreign: list[Case],
    flags: tuple[str, ...],
    denied_text: list[tuple[Case, Denial]],
) -> tuple[str, str]:
    if status == "io_only":
        return _sentences_io_only(c, elsewhere, foreign)
    if status == "contradicted":
        return _sentences_contradicted(c, denied_text)
    return _sentences_paired(c, deciding, elsewhere, flags, denied_text)


def _sentences_io_only(c: Candidate, elsewhere: list[Case], foreign: list[Case]) -> tuple[str, str]:
    tail_en = tail_es = ""
    if elsewhere:
        tail_es += f" Evidencia en otras regiones del país: {_names(elsewhere, 'es')}."
        tail_en += f" Evidence elsewhere in the country: {_names(elsewhere, 'en')}."
    if foreign:
        names = "; ".join(f"{k.name} ({k.country}, {k.phase})" for k in foreign[:3])
        tail_en += f" Analogues abroad: {names}."
        tail_es += f" Análogos en el extranjero: {names}."
    es = (
        f"{c.label}: propuesto solo por las transacciones de la tabla; no hay evidencia "
        "cualitativa local sobre el carácter de las relaciones entre empresas ni sobre los "
        f"beneficios del cluster.{tail_es}"
    )
    en = (
        f"{c.label}: proposed by the table's transactions alone; there is no local "
        "qualitative evidence on the character of the relations between firms or on the "
        f"benefits of a cluster.{tail_en}"
    )
    return es, en


def _sentences_contradicted(
    c: Candidate, denied_text: list[tuple[Case, Denial]]
) -> tuple[str, str]:
    k, d = denied_text[0]
    return (
        f"{c.label}: el estudio niega expresamente un eslabón del núcleo del candidato donde "
        f"este se concentra — {k.name} ({_place(k)}): «{d.quote}» ({format_lines(d.lines)}). "
        "Las transacciones no prueban relaciones entre empresas.",
        f"{c.label}: the study explicitly denies a link in the candidate's core where the "
        f"candidate is concentrated — {k.name} ({_place(k)}): «{d.quote}» "
        f"({format_lines(d.lines)}). Transactions do not prove relations between firms.",
    )


def _phase_one_notes(deciding: list[Case]) -> tuple[str, str]:
    """Return sentences on the deciding cases that are incipient agglomerations (phase I)."""
    es = en = ""
    for k in deciding:
        if not _phase_one(k):
            continue
        lr = k.local_relations
        detail_es = f": {lr.es} ({format_lines(lr.lines)})" if lr else ""
        detail_en = f": {lr.en} ({format_lines(lr.lines)})" if lr else ""
        es += (
            f" El estudio documenta una aglomeración incipiente (fase I) en {_place(k)} cuyas "
            f"relaciones dentro de la zona son escasas{detail_es}; los flujos de la tabla son "
            "nacionales y pueden pasar fuera de esa zona."
        )
        en += (
            f" The study documents an incipient agglomeration (phase I) in {_place(k)} whose "
            f"relations within the zone are scarce{detail_en}; the table's flows are national "
            "and may run outside that zone."
        )
    return es, en


def _sentences_paired(
    c: Candidate,
    deciding: list[Case],
    elsewhere: list[Case],
    flags: tuple[str, ...],
    denied_text: list[tuple[Case, Denial]],
) -> tuple[str, str]:
    phase_es, phase_en = _phase_one_notes(deciding)
    es = f"{c.label}: emparejado con {_names(deciding, 'es')}.{phase_es}"
    en = f"{c.label}: paired with {_names(deciding, 'en')}.{phase_en}"
    if "denied_linkage" in flags:
        for k, d in denied_text:
            es += f" {k.name}: el estudio dice que falta un eslabón: «{d.quote}»."
            en += f" {k.name}: the study says a step is absent: «{d.quote}»."
    if "weak_linkage" in flags:
        es += " Los flujos internos del núcleo en la tabla son débiles."
        en += " The table's flows within the candidate's core are weak."
    if "unstable" in flags:
        es += " La pertenencia no es estable en el bootstrap; úsese con cautela."
        en += " Bootstrap membership is not stable; use with caution."
    if elsewhere:
        es += f" Evidencia en otras regiones del país: {_names(elsewhere, 'es')}."
        en += f" Evidence elsewhere in the country: {_names(elsewhere, 'en')}."
    es += (
        " La tabla muestra transacciones; la evidencia cualitativa describe las relaciones, "
        "que deben verificarse en campo."
    )
    en += (
        " The table shows transactions; the qualitative evidence describes the relations, "
        "to be verified in the field."
    )
    return es, en


def _match_record(
    k: Case, case_cov: float, core_cov: float, country: str | None, supported: bool, local: bool
) -> CaseMatch:
    return CaseMatch(
        case_id=k.id,
        name=k.name,
        country=k.country,
        region=k.region,
        phase=k.phase,
        same_country=k.country == country,
        coverage=round(case_cov, 3),
        source=k.source,
        citation=k.citation,
        core_coverage=round(core_cov, 3),
        region_supported=supported,
        local=local,
        departments=k.departments,
        actors=k.actors,
        problems=k.problems,
        recommendations=k.recommendations,
        notes=tuple(n.to_dict() for n in k.notes),
        line_refs={key: [list(r) for r in v] for key, v in k.line_refs.items()},
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
        Candidate id → :class:`~io_clusters.regional.CandidateGeography`. When given (or
        when candidates carry ``regions``), only same-country cases in departments where
        the candidate is concentrated (LQ > 1) decide the status; the rest are listed as
        evidence elsewhere.

    Returns
    -------
    EvidenceResult
    """
    try:
        isic_of = sector_isic(table)
        no_concordance = None
    except AnalysisError as exc:  # pair nothing, and say why on every candidate
        isic_of, no_concordance = {}, str(exc)
    ctx = _Context(
        isic_of=isic_of,
        no_concordance=no_concordance,
        country=table.meta.country,
        table_id=table.meta.table_id,
        cases=(*load_cases(), *extra_cases),
        geography=geography,
        multiregional=is_multiregional(table),
    )
    pairings = []
    covered_cases: set[str] = set()
    for cand in clusters.candidates:
        pairing, local = _pair_one(cand, ctx)
        pairings.append(pairing)
        covered_cases.update(local)
    country = ctx.country
    unproposed = tuple(
        k.id
        for k in ctx.cases
        if k.country == country and k.source == "study" and k.id not in covered_cases
    )
    return EvidenceResult(tuple(pairings), detect_classification(table), unproposed)


@dataclass(frozen=True, slots=True)
class _Context:
    """What every candidate's pairing reads: concordance, country, cases, geography."""

    isic_of: dict[str, tuple[str, ...]]
    no_concordance: str | None
    country: str | None
    table_id: str
    cases: tuple[Case, ...]
    geography: dict[str, Any] | None
    multiregional: bool = False


#: The geography note of a candidate of a multi-regional table (countries, not places).
MULTIREGIONAL_GEOGRAPHY_EN = (
    "A multi-regional table shows countries, not where within them the firms are: "
    "geographic concentration, the study's first requirement for a cluster, must be "
    "checked inside each country."
)
MULTIREGIONAL_GEOGRAPHY_ES = (
    "Una tabla multirregional muestra países, no dónde están las empresas dentro de "
    "ellos: la concentración geográfica, primer requisito del estudio para un cluster, "
    "debe verificarse dentro de cada país."
)


def _geography_notes(ctx: _Context) -> dict[str, str]:
    """Return the multi-regional wording of the geography note, when the table is one."""
    if not ctx.multiregional:
        return {}
    return {
        "geography_note_en": MULTIREGIONAL_GEOGRAPHY_EN,
        "geography_note_es": MULTIREGIONAL_GEOGRAPHY_ES,
    }


def _found(
    cand: Candidate, core_isic: dict[str, tuple[str, ...]], ctx: _Context
) -> list[tuple[Case, float, float]]:
    """Return the cases overlapping the candidate's core both ways, with both coverages."""
    weights = _core_weights(cand, _core_codes(cand))
    found = []
    for case in ctx.cases:
        case_cov, core_cov = _overlap(case, cand, core_isic, weights, ctx.table_id)
        if case_cov >= MIN_OVERLAP and core_cov >= MIN_OVERLAP:
            found.append((case, case_cov, core_cov))
    return found


def _verify_in(geo: Any, deciding: list[Case]) -> tuple[str, ...]:
    """Return where to verify: the deciding cases' departments, then the most concentrated.

    At most five departments, each with its location quotient.
    """
    if geo is None:
        return ()
    conc_rows = [r for r in geo.regions if r["concentrated"]]
    hosts = {department_key(d) for k in deciding for d in k.departments}
    first = [r for r in conc_rows if department_key(r["region"]) in hosts]
    top = (first + [r for r in conc_rows if r not in first])[:5]
    return tuple(f"{r['region']} (LQ {r['lq']:.2f})" for r in top)


def _pair_one(cand: Candidate, ctx: _Context) -> tuple[Pairing, set[str]]:
    """Pair one candidate; also return the ids of its same-country cases."""
    country = ctx.country
    core = _core_codes(cand)
    core_isic = {m: tuple(ctx.isic_of.get(m, ())) for m in core} if ctx.isic_of else {}
    codes = {k for ks in core_isic.values() for k in ks}
    found = _found(cand, core_isic, ctx)
    conc = _concentrated(cand, ctx.geography)
    regional = conc is not None
    local_all = [k for k, _, _ in found if k.country == country]
    deciding = [k for k in local_all if not regional or _in_regions(k, conc or ())]
    elsewhere = [k for k in local_all if k not in deciding]
    foreign = [k for k, _, _ in found if k.country != country]
    denied = _denials(deciding, codes)
    status, reasons, flags = _status(cand, deciding, elsewhere, denied, regional)
    if ctx.no_concordance:
        reasons = (*reasons, ctx.no_concordance)
    es, en = _sentences(cand, status, deciding, elsewhere, foreign, flags, denied)
    verify = _verify_in((ctx.geography or {}).get(cand.id), deciding)
    if verify:
        es += f" Verificar en campo en: {', '.join(verify)}."
        en += f" To be verified on the ground in: {', '.join(verify)}."
    supported = {k.id for k in local_all if regional and _in_regions(k, conc or ())}
    found.sort(
        key=lambda m: (
            m[0].country != country,
            m[0] not in deciding,
            m[0].source == "study",
            -m[1] - m[2],
            m[0].id,
        )
    )
    dims_cov = sorted({d.dimension for k in deciding for d in k.dimensions if d.en or d.es})
    signalled = {d.dimension for k in deciding for d in k.dimensions if d.phase}
    rosenfeld = Rosenfeld(
        status=status,
        sentence_es=es,
        sentence_en=en,
        phase=span_of([k.phase for k in deciding if k.phase]),
        regions=tuple(dict.fromkeys(k.region for k in deciding)),
        dimensions_covered=tuple(d for d in DIMENSIONS if d in dims_cov),
        dimensions_unverified=tuple(d for d in DIMENSIONS if d not in signalled),
        reasons=reasons,
        verify_in=verify,
        flags=flags,
        cases=tuple(_ref(k) for k in deciding),
        evidence_elsewhere=tuple(_ref(k) for k in elsewhere),
        **_geography_notes(ctx),
    )
    matches = tuple(
        _match_record(k, cc, kc, country, k.id in supported, k in deciding) for k, cc, kc in found
    )
    pairing = Pairing(
        candidate_id=cand.id,
        label=cand.label,
        isic=tuple(sorted(codes)),
        matches=matches,
        rosenfeld=rosenfeld,
    )
    return pairing, {k.id for k in local_all}
