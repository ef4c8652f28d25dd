"""Candidate clusters: chains of real trade among sectors with similar linkage profiles.

Following the approach of Torres Zorrilla (2003, *Clusters de la industria en el Perú*,
PUCP DT 228) as far as it is documented (his exact algorithm is not available; see
``../shared/METHOD.md`` §1.3): an IO table *proposes* groups of linked sectors, which
must then be checked with qualitative evidence (Rosenfeld's caveat). Every choice below
is an option of :class:`~io_clusters.options.ClusterOptions`, recorded in the result.

The analysis is a sequence of small pure steps (each a function of this module):

1. **Services** (:func:`io_clusters.services.classify_services`): sectors whose main
   ISIC Rev.4 activity is in sections D–U sell to everyone; they never seed candidates
   and their positions are left out of the profiles. Too-small goods sectors (below
   ``min_output_share`` of total output, 0.05 %) do not seed either, but may join a
   chain in step 6.
2. **Aggregation check** (:func:`io_clusters.services.aggregation_problem`): with fewer
   than ``min_goods_sectors`` (10) goods sectors, or one sector spanning most of
   manufacturing, no candidates are proposed (``too_aggregated``, ``message``).
3. **Similarity** (:func:`sector_similarity`): the ``combined`` default is the larger of
   the Feser–Bergman maximum of four profile correlations — over goods positions only —
   and the direct flow strength (:mod:`io_clusters.similarity`).
4. **Tree** (:func:`build_tree`): average-linkage (UPGMA) tree of the seeds on
   D = 1 − S (:func:`scipy.cluster.hierarchy.linkage`).
5. **Cut** (:func:`cut_tree`): at distance 1 − r* (r* = ``min_similarity``, 0.5), or
   ``threshold``, or into ``k`` groups. The cut is never forced further (but see the
   size rule in step 6).
6. **Link check and chains** (:func:`partition`):

   - two sectors are *linked* when the flow between them (either direction,
     self-deliveries excluded) is at least ``link_threshold`` (10 %) of the seller's
     intermediate sales or of the buyer's intermediate purchases — the direct shares of
     Oosterhaven, Eding & Stelder (2001), in the spirit of Hoen (2002: similar is not
     linked). A group of the cut that is not connected by such links is split into its
     connected parts (:func:`link_components`); parts of two or more sectors are cores;
     single sectors are unclustered ("no direct flow link to its group"), and two or
     more of them from one group are a *similar-structure group* — similar production
     structures, not a cluster;
   - a loose goods sector whose strongest direct flow with another goods sector reaches
     ``join_strength`` (0.4) joins that sector's core, or forms a core with it
     (:func:`join_strong_chains`; two too-small sectors never form a core alone): a
     resource sector selling most of its output to a processor belongs to the
     processor's chain even when the tree grouped their profiles apart (on BCCh 2008:
     cement → concrete, crude oil → fuels, leather → footwear);
   - a core member moves to the core of its strongest partner when that flow strength
     reaches ``chain_strength`` (0.5) and beats its best link inside its own core by 0.1,
     if its old core stays linked (:func:`move_to_strongest`; on BCCh 2008 annual crops
     move from forestry to milling);
   - a core producing more than ``max_core_output_share`` (20 %) of total output is a
     sector aggregate rather than a cluster: it is split along its weakest direct links
     (:func:`split_large`), so the strongest flows stay together — on CEPAL's 2011 table
     for Peru a 9-sector group of 24 % of output separates into mining–non-ferrous
     metals–electrical machinery and the construction-materials chain; sectors left
     alone are unclustered as ``split_off``.

   The flow-based joins and moves are not applied with ``similarity="correlation"``,
   kept as the profiles-only comparison.
7. **Services attach by flow** (:func:`attach_services`): a service supports a
   candidate when the core takes at least ``attach_share`` (10 %) of the service's
   intermediate sales and at least ``attach_ratio`` (1.5) times the core's share of all
   intermediate purchases; services selling less than ``min_intermediate_share`` (10 %)
   of their output to industries, or below ``min_output_share`` of total output, never
   attach. A service may support several candidates.
8. **Stability** (:func:`bootstrap_stability`; Hennig 2007, *CSDA* 52: 258–271):
   ``n_boot`` replicates perturb Z with multiplicative log-normal noise (σ = ``noise``;
   zeros stay zero) and resample the goods profile positions; each replicate goes
   through steps 3–6 again. Three figures per candidate:

   - ``cohesion`` — does the chain hold? The core's strongest-link chain is the maximum
     spanning tree of flow strength among its members (:func:`chain_edges`); for each of
     its links, the share of replicates in which both ends fall in one core; cohesion is
     the lowest of these shares (the chain is as strong as its weakest link);
   - ``stability`` — is the boundary the rule's? The mean best Jaccard of the core with
     the cores the same rule finds in the replicate;
   - ``stability_tree`` — is the boundary natural? Rule-free: the mean best Jaccard of
     the core's seeds with any node of the replicate's tree.

   ``stability_reading`` (Hennig's thresholds: ≥ 0.75 "stable", ≥ 0.6 "doubtful", else
   "not to be trusted") is based on ``cohesion``: whether the trade chain itself holds,
   which unrelated neighbours regrouping does not change. A pair joined by a strong
   flow can still read "doubtful" when one end is pulled into another chain in many
   replicates (Peru's fishing s02 competes with energy mining s03 at similarity 0.93):
   that is information, not noise. Low ``stability_tree`` and ``stability`` are
   warnings (flags ``boundary_unstable`` and ``rule_unstable``).
9. **Cross-checks** (:func:`confirmations`): ``confirmed_by`` lists the methods that
   also find the candidate — ``"feser_bergman"`` (principal components of the
   max-correlation matrix of the seeds, components with eigenvalue > 1, varimax
   rotation, members at loading ≥ 0.35; Feser & Bergman 2000, *Regional Studies* 34(1))
   when one factor holds at least two core members and at least half of the core;
   ``"strongest_chains"`` when at least half of the core's members lie on a pair of the
   core with flow strength ≥ ``chain_strength`` (0.5; ``chain_coverage``). The second
   uses the flows that also built the core: it says the candidate is a chain rather
   than a loose group, not that a different method agrees. Every pair at that strength
   is listed in ``strongest_chains``.
10. **Description** (:func:`describe_candidate`): members with their linkage indices and
    (core members) their strongest link inside the core (``link_partner``,
    ``link_strength``; below 0.15 the flag ``weak_member``), output shares (all members
    and core only), ``intra_flow_share`` (all members, self-deliveries included) and
    ``core_intra_flow_share`` (core, self-deliveries excluded), a label from the
    strongest internal flow ("Pesca → Otros alimentos"), an id derived from the core
    codes (``C-s02-s08``; for more than four, three codes, ``+N`` and a hash — the same
    member set gets the same id on every run), and a score — the mean of within-core
    similarity, ``cohesion`` and ``core_intra_flow_share`` — that gives the ``rank``.

``intra_flow_share`` = 2·Σ_{l,m∈C} z_lm / Σ_{l∈C}(Σ_k z_lk + Σ_k z_kl).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import cophenet, fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from . import mrio
from .errors import AnalysisError, OptionError
from .linkages import drop_zero_output
from .options import METHODS, ClusterOptions, LinkageMethod, load_toml
from .services import ServiceClassification, aggregation_problem, classify_services
from .similarity import MEASURES, flow_strength, max_correlation
from .table import IOTable

log = logging.getLogger(__name__)

__all__ = [
    "MEASURES",
    "METHODS",
    "Candidate",
    "Chain",
    "ClusterResult",
    "Member",
    "SimilarGroup",
    "detect_clusters",
]

#: Hennig's (2007) reading of mean Jaccard stability.
STABLE, DOUBTFUL = 0.75, 0.6
#: Most varimax-rotated components of the Feser–Bergman cross-check (large MRIO tables).
MAX_FACTORS = 100
#: Core intra-flow share below which members "trade little with each other".
WEAK_LINKAGE = 0.1
#: Strongest link inside the core below which a member is only loosely attached.
WEAK_MEMBER = 0.15
#: Reasons a seed or service sector is not in any candidate (machine keys).
UNCLUSTERED_REASONS = {
    "singleton": "no similar sector at the cut",
    "no_flow_link": "no direct flow link to its group",
    "split_off": "split off a core above the size limit (its weakest link)",
    "too_small": "below the size threshold for seeding candidates",
    "service_not_attached": "service not attached to any candidate by its sales",
    "too_aggregated": "the table is too aggregated for candidate clusters",
}


# --------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class Member:
    """One sector of a candidate cluster.

    ``attach_share`` (supporting members only) is the share of the service's
    intermediate sales that the candidate's core buys; ``link_partner`` and
    ``link_strength`` (core members) name the member's strongest direct link inside the
    core and its flow strength.
    """

    code: str
    name: str
    role: str  # "core" or "supporting"
    mean_similarity: float
    output_share: float
    export_share: float | None
    power_dispersion: float
    sensitivity_dispersion: float
    key_sector_class: str
    attach_share: float | None = None
    link_partner: str | None = None
    link_strength: float | None = None


@dataclass(frozen=True, slots=True)
class Chain:
    """A direct flow seller → buyer and its strength (Hoen 2002)."""

    seller: str
    buyer: str
    seller_name: str
    buyer_name: str
    flow: float
    strength: float
    share_of_seller_sales: float
    share_of_buyer_purchases: float
    share_of_seller_output: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SimilarGroup:
    """Sectors with similar production structures that do not trade with each other."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    within_mean_similarity: float
    reason: str = "similar profiles, no direct flow link between them"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate cluster: a hypothesis to be checked with qualitative evidence.

    ``flags`` are machine keys of the warnings (``weak_linkage``, ``unstable``,
    ``doubtful``, ``rule_unstable``, ``small_member``, ``services_attached``,
    ``table_imbalance``); ``warnings`` say the same in English sentences.
    """

    id: str
    label: str
    anchor: str
    members: tuple[Member, ...]
    output_share: float
    export_share: float | None
    within_mean_similarity: float
    separation: float | None
    merge_height: float
    stability: float | None
    stability_reading: str
    intra_flow_share: float
    score: float
    warnings: tuple[str, ...] = ()
    rank: int = 0
    linked: bool = True
    core_intra_flow_share: float = 0.0
    core_output_share: float = 0.0
    stability_tree: float | None = None
    confirmed_by: tuple[str, ...] = ()
    chain: tuple[str, str] | None = None
    flags: tuple[str, ...] = ()
    cohesion: float | None = None
    chain_coverage: float = 0.0
    # multi-regional tables with a focus region (io_clusters.mrio.focus_candidates)
    focus_region: str | None = None
    foreign_members: tuple[str, ...] | None = None
    cross_border_sales_share: float | None = None
    cross_border_purchases_share: float | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """Codes of all members."""
        return tuple(m.code for m in self.members)

    @property
    def core(self) -> tuple[str, ...]:
        """Codes of the core (seed) members."""
        return tuple(m.code for m in self.members if m.role == "core")

    def renamed(self, label: str) -> Candidate:
        """Return the candidate with a user-chosen label."""
        return replace(self, label=label)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        out = asdict(self)
        out["chain"] = None if self.chain is None else list(self.chain)
        for key in _FOCUS_FIELDS:  # only where a focus region was given
            if out[key] is None:
                del out[key]
        if self.foreign_members is not None:
            out["foreign_members"] = list(self.foreign_members)
        return out


_FOCUS_FIELDS = (
    "focus_region",
    "foreign_members",
    "cross_border_sales_share",
    "cross_border_purchases_share",
)


@dataclass(frozen=True, slots=True)
class ClusterResult:
    """Everything :func:`detect_clusters` computed.

    Attributes
    ----------
    candidates : list of Candidate
        Ranked by score, best first (``rank`` 1, 2, …).
    unclustered : tuple of str
        Goods sectors in no candidate and services attached to none.
    similarity : pandas.DataFrame, shape (n, n)
        Similarity of every pair of sectors (zero-output sectors dropped).
    tree : numpy.ndarray, shape (n_seeds − 1, 4)
        scipy linkage matrix over ``tree_codes`` (empty when too aggregated).
    tree_codes : tuple of str
        Seed sectors in the order of the tree's leaves' indices.
    labels : dict of str to int
        Group number of every seed sector at the cut (before the link check).
    options : dict
        :meth:`ClusterOptions.to_dict` plus the services rule and execution settings.
    diagnostics : dict
        k, cut distance, cophenetic correlation, silhouette of the cut, counts.
    services : dict of str to str
        Service sectors and why (e.g. ``"ISIC 49 (section H)"``).
    unclustered_reasons : dict of str to str
        Reason key of every unclustered sector (see :data:`UNCLUSTERED_REASONS`).
    similar_structure_groups : tuple of SimilarGroup
        Similar but unlinked sectors from one group of the cut (not clusters).
    strongest_chains : tuple of Chain
        Every direct flow with strength ≥ ``chain_strength``, strongest first.
    too_aggregated : bool
        True when the table is too aggregated for candidates (then none are proposed).
    message : dict of str to str
        Why, in Spanish (``"es"``) and English (``"en"``); empty otherwise.
    """

    candidates: list[Candidate]
    unclustered: tuple[str, ...]
    similarity: pd.DataFrame
    tree: np.ndarray
    tree_codes: tuple[str, ...]
    labels: dict[str, int]
    options: dict[str, Any]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    unclustered_reasons: dict[str, str] = field(default_factory=dict)
    similar_structure_groups: tuple[SimilarGroup, ...] = ()
    strongest_chains: tuple[Chain, ...] = ()
    too_aggregated: bool = False
    message: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the tree included, not the similarity matrix)."""
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "unclustered": list(self.unclustered),
            "unclustered_reasons": dict(self.unclustered_reasons),
            "services": dict(self.services),
            "similar_structure_groups": [g.to_dict() for g in self.similar_structure_groups],
            "strongest_chains": [c.to_dict() for c in self.strongest_chains],
            "too_aggregated": self.too_aggregated,
            "message": dict(self.message),
            "options": self.options,
            "diagnostics": self.diagnostics,
            "tree": {"codes": list(self.tree_codes), "linkage": self.tree.tolist()},
        }

    def relabelled(self, labels: Mapping[str, str]) -> ClusterResult:
        """Return the result with user labels (keyed by candidate id or core codes).

        A key is a candidate ``id`` (``"C-s02-s08"``) or its core codes joined by ``+``
        in any order (``"s08+s02"``); keys that match no candidate are ignored (they may
        belong to another edition of the table).
        """
        by_core = {_core_key(k.split("+")): v for k, v in labels.items() if "+" in k}
        out = []
        for c in self.candidates:
            new = labels.get(c.id) or by_core.get(_core_key(c.core))
            out.append(c.renamed(str(new)) if new else c)
        return replace(self, candidates=out)


