"""Orchestration of the main job: read → validate → linkages → candidates → evidence → outputs.

Outputs of :func:`run` (names fixed; scripts rely on them), in ``data/processed/<table-id>/``
by default:

``candidates.xlsx``  the candidate workbook (Spanish by default, ``lang="en"``)
``candidates.json``  candidates with their ``rosenfeld`` records, options, versions, table
                     metadata; the schema is ``schemas/candidates.schema.json``; the one
                     timestamp is the top-level ``generated`` field
``linkages.csv``     every sector, every linkage index
``figures/``         dendrogram, key-sector quadrant, similarity heat map, one network per
                     candidate, with departmental data one map per candidate — PNG and SVG
``report.html``      a self-contained page (figures embedded)
``table.csv``        the table in the interchange format
``validation.json``  the validation report
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .clustering import ClusterResult, load_labels
from .datasets import DEFAULT_EXAMPLE, load_example
from .errors import TableValidationError
from .export import write_frame, write_json
from .linkages import drop_zero_output, linkages
from .options import RunOptions
from .publish import (
    as_output_error,
    check_not_inputs,
    check_replaceable,
    publish_dir,
    work_dir,
)
from .readers import read_table, write_table
from .table import IOTable, slug
from .validate import ValidationReport, treat_negatives, validate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run produced.

    Attributes
    ----------
    table : IOTable
    report : ValidationReport
    linkages : pandas.DataFrame
    clusters : object
        The :class:`~io_clusters.clustering.ClusterResult`, or None if not computed.
    evidence : object
        The :class:`~io_clusters.evidence.EvidenceResult`, or None.
    out_dir : Path
    outputs : dict of str to Path
        Output name → path written.
    """

    table: IOTable
    report: ValidationReport
    linkages: pd.DataFrame
    clusters: Any
    evidence: Any
    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)


def run(
    source: str | Path | IOTable,
    options: RunOptions | None = None,
    *,
    layout: str | Path | None = None,
    country: str | None = None,
    out: str | Path | None = None,
    clusters: bool = True,
    evidence_store: str | Path | None = None,
    lang: str | None = None,
    figures: bool | None = None,
    regions: str | Path | Any | None = None,
    labels: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
    **cluster_options: Any,
) -> RunResult:
    """Run the main job on a table file (or an IOTable) and write its outputs.

    Parameters
    ----------
    source : path or IOTable
    options : RunOptions, optional
        Every choice of the run (:class:`~io_clusters.options.RunOptions`); the keyword
        arguments below, when given, override it.
    layout, country
        As in :func:`io_clusters.read_table`.
    out : path, optional
        Output directory; default ``data/processed/<table-id>/``.
    clusters : bool, default True
        Also detect candidate clusters (``candidates.json``).
    evidence_store : path, optional
        Fieldwork evidence store (default ``data/evidence/fieldwork.json`` when it
        exists); its records are paired with the candidates next to the study's cases.
    lang : {"es", "en"}, optional
        Language of the workbook, figures and report (default Spanish).
    figures : bool, optional
        Draw the figures (and embed them in the report); default True.
    regions : path or RegionalData, optional
        Regional activity data (INEI's VAB by department, or department × ISIC Rev.4
        values): every candidate gets ``located``, ``location_note`` and, when located,
        its location quotients by region (``regions``); ``regional_data`` says what they
        measure; with Peru's departments, ``figures/map_<id>``. Every candidate of a
        Peruvian table gets ``verify_in`` (concentration ∪ its evidence's departments).
    labels : path, optional
        TOML ``[labels]`` file renaming candidates (keys: id or core codes ``"a+b"``).
    progress : callable, optional
        Called with a short message as each step starts.
    n_jobs, backend
        Execution of the bootstrap (see :func:`io_clusters.detect_clusters`).
    **cluster_options
        Options of :class:`~io_clusters.options.ClusterOptions` (``seed``, ``k``, …).

    Returns
    -------
    RunResult

    Raises
    ------
    TableValidationError
        When validation finds errors (the report is attached).
    OptionError
        For an invalid or unknown option.
    """
    say = progress or (lambda _msg: None)
    region_data = None if regions is None or isinstance(regions, str | Path) else regions
    opts = (options or RunOptions()).updated(
        layout=None if layout is None else str(layout),
        country=country,
        out=None if out is None else str(out),
        store=None if evidence_store is None else str(evidence_store),
        lang=lang,
        figures=figures,
        labels=None if labels is None else str(labels),
        regions=None if regions is None or region_data is not None else str(regions),
        **cluster_options,
    )
    say("reading and validating the table")
    table, report = _read_and_validate(source, opts)
    if region_data is None and opts.regions:
        from .regional import read_regional

        region_data = read_regional(opts.regions, year=opts.year, prices=opts.prices)
    plan = _Plan(
        options=opts,
        clusters=clusters,
        regions=region_data,
        labels=load_labels(opts.labels) if opts.labels else None,
        n_jobs=n_jobs,
        backend=backend,
        say=say,
    )
    out_dir = _out_dir(table, opts)
    work = _prepare_out(out_dir, _inputs(table, opts))
    try:
        analysis = analyse(table, report, plan)
        doc = document(analysis, plan) if analysis.clusters is not None else None
        written = write_outputs(analysis, doc, work, plan)
        outputs = _publish(work, out_dir, written)
    except OSError as exc:
        raise as_output_error(exc, out_dir) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("wrote %s", ", ".join(str(p) for p in outputs.values()))
    return RunResult(
        table, report, analysis.linkages, analysis.clusters, analysis.evidence, out_dir, outputs
    )


