"""Options of the analysis, validated in one place.

:class:`ClusterOptions` holds every choice of :func:`io_clusters.detect_clusters` and
:class:`RunOptions` those of :func:`io_clusters.run` (with its ``cluster`` options).
Both are frozen, keyword-only dataclasses that check themselves when created
(:class:`~io_clusters.errors.OptionError` names the option and the allowed values),
serialise with :meth:`to_dict` (what results record and what ``update`` hashes) and load
from a TOML ``[run]`` table that may hold only known keys (:meth:`RunOptions.from_mapping`).

Execution settings that cannot change a result — worker count, backend, progress bar —
are not options: they are arguments of the functions that run the work.

Examples
--------
>>> from io_clusters.options import ClusterOptions
>>> ClusterOptions(seed=3).n_boot
200
>>> ClusterOptions(n_boot=-1)
Traceback (most recent call last):
...
io_clusters.errors.OptionError: n_boot must be an integer >= 0, got -1
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from .errors import OptionError

#: Similarity measures (:mod:`io_clusters.similarity`).
MEASURES: tuple[str, ...] = ("combined", "correlation", "flow")
#: Linkage methods of the tree (Ward, centroid and median need Euclidean distances).
LinkageMethod = Literal["average", "complete", "single"]
METHODS: tuple[LinkageMethod, ...] = get_args(LinkageMethod)
#: Languages of the deliverables.
LANGS: tuple[str, ...] = ("es", "en")
#: Price bases of regional data.
PRICES: tuple[str, ...] = ("constant", "current")
#: Models turning a supply-use table into a symmetric one (Eurostat 2008 ch. 11).
SUT_MODELS: tuple[str, ...] = ("A", "B", "C", "D")
#: Treatment of negligible negative intermediate flows (:mod:`io_clusters.validate`).
NEGATIVES: tuple[str, ...] = ("keep", "zero", "error")
#: Decimal separators and field delimiters of text numbers and files.
DECIMALS: tuple[str, ...] = (".", ",")
DELIMITERS: tuple[str, ...] = (",", ";", "\t")
#: RunOptions fields passed to :func:`io_clusters.read_table`.
READER_KEYS: tuple[str, ...] = ("sheet", "decimal", "encoding", "delimiter", "negatives")

DEFAULT_N_BOOT = 200
DEFAULT_LANG = "es"


def _check_share(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise OptionError(f"{name} must be between {low} and {high}, got {value}")


def _check_int(name: str, value: object, *, low: int = 0, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise OptionError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"{name} {value!r} not allowed; choose one of {', '.join(choices)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterOptions:
    """Choices of the candidate-cluster analysis (see :mod:`io_clusters.clustering`).

    Parameters
    ----------
    similarity : {"combined", "correlation", "flow"}, default "combined"
        Similarity of sectors (:mod:`io_clusters.similarity`).
    method : {"average", "complete", "single"}, default "average"
        Linkage of the tree.
    min_similarity : float, default 0.5
        r*: the tree is cut at distance 1 − r* unless ``threshold`` or ``k`` is given.
    threshold : float, optional
        Cut distance (1 − similarity) instead of 1 − r*.
    k : int, optional
        Number of groups to cut the tree into instead of a distance.
    link_threshold : float, default 0.10
        Two sectors are *linked* when the flow between them (either direction,
        self-deliveries excluded) is at least this share of the seller's intermediate
        sales or of the buyer's intermediate purchases. A candidate's core must be
        connected by such links.
    min_output_share : float, default 0.0005
        Sectors producing less than this share of total output (0.05 %) do not seed
        candidates.
    max_core_output_share : float, default 0.20
        A linked core producing more than this share of total output is a sector
        aggregate, not a cluster: it is split along its weakest direct links until
        every part is below it (the strongest flows stay together).
    attach_share : float, default 0.10
        A service supports a candidate only when the core takes at least this share of
        the service's intermediate sales …
    attach_ratio : float, default 1.5
        … and at least this multiple of the core's share of all intermediate purchases.
    min_intermediate_share : float, default 0.10
        Services selling less than this share of their output as intermediate inputs
        never attach.
    min_goods_sectors : int, default 10
        Fewer non-service sectors than this: the table is too aggregated for candidates.
    chain_strength : float, default 0.5
        Flow strength of the pairs listed as strongest chains (and at which a core
        member moves to the core of a clearly stronger partner).
    join_strength : float, default 0.4
        Flow strength at which a loose goods sector (left out by the cut, or too small
        to seed) joins the core of its strongest partner (never below
        ``link_threshold``: a join is a direct link too).
    factor_loading : float, default 0.35
        Loading at which a sector belongs to a Feser–Bergman factor.
    supporting : tuple of str, optional
        Codes treated as services (never seeds), overriding the ISIC rule.
    isic : mapping of str to str or tuple of str, optional
        ISIC Rev.4 code(s) of each sector, for tables whose classification is unknown;
        the first code is the sector's main activity.
    n_boot : int, default 200
        Bootstrap replicates of the stability measures (0 skips them).
    noise : float, default 0.1
        σ of the multiplicative log-normal noise applied to Z in each replicate.
    seed : int, default 0
        Seed of the random generator; results are reproducible for a given seed.
    focus : str, optional
        Multi-regional tables (codes ``"REGION:SECTOR"``): keep only candidates holding
        at least one sector of this region, and report their foreign country-sectors
        and cross-border trade shares (:func:`io_clusters.mrio.focus_candidates`).
    """

    similarity: str = "combined"
    method: LinkageMethod = "average"
    min_similarity: float = 0.5
    threshold: float | None = None
    k: int | None = None
    link_threshold: float = 0.10
    min_output_share: float = 0.0005
    max_core_output_share: float = 0.20
    attach_share: float = 0.10
    attach_ratio: float = 1.5
    min_intermediate_share: float = 0.10
    min_goods_sectors: int = 10
    chain_strength: float = 0.5
    join_strength: float = 0.4
    factor_loading: float = 0.35
    supporting: tuple[str, ...] | None = None
    isic: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    n_boot: int = DEFAULT_N_BOOT
    noise: float = 0.1
    seed: int = 0
    focus: str | None = None

    def __post_init__(self) -> None:
        _check_choice("similarity", self.similarity, MEASURES)
        if self.method not in METHODS:
            raise OptionError(
                f"linkage method {self.method!r} not allowed; choose one of "
                f"{', '.join(METHODS)} (Ward, centroid and median assume Euclidean "
                "distances, which 1 − similarity is not)"
            )
        if self.k is not None and self.threshold is not None:
            raise OptionError("give k or threshold, not both")
        _check_share("min_similarity", self.min_similarity, low=1e-9, high=1 - 1e-9)
        if self.threshold is not None:
            _check_share("threshold", self.threshold, high=2.0)
        _check_int("k", self.k, low=2, none_ok=True)
        for name in (
            "link_threshold",
            "min_output_share",
            "max_core_output_share",
            "attach_share",
            "min_intermediate_share",
            "chain_strength",
            "join_strength",
            "factor_loading",
        ):
            _check_share(name, getattr(self, name))
        if not 0 < self.link_threshold:
            raise OptionError(
                f"link_threshold must be above 0 (a link is a positive flow), got "
                f"{self.link_threshold}"
            )
        if not 0 < self.join_strength:
            raise OptionError(f"join_strength must be above 0, got {self.join_strength}")
        _check_share("attach_ratio", self.attach_ratio, high=math.inf)
        _check_share("noise", self.noise, high=2.0)
        _check_int("min_goods_sectors", self.min_goods_sectors, low=2)
        _check_int("n_boot", self.n_boot)
        _check_int("seed", self.seed)
        if self.supporting is not None:
            if isinstance(self.supporting, str):
                raise OptionError("supporting must be a list of sector codes, not one string")
            object.__setattr__(self, "supporting", tuple(str(c) for c in self.supporting))
        if self.isic is not None:
            object.__setattr__(self, "isic", _isic_pairs(self.isic))
        if self.focus is not None and (not isinstance(self.focus, str) or not self.focus.strip()):
            raise OptionError(f"focus must be a region code (e.g. PER), got {self.focus!r}")

    @property
    def isic_map(self) -> dict[str, tuple[str, ...]] | None:
        """``isic`` as a dict (code → ISIC codes), or None."""
        return None if self.isic is None else dict(self.isic)

    def cut_distance(self) -> float:
        """Distance at which the tree is cut (when ``k`` is not given)."""
        return 1.0 - self.min_similarity if self.threshold is None else float(self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (recorded in results and hashed by ``update``)."""
        out = asdict(self)
        out["supporting"] = None if self.supporting is None else list(self.supporting)
        out["isic"] = None if self.isic is None else {c: list(v) for c, v in self.isic}
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "options") -> ClusterOptions:
        """Build from a mapping, refusing unknown keys (named with ``source``)."""
        data = dict(data)
        if "similarity_measure" in data:  # the keyword of io_clusters 0.x
            data.setdefault("similarity", data.pop("similarity_measure"))
        _refuse_unknown(data, cls, source)
        return cls(**data)