def _core_key(codes: Sequence[str]) -> str:
    return "+".join(sorted((str(c).strip() for c in codes), key=_natural))


def load_labels(path: str | Path) -> dict[str, str]:
    """Read a labels file: a TOML ``[labels]`` table of id or ``"a+b"`` → label."""
    path = Path(path)
    labels = load_toml(path, "labels").get("labels")
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise OptionError(
            f'{path.name}: expected a [labels] table of "id or a+b" = "label" strings, e.g. '
            '[labels]\n"s02+s08" = "Cadena pesquera"'
        )
    return dict(labels)


# ----------------------------------------------------------------------------- steps
def intra_flow_share(Z: np.ndarray, idx: np.ndarray, *, self_deliveries: bool = True) -> float:
    """Share of the members' intermediate sales and purchases that stay inside.

    2·Σ_{l,m∈C} z_lm / Σ_{l∈C}(Σ_k z_lk + Σ_k z_kl), in [0, 1] (``../shared/METHOD.md``
    §6, a Hoen-style check that members trade). With ``self_deliveries=False`` the
    diagonal is left out of numerator and denominator.
    """
    idx = np.asarray(idx)
    block = Z[np.ix_(idx, idx)]
    inside = block.sum()
    total = Z[idx, :].sum() + Z[:, idx].sum()
    if not self_deliveries:
        diag = np.trace(block)
        inside -= diag
        total -= 2 * diag
    return float(2 * inside / total) if total > 0 else 0.0


def seed_sectors(
    codes: Sequence[str], x: np.ndarray, services: Mapping[str, str], min_output_share: float
) -> tuple[np.ndarray, list[str]]:
    """Return the indices of the seed sectors and the codes of too-small goods sectors."""
    total = float(x.sum())
    small = [
        c for i, c in enumerate(codes) if c not in services and x[i] < min_output_share * total
    ]
    seeds = [i for i, c in enumerate(codes) if c not in services and c not in small]
    # in code order: the tree (scipy breaks ties by position) then does not depend on the
    # order of the sectors in the table
    seeds.sort(key=lambda i: _natural(codes[i]))
    return np.array(seeds, dtype=int), small


