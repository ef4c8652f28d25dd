"""Candidate clusters: hierarchical clustering of sectors on their linkage profiles.

Following the approach of Torres Zorrilla (2003, *Clusters de la industria en el Perú*,
PUCP DT 228) as far as it is documented (his exact algorithm is not available; see
``../shared/METHOD.md`` §1.3): an IO table *proposes* groups of linked sectors, which
must then be checked with qualitative evidence (Rosenfeld's caveat).

Method (every choice is an option recorded in the result):

1. **Similarity** S between sectors (:mod:`io_clusters.similarity`; default
   ``combined``: profile correlation or direct flow strength, whichever is larger).
2. **Seeds and supporting sectors.** Pervasive service sectors (trade, transport,
   communications, finance, business and real-estate services, utilities, public and
   other services) sell to almost everyone and would glue every group into one blob;
   they do not seed clusters. They are recognised by their names (Spanish and English
   keywords, :data:`SERVICE_KEYWORDS`) unless ``supporting=`` lists codes explicitly.
3. **Tree.** Agglomerative clustering of the seed sectors on D = 1 − S with
   :func:`scipy.cluster.hierarchy.linkage` (``average`` by default; ``complete`` and
   ``single`` available; Ward, centroid and median assume Euclidean geometry and are
   refused). The whole tree is kept for the dendrogram.
4. **Cut.** By default the threshold d* = 1 − r* with r* = 0.5 gives k*; among the cuts
   k*−2 … k*+2 the one with the highest mean silhouette (Rousseeuw 1987, on the
   precomputed distances) is chosen. ``k=`` or ``threshold=`` override the rule. The
   cophenetic correlation, the silhouette of every k and the largest gap in merge
   heights are reported. Groups of one sector are "unclustered", not candidates.
   No candidate may hold more than a third of the sectors (at least 3 in small tables):
   a larger group is split at
   the top merge of its own sub-tree, recursively.
5. **Supporting members.** A pervasive sector joins the candidate whose seed members it
   is most similar to on average, if that mean similarity is at least r* and the
   candidate stays within a third of the sectors (most similar sectors first).
6. **Stability** (Hennig 2007, *CSDA* 52: 258-271): ``n_boot`` replicates (default
   200) perturb Z with multiplicative log-normal noise (σ = 0.1; zeros stay zero) and
   resample the profile positions with replacement; each replicate is re-cut into the
   same number of groups and every candidate gets the mean of its best Jaccard match.
   Reading: ≥ 0.75 stable, 0.6–0.75 doubtful, < 0.6 not to be trusted.
7. **Score** (ranking): the mean of within-candidate mean similarity, stability and
   ``intra_flow_share`` — coherent, stable groups whose members actually trade with
   each other rank first.

``intra_flow_share`` = 2·Σ_{l,m∈C} z_lm / Σ_{l∈C}(Σ_k z_lk + Σ_k z_kl): the share of
members' intermediate sales and purchases that stay inside the candidate.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import cophenet, fcluster, leaves_list, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import silhouette_score

from .errors import AnalysisError, OptionError
from .linkages import drop_zero_output, linkages
from .similarity import MEASURES, similarity
from .table import IOTable

log = logging.getLogger(__name__)

METHODS = ("average", "complete", "single")
#: Name fragments (accent-free, lower case) of pervasive service sectors.
SERVICE_KEYWORDS: tuple[str, ...] = (
    "comercio",
    "trade",
    "wholesale",
    "retail",
    "transport",
    "almacen",
    "storage",
    "comunicac",
    "telecom",
    "post",
    "correo",
    "financ",
    "insurance",
    "seguro",
    "business service",
    "servicios empresariales",
    "servicios prestados a empresas",
    "inmobiliari",
    "real estate",
    "vivienda",
    "electric",
    "gas y agua",
    "agua",
    "water",
    "utilities",
    "desecho",
    "administracion publica",
    "public admin",
    "otros servicios",
    "other services",
    "servicios personales",
    "hotel",
    "restaurant",
    "education",
    "educacion",
    "salud",
    "health",
    "informacion",
    "servic",
    "telefon",
    "alquiler",
    "rental",
    "publicidad",
    "advertising",
    "reparacion",
    "repair",
)
#: Hennig's (2007) reading of mean Jaccard stability.
STABLE, DOUBTFUL = 0.75, 0.6


def _plain(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", s)


def pervasive_services(table: IOTable) -> tuple[str, ...]:
    """Codes whose names mark them as pervasive services (see :data:`SERVICE_KEYWORDS`)."""
    out = []
    for code, name in zip(table.codes, table.names, strict=True):
        low = _plain(name)
        if any(k in low for k in SERVICE_KEYWORDS):
            out.append(code)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Member:
    """One sector of a candidate cluster."""

    code: str
    name: str
    role: str  # "core" or "supporting"
    mean_similarity: float
    output_share: float
    export_share: float | None
    power_dispersion: float
    sensitivity_dispersion: float
    key_sector_class: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate cluster: a hypothesis to be checked with qualitative evidence."""

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
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ClusterResult:
    """Everything :func:`detect_clusters` computed.

    Attributes
    ----------
    candidates : list of Candidate
        Ranked by score, best first.
    unclustered : tuple of str
        Seed sectors left alone by the cut, and supporting sectors attached nowhere.
    similarity : pandas.DataFrame, shape (n, n)
        Similarity of every pair of sectors (zero-output sectors dropped).
    tree : numpy.ndarray, shape (n_seeds − 1, 4)
        scipy linkage matrix over ``tree_codes``.
    tree_codes : tuple of str
        Seed sectors in the order of the tree's leaves' indices.
    labels : dict of str to int
        Group number of every seed sector at the chosen cut.
    options : dict
    diagnostics : dict
        k, threshold, cophenetic correlation, silhouettes by k, largest gap, …
    """

    candidates: list[Candidate]
    unclustered: tuple[str, ...]
    similarity: pd.DataFrame
    tree: np.ndarray
    tree_codes: tuple[str, ...]
    labels: dict[str, int]
    options: dict[str, Any]
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the similarity matrix and tree included)."""
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "unclustered": list(self.unclustered),
            "options": self.options,
            "diagnostics": self.diagnostics,
            "tree": {"codes": list(self.tree_codes), "linkage": self.tree.tolist()},
        }


def _condensed(S: np.ndarray) -> np.ndarray:
    """Condensed distances 1 − S of a symmetric similarity matrix, clipped at 0."""
    d = squareform(S, checks=False, force="tovector")  # upper triangle, one copy
    np.subtract(1.0, d, out=d)
    np.maximum(d, 0.0, out=d)
    return d


def _choose_k(
    tree: np.ndarray, dvec: np.ndarray, n: int, threshold: float, k: int | None, k_fixed: bool
) -> tuple[int, dict[str, Any]]:
    heights = tree[:, 2]
    k_thr = len(np.unique(fcluster(tree, t=threshold, criterion="distance")))
    D = squareform(dvec)
    sil: dict[int, float] = {}
    top = max(2, n // 2)
    # every k up to 60, then a log-spaced grid, plus the window the rule looks at
    grid = set(range(2, min(top, 60) + 1))
    grid |= {int(v) for v in np.geomspace(60, top, num=20)} if top > 60 else set()
    grid |= {kk for kk in range(k_thr - 2, k_thr + 3) if 2 <= kk <= top}
    if k is not None:
        grid.add(k)
    for kk in sorted(grid):
        if kk >= n:
            break
        lab = fcluster(tree, t=kk, criterion="maxclust")
        if 1 < len(np.unique(lab)) < n:
            sil[kk] = float(silhouette_score(D, lab, metric="precomputed"))
    gaps = np.diff(np.sort(heights))
    gap_k = int(n - 1 - np.argmax(gaps)) if len(gaps) else 1
    if k is not None:
        chosen = k
        rule = "k given"
    elif k_fixed:
        chosen = k_thr
        rule = "threshold given"
    else:
        window = [kk for kk in sil if abs(kk - k_thr) <= 2]
        chosen = max(window, key=lambda kk: (sil[kk], -kk)) if window else k_thr
        rule = "max silhouette within ±2 of the threshold cut"
    return chosen, {
        "k_threshold": k_thr,
        "silhouette_by_k": {str(kk): round(v, 6) for kk, v in sil.items()},
        "largest_gap_k": gap_k,
        "cut_rule": rule,
    }


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(labels == g) for g in np.unique(labels)]


def _partition(tree: np.ndarray, S: np.ndarray, method: str, k: int, cap: int) -> list[np.ndarray]:
    """Cut ``tree`` into ``k`` groups, splitting any group larger than ``cap``.

    A group over ``cap`` is split at the top merge of its own sub-tree, recursively,
    so that no candidate exceeds ``cap`` seed sectors.
    """
    out: list[np.ndarray] = []
    todo = _groups(fcluster(tree, t=k, criterion="maxclust"))
    while todo:
        g = todo.pop()
        if len(g) <= cap:
            out.append(g)
            continue
        sub = linkage(_condensed(S[np.ix_(g, g)]), method=method)
        split = _groups(fcluster(sub, t=2, criterion="maxclust"))
        if len(split) < 2:  # all merges tied (e.g. identical profiles): split by leaf order
            order = leaves_list(sub)
            split = [order[: len(g) // 2], order[len(g) // 2 :]]
        todo.extend(g[part] for part in split)
    return sorted(out, key=lambda g: int(g.min()))


def intra_flow_share(Z: np.ndarray, idx: np.ndarray) -> float:
    """Share of the members' intermediate sales and purchases that stay inside.

    2·Σ_{l,m∈C} z_lm / Σ_{l∈C}(Σ_k z_lk + Σ_k z_kl), in [0, 1] (self-deliveries count
    as inside; ../shared/METHOD.md §6, a Hoen-style check that members trade).
    """
    inside = Z[np.ix_(idx, idx)].sum()
    total = Z[idx, :].sum() + Z[:, idx].sum()
    return float(2 * inside / total) if total > 0 else 0.0


def detect_clusters(
    table: IOTable,
    *,
    similarity_measure: str = "combined",
    method: str = "average",
    threshold: float | None = None,
    k: int | None = None,
    min_similarity: float = 0.5,
    supporting: Sequence[str] | None = None,
    n_boot: int = 200,
    noise: float = 0.1,
    seed: int = 0,
    progress: bool | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
) -> ClusterResult:
    """Propose candidate clusters of sectors from an IO table.

    Parameters
    ----------
    table : IOTable
    similarity_measure : {"combined", "correlation", "flow"}
        See :mod:`io_clusters.similarity`.
    method : {"average", "complete", "single"}
        Linkage of the tree (average = UPGMA, the default).
    threshold : float, optional
        Cut the tree at this distance (1 − similarity) instead of the default rule.
    k : int, optional
        Cut the tree into ``k`` groups instead of the default rule.
    min_similarity : float, default 0.5
        r*: the default cut starts from distance 1 − r*, and supporting sectors join a
        candidate only with mean similarity ≥ r*.
    supporting : sequence of str, optional
        Codes of pervasive sectors that may support but not seed candidates; default
        from names (:func:`pervasive_services`).
    n_boot : int, default 200
        Bootstrap replicates for stability (0 skips it).
    noise : float, default 0.1
        σ of the multiplicative log-normal noise of the bootstrap.
    seed : int, default 0
        Seed of the random generator; results are deterministic for a given seed.
    progress : bool, optional
        Show a progress bar; by default only on a terminal and after 1.5 s.
    n_jobs : int, default 1
        Bootstrap workers (joblib; -1 = all cores). Results do not depend on it.
    backend : str, optional
        joblib backend: ``"loky"`` (local processes, the default when ``n_jobs`` ≠ 1)
        or ``"dask"`` (a ``dask.distributed.Client`` must be connected).

    Returns
    -------
    ClusterResult
    """
    if similarity_measure not in MEASURES:
        raise OptionError(f"unknown similarity {similarity_measure!r}; choose one of {MEASURES}")
    if method not in METHODS:
        raise OptionError(
            f"linkage method {method!r} not allowed; choose one of {METHODS} (Ward, centroid "
            "and median assume Euclidean distances, which 1 − similarity is not)"
        )
    if k is not None and threshold is not None:
        raise OptionError("give k or threshold, not both")
    if not 0 < min_similarity < 1:
        raise OptionError(f"min_similarity must be in (0, 1), got {min_similarity}")
    if n_boot < 0:
        raise OptionError(f"n_boot must be ≥ 0, got {n_boot}")
    table = drop_zero_output(table)
    from .validate import validate  # the table's own balance problems travel with candidates

    imbalance = [
        f"table imbalance: {f.message}"
        for f in validate(table).findings
        if f.check in ("row_balance", "column_balance", "scale") and f.severity != "info"
    ]
    codes = list(table.codes)
    n = len(codes)
    Z = table.Z.to_numpy(dtype="float64")
    S = similarity(Z, similarity_measure)
    support = set(pervasive_services(table) if supporting is None else supporting)
    unknown = support - set(codes)
    if unknown and supporting is not None:
        raise OptionError(f"supporting codes not in the table: {', '.join(sorted(unknown))}")
    seeds = np.array([i for i, c in enumerate(codes) if c not in support])
    if len(seeds) < 3:
        raise AnalysisError(f"only {len(seeds)} non-service sectors: too few to cluster")
    if k is not None and not 2 <= k < len(seeds):
        raise OptionError(f"k must be between 2 and {len(seeds) - 1}, got {k}")
    S_seed = S[np.ix_(seeds, seeds)]
    dvec = _condensed(S_seed)
    tree = linkage(dvec, method=method)
    coph, _ = cophenet(tree, dvec)
    thr = 1.0 - min_similarity if threshold is None else float(threshold)
    k_chosen, diag = _choose_k(tree, dvec, len(seeds), thr, k, threshold is not None)
    cap = max(3, n // 3)  # a third of the sectors; small tables may still form triples
    parts = _partition(tree, S_seed, method, k_chosen, cap)
    labels = np.zeros(len(seeds), dtype=int)
    for gi, g in enumerate(parts):
        labels[g] = gi + 1
    groups = [g for g in parts if len(g) >= 2]
    lk = linkages(table, extraction=False)
    stab = (
        _bootstrap(
            Z,
            seeds,
            groups,
            similarity_measure,
            method,
            k_chosen,
            cap,
            n_boot,
            noise,
            seed,
            progress,
            n_jobs,
            backend,
        )
        if n_boot
        else [None] * len(groups)
    )
    # supporting sectors
    attach: dict[int, list[tuple[int, float]]] = {g: [] for g in range(len(groups))}
    unclustered = [codes[seeds[i]] for g in parts if len(g) == 1 for i in g]
    offers = []
    for i in sorted(support & set(codes), key=codes.index):
        si = codes.index(i)
        means = [float(S[si, seeds[g]].mean()) for g in groups]
        best = int(np.argmax(means)) if means else -1
        offers.append((means[best] if best >= 0 else 0.0, si, best))
    for sim, si, best in sorted(offers, key=lambda o: (-o[0], o[1])):
        # most similar first; a candidate never grows past a third of the sectors
        if best >= 0 and sim >= min_similarity and len(groups[best]) + len(attach[best]) < cap:
            attach[best].append((si, sim))
        else:
            unclustered.append(codes[si])
    for gi in attach:
        attach[gi].sort()
    coph_mat = squareform(cophenet(tree))
    x = table.x.to_numpy()
    exports = table.exports
    exp = None if exports is None else exports.to_numpy()
    cands = []
    for gi, g in enumerate(groups):
        core = seeds[g]
        members_idx = [(int(i), "core") for i in core] + [
            (si, "supporting") for si, _ in attach[gi]
        ]
        all_idx = np.array([i for i, _ in members_idx])
        members = []
        for i, role in members_idx:
            others = core[core != i] if role == "core" else core
            members.append(
                Member(
                    code=codes[i],
                    name=table.names[i],
                    role=role,
                    mean_similarity=round(float(S[i, others].mean()) if len(others) else 1.0, 6),
                    output_share=round(float(x[i] / x.sum()), 6),
                    export_share=None if exp is None else round(float(exp[i] / x[i]), 6),
                    power_dispersion=round(float(lk["power_dispersion"].iloc[i]), 6),
                    sensitivity_dispersion=round(float(lk["sensitivity_dispersion"].iloc[i]), 6),
                    key_sector_class=str(lk["key_sector_class"].iloc[i]),
                )
            )
        within = S[np.ix_(core, core)][np.triu_indices(len(core), 1)].mean()
        other_groups = [seeds[h] for h in groups if h is not g]
        separation = (
            max(float(S[np.ix_(core, o)].mean()) for o in other_groups) if other_groups else None
        )
        merge_height = float(coph_mat[np.ix_(g, g)].max())
        intra = intra_flow_share(Z, all_idx)
        anchor = codes[int(core[np.argmax(x[core])])]
        st = stab[gi]
        reading = (
            "not computed"
            if st is None
            else "stable"
            if st >= STABLE
            else "doubtful"
            if st >= DOUBTFUL
            else "not to be trusted"
        )
        warn = []
        if st is not None and st < DOUBTFUL:
            warn.append(f"unstable: bootstrap Jaccard {st:.2f} < {DOUBTFUL}")
        elif st is not None and st < STABLE:
            warn.append(f"doubtful membership: bootstrap Jaccard {st:.2f} < {STABLE}")
        if attach[gi]:
            warn.append(
                "contains pervasive service sector(s): "
                + ", ".join(codes[s] for s, _ in attach[gi])
            )
        if intra < 0.1:
            warn.append(f"members trade little with each other (intra_flow_share {intra:.2f})")
        warn.extend(imbalance)
        score = float(np.mean([within, st if st is not None else within, intra]))
        ex_share = None if exp is None else float(exp[all_idx].sum() / x[all_idx].sum())
        cands.append(
            Candidate(
                id="",
                label=table.name_of[anchor],
                anchor=anchor,
                members=tuple(members),
                output_share=round(float(x[all_idx].sum() / x.sum()), 6),
                export_share=None if ex_share is None else round(ex_share, 6),
                within_mean_similarity=round(float(within), 6),
                separation=None if separation is None else round(separation, 6),
                merge_height=round(merge_height, 6),
                stability=None if st is None else round(float(st), 4),
                stability_reading=reading,
                intra_flow_share=round(intra, 6),
                score=round(score, 6),
                warnings=tuple(warn),
            )
        )
    cands.sort(key=lambda c: (-c.score, c.anchor))
    cands = [replace(c, id=f"C{i + 1:02d}") for i, c in enumerate(cands)]
    options = {
        "similarity": similarity_measure,
        "method": method,
        "threshold": threshold,
        "k": k,
        "min_similarity": min_similarity,
        "supporting": sorted(support & set(codes)),
        "supporting_rule": "given" if supporting is not None else "service keywords in names",
        "n_boot": n_boot,
        "noise": noise,
        "seed": seed,
        "max_members": cap,
        "n_jobs": n_jobs,
        "backend": backend or ("loky" if n_jobs != 1 else "serial"),
    }
    diag.update(
        {
            "k": int(k_chosen),
            "threshold_distance": thr,
            "cophenetic_correlation": round(float(coph), 6),
            "silhouette": diag["silhouette_by_k"].get(str(k_chosen)),
            "n_sectors": n,
            "n_seeds": len(seeds),
            "dropped_zero_output": [c for c in table.meta.notes if c.startswith("dropped")],
        }
    )
    return ClusterResult(
        candidates=cands,
        unclustered=tuple(unclustered),
        similarity=pd.DataFrame(S, index=table.Z.index, columns=table.Z.columns),
        tree=tree,
        tree_codes=tuple(codes[i] for i in seeds),
        labels={codes[seeds[i]]: int(lab) for i, lab in enumerate(labels)},
        options=options,
        diagnostics=diag,
    )


def _replicate(
    Z: np.ndarray,
    seeds: np.ndarray,
    sets: list[set[int]],
    measure: str,
    method: str,
    k: int,
    cap: int,
    noise: float,
    seed_seq: np.random.SeedSequence,
) -> np.ndarray:
    """Best-match Jaccard of every group in one perturbed, position-resampled replicate."""
    rng = np.random.default_rng(seed_seq)
    n = Z.shape[0]
    if noise:
        Zb = rng.standard_normal(Z.shape)
        Zb *= noise
        Zb -= noise**2 / 2
        np.exp(Zb, out=Zb)
        Zb *= Z
    else:
        Zb = Z
    w = np.bincount(rng.integers(0, n, n), minlength=n).astype("float64")
    Sb = similarity(Zb, measure, weights=w, dtype=np.float32)  # see _bootstrap
    del Zb
    if len(seeds) < n:
        Sb = Sb[np.ix_(seeds, seeds)]
    tb = linkage(_condensed(Sb), method=method)
    reps = [set(g.tolist()) for g in _partition(tb, Sb, method, k, cap)]
    return np.array([max(len(s & r) / len(s | r) for r in reps) for s in sets])


def _chunk(args: tuple[Any, ...], seqs: list[np.random.SeedSequence]) -> list[np.ndarray]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # one BLAS thread per worker: no oversubscription
        return [_replicate(*args, s) for s in seqs]


def _bootstrap(
    Z: np.ndarray,
    seeds: np.ndarray,
    groups: list[np.ndarray],
    measure: str,
    method: str,
    k: int,
    cap: int,
    n_boot: int,
    noise: float,
    seed: int,
    progress: bool | None,
    n_jobs: int = 1,
    backend: str | None = None,
) -> list[float]:
    """Mean best-match Jaccard of each group over perturbed, position-resampled replicates.

    Every replicate draws from its own generator, spawned from ``seed``
    (:class:`numpy.random.SeedSequence`), and the scores are summed in replicate order,
    so serial, local-parallel and Dask runs give identical figures for the same seed.
    The replicates' correlation products run in float32 (half the cost; a relative
    error of about 1e-7 in similarities that the noise itself perturbs by ~10 %).
    """
    from tqdm.auto import tqdm

    seqs = np.random.SeedSequence(seed).spawn(n_boot)
    sets = [set(g.tolist()) for g in groups]
    args = (Z, seeds, sets, measure, method, k, cap, noise)
    if progress is None:  # on a terminal only, and only if it takes more than 1.5 s
        disable, delay = None, 1.5
    else:
        disable, delay = not progress, 0.0
    if n_jobs == 1 and backend is None:
        bar = tqdm(seqs, desc="bootstrap", disable=disable, delay=delay, leave=False)
        scores = [_replicate(*args, s) for s in bar]
    else:
        from joblib import Parallel, delayed, parallel_backend

        size = max(1, n_boot // (4 * max(abs(n_jobs), 2)))
        chunks = [seqs[i : i + size] for i in range(0, n_boot, size)]
        with parallel_backend(backend or "loky", n_jobs=n_jobs):
            parts = Parallel()(delayed(_chunk)(args, c) for c in chunks)
        scores = [row for part in parts for row in part]
    total = np.zeros(len(groups))
    for row in scores:  # fixed order: identical sums whatever the backend
        total += row
    return (total / n_boot).tolist()


def add_cli(
    sub: Any, add_table_args: Callable[[Any], None], load: Callable[[Any], IOTable]
) -> None:
    """Register ``io-clusters clusters`` on the CLI's subparsers."""

    def cmd(args: Any) -> int:
        from .export import write_json

        table = load(args)
        res = detect_clusters(
            table,
            similarity_measure=args.similarity,
            method=args.method,
            k=args.k,
            threshold=args.threshold,
            n_boot=args.n_boot,
            seed=args.seed,
            n_jobs=args.jobs,
        )
        print(format_candidates(res))
        if args.out:
            print(f"wrote {write_json(res.to_dict(), args.out)}")
        return 0

    p = sub.add_parser("clusters", help="candidate clusters (hierarchical clustering)")
    add_table_args(p)
    p.add_argument("--similarity", default="combined", choices=MEASURES)
    p.add_argument("--method", default="average", choices=METHODS)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--k", type=int, help="number of groups to cut the tree into")
    group.add_argument("--threshold", type=float, help="cut distance (1 - similarity)")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap replicates (0 = none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="bootstrap workers (-1 = all cores)")
    p.add_argument("--out", help="write the result as JSON")
    p.set_defaults(func=cmd)


def format_candidates(res: ClusterResult) -> str:
    """Plain-text listing of the candidates (for the CLI and the demo)."""
    d = res.diagnostics
    lines = [
        f"{len(res.candidates)} candidate cluster(s); k = {d['k']}, cophenetic correlation "
        f"{d['cophenetic_correlation']:.3f}, silhouette {d['silhouette']}",
    ]
    for c in res.candidates:
        stab = "n/a" if c.stability is None else f"{c.stability:.2f} ({c.stability_reading})"
        lines.append(
            f"{c.id} {c.label} — score {c.score:.3f}, stability {stab}, "
            f"intra-flow {c.intra_flow_share:.2f}, output share {c.output_share:.1%}"
        )
        for m in c.members:
            lines.append(f"     {m.role:10} {m.code:6} {m.name}")
    if res.unclustered:
        lines.append("unclustered: " + ", ".join(res.unclustered))
    return "\n".join(lines)
