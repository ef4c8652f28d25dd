"""What changed between two editions of a table (e.g. BCCh MIP 2008 → 2013).

Sectors are put in correspondence through their ISIC Rev.4 divisions
(:mod:`io_clusters.concordance`): two sectors are *comparable* when they cover
exactly the same divisions; other sectors were *reclassified* (split, merged or
regrouped) and are reported as such, not compared. Candidates are compared through the
ISIC divisions of their members: two candidates of different editions are *related*
when their division sets overlap by at least half of the smaller one; a candidate with
no related one appeared (or disappeared); one related to several split (or merged).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .concordance import sector_isic
from .export import atomic_path, write_json
from .readers import interchange

RELATED = 0.5
_CHUNK = re.compile(r"\d+|\D+")


def edition_key(edition: object) -> tuple[tuple[int, int | float | str], ...]:
    """Sort key of an edition label: numbers compare as numbers, dates as dates.

    ``"9" < "10"``, ``2013 < "2013-06" < "2013-12-01"``, ``"2008r1" < "2008r2"``; text
    parts compare as text. A missing edition sorts first.

    Examples
    --------
    >>> sorted(["10", "9", "2013-06", "2013"], key=edition_key)
    ['9', '10', '2013', '2013-06']
    """
    if edition is None or edition == "":
        return ()
    if isinstance(edition, int | float) and not isinstance(edition, bool):
        return ((0, edition),)
    return tuple(
        (0, int(c)) if c.isdigit() else (1, c.strip().lower())
        for c in _CHUNK.findall(str(edition).strip())
    )


def _divisions(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(c[:2] for c in codes)


def _load(
    run_dir: Path,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, frozenset[str]], Mapping[str, str]]:
    doc: dict[str, Any] = json.loads((run_dir / "candidates.json").read_text(encoding="utf-8"))
    lk = pd.read_csv(run_dir / "linkages.csv", index_col=0, dtype={"code": str})
    lk.index = lk.index.astype(str)
    table = interchange.read(run_dir / "table.csv")
    try:
        isic = {c: _divisions(v) for c, v in sector_isic(table).items()}
    except Exception:  # no concordance: nothing is comparable by activity
        isic = {c: frozenset() for c in table.codes}
    return doc, lk, isic, table.name_of


@dataclass(frozen=True, slots=True)
class _Edition:
    """One run directory as the comparison reads it."""

    doc: dict[str, Any]
    linkages: pd.DataFrame
    isic: dict[str, frozenset[str]]
    names: Mapping[str, str]

    @classmethod
    def load(cls, run_dir: Path) -> _Edition:
        return cls(*_load(run_dir))

    def label(self, code: str) -> str:
        return f"{code} {self.names[code]}"


def _comparable(prev: _Edition, cur: _Edition) -> list[tuple[str, str]]:
    """Sector pairs covering exactly the same (non-empty) ISIC divisions, one to one."""
    pairs = []
    for p, divs in prev.isic.items():
        same = [c for c, cd in cur.isic.items() if cd and cd == divs]
        if divs and len(same) == 1:
            pairs.append((p, same[0]))
    return pairs


def _reclassified(
    prev: _Edition, cur: _Edition, comparable: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Sectors without a one-to-one counterpart: merged, regrouped, gone or new."""
    matched_p = {p for p, _ in comparable}
    used_c = {c for _, c in comparable}
    out: list[dict[str, Any]] = []
    for p, divs in prev.isic.items():
        if p in matched_p:
            continue
        overlap = [c for c, cd in cur.isic.items() if divs & cd]
        note = (
            "no ISIC concordance"
            if not divs
            else "merged or regrouped"
            if overlap
            else "no counterpart"
        )
        out.append(
            {"previous": prev.label(p), "current": [cur.label(c) for c in overlap], "note": note}
        )
    unmatched_prev = [prev.isic[p] for p in prev.isic if p not in matched_p]
    for c, cd in cur.isic.items():
        if c not in used_c and not any(cd & divs for divs in unmatched_prev):
            out.append({"previous": [], "current": cur.label(c), "note": "new activity"})
    return out