def _read_and_validate(
    source: str | Path | IOTable, opts: RunOptions
) -> tuple[IOTable, ValidationReport]:
    """Read (or take) the table, apply the negatives option, refuse it on errors."""
    if isinstance(source, IOTable):
        table = treat_negatives(source, opts.negatives)
    else:
        table = read_table(source, opts.layout, opts.country, **opts.reader_options())
    report = validate(table, negatives=opts.negatives)
    if not report.ok:
        raise TableValidationError(
            f"{table.meta.table_id}: {len(report.errors)} validation error(s): "
            + "; ".join(f"{f.check}: {f.message}" for f in report.errors[:3]),
            report,
        )
    return table, report


def _out_dir(table: IOTable, opts: RunOptions) -> Path:
    out_dir = (
        Path(opts.out)
        if opts.out is not None
        else Path("data/processed") / slug(table.meta.table_id)
    )
    if out_dir.is_symlink():  # e.g. a `latest` pointer: replace what it points to
        out_dir = out_dir.resolve()
    return out_dir


def _inputs(table: IOTable, opts: RunOptions) -> list[Any]:
    """Files the run reads: outputs must never overwrite them."""
    inputs = [table.meta.source, opts.store, opts.regions, opts.labels]
    if opts.layout and opts.layout.endswith(".toml"):
        inputs.append(opts.layout)
    return inputs