def _isic_pairs(isic: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    items: Any = isic.items() if isinstance(isic, Mapping) else isic
    out = []
    try:
        for code, value in items:
            codes = (value,) if isinstance(value, str) else tuple(value)
            codes = tuple(str(v).strip() for v in codes if str(v).strip())
            if not codes or not all(v.isdigit() and 2 <= len(v) <= 4 for v in codes):
                raise OptionError(
                    f"isic[{code!r}] must be ISIC Rev.4 codes of 2 to 4 digits, got {value!r}"
                )
            from .services import section_of

            unknown = [v for v in codes if section_of(v) is None]
            if unknown:
                raise OptionError(
                    f"isic[{code!r}]: {', '.join(unknown)} is not an ISIC Rev.4 division "
                    "(00, 04, 34, 40, 44, 48, 54, 57, 67, 76, 83, 89 do not exist; a Rev.3 "
                    "code? e.g. electricity is 35 in Rev.4, 40 in Rev.3)"
                )
            out.append((str(code), codes))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, OptionError):
            raise
        raise OptionError(f"isic must map sector codes to ISIC codes, got {isic!r}") from exc
    return tuple(sorted(out))


def _refuse_unknown(data: Mapping[str, Any], cls: type, source: str) -> None:
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise OptionError(
            f"{source}: unknown option(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(allowed))}"
        )