def _linkage_changes(
    prev: _Edition, cur: _Edition, comparable: list[tuple[str, str]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Key-sector class changes and index deltas (largest first) of comparable sectors."""
    class_changes: list[dict[str, Any]] = []
    deltas: list[dict[str, Any]] = []
    for p, c in comparable:
        if p not in prev.linkages.index or c not in cur.linkages.index:
            continue
        a, b = prev.linkages.loc[p].to_dict(), cur.linkages.loc[c].to_dict()
        sector = cur.names[c]
        if a["key_sector_class"] != b["key_sector_class"]:
            class_changes.append(
                {
                    "sector": sector,
                    "previous": a["key_sector_class"],
                    "current": b["key_sector_class"],
                }
            )
        for col in ("power_dispersion", "sensitivity_dispersion", "bl_total"):
            deltas.append(
                {
                    "sector": sector,
                    "index": col,
                    "previous": round(float(a[col]), 4),
                    "current": round(float(b[col]), 4),
                    "change": round(float(b[col] - a[col]), 4),
                }
            )
    deltas.sort(key=lambda d: -abs(d["change"]))
    return class_changes, deltas


def _candidate_sets(edition: _Edition) -> dict[str, frozenset[str]]:
    """Candidate ``"id label"`` → the ISIC divisions of its members."""
    isic = edition.isic
    return {
        c["id"] + " " + c["label"]: frozenset().union(
            *(isic.get(m["code"], frozenset()) for m in c["members"])
        )
        for c in edition.doc["candidates"]
    }


def _candidate_changes(prev: _Edition, cur: _Edition) -> dict[str, list[Any]]:
    """Candidates that appeared, disappeared, split, merged or persisted (see module doc)."""
    pc, cc = _candidate_sets(prev), _candidate_sets(cur)
    rel = {
        (a, b)
        for a, sa in pc.items()
        for b, sb in cc.items()
        if sa and sb and len(sa & sb) / min(len(sa), len(sb)) >= RELATED
    }
    out_deg = {a: [b for x, b in rel if x == a] for a in pc}
    in_deg = {b: [a for a, y in rel if y == b] for b in cc}
    return {
        "appeared": [b for b in cc if not in_deg[b]],
        "disappeared": [a for a in pc if not out_deg[a]],
        "split": [{"previous": a, "current": out_deg[a]} for a in pc if len(out_deg[a]) > 1],
        "merged": [{"previous": in_deg[b], "current": b} for b in cc if len(in_deg[b]) > 1],
        "persisted": [
            {"previous": a, "current": out_deg[a][0]}
            for a in pc
            if len(out_deg[a]) == 1 and len(in_deg[out_deg[a][0]]) == 1
        ],
    }


def _summaries(
    labels: tuple[str, str],
    sizes: tuple[int, int],
    n_comparable: int,
    n_reclassified: int,
    class_changes: list[dict[str, Any]],
    deltas: list[dict[str, Any]],
    cands: dict[str, list[Any]],
) -> tuple[str, str]:
    """Return the English and Spanish one-paragraph summaries of a comparison."""
    (previous_label, current_label), (n_prev, n_cur) = labels, sizes
    n = {k: len(v) for k, v in cands.items()}
    top = "; ".join(
        f"{d['sector']} {d['index']} {d['previous']} → {d['current']}" for d in deltas[:3]
    )
    cls = (
        "; ".join(f"{c['sector']}: {c['previous']} → {c['current']}" for c in class_changes)
        or "none"
    )
    summary_en = (
        f"From edition {previous_label} ({n_prev} sectors) to {current_label} ({n_cur} sectors): "
        f"{n_comparable} sectors cover the same ISIC activities and are compared; "
        f"{n_reclassified} were reclassified and cannot be compared one to one. "
        f"Key-sector class changed for: {cls}. Largest linkage changes: {top or 'none'}. "
        f"Candidates: {n['persisted']} persisted, {n['appeared']} appeared, "
        f"{n['disappeared']} disappeared, {n['split']} split, "
        f"{n['merged']} merged."
    )
    summary_es = (
        f"De la edición {previous_label} ({n_prev} sectores) a la {current_label} ({n_cur} "
        f"sectores): {n_comparable} sectores cubren las mismas actividades CIIU y se comparan; "
        f"{n_reclassified} fueron reclasificados y no se comparan uno a uno. Cambió la clase de "
        f"sector clave de: {cls if cls != 'none' else 'ninguno'}. Mayores cambios de "
        f"encadenamientos: {top or 'ninguno'}. Candidatos: {n['persisted']} persisten, "
        f"{n['appeared']} aparecen, {n['disappeared']} desaparecen, "
        f"{n['split']} se dividen, {n['merged']} se fusionan."
    )
    return summary_en, summary_es


def compare_runs(
    previous: Path,
    current: Path,
    *,
    previous_label: str = "previous",
    current_label: str = "current",
) -> dict[str, Any]:
    """Compare two run directories of the main job; returns the ``changes.json`` content."""
    prev, cur = _Edition.load(previous), _Edition.load(current)
    comparable = _comparable(prev, cur)
    reclassified = _reclassified(prev, cur, comparable)
    class_changes, deltas = _linkage_changes(prev, cur, comparable)
    cands = _candidate_changes(prev, cur)
    n_prev, n_cur = len(prev.isic), len(cur.isic)
    summary_en, summary_es = _summaries(
        (previous_label, current_label),
        (n_prev, n_cur),
        len(comparable),
        len(reclassified),
        class_changes,
        deltas,
        cands,
    )
    return {
        "previous": {"run": str(previous), "edition": previous_label, "n_sectors": n_prev},
        "current": {"run": str(current), "edition": current_label, "n_sectors": n_cur},
        "comparable_sectors": [
            {"previous": prev.label(p), "current": cur.label(c)} for p, c in comparable
        ],
        "reclassified": reclassified,
        "key_sector_class_changes": class_changes,
        "largest_linkage_changes": deltas[:10],
        "candidates": cands,
        "summary_en": summary_en,
        "summary_es": summary_es,
    }


def write_changes(changes: dict[str, Any], run_dir: Path, *, lang: str = "es") -> None:
    """Write ``changes.json`` and add a ``Cambios``/``Changes`` sheet to the workbook."""
    write_json(changes, run_dir / "changes.json")
    book = run_dir / "candidates.xlsx"
    if not book.exists():
        return
    import openpyxl
    from openpyxl.styles import Alignment, Font

    from .export import escape_formula

    wb = openpyxl.load_workbook(book)
    ws = wb.create_sheet("Cambios" if lang == "es" else "Changes", 1)
    ws["A1"] = "Cambios entre ediciones" if lang == "es" else "Changes between editions"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = escape_formula(changes["summary_es" if lang == "es" else "summary_en"])
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A2:E2")
    ws.row_dimensions[2].height = 120
    r = 4
    for title, rows in (
        (
            "Clase de sector clave" if lang == "es" else "Key-sector class",
            [
                (c["sector"], c["previous"], c["current"])
                for c in changes["key_sector_class_changes"]
            ],
        ),
        (
            "Mayores cambios" if lang == "es" else "Largest changes",
            [
                (d["sector"], d["index"], d["previous"], d["current"], d["change"])
                for d in changes["largest_linkage_changes"]
            ],
        ),
        (
            "Reclasificados" if lang == "es" else "Reclassified",
            [
                (
                    str(x["previous"]),
                    "; ".join(x["current"]) if isinstance(x["current"], list) else x["current"],
                    x["note"],
                )
                for x in changes["reclassified"]
            ],
        ),
    ):
        ws.cell(r, 1, title).font = Font(bold=True)
        r += 1
        for row in rows:
            for j, v in enumerate(row, start=1):
                ws.cell(r, j, escape_formula(v) if isinstance(v, str) else v)
            r += 1
        r += 1
    for col, w in zip("ABCDE", (40, 28, 28, 14, 12), strict=True):
        ws.column_dimensions[col].width = w
    with atomic_path(book) as tmp:
        wb.save(tmp)