@dataclass(frozen=True, slots=True)
class _Plan:
    """What :func:`_write_outputs` is asked to do (internal)."""

    options: RunOptions
    clusters: bool
    regions: Any
    labels: dict[str, str] | None
    n_jobs: int
    backend: str | None
    say: Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the run computed, before anything is written.

    Attributes
    ----------
    source_table : IOTable
        The table as read (written as ``table.csv``).
    table : IOTable
        The analysed table (zero-output sectors dropped).
    report : ValidationReport
    linkages : pandas.DataFrame
    clusters : ClusterResult or None
        None when the run was asked for linkages only.
    geography : dict of str to CandidateGeography, or None
        Location of every candidate, with regional data.
    evidence : EvidenceResult or None
    cases : dict of str to Case
        The study's cases and the fieldwork store's, by id.
    """

    source_table: IOTable
    table: IOTable
    report: ValidationReport
    linkages: pd.DataFrame
    clusters: ClusterResult | None = None
    geography: dict[str, Any] | None = None
    evidence: Any = None
    cases: dict[str, Any] = field(default_factory=dict)


def analyse(table: IOTable, report: ValidationReport, plan: _Plan) -> Analysis:
    """Linkages, candidates, their geography and the evidence pairing (no output)."""
    say, opts = plan.say, plan.options
    analysed = drop_zero_output(table)  # once, with one warning, for both analyses
    say("linkages")
    df = linkages(analysed)
    if not plan.clusters:
        return Analysis(table, analysed, report, df)
    from .clustering import detect_clusters, table_warnings

    say(f"candidate clusters (bootstrap: {opts.cluster.n_boot} replicates)")
    result = detect_clusters(
        analysed,
        opts.cluster,
        linkage_frame=df,
        warnings=table_warnings(analysed),
        n_jobs=plan.n_jobs,
        backend=plan.backend,
    )
    if plan.labels:
        result = result.relabelled(plan.labels)
    geography = None
    if plan.regions is not None:
        from .regional import candidate_geography

        say("locating the candidates in the regions")
        located = candidate_geography(analysed, plan.regions, result.candidates)
        geography = {g.candidate_id: g for g in located}
    say("pairing with qualitative evidence")
    # a candidate not located has no regional information: its cases pair as without data
    local = {k: g for k, g in geography.items() if g.located} if geography else None
    evidence, cases = _pair(analysed, result, opts.store, local)
    return Analysis(table, analysed, report, df, result, geography, evidence, cases)


def document(analysis: Analysis, plan: _Plan) -> dict[str, Any]:
    """Build the content of ``candidates.json`` (schema ``schemas/candidates.schema.json``)."""
    assert analysis.clusters is not None
    opts, table = plan.options, analysis.table
    doc = analysis.clusters.to_dict()
    doc["run_options"] = {k: v for k, v in opts.to_dict().items() if k != "out"}
    _add_geography(doc, table, plan.regions, analysis.geography, analysis.evidence)
    doc["table"] = table.meta.to_dict()
    doc["versions"] = _versions()
    doc["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc["lang"] = opts.lang
    return doc


def write_outputs(
    analysis: Analysis, doc: dict[str, Any] | None, work: Path, plan: _Plan
) -> dict[str, str]:
    """Write every output into the private directory ``work``; return name → file name."""
    written: dict[str, str] = {}
    written["table"] = write_table(analysis.source_table, work / "table.csv").name
    report = analysis.report.to_dict()
    written["validation"] = write_json(report, work / "validation.json").name
    written["linkages"] = write_frame(analysis.linkages, work / "linkages.csv").name
    if doc is None:
        return written
    written["candidates"] = write_json(doc, work / "candidates.json").name
    written.update(_write_deliverables(analysis, doc, report["findings"], work, plan))
    return written


def _write_deliverables(
    analysis: Analysis,
    doc: dict[str, Any],
    findings: list[dict[str, Any]],
    work: Path,
    plan: _Plan,
) -> dict[str, str]:
    """Write the workbook, the figures and maps, and report.html."""
    say, lang, figures_wanted = plan.say, plan.options.lang, plan.options.figures
    assert analysis.clusters is not None
    written: dict[str, str] = {}
    maps: dict[str, list[Path]] = {}
    if figures_wanted and doc.get("regional_data", {}).get("peru_departments"):
        say("drawing maps")
        from .export.maps import write_maps

        maps = write_maps(doc, work / "figures", lang=lang)
    say("writing the workbook")
    from .export.xlsx import write_workbook

    written["workbook"] = write_workbook(
        doc,
        analysis.linkages,
        findings,
        analysis.cases,
        work / "candidates.xlsx",
        lang=lang,
        maps=maps,
    ).name
    figs: dict[str, list[Path]] = {}
    if figures_wanted:
        say("drawing figures")
        from .export.figures import write_figures

        figs = write_figures(
            analysis.table,
            analysis.linkages,
            analysis.clusters,
            work / "figures",
            lang=lang,
            doc=doc,
        )
        figs.update(maps)
        written["figures"] = "figures"
    from .export.report import write_report

    written["report"] = write_report(
        doc,
        findings,
        figs,
        work / "report.html",
        lang=lang,
        cases=analysis.cases,
        names=analysis.table.name_of,
    ).name
    return written


def _add_geography(
    doc: dict[str, Any], table: IOTable, data: Any, geography: Any, evidence: Any
) -> None:
    """Put location, ``verify_in`` and the rosenfeld records into the candidates of ``doc``."""
    from .geo import department
    from .regional import MIN_SHARE, verify_in

    if data is not None:
        doc["regional_data"] = {
            **data.describe(),
            "min_share": MIN_SHARE,
            "activities": {
                str(a): data.activity_names.get(str(a), str(a)) for a in data.values.index
            },
            "peru_departments": all(department(r) is not None for r in data.regions),
        }
    doc["evidence"] = evidence.to_dict()
    for cand in doc["candidates"]:
        g = geography.get(cand["id"]) if geography is not None else None
        if g is not None:
            cand.update(g.to_dict())
        p = evidence.for_candidate(cand["id"]).to_dict()
        cand["rosenfeld"] = p["rosenfeld"]
        cand["matched_cases"] = p["matches"]
        detail = verify_in(g, cand["matched_cases"], country=table.meta.country)
        cand["verify_in"] = [d["department"] for d in detail]
        cand["verify_in_detail"] = detail


def _prepare_out(out_dir: Path, inputs: list[Any]) -> Path:
    """Check the output directory before any computation; return the private work dir."""
    check_replaceable(out_dir)
    check_not_inputs(out_dir, inputs)
    try:
        return work_dir(out_dir)
    except OSError as exc:
        raise as_output_error(exc, out_dir) from exc


def _publish(work: Path, out_dir: Path, written: dict[str, str]) -> dict[str, Path]:
    """Put the finished set in place of ``out_dir`` at once (never a mix of old and new)."""
    outputs = {}
    for key, name in written.items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise AssertionError(f"refusing to write {name!r} outside {out_dir}")
        outputs[key] = out_dir / name
    publish_dir(work, out_dir)
    return outputs


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"io_clusters": __version__}
    for pkg in ("numpy", "pandas", "scipy", "scikit-learn", "openpyxl"):
        out[pkg] = version(pkg)
    return out


def _pair(
    table: IOTable, result: Any, store: str | Path | None, geography: Any = None
) -> tuple[Any, dict[str, Any]]:
    """Pair candidates with the study's cases and the fieldwork store."""
    from .evidence import EvidenceStore, load_cases, pair_evidence
    from .evidence.fieldwork import DEFAULT_STORE

    extra = EvidenceStore(Path(store) if store else DEFAULT_STORE).cases()
    cases = {c.id: c for c in (*load_cases(), *extra)}
    return pair_evidence(table, result, extra_cases=extra, geography=geography), cases


def demo_source(table_path: str | Path | None) -> tuple[IOTable, str]:
    """Return the demo table and a sentence saying which one it is."""
    if table_path and Path(table_path).exists():
        t = read_table(table_path)
        return t, f"table: {table_path} (layout {t.meta.layout})"
    t = load_example(DEFAULT_EXAMPLE)
    why = f"{table_path} not found; " if table_path else ""
    return t, f"{why}using the embedded default table {DEFAULT_EXAMPLE!r} ({t.meta.citation})"