def load_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a user's TOML file (``what``: "config", "labels" …), errors naming the file.

    Raises
    ------
    FileNotFoundError
        No such file.
    OptionError
        Not valid TOML, not UTF-8, or not a file.
    """
    import tomllib

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such {what} file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path.name}: not valid TOML ({exc})") from exc
    except OSError as exc:  # a directory, unreadable …
        raise OptionError(f"{path}: cannot read the {what} file ({exc.strerror})") from exc


#: Keys of a run.toml ``[run]`` table that belong to :class:`ClusterOptions`.
CLUSTER_KEYS: tuple[str, ...] = tuple(f.name for f in fields(ClusterOptions))


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """Choices of the main job (:func:`io_clusters.run`).

    Parameters
    ----------
    lang : {"es", "en"}, default "es"
        Language of the workbook, figures and report.
    layout, country : str, optional
        How to read the table (see :func:`io_clusters.read_table`).
    model : {"A", "B", "C", "D"}, optional
        The source is a supply-use table: transform it with this model first.
    out : str, optional
        Output directory (default ``data/processed/<table-id>/``).
    store : str, optional
        Fieldwork evidence store.
    regions : str, optional
        Regional activity data locating the candidates.
    year : int, optional
        Year of the regional data (default: the latest).
    prices : {"constant", "current"}, default "constant"
        Price basis of the regional data.
    labels : str, optional
        TOML file of user labels for candidates, keyed by candidate id or core codes.
    sheet, decimal, encoding, delimiter : str, optional
        How to read the table file (see :func:`io_clusters.read_table`).
    negatives : {"keep", "zero", "error"}, default "keep"
        Negligible negative intermediate flows (rounding in official tables): kept with
        a warning naming the cells, set to zero (with the warning), or an error.
        Material negatives are always an error.
    figures : bool, default True
        Draw the figures.
    cluster : ClusterOptions
        Options of the candidate analysis.
    """

    lang: str = DEFAULT_LANG
    layout: str | None = None
    country: str | None = None
    model: str | None = None
    out: str | None = None
    store: str | None = None
    regions: str | None = None
    year: int | None = None
    prices: str = "constant"
    labels: str | None = None
    sheet: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    negatives: str = "keep"
    figures: bool = True
    cluster: ClusterOptions = field(default_factory=ClusterOptions)

    def __post_init__(self) -> None:
        _check_choice("lang", self.lang, LANGS)
        _check_choice("prices", self.prices, PRICES)
        if self.model is not None:
            _check_choice("model", self.model, SUT_MODELS)
        _check_int("year", self.year, low=1900, none_ok=True)
        _check_choice("negatives", self.negatives, NEGATIVES)
        if self.decimal is not None:
            _check_choice("decimal", self.decimal, DECIMALS)
        if self.delimiter is not None:
            _check_choice("delimiter", self.delimiter, DELIMITERS)
        for name in ("layout", "country", "out", "store", "regions", "labels", "sheet", "encoding"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str | Path):
                raise OptionError(f"{name} must be a text (a path or name), got {value!r}")
            if isinstance(value, Path):
                object.__setattr__(self, name, str(value))
        if not isinstance(self.figures, bool):
            raise OptionError(f"figures must be true or false, got {self.figures!r}")
        if not isinstance(self.cluster, ClusterOptions):
            raise OptionError("cluster must be a ClusterOptions")

    def reader_options(self) -> dict[str, Any]:
        """Keyword options for :func:`io_clusters.read_table` (those that are set)."""
        out = {k: getattr(self, k) for k in READER_KEYS if getattr(self, k) is not None}
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, the cluster options nested under ``cluster``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "cluster"}
        out["cluster"] = self.cluster.to_dict()
        return out

    def updated(self, **changes: Any) -> RunOptions:
        """Return a copy with ``changes`` (run or cluster keys; None values ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        cluster = {k: changes.pop(k) for k in list(changes) if k in CLUSTER_KEYS}
        if "k" in cluster:  # a cut given here replaces the other kind of cut
            cluster.setdefault("threshold", None)
        if "threshold" in cluster:
            cluster.setdefault("k", None)
        if "similarity_measure" in changes:
            cluster["similarity"] = changes.pop("similarity_measure")
        _refuse_unknown(changes, RunOptions, "options")
        new_cluster = replace(self.cluster, **cluster) if cluster else self.cluster
        return replace(self, **changes, cluster=new_cluster)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "run.toml") -> RunOptions:
        """Build from a flat ``[run]`` table: run keys and cluster keys side by side.

        Unknown keys raise :class:`OptionError` naming ``source`` and the allowed keys.
        """
        data = dict(data)
        if "similarity_measure" in data:
            data.setdefault("similarity", data.pop("similarity_measure"))
        run_keys = {f.name for f in fields(cls)} - {"cluster"}
        unknown = sorted(set(data) - run_keys - set(CLUSTER_KEYS))
        if unknown:
            raise OptionError(
                f"{source}: unknown [run] key(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(sorted(run_keys | set(CLUSTER_KEYS)))}"
            )
        cluster = ClusterOptions(**{k: v for k, v in data.items() if k in CLUSTER_KEYS})
        return cls(**{k: v for k, v in data.items() if k in run_keys}, cluster=cluster)

    @classmethod
    def from_toml(cls, path: str | Path) -> RunOptions:
        """Read the ``[run]`` table of a TOML file (unknown keys refused)."""
        path = Path(path)
        conf = load_toml(path, "config")
        run = conf.get("run", {})
        if not isinstance(run, dict):
            raise OptionError(f"{path.name}: [run] must be a table of options")
        return cls.from_mapping(run, source=path.name)