def sector_similarity(
    Z: np.ndarray,
    measure: str,
    goods: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    dtype: Any = np.float64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(S, F, C): similarity, flow strength and profile correlation; each (n, n).

    C is the max-of-four correlation over the ``goods`` positions (None for ``flow``);
    S is C (``correlation``), F (``flow``) or max(C⁺, F) (``combined``).
    """
    F = flow_strength(Z)
    if measure == "flow":
        return F, F, None
    C = max_correlation(Z, weights, dtype=dtype, positions=goods)
    if measure == "correlation":
        return C, F, C
    S = np.maximum(C, 0.0)
    np.maximum(S, F, out=S)
    return S, F, C


def _condensed(S: np.ndarray) -> np.ndarray:
    """Condensed distances 1 − S of a symmetric similarity matrix, clipped at 0."""
    d = squareform(S, checks=False, force="tovector")  # upper triangle, one copy
    np.subtract(1.0, d, out=d)
    np.maximum(d, 0.0, out=d)
    return d


def build_tree(S_seed: np.ndarray, method: LinkageMethod) -> tuple[np.ndarray, np.ndarray]:
    """(tree, condensed distances) of the seeds: scipy linkage on D = 1 − S."""
    dvec = _condensed(S_seed)
    return linkage(dvec, method=method), dvec


def cut_tree(tree: np.ndarray, distance: float, k: int | None) -> np.ndarray:
    """Group number (1, 2, …) of every leaf: cut at ``distance``, or into ``k`` groups."""
    if k is not None:
        return fcluster(tree, t=k, criterion="maxclust")
    return fcluster(tree, t=distance, criterion="distance")


def link_components(
    labels: np.ndarray, F_seed: np.ndarray, link_threshold: float
) -> tuple[list[np.ndarray], list[int], list[np.ndarray], list[int]]:
    """Split every group of the cut into its flow-linked parts.

    Parameters
    ----------
    labels : ndarray of int, shape (m,)
        Group of every seed (from :func:`cut_tree`).
    F_seed : ndarray, shape (m, m)
        Flow strength among the seeds.
    link_threshold : float
        Minimum flow strength of a direct link.

    Returns
    -------
    cores : list of ndarray
        Seed indices of every linked part with two or more sectors.
    unlinked : list of int
        Seeds of multi-sector groups that are linked to no other member.
    similar : list of ndarray
        Unlinked seeds of one group, when two or more (similar-structure groups).
    singletons : list of int
        Seeds alone in their group of the cut.
    """
    cores: list[np.ndarray] = []
    unlinked: list[int] = []
    similar: list[np.ndarray] = []
    singletons: list[int] = []
    for g in np.unique(labels):
        idx = np.flatnonzero(labels == g)
        if len(idx) == 1:
            singletons.append(int(idx[0]))
            continue
        A = F_seed[np.ix_(idx, idx)] >= link_threshold
        _, comp = connected_components(A, directed=False)
        alone = []
        for part in np.unique(comp):
            members = idx[comp == part]
            if len(members) >= 2:
                cores.append(members)
            else:
                alone.append(int(members[0]))
        unlinked.extend(alone)
        if len(alone) >= 2:
            similar.append(np.array(alone))
    cores.sort(key=lambda c: int(c.min()))
    return cores, unlinked, similar, singletons


def join_strong_chains(
    cores: Sequence[np.ndarray],
    loose: Mapping[int, str],
    F: np.ndarray,
    strength: float,
    small: Collection[int] = (),
    rank: np.ndarray | None = None,
) -> tuple[list[np.ndarray], dict[int, str]]:
    """Let loose goods sectors join the chain they belong to by a strong direct flow.

    A loose sector (left out by the cut or the link check, or too small to seed) whose
    strongest direct flow with another goods sector reaches ``strength`` (``join_strength``,
    0.4) joins that sector's core, or forms a new core with it when both are loose — but
    two too-small sectors never form a core on their own. A resource sector selling most
    of its intermediate output to one processor belongs to the processor's chain even
    when average linkage grouped their profiles apart (the resource complexes of Torres
    Zorrilla 2003). Indices are global; ``loose`` maps each loose sector to its reason;
    ``rank`` (each sector's position in code order) breaks ties. Returns (cores, loose
    sectors left with their reasons).
    """
    rank = np.arange(F.shape[0]) if rank is None else rank
    owner = {int(i): ci for ci, core in enumerate(cores) for i in core}
    groups = [list(map(int, c)) for c in cores]
    left = dict(loose)
    small = set(small)
    while True:
        # the loose sector with the strongest qualifying link goes first, so the result
        # does not depend on the order of the sectors in the table
        pool = np.array(sorted([*owner, *left]), dtype=int)
        offers = []
        for i in left:
            others = pool[pool != i]
            if not len(others):
                continue
            j = _strongest(F[i, others], others, rank)
            if F[i, j] >= strength and not (j not in owner and i in small and j in small):
                offers.append((float(F[i, j]), i, j))
        if not offers:
            break
        _, i, j = max(offers, key=lambda o: (o[0], -min(rank[o[1]], rank[o[2]])))
        if j in owner:
            groups[owner[j]].append(i)
            owner[i] = owner[j]
        else:
            owner[i] = owner[j] = len(groups)
            groups.append([i, j])
            del left[j]
        del left[i]
    out = [np.array(sorted(g)) for g in groups]
    out.sort(key=lambda c: int(c.min()))
    return out, left


def _strongest(row: np.ndarray, candidates: np.ndarray, rank: np.ndarray) -> int:
    """Return the candidate of the strongest flow in ``row``; ties go to the lowest rank.

    The same choice as ``max(candidates, key=lambda k: (F[i, k], -rank[k]))``, vectorised.
    """
    top = np.flatnonzero(row == row.max())
    return int(candidates[top[np.argmin(rank[candidates[top]])]])


def move_to_strongest(
    cores: Sequence[np.ndarray],
    F: np.ndarray,
    strength: float,
    link: float,
    margin: float = 0.1,
    rank: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Move a core member to the core of a clearly stronger partner.

    A member of a core of three or more moves when its strongest direct flow with a member
    of another core reaches ``strength`` and exceeds its strongest link inside its own
    core by at least ``margin`` — provided its old core stays connected by ``link``-strong
    links. (On BCCh 2008, annual crops sell 57 % of their intermediate output to milling
    but were attached to forestry by a 0.26 link.) Indices are global; ``rank`` (each
    sector's position in code order) breaks ties.
    """
    rank = np.arange(F.shape[0]) if rank is None else rank
    groups = [list(map(int, c)) for c in cores]
    moved: set[int] = set()
    while True:
        # every admissible move, the one with the largest gain first (so the result does
        # not depend on the order of the sectors); each sector moves at most once
        moves = []
        members = np.array([k for g in groups for k in g], dtype=int)
        gid = np.array([gi for gi, g in enumerate(groups) for _ in g], dtype=int)
        owner = dict(zip(members.tolist(), gid.tolist(), strict=True))
        for gi, g in enumerate(groups):
            for i in g:
                own = [k for k in g if k != i]
                if i in moved or len(own) < 2:
                    continue
                best_own = float(F[i, own].max())
                away = members[gid != gi]
                if not len(away):
                    continue
                k = _strongest(F[i, away], away, rank)
                f, hi = float(F[i, k]), owner[k]
                if f < strength or f < best_own + margin:
                    continue
                if connected_components(F[np.ix_(own, own)] >= link, directed=False)[0] != 1:
                    continue
                moves.append((f - best_own, f, -int(rank[i]), i, gi, hi))
        if not moves:
            break
        _, _, _, i, gi, hi = max(moves)
        groups[gi].remove(i)
        groups[hi].append(i)
        moved.add(i)
    out = [np.array(sorted(g)) for g in groups if len(g) >= 2]
    out.sort(key=lambda c: int(c.min()))
    return out


def split_large(
    core: np.ndarray, F: np.ndarray, x_share: np.ndarray, cap: float, threshold: float
) -> tuple[list[np.ndarray], list[int]]:
    """Split a linked core whose output exceeds ``cap`` along its weakest links.

    The link threshold is raised within the core to the next flow strength that
    disconnects it, and each part over ``cap`` is split again; the strongest flows stay
    together (a maximum-spanning-tree cut). ``x_share`` holds every sector's share of
    total output. Returns (parts of two or more sectors, single sectors left).
    """
    if x_share[core].sum() <= cap * (1 + 1e-9) or len(core) < 2:
        return [core], []
    block = F[np.ix_(core, core)].copy()
    np.fill_diagonal(block, 0.0)
    for t in np.unique(block[block >= threshold]):
        n_comp, comp = connected_components(block > t, directed=False)
        if n_comp > 1:
            parts, alone = [], []
            for c in np.unique(comp):
                members = core[comp == c]
                if len(members) == 1:
                    alone.append(int(members[0]))
                    continue
                sub_parts, sub_alone = split_large(members, F, x_share, cap, float(t))
                parts.extend(sub_parts)
                alone.extend(sub_alone)
            return parts, alone
    return [core], []  # pragma: no cover - a connected core always disconnects


@dataclass(frozen=True, slots=True)
class Partition:
    """Steps 4–6: the tree of the seeds, the cut, and the flow-linked cores.

    ``tree``, ``dvec`` and ``labels`` are over the seeds (positions in ``seeds``);
    ``cores`` and the keys of ``loose`` are global sector indices; ``loose`` gives each
    goods sector in no core its reason key; ``similar`` are similar-structure groups.
    """

    seeds: np.ndarray
    tree: np.ndarray
    dvec: np.ndarray
    labels: np.ndarray
    cores: list[np.ndarray]
    loose: dict[int, str]
    similar: list[np.ndarray]


def partition(
    S: np.ndarray,
    F: np.ndarray,
    goods_idx: np.ndarray,
    seeds: np.ndarray,
    x_share: np.ndarray,
    options: ClusterOptions,
    rank: np.ndarray | None = None,
) -> Partition:
    """Apply steps 4–6 (tree, cut, link check, chains, size) to the goods sectors.

    ``seeds`` are the goods sectors large enough to seed (global indices); the other
    goods sectors may only join a core by a strong flow. ``x_share`` is every sector's
    share of total output.
    """
    tree, dvec = build_tree(S[np.ix_(seeds, seeds)], options.method)
    labels = cut_tree(tree, options.cut_distance(), options.k)
    cores_l, unlinked_l, similar_l, single_l = link_components(
        labels, F[np.ix_(seeds, seeds)], options.link_threshold
    )
    cores = [seeds[c] for c in cores_l]
    small = sorted(set(map(int, goods_idx)) - set(map(int, seeds)))
    loose = {int(seeds[i]): "singleton" for i in single_l}
    loose.update({int(seeds[i]): "no_flow_link" for i in unlinked_l})
    loose.update({i: "too_small" for i in small})
    if options.similarity != "correlation":  # profiles only: no flow-based joining
        strength = max(options.join_strength, options.link_threshold)
        cores, loose = join_strong_chains(cores, loose, F, strength, small, rank)
        cores = move_to_strongest(
            cores, F, options.chain_strength, options.link_threshold, rank=rank
        )
    out: list[np.ndarray] = []
    for core in cores:
        parts, alone = split_large(
            core, F, x_share, options.max_core_output_share, options.link_threshold
        )
        out.extend(parts)
        loose.update({i: "split_off" for i in alone})
    out.sort(key=lambda c: int(c.min()))
    seed_set = set(map(int, seeds))
    for core in out:
        if not seed_set & set(map(int, core)):  # a core needs a member large enough to seed
            loose.update({int(i): "too_small" for i in core})
    out = [c for c in out if seed_set & set(map(int, c))]
    unlinked = [i for i, r in loose.items() if r == "no_flow_link"]
    similar = [g for g in (seeds[s][np.isin(seeds[s], unlinked)] for s in similar_l) if len(g) >= 2]
    return Partition(
        seeds=seeds, tree=tree, dvec=dvec, labels=labels, cores=out, loose=loose, similar=similar
    )


def rule_cores(
    Z: np.ndarray,
    goods: np.ndarray,
    seeds: np.ndarray,
    x_share: np.ndarray,
    options: ClusterOptions,
    *,
    weights: np.ndarray | None = None,
    dtype: Any = np.float64,
    rank: np.ndarray | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Apply steps 3–6 to one matrix: (cores as global indices, tree); also on replicates."""
    S, F, _ = sector_similarity(Z, options.similarity, goods, weights=weights, dtype=dtype)
    part = partition(S, F, np.flatnonzero(goods), seeds, x_share, options, rank)
    return part.cores, part.tree


def attach_services(
    Z: np.ndarray,
    x: np.ndarray,
    services: Sequence[int],
    cores: Sequence[np.ndarray],
    options: ClusterOptions,
    *,
    size_share: np.ndarray | None = None,
) -> list[list[tuple[int, float]]]:
    """Services supporting each core: [(service index, share of its sales), …] per core.

    A service s attaches to core C when Σ_{j∈C} z_sj / Σ_{j≠s} z_sj ≥ ``attach_share``
    and that share is at least ``attach_ratio`` times C's share of all intermediate
    purchases, Σ_{j∈C} Σ_i z_ij / Σ_ij z_ij; a service whose intermediate sales (to
    others) are below ``min_intermediate_share`` of its output, or whose output is below
    ``min_output_share`` of the total (or of ``size_share``, each sector's share of its
    own region's output in a multi-regional table), never attaches.
    """
    purchases = Z.sum(axis=0)
    total = float(purchases.sum())
    out: list[list[tuple[int, float]]] = [[] for _ in cores]
    if total <= 0:
        return out
    for s in services:
        sales = float(Z[s].sum() - Z[s, s])
        small = (
            x[s] < options.min_output_share * x.sum()
            if size_share is None
            else size_share[s] < options.min_output_share
        )
        if x[s] <= 0 or small:
            continue
        if sales <= 0 or sales < options.min_intermediate_share * x[s]:
            continue
        for ci, core in enumerate(cores):
            inside = core[core != s]
            share = float(Z[s, inside].sum() / sales)
            base = float(purchases[core].sum() / total)
            if share >= options.attach_share and base > 0 and share >= options.attach_ratio * base:
                out[ci].append((int(s), share))
    for lst in out:
        lst.sort(key=lambda t: (-t[1], t[0]))
    return out


def tree_jaccard(tree: np.ndarray, m: int, sets: Sequence[np.ndarray]) -> np.ndarray:
    """Best Jaccard of every set of leaves with any node (or leaf) of ``tree``.

    O(m · len(sets)): the count of set members below each node is propagated up.
    """
    if not len(sets):
        return np.zeros(0)
    k = len(sets)
    counts = np.zeros((2 * m - 1, k))
    sizes = np.ones(2 * m - 1)
    for j, s in enumerate(sets):
        counts[np.asarray(s, dtype=int), j] = 1.0
    for i, (a, b, _, size) in enumerate(tree):
        counts[m + i] = counts[int(a)] + counts[int(b)]
        sizes[m + i] = size
    set_sizes = np.array([len(s) for s in sets], dtype=float)
    jac = counts / (sizes[:, None] + set_sizes[None, :] - counts)
    return jac.max(axis=0)


def chain_edges(core: np.ndarray, F: np.ndarray) -> list[tuple[int, int]]:
    """Edges of the core's strongest-link chain: the maximum spanning tree of flow strength."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    block = 1.000001 - F[np.ix_(core, core)]  # > 0 everywhere: no edge is lost
    np.fill_diagonal(block, 0.0)
    mst = minimum_spanning_tree(block).tocoo()
    return [(int(core[a]), int(core[b])) for a, b in zip(mst.row, mst.col, strict=True)]


def _best_jaccard(sets: Sequence[np.ndarray], others: Sequence[np.ndarray]) -> np.ndarray:
    out = np.zeros(len(sets))
    rs = [set(o.tolist()) for o in others]
    for i, s in enumerate(sets):
        ss = set(s.tolist())
        out[i] = max((len(ss & r) / len(ss | r) for r in rs), default=0.0)
    return out


def _replicate(
    Z: np.ndarray,
    goods: np.ndarray,
    seeds: np.ndarray,
    x_share: np.ndarray,
    cores: Sequence[np.ndarray],
    edges: Sequence[tuple[int, int]],
    options: ClusterOptions,
    seed_seq: np.random.SeedSequence,
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """One perturbed replicate: [rule Jaccard per core, tree Jaccard per core, edge kept].

    The draws are made in code order (``rank``: each sector's position when the codes
    are sorted) and then placed at the sectors' rows, so that a sector gets the same
    noise and the same resampling weight wherever the table lists it: the figures do not
    depend on the order of the rows.
    """
    rng = np.random.default_rng(seed_seq)
    order = None if rank is None or np.array_equal(rank, np.arange(len(rank))) else rank
    if options.noise:
        Zb = rng.standard_normal(Z.shape)
        if order is not None:
            Zb = Zb[np.ix_(order, order)]  # sector pair (i, j) gets draw (rank i, rank j)
        Zb *= options.noise
        Zb -= options.noise**2 / 2
        np.exp(Zb, out=Zb)
        Zb *= Z
    else:
        Zb = Z
    gi = np.flatnonzero(goods)
    if order is not None:
        gi = gi[np.argsort(order[gi], kind="stable")]  # the goods sectors in code order
    w = np.zeros(Z.shape[0])
    w[gi] = np.bincount(rng.integers(0, len(gi), len(gi)), minlength=len(gi))
    rep, tree = rule_cores(
        Zb, goods, seeds, x_share, options, weights=w, dtype=np.float32, rank=rank
    )
    pos = {int(s): k for k, s in enumerate(seeds)}
    leaf_sets = [np.array([pos[i] for i in c if int(i) in pos], dtype=int) for c in cores]
    owner = {int(i): k for k, c in enumerate(rep) for i in c}
    kept = [float(a in owner and owner.get(b) == owner[a]) for a, b in edges]
    return np.concatenate(
        [_best_jaccard(cores, rep), tree_jaccard(tree, len(seeds), leaf_sets), kept]
    )


def _chunk(args: dict[str, Any], seqs: list[np.random.SeedSequence]) -> list[np.ndarray]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # one BLAS thread per worker: no oversubscription
        return [_replicate(**args, seed_seq=s) for s in seqs]


@dataclass(frozen=True, slots=True)
class Stability:
    """Bootstrap figures of every core (see step 8 of the module docstring)."""

    rule: list[float]
    tree: list[float]
    cohesion: list[float]


def bootstrap_stability(
    Z: np.ndarray,
    goods: np.ndarray,
    seeds: np.ndarray,
    x_share: np.ndarray,
    cores: Sequence[np.ndarray],
    F: np.ndarray,
    options: ClusterOptions,
    *,
    progress: bool | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
    rank: np.ndarray | None = None,
) -> Stability:
    """Rule, tree and cohesion stability of every core: means over replicates.

    Every replicate draws from its own generator spawned from ``options.seed``
    (:class:`numpy.random.SeedSequence`) and the scores are summed in replicate order,
    so serial, local-parallel and Dask runs give identical figures. The replicates'
    correlation products run in float32 (a relative error of about 1e-7 in similarities
    that the noise itself perturbs by ~10 %).
    """
    from tqdm.auto import tqdm

    n_boot = options.n_boot
    seqs = np.random.SeedSequence(options.seed).spawn(n_boot)
    per_core = [chain_edges(c, F) for c in cores]
    edges = [e for lst in per_core for e in lst]
    args: dict[str, Any] = {
        "Z": Z,
        "goods": goods,
        "seeds": seeds,
        "x_share": x_share,
        "cores": list(cores),
        "edges": edges,
        "options": options,
        "rank": rank,
    }
    if progress is None:  # on a terminal only, and only if it takes more than 1.5 s
        disable, delay = None, 1.5
    else:
        disable, delay = not progress, 0.0
    if n_jobs == 1 and backend is None:
        bar = tqdm(seqs, desc="bootstrap", disable=disable, delay=delay, leave=False)
        scores = [_replicate(**args, seed_seq=s) for s in bar]
    else:
        from joblib import Parallel, delayed, parallel_backend

        size = max(1, n_boot // (4 * max(abs(n_jobs), 2)))
        chunks = [seqs[i : i + size] for i in range(0, n_boot, size)]
        with parallel_backend(backend or "loky", n_jobs=n_jobs):
            parts = Parallel()(delayed(_chunk)(args, c) for c in chunks)
        scores = [row for part in parts for row in part]
    total = np.zeros(2 * len(cores) + len(edges))
    for row in scores:  # fixed order: identical sums whatever the backend
        total += row
    total /= max(n_boot, 1)
    k = len(cores)
    kept = total[2 * k :]
    cohesion, start = [], 0
    for lst in per_core:
        cohesion.append(float(kept[start : start + len(lst)].min()) if lst else 1.0)
        start += len(lst)
    return Stability(rule=total[:k].tolist(), tree=total[k : 2 * k].tolist(), cohesion=cohesion)


def varimax(loadings: np.ndarray, *, max_iter: int = 200, tol: float = 1e-10) -> np.ndarray:
    """Varimax rotation of a loading matrix (Kaiser 1958, *Psychometrika* 23(3)).

    Parameters
    ----------
    loadings : ndarray, shape (p, k)

    Returns
    -------
    ndarray, shape (p, k)
        Rotated loadings (an orthogonal rotation: row sums of squares are unchanged).
    """
    p, k = loadings.shape
    R = np.eye(k)
    d = 0.0
    for _ in range(max_iter):
        L = loadings @ R
        u, s, vt = np.linalg.svd(loadings.T @ (L**3 - L @ np.diag(np.sum(L**2, axis=0)) / p))
        R = u @ vt
        d_old, d = d, float(s.sum())
        if d_old and d < d_old * (1 + tol):
            break
    return loadings @ R


def feser_bergman_factors(
    C_seed: np.ndarray, loading: float, max_factors: int | None = None
) -> list[np.ndarray]:
    """Members of each Feser–Bergman factor (seed indices at loading ≥ ``loading``).

    Principal components of the max-correlation matrix, those with eigenvalue > 1
    (Kaiser's rule), varimax-rotated; each factor's sign is chosen so that its largest
    loading is positive (Feser & Bergman 2000, *Regional Studies* 34(1): 1–19).
    At most ``max_factors`` (default :data:`MAX_FACTORS`) components are kept, those
    with the largest eigenvalues: Kaiser's rule keeps about a third of the seeds of a
    3,600-sector multi-regional table, and varimax costs a k×k SVD per iteration
    (Feser and Bergman kept 23 templates of 478 US industries). National tables stay
    far below the cap (Chile's 111-sector table: 18 factors).
    """
    C = (C_seed + C_seed.T) / 2
    vals, vecs = np.linalg.eigh(C)
    keep = vals > 1.0
    cap = MAX_FACTORS if max_factors is None else max_factors
    if keep.sum() > cap:  # eigh sorts ascending: keep the cap largest
        log.info("Feser-Bergman: %d components with eigenvalue > 1, kept %d", keep.sum(), cap)
        keep[: len(vals) - cap] = False
    if not keep.any():
        return []
    L = vecs[:, keep] * np.sqrt(vals[keep])
    if L.shape[1] > 1:
        L = varimax(L)
    out = []
    for j in range(L.shape[1]):
        col = L[:, j]
        if col[np.argmax(np.abs(col))] < 0:
            col = -col
        members = np.flatnonzero(col >= loading)
        if len(members):
            out.append(members)
    return out


def strongest_chains(
    Z: np.ndarray,
    codes: Sequence[str],
    names: Sequence[str],
    threshold: float,
    *,
    x: np.ndarray | None = None,
    min_output_share: float = 0.0,
    size_share: np.ndarray | None = None,
) -> tuple[Chain, ...]:
    """Every direct flow i → j (i ≠ j) with strength ≥ ``threshold``, strongest first.

    Strength = max(z_ij / Σ_{k≠i} z_ik, z_ij / Σ_{k≠j} z_kj): the share of the seller's
    intermediate sales or of the buyer's intermediate purchases (self excluded; direct
    shares as in Oosterhaven, Eding & Stelder 2001). With ``x``, flows involving a sector
    below ``min_output_share`` of total output are left out and each chain gets the flow
    as a share of the seller's output. ``size_share`` replaces x / Σx in that test
    (multi-regional tables: each sector's share of its own region's output).
    """
    Zo = np.array(Z, dtype="float64")
    np.fill_diagonal(Zo, 0.0)
    sales = Zo.sum(axis=1)
    purchases = Zo.sum(axis=0)
    s_share = np.divide(Zo, sales[:, None], out=np.zeros_like(Zo), where=sales[:, None] > 0)
    p_share = np.divide(Zo, purchases[None, :], out=np.zeros_like(Zo), where=purchases > 0)
    strength = np.maximum(s_share, p_share)
    keep = (strength >= threshold) & (Zo > 0)
    if x is not None:
        big = (
            x >= min_output_share * x.sum()
            if size_share is None
            else size_share >= min_output_share
        )
        keep &= big[:, None] & big[None, :]
    out = []
    for i, j in zip(*np.nonzero(keep), strict=True):
        out.append(
            Chain(
                seller=codes[i],
                buyer=codes[j],
                seller_name=names[i],
                buyer_name=names[j],
                flow=float(Zo[i, j]),
                strength=round(float(strength[i, j]), 6),
                share_of_seller_sales=round(float(s_share[i, j]), 6),
                share_of_buyer_purchases=round(float(p_share[i, j]), 6),
                share_of_seller_output=(
                    None if x is None or x[i] <= 0 else round(float(Zo[i, j] / x[i]), 6)
                ),
            )
        )
    out.sort(key=lambda c: (-c.strength, -c.flow, c.seller, c.buyer))
    return tuple(out)


def chain_coverage(core: np.ndarray, F: np.ndarray, chain_strength: float) -> float:
    """Share of the core's members on a pair of the core with flow strength ≥ the threshold."""
    block = F[np.ix_(core, core)].copy()
    np.fill_diagonal(block, 0.0)
    return float((block >= chain_strength).any(axis=1).mean())


def confirmations(
    core: np.ndarray, factors: Sequence[np.ndarray], coverage: float
) -> tuple[str, ...]:
    """Independent methods that also find ``core`` (global indices); see step 9.

    ``feser_bergman``: one factor holds at least two core members and at least half of
    the core. ``strongest_chains``: at least half of the core's members lie on a pair of
    the core with flow strength ≥ ``chain_strength`` (``coverage`` ≥ 0.5).
    """
    out = []
    members = set(core.tolist())
    for f in factors:
        hit = len(members & set(f.tolist()))
        if hit >= 2 and hit >= len(core) / 2:
            out.append("feser_bergman")
            break
    if coverage >= 0.5:
        out.append("strongest_chains")
    return tuple(out)


def _natural(code: str) -> tuple[tuple[int, str], ...]:
    """Sort key putting "5" before "24" and "s2" before "s10"."""
    parts = tuple((int(p), "") if p.isdigit() else (0, p) for p in re.findall(r"\d+|\D+", code))
    return (*parts, (0, code))  # ties ("1" and "01") broken by the text itself


def candidate_id(core_codes: Sequence[str]) -> str:
    """Stable id of a core: ``C-`` + its sorted codes (up to four), else three + a hash.

    Codes holding ``-`` or ``+`` (which would make two cores read alike) always get the
    hash of the whole set.

    >>> candidate_id(["s08", "s02"])
    'C-s02-s08'
    >>> candidate_id(["s01", "s05", "s06", "s07", "s19"])
    'C-s01-s05-s06+2-ea61'
    """
    codes = sorted((str(c) for c in core_codes), key=_natural)
    ambiguous = any("-" in c or "+" in c for c in codes)
    if len(codes) <= 4 and not ambiguous:
        return "C-" + "-".join(codes)
    joined = ("\x1f" if ambiguous else "+").join(codes)
    digest = hashlib.sha1(joined.encode()).hexdigest()[:4]
    more = f"+{len(codes) - 3}" if len(codes) > 3 else ""
    return "C-" + "-".join(codes[:3]) + f"{more}-{digest}"


def strongest_internal_flow(Z: np.ndarray, core: np.ndarray) -> tuple[int, int]:
    """(seller, buyer) indices of the largest flow between two different core members."""
    block = Z[np.ix_(core, core)].astype("float64").copy()
    np.fill_diagonal(block, -np.inf)
    i, j = np.unravel_index(int(np.argmax(block)), block.shape)
    return int(core[i]), int(core[j])


def chain_label(seller: str, buyer: str, n_core: int) -> str:
    """Return ``"A → B"``, or ``"A → B (+k)"`` for a core of k + 2 sectors."""
    more = f" (+{n_core - 2})" if n_core > 2 else ""
    return f"{seller} → {buyer}{more}"


def _reading(value: float | None) -> str:
    if value is None:
        return "not computed"
    if value >= STABLE:
        return "stable"
    if value >= DOUBTFUL:
        return "doubtful"
    return "not to be trusted"


@dataclass(frozen=True, slots=True)
class _Context:
    """What :func:`describe_candidate` needs of the whole analysis (internal)."""

    table: IOTable
    Z: np.ndarray
    x: np.ndarray
    exports: np.ndarray | None
    S: np.ndarray
    F: np.ndarray
    seeds: np.ndarray
    coph: np.ndarray
    lk: pd.DataFrame
    options: ClusterOptions
    table_warnings: tuple[str, ...]


def _member(ctx: _Context, i: int, role: str, core: np.ndarray, attach: float | None) -> Member:
    others = core[core != i] if role == "core" else core
    lk = ctx.lk
    x = ctx.x
    partner, strength = None, None
    if role == "core" and len(others):
        j = int(others[np.argmax(ctx.F[i, others])])
        partner, strength = ctx.table.codes[j], round(float(ctx.F[i, j]), 6)
    return Member(
        code=ctx.table.codes[i],
        name=ctx.table.names[i],
        role=role,
        mean_similarity=round(float(ctx.S[i, others].mean()) if len(others) else 1.0, 6),
        output_share=round(float(x[i] / x.sum()), 6),
        export_share=None if ctx.exports is None else round(float(ctx.exports[i] / x[i]), 6),
        power_dispersion=round(float(lk["power_dispersion"].iloc[i]), 6),
        sensitivity_dispersion=round(float(lk["sensitivity_dispersion"].iloc[i]), 6),
        key_sector_class=str(lk["key_sector_class"].iloc[i]),
        attach_share=None if attach is None else round(attach, 6),
        link_partner=partner,
        link_strength=strength,
    )


@dataclass(frozen=True, slots=True)
class _Figures:
    """Stability figures of one candidate (internal)."""

    rule: float | None
    tree: float | None
    cohesion: float | None


def _flags(
    ctx: _Context,
    stab: _Figures,
    core_intra: float,
    supporting: Sequence[tuple[int, float]],
    small: Sequence[str],
    weak: Sequence[str],
) -> tuple[list[str], list[str]]:
    """Machine flags and English warnings of one candidate."""
    warn, flags = [], []
    if stab.cohesion is not None and stab.cohesion < DOUBTFUL:
        flags.append("unstable")
        warn.append(f"unstable: the chain holds in {stab.cohesion:.0%} of replicates")
    elif stab.cohesion is not None and stab.cohesion < STABLE:
        flags.append("doubtful")
        warn.append(f"doubtful: the chain holds in {stab.cohesion:.0%} of replicates")
    if stab.tree is not None and stab.tree < DOUBTFUL:
        flags.append("boundary_unstable")
        warn.append(f"its boundary moves between replicates (tree Jaccard {stab.tree:.2f})")
    if stab.rule is not None and stab.rule < DOUBTFUL:
        flags.append("rule_unstable")
        warn.append(f"the cut rule regroups it in many replicates (rule Jaccard {stab.rule:.2f})")
    if core_intra < WEAK_LINKAGE:
        flags.append("weak_linkage")
        warn.append(f"core members trade little with each other (core intra-flow {core_intra:.2f})")
    if weak:
        flags.append("weak_member")
        warn.append(
            f"core member(s) whose strongest link inside the core is below {WEAK_MEMBER}: "
            + ", ".join(weak)
        )
    if supporting:
        flags.append("services_attached")
        warn.append(
            "supporting service sector(s) attached by their sales to the core: "
            + ", ".join(ctx.table.codes[s] for s, _ in supporting)
        )
    if small:
        share = ctx.options.min_output_share
        flags.append("small_member")
        warn.append(f"member(s) below {share:.2%} of total output: " + ", ".join(small))
    if ctx.table_warnings:
        flags.append("table_imbalance")
        warn.extend(ctx.table_warnings)
    return flags, warn


def describe_candidate(
    ctx: _Context,
    core: np.ndarray,
    supporting: Sequence[tuple[int, float]],
    other_cores: Sequence[np.ndarray],
    stab: _Figures,
    factors: Sequence[np.ndarray],
) -> Candidate:
    """Build the record of one candidate (step 10); ``core`` holds global indices."""
    codes = ctx.table.codes
    all_idx = np.concatenate([core, np.array([s for s, _ in supporting], dtype=int)])
    members = [_member(ctx, int(i), "core", core, None) for i in core]
    members += [_member(ctx, s, "supporting", core, share) for s, share in supporting]
    S, x = ctx.S, ctx.x
    within = float(S[np.ix_(core, core)][np.triu_indices(len(core), 1)].mean())
    separation = (
        max(float(S[np.ix_(core, o)].mean()) for o in other_cores) if len(other_cores) else None
    )
    pos = np.flatnonzero(np.isin(ctx.seeds, core))
    merge_height = float(ctx.coph[np.ix_(pos, pos)].max()) if len(pos) else float("nan")
    core_intra = intra_flow_share(ctx.Z, core, self_deliveries=False)
    seller, buyer = strongest_internal_flow(ctx.Z, core)
    small = [codes[i] for i in all_idx if x[i] < ctx.options.min_output_share * x.sum()]
    weak = [
        m.code for m in members if m.link_strength is not None and m.link_strength < WEAK_MEMBER
    ]
    flags, warn = _flags(ctx, stab, core_intra, supporting, small, weak)
    coverage = chain_coverage(core, ctx.F, ctx.options.chain_strength)
    ex = ctx.exports
    ex_share = None if ex is None else float(ex[all_idx].sum() / x[all_idx].sum())
    return Candidate(
        id=candidate_id([codes[i] for i in core]),
        label=chain_label(ctx.table.names[seller], ctx.table.names[buyer], len(core)),
        anchor=codes[int(core[np.argmax(x[core])])],
        members=tuple(members),
        output_share=round(float(x[all_idx].sum() / x.sum()), 6),
        export_share=None if ex_share is None else round(ex_share, 6),
        within_mean_similarity=round(within, 6),
        separation=None if separation is None else round(separation, 6),
        merge_height=round(merge_height, 6) if np.isfinite(merge_height) else 0.0,
        stability=None if stab.rule is None else round(float(stab.rule), 4),
        stability_reading=_reading(stab.cohesion),
        intra_flow_share=round(intra_flow_share(ctx.Z, all_idx), 6),
        score=round(float(np.mean([within, _or(stab.cohesion, within), core_intra])), 6),
        warnings=tuple(warn),
        linked=True,
        core_intra_flow_share=round(core_intra, 6),
        core_output_share=round(float(x[core].sum() / x.sum()), 6),
        stability_tree=None if stab.tree is None else round(float(stab.tree), 4),
        confirmed_by=confirmations(core, factors, coverage),
        chain=(codes[seller], codes[buyer]),
        flags=tuple(flags),
        cohesion=None if stab.cohesion is None else round(float(stab.cohesion), 4),
        chain_coverage=round(coverage, 4),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def table_warnings(table: IOTable) -> tuple[str, ...]:
    """Return the table's balance and scale problems, to travel with every candidate."""
    from .validate import validate

    return tuple(
        f"table imbalance: {f.message}"
        for f in validate(table).findings
        if f.check in ("row_balance", "column_balance", "scale") and f.severity != "info"
    )


_LEGACY = {"similarity_measure": "similarity"}


def resolve_options(options: ClusterOptions | None, legacy: Mapping[str, Any]) -> ClusterOptions:
    """``options`` updated with keyword options of the 0.x form (``seed=``, ``k=`` …)."""
    if options is not None and not isinstance(options, ClusterOptions):
        raise OptionError(f"options must be a ClusterOptions, got {type(options).__name__}")
    base = options or ClusterOptions()
    if not legacy:
        return base
    changes = {_LEGACY.get(k, k): v for k, v in legacy.items()}
    data = base.to_dict()
    unknown = sorted(set(changes) - set(data))
    if unknown:
        raise OptionError(
            f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(sorted(data))}"
        )
    if "k" in changes and changes["k"] is not None:
        data["threshold"] = None
    if "threshold" in changes and changes["threshold"] is not None:
        data["k"] = None
    data.update(changes)
    return ClusterOptions(**data)


def detect_clusters(
    table: IOTable,
    options: ClusterOptions | None = None,
    *,
    linkage_frame: pd.DataFrame | None = None,
    warnings: Sequence[str] | None = None,
    progress: bool | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
    **legacy: Any,
) -> ClusterResult:
    """Propose candidate clusters of sectors from an IO table (steps 1–10 above).

    Parameters
    ----------
    table : IOTable
    options : ClusterOptions, optional
        Every choice of the analysis (defaults: :class:`ClusterOptions`). The keyword
        form of earlier versions still works: ``detect_clusters(t, seed=1, k=5,
        similarity_measure="flow")`` updates ``options`` with those values.
    linkage_frame : pandas.DataFrame, optional
        :func:`io_clusters.linkages` of the table, if already computed.
    warnings : sequence of str, optional
        The table's balance problems to attach to every candidate; by default the
        table is validated here for them.
    progress : bool, optional
        Show a progress bar; by default only on a terminal and after 1.5 s.
    n_jobs : int, default 1
        Bootstrap workers (joblib; -1 = all cores). Results do not depend on it.
    backend : str, optional
        joblib backend: ``"loky"`` (the default when ``n_jobs`` ≠ 1) or ``"dask"`` (a
        ``dask.distributed.Client`` must be connected).

    Returns
    -------
    ClusterResult

    Raises
    ------
    OptionError
        For an invalid or unknown option.
    AnalysisError
        When fewer than three sectors can seed candidates.

    Examples
    --------
    >>> import io_clusters as ic
    >>> res = ic.detect_clusters(ic.load_example("eurostat_germany_1995"), seed=0)
    >>> res.too_aggregated, len(res.candidates)
    (True, 0)
    """
    opts = resolve_options(options, legacy)
    _check_execution(n_jobs, backend)
    prep = _prepare(drop_zero_output(table), opts, linkage_frame)
    common: dict[str, Any] = {
        "similarity": pd.DataFrame(prep.S, index=prep.table.Z.index, columns=prep.table.Z.columns),
        "options": _recorded_options(opts, prep.svc, n_jobs, backend),
        "services": dict(prep.svc.services),
        "strongest_chains": strongest_chains(
            prep.Z,
            prep.codes,
            prep.table.names,
            opts.chain_strength,
            x=prep.x,
            min_output_share=opts.min_output_share,
            size_share=prep.size,
        ),
    }
    if prep.problem is not None:
        return _aggregated_result(prep, prep.problem, common)
    seeds, codes = prep.seeds, prep.codes
    if len(seeds) < 3:
        raise AnalysisError(
            f"only {len(seeds)} sectors can seed candidates: too few to cluster (a seed is a "
            f"goods sector holding at least {opts.min_output_share:.2%} of output; lower "
            "min_output_share for a table of many small sectors)"
        )
    if opts.k is not None and opts.k >= len(seeds):
        raise OptionError(f"k must be between 2 and {len(seeds) - 1}, got {opts.k}")
    part = partition(
        prep.S, prep.F, np.flatnonzero(prep.goods), seeds, prep.x_share, opts, prep.rank
    )
    service_idx = [i for i, c in enumerate(codes) if c in prep.svc.services]
    attached = attach_services(prep.Z, prep.x, service_idx, part.cores, opts, size_share=prep.size)
    figures = _stability(prep, part, opts, progress=progress, n_jobs=n_jobs, backend=backend)
    ctx = _context(prep, part, opts, linkage_frame, warnings)
    cands = _candidates(ctx, prep, part, attached, figures, opts)
    reasons = {codes[i]: r for i, r in part.loose.items()}
    used = {s for lst in attached for s, _ in lst}
    reasons.update({codes[i]: "service_not_attached" for i in service_idx if i not in used})
    unclustered = tuple(c for c in codes if c in reasons)
    diagnostics = _diagnostics(part, opts, len(codes), seeds, prep.table)
    if opts.focus is not None:  # how many linked cores the focus left out
        diagnostics["focus_region"] = opts.focus
        diagnostics["focus_left_out"] = len(part.cores) - len(cands)
    return ClusterResult(
        candidates=cands,
        unclustered=unclustered,
        tree=part.tree,
        tree_codes=tuple(codes[i] for i in seeds),
        labels={codes[seeds[i]]: int(lab) for i, lab in enumerate(part.labels)},
        diagnostics=diagnostics,
        unclustered_reasons={c: reasons[c] for c in unclustered},
        similar_structure_groups=tuple(_similar_group(ctx, g) for g in part.similar),
        **common,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The table as arrays, its services, seeds and similarities (steps 1–3; internal)."""

    table: IOTable
    codes: list[str]
    Z: np.ndarray
    x: np.ndarray
    x_share: np.ndarray
    svc: ServiceClassification
    goods: np.ndarray
    seeds: np.ndarray
    size: np.ndarray | None
    rank: np.ndarray
    problem: dict[str, str] | None
    S: np.ndarray
    F: np.ndarray
    C: np.ndarray | None


def _prepare(table: IOTable, opts: ClusterOptions, linkage_frame: pd.DataFrame | None) -> _Prepared:
    """Apply steps 1–3: check the numbers, classify services, pick seeds, compute similarity."""
    if opts.focus is not None:
        mrio.check_focus(table, opts.focus)
    codes = list(table.codes)
    Z = table.Z.to_numpy(dtype="float64")
    x = table.x.to_numpy(dtype="float64")
    if not (np.isfinite(Z).all() and np.isfinite(x).all()):
        raise AnalysisError(
            f"{table.meta.table_id}: the table holds non-finite numbers (NaN or infinity); "
            "io_clusters.validate(table) names the cells"
        )
    if linkage_frame is not None and list(linkage_frame.index) != codes:
        raise OptionError("linkage_frame is not the linkage table of this table (codes differ)")
    multi = mrio.is_multiregional(table)
    classify = mrio.classify_country_sectors if multi else classify_services
    svc = classify(table, isic=opts.isic_map, supporting=opts.supporting)
    for w in svc.warnings:
        log.warning(w)
    goods = np.array([c not in svc.services for c in codes])
    seed = mrio.seed_country_sectors if multi else seed_sectors
    seeds, _ = seed(codes, x, svc.services, opts.min_output_share)
    goods_codes = [c for c in codes if c not in svc.services]
    problem = aggregation_problem(table, goods_codes, svc.isic, opts.min_goods_sectors)
    # too aggregated: no profiles to compare (the similarity shown is flow strength only)
    S, F, C = sector_similarity(Z, "flow" if problem else opts.similarity, goods)
    rank = np.empty(len(codes), dtype=int)  # position in code order breaks ties
    rank[sorted(range(len(codes)), key=lambda i: _natural(codes[i]))] = np.arange(len(codes))
    return _Prepared(
        table=table,
        codes=codes,
        Z=Z,
        x=x,
        x_share=x / x.sum(),
        svc=svc,
        goods=goods,
        seeds=seeds,
        size=mrio.region_output_share(codes, x) if multi else None,
        rank=rank,
        problem=problem,
        S=S,
        F=F,
        C=C,
    )


def _aggregated_result(
    prep: _Prepared, problem: dict[str, str], common: dict[str, Any]
) -> ClusterResult:
    """Return the result of a table too aggregated for candidates (step 2)."""
    log.warning(problem["en"])
    return ClusterResult(
        candidates=[],
        unclustered=tuple(prep.codes),
        unclustered_reasons=dict.fromkeys(prep.codes, "too_aggregated"),
        tree=np.empty((0, 4)),
        tree_codes=(),
        labels={},
        diagnostics={"n_sectors": len(prep.codes), "n_seeds": len(prep.seeds), "k": 0},
        too_aggregated=True,
        message=problem,
        **common,
    )


def _stability(
    prep: _Prepared,
    part: Partition,
    opts: ClusterOptions,
    *,
    progress: bool | None,
    n_jobs: int,
    backend: str | None,
) -> list[_Figures]:
    """Step 8 for every core (no figures when ``n_boot`` is 0)."""
    if not (opts.n_boot and part.cores):
        return [_Figures(None, None, None) for _ in part.cores]
    st = bootstrap_stability(
        prep.Z,
        prep.goods,
        prep.seeds,
        prep.x_share,
        part.cores,
        prep.F,
        opts,
        progress=progress,
        n_jobs=n_jobs,
        backend=backend,
        rank=prep.rank,
    )
    return [_Figures(*v) for v in zip(st.rule, st.tree, st.cohesion, strict=True)]


def _context(
    prep: _Prepared,
    part: Partition,
    opts: ClusterOptions,
    linkage_frame: pd.DataFrame | None,
    warnings: Sequence[str] | None,
) -> _Context:
    if linkage_frame is None:
        from .linkages import linkages

        linkage_frame = linkages(prep.table, extraction=False)
    table = prep.table
    return _Context(
        table=table,
        Z=prep.Z,
        x=prep.x,
        exports=None if table.exports is None else table.exports.to_numpy(),
        S=prep.S,
        F=prep.F,
        seeds=prep.seeds,
        coph=squareform(cophenet(part.tree)),
        lk=linkage_frame,
        options=opts,
        table_warnings=tuple(table_warnings(table) if warnings is None else warnings),
    )


def _candidates(
    ctx: _Context,
    prep: _Prepared,
    part: Partition,
    attached: Sequence[Sequence[tuple[int, float]]],
    figures: Sequence[_Figures],
    opts: ClusterOptions,
) -> list[Candidate]:
    """Apply steps 9–10 to every core and rank the candidates by score."""
    seeds = prep.seeds
    C = prep.S if prep.C is None else prep.C
    factors = [
        seeds[f] for f in feser_bergman_factors(C[np.ix_(seeds, seeds)], opts.factor_loading)
    ]
    cands = [
        describe_candidate(
            ctx,
            core,
            attached[ci],
            [o for j, o in enumerate(part.cores) if j != ci],
            figures[ci],
            factors,
        )
        for ci, core in enumerate(part.cores)
    ]
    cands.sort(key=lambda c: (-c.score, c.id))
    if mrio.is_multiregional(prep.table):  # sizes within regions; the focus region's ones
        cands = mrio.country_sector_candidates(prep.table, cands, opts)
    return [replace(c, rank=r + 1) for r, c in enumerate(cands)]


def _similar_group(ctx: _Context, idx: np.ndarray) -> SimilarGroup:
    block = ctx.S[np.ix_(idx, idx)]
    return SimilarGroup(
        codes=tuple(ctx.table.codes[i] for i in idx),
        names=tuple(ctx.table.names[i] for i in idx),
        within_mean_similarity=round(float(block[np.triu_indices(len(idx), 1)].mean()), 6),
    )


#: joblib backends of the bootstrap (``None``: serial, or loky when ``n_jobs`` ≠ 1).
BACKENDS = ("loky", "threading", "multiprocessing", "dask")


def _check_execution(n_jobs: object, backend: object) -> None:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise OptionError(f"n_jobs must be a non-zero integer (-1 = all cores), got {n_jobs!r}")
    if abs(n_jobs) > 1024:
        raise OptionError(f"n_jobs must be between -1024 and 1024, got {n_jobs}")
    if backend is not None and backend not in BACKENDS:
        raise OptionError(f"backend {backend!r} not allowed; choose one of {', '.join(BACKENDS)}")


def _recorded_options(
    opts: ClusterOptions, svc: ServiceClassification, n_jobs: int, backend: str | None
) -> dict[str, Any]:
    out = opts.to_dict()
    out["services_rule"] = svc.rule
    out["n_jobs"] = n_jobs
    out["backend"] = backend or ("loky" if n_jobs != 1 else "serial")
    return out


def _diagnostics(
    part: Partition, opts: ClusterOptions, n: int, seeds: np.ndarray, table: IOTable
) -> dict[str, Any]:
    from sklearn.metrics import silhouette_score

    k = len(np.unique(part.labels))
    sil = (
        round(float(silhouette_score(squareform(part.dvec), part.labels, metric="precomputed")), 6)
        if 1 < k < len(seeds)
        else None
    )
    # undefined when every distance is equal (e.g. no inter-industry flows)
    coph = cophenet(part.tree, part.dvec)[0] if np.ptp(part.dvec) > 0 else np.nan
    if opts.k is not None:
        rule = "k given"
    elif opts.threshold is not None:
        rule = "threshold given"
    else:
        rule = "distance 1 - r*"
    return {
        "k": int(opts.k if opts.k is not None else k),
        "n_groups": int(k),
        "cut_rule": rule,
        "threshold_distance": opts.cut_distance(),
        "cophenetic_correlation": round(float(coph), 6) if np.isfinite(coph) else None,
        "silhouette": sil,
        "n_sectors": n,
        "n_seeds": len(seeds),
        "n_linked_cores": len(part.cores),
        "dropped_zero_output": [c for c in table.meta.notes if c.startswith("dropped")],
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def format_candidates(res: ClusterResult) -> str:
    """Plain-text listing of the candidates (for the CLI and the demo)."""
    if res.too_aggregated:
        return "no candidate clusters: " + res.message.get("en", "")
    d = res.diagnostics
    lines = [
        f"{len(res.candidates)} candidate cluster(s), every core flow-linked; cut into "
        f"{d['k']} group(s), cophenetic correlation {_fmt(d['cophenetic_correlation'])}",
    ]
    if d.get("focus_region"):
        lines.append(
            f"focus {d['focus_region']}: the {len(res.candidates)} candidate(s) with a "
            f"{d['focus_region']} sector in their core; {d['focus_left_out']} other linked "
            "core(s) left out"
        )
    for c in res.candidates:
        if c.cohesion is None or c.stability_tree is None:
            stab = "stability not computed"
        else:
            stab = (
                f"chain holds in {c.cohesion:.0%} of replicates ({c.stability_reading}), "
                f"boundary {c.stability_tree:.2f}"
            )
        conf = ", ".join(c.confirmed_by) or "none"
        lines.append(
            f"#{c.rank} {c.id} {c.label} — {stab}; core intra-flow "
            f"{c.core_intra_flow_share:.2f}, core output {c.core_output_share:.1%} "
            f"(with supporting services {c.output_share:.1%}); confirmed by: {conf}"
        )
        for m in c.members:
            lines.append(f"     {m.role:10} {m.code:6} {m.name}")
        if c.focus_region is not None:
            lines.append(
                f"     outside {c.focus_region}: {', '.join(c.foreign_members or ()) or 'none'}; "
                f"cross-border share of its {c.focus_region} members' intermediate sales "
                f"{_pct(c.cross_border_sales_share)}, purchases "
                f"{_pct(c.cross_border_purchases_share)}"
            )
    for g in res.similar_structure_groups:
        lines.append("similar structure, not linked: " + ", ".join(g.codes))
    if res.unclustered:
        lines.append("unclustered: " + ", ".join(res.unclustered))
    return "\n".join(lines)
