"""Orchestration of the main job: read → validate → linkages → candidate clusters → outputs.

The Excel workbook, figures and HTML report of the main job are not written yet (see
the project's issue on ``io-clusters run``); this module writes the machine-readable
outputs: the table in the interchange format, the validation report, the linkage
table and the candidate clusters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .datasets import DEFAULT_EXAMPLE, load_example
from .errors import TableValidationError
from .export import write_frame, write_json
from .linkages import drop_zero_output, linkages
from .readers import read_table, write_table
from .table import IOTable, slug
from .validate import ValidationReport, validate

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
    *,
    layout: str | Path | None = None,
    country: str | None = None,
    out: str | Path | None = None,
    clusters: bool = True,
    evidence_store: str | Path | None = None,
    **cluster_options: Any,
) -> RunResult:
    """Run the main job on a table file (or an IOTable) and write its outputs.

    Parameters
    ----------
    source : path or IOTable
    layout, country
        As in :func:`io_clusters.read_table`.
    out : path, optional
        Output directory; default ``data/processed/<table-id>/``.
    clusters : bool, default True
        Also detect candidate clusters (``candidates.json``).
    evidence_store : path, optional
        Fieldwork evidence store (default ``data/evidence/fieldwork.json`` when it
        exists); its records are paired with the candidates next to the study's cases.
    **cluster_options
        Passed to :func:`io_clusters.detect_clusters` (``seed``, ``k``, …).

    Returns
    -------
    RunResult

    Raises
    ------
    TableValidationError
        When validation finds errors (the report is attached).
    """
    table = source if isinstance(source, IOTable) else read_table(source, layout, country)
    report = validate(table)
    if not report.ok:
        raise TableValidationError(
            f"{table.meta.table_id}: {len(report.errors)} validation error(s): "
            + "; ".join(f"{f.check}: {f.message}" for f in report.errors[:3]),
            report,
        )
    out_dir = Path(out) if out is not None else Path("data/processed") / slug(table.meta.table_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Path] = {}
    outputs["table"] = write_table(table, out_dir / "table.csv")
    outputs["validation"] = write_json(report.to_dict(), out_dir / "validation.json")
    table = drop_zero_output(table)  # once, with one warning, for both analyses
    df = linkages(table)
    outputs["linkages"] = write_frame(df, out_dir / "linkages.csv")
    result = evidence = None
    if clusters:
        from .clustering import detect_clusters

        result = detect_clusters(table, **cluster_options)
        evidence = _pair(table, result, evidence_store)
        doc = result.to_dict()
        doc["evidence"] = evidence.to_dict()
        for cand in doc["candidates"]:
            p = evidence.for_candidate(cand["id"]).to_dict()
            cand["rosenfeld"] = p["rosenfeld"]
            cand["matched_cases"] = p["matches"]
        doc["table"] = table.meta.to_dict()
        doc["versions"] = {"io_clusters": __version__}
        doc["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
        outputs["candidates"] = write_json(doc, out_dir / "candidates.json")
    log.info("wrote %s", ", ".join(str(p) for p in outputs.values()))
    return RunResult(table, report, df, result, evidence, out_dir, outputs)


def _pair(table: IOTable, result: Any, store: str | Path | None) -> Any:
    """Pair candidates with the study's cases and the fieldwork store."""
    from .evidence import EvidenceStore, pair_evidence
    from .evidence.fieldwork import DEFAULT_STORE

    extra = EvidenceStore(Path(store) if store else DEFAULT_STORE).cases()
    return pair_evidence(table, result, extra_cases=extra)


def demo_source(table_path: str | Path | None) -> tuple[IOTable, str]:
    """Return the demo table and a sentence saying which one it is."""
    if table_path and Path(table_path).exists():
        t = read_table(table_path)
        return t, f"table: {table_path} (layout {t.meta.layout})"
    t = load_example(DEFAULT_EXAMPLE)
    why = f"{table_path} not found; " if table_path else ""
    return t, f"{why}using the embedded default table {DEFAULT_EXAMPLE!r} ({t.meta.citation})"
