"""The fieldwork loop: template workbook, validated import, local evidence store.

The template has one sheet per candidate: the seven dimensions of the study's
Cuadro 2 as rows, a drop-down of the four phase descriptors of each dimension, and
columns for free-text evidence, source, date and region. Imported evidence is stored as
JSON (default ``data/evidence/fieldwork.json``), labelled ``fieldwork:<file>`` and kept
apart from the study's catalogue, which it never overwrites.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import BadCell, DamagedFileError, IoClustersError
from ..export import atomic_path, escape_formula
from .catalogue import (
    DIMENSIONS,
    PHASES,
    RANGE_DASH,
    Case,
    DimensionEvidence,
    Note,
    heuristic_phase,
    load_framework,
    phase_bounds,
    phase_label,
)

DEFAULT_STORE = Path("data/evidence/fieldwork.json")
_META_ROWS = {"candidate_id": 2, "label": 3, "table_id": 4, "country": 5, "sectors": 6, "isic": 7}
_FIRST_DIM_ROW = 10
_COLS = ("dimension", "phase", "evidence", "source", "date", "region")
NO_EVIDENCE = "sin evidencia / no evidence"
#: A phase cell: a phase or a range of two ("II–III", "II-III"), optionally followed by
#: " – descriptor" as in the drop-down.
_PHASE_CELL = re.compile(r"^\s*(IV|I{1,3})\b(?:\s*[–—-]\s*(IV|I{1,3})\b)?")


class FieldworkError(IoClustersError, ValueError):
    """A fieldwork workbook is malformed; ``cells`` lists every problem by cell."""

    def __init__(self, message: str, cells: list[BadCell]):
        super().__init__(message)
        self.cells = tuple(cells)


def phase_options(dimension: str) -> list[str]:
    """Return the drop-down entries of one dimension (``"II – Articulación comercial"``…)."""
    dim = next(d for d in load_framework()["dimensions"] if d["id"] == dimension)
    out = []
    for p in PHASES:
        desc = dim.get(p)
        out.append(f"{p} – {desc['es']}" if desc else f"{p} – (no descrito por el estudio)")
    ranges = [f"{a}{RANGE_DASH}{b}" for a, b in itertools.pairwise(PHASES)]
    return [*out, *ranges, NO_EVIDENCE]


def parse_phase_cell(value: Any) -> str | None:
    """Return the phase of a template cell, keeping ranges.

    ``"II – Articulación comercial"`` → ``"II"``; ``"II–III"`` or ``"II-III"`` →
    ``"II–III"``; empty or "sin evidencia" → None.

    Raises
    ------
    ValueError
        When the cell holds anything else.
    """
    raw = str(value or "").strip()
    if not raw or raw == NO_EVIDENCE:
        return None
    m = _PHASE_CELL.match(raw)
    if not m:
        raise ValueError("phase must be one of I, II, III, IV or a range such as II–III")
    lo, hi = phase_bounds(m.group(1) + (f"-{m.group(2)}" if m.group(2) else ""))
    return phase_label(lo, hi)


def _sheet_title(cid: str, label: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", f"{cid} {label}")[:31].strip()
    title, k = base, 2
    while title.lower() in used:
        title = f"{base[:28]}~{k}"
        k += 1
    used.add(title.lower())
    return title


_GUIDE_LINES = (
    "Una hoja por candidato. Para cada dimensión elija la fase que la evidencia indica,",
    "describa la evidencia, su fuente, la fecha (AAAA-MM-DD) y la región.",
    "Si la evidencia queda entre dos fases, elija el rango (p. ej. 'II–III').",
    "Deje la fase vacía o 'sin evidencia' cuando no haya información.",
    "Luego: io-clusters evidence import ESTE_ARCHIVO.xlsx",
    "Fieldwork: one sheet per candidate; choose a phase per dimension, describe the",
    "evidence, its source, date (YYYY-MM-DD) and region; a range such as 'II–III'",
    "when the evidence lies between two phases;",
    "then run `io-clusters evidence import`.",
)
_HEADER = ("Dimensión", "Fase", "Evidencia", "Fuente", "Fecha", "Región")
_WIDTHS = (28, 44, 60, 30, 14, 24)


def write_template(result: dict[str, Any], path: str | Path) -> Path:
    """Write a fieldwork workbook for the candidates of ``result``.

    Parameters
    ----------
    result : dict
        A ``candidates.json`` document (``candidates``, ``table``, optional
        ``evidence``).
    path : path
        The ``.xlsx`` to write (atomically).
    """
    import openpyxl

    table = result.get("table", {})
    isic_by = {
        p["candidate_id"]: p.get("isic", []) for p in result.get("evidence", {}).get("pairings", [])
    }
    names = _dimension_names()
    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])  # the new workbook's only (default) sheet
    used: set[str] = set()
    _write_guide(wb.create_sheet("Instrucciones"))
    for cand in result.get("candidates", []):
        ws = wb.create_sheet(_sheet_title(cand["id"], cand["label"], used))
        meta = {
            "candidate_id": cand["id"],
            "label": cand["label"],
            "table_id": table.get("table_id", ""),
            "country": table.get("country") or "",
            "sectors": ";".join(m["code"] for m in cand["members"]),
            "isic": ";".join(isic_by.get(cand["id"], [])),
        }
        _write_candidate_sheet(ws, f"{cand['id']} — {cand['label']}", meta, names)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def _dimension_names() -> dict[str, str]:
    """Return dimension id → Spanish name (the text of column A of the template)."""
    return {d["id"]: d["name_es"] for d in load_framework()["dimensions"]}


def _write_guide(guide: Any) -> None:
    """Fill the ``Instrucciones`` sheet."""
    from openpyxl.styles import Font

    guide["A1"] = "Trabajo de campo — evidencia cualitativa por candidato (fases I–IV, Cuadro 2)"
    guide["A1"].font = Font(bold=True, size=13)
    for i, text in enumerate(_GUIDE_LINES, start=3):
        guide.cell(i, 1, text)
    guide.column_dimensions["A"].width = 100


def _write_candidate_sheet(
    ws: Any, title: str, meta: dict[str, str], names: dict[str, str]
) -> None:
    """Fill one candidate's sheet: title, metadata rows, the dimension grid."""
    from openpyxl.styles import Alignment, Font, PatternFill

    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=13)
    for key, row in _META_ROWS.items():
        ws.cell(row, 1, key).font = Font(italic=True, color="666666")
        ws.cell(row, 2, escape_formula(meta[key]))
    for j, h in enumerate(_HEADER, start=1):
        c = ws.cell(_FIRST_DIM_ROW - 1, j, h)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="305496")
    for i, dim in enumerate(DIMENSIONS):
        r = _FIRST_DIM_ROW + i
        ws.cell(r, 1, names[dim])
        dv = _phase_validation(dim)
        ws.add_data_validation(dv)
        dv.add(ws.cell(r, 2))
        for j in range(3, 7):
            ws.cell(r, j).alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEF", _WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(_FIRST_DIM_ROW, 2)


def _phase_validation(dim: str) -> Any:
    """Return the drop-down list of one dimension's phase cell."""
    from openpyxl.worksheet.datavalidation import DataValidation

    options = phase_options(dim)
    return DataValidation(
        type="list",
        formula1='"' + ",".join(o.replace(",", ";") for o in options) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Fase",
        error="Elija una fase de la lista / choose a phase from the list",
    )


def _parse_date(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    try:
        return dt.date.fromisoformat(str(v).strip()).isoformat()
    except ValueError:
        raise ValueError(f"not a date (use YYYY-MM-DD): {v!r}") from None


@dataclass(slots=True)
class _Problems:
    """Every malformed cell of a workbook, as :class:`BadCell` records and messages."""

    cells: list[BadCell] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def add(self, sheet: str, ref: str, value: Any, problem: str, *, at: str = "") -> None:
        """Record a bad cell range ``ref``; the message names ``at`` (default ``ref``)."""
        self.cells.append(BadCell(sheet, ref, value))
        self.messages.append(f"{sheet}!{at or ref}: {problem}")


def read_fieldwork(path: str | Path) -> list[dict[str, Any]]:
    """Validate a filled fieldwork workbook and return its evidence records.

    Raises
    ------
    FieldworkError
        Listing every malformed cell (sheet!cell = value and the problem); nothing is
        returned or stored when there is any.
    """
    from ..readers import file_sha256, open_workbook, require_file

    p = require_file(path)
    wb = open_workbook(p)
    names = _dimension_names()
    problems = _Problems()
    records = []
    sheets = [ws for ws in wb.worksheets if ws.title != "Instrucciones"]
    if not sheets:
        raise FieldworkError(f"{p.name}: no candidate sheets (is this a fieldwork template?)", [])
    digest = file_sha256(p)
    for ws in sheets:
        meta = {k: ws.cell(r, 2).value for k, r in _META_ROWS.items()}
        if (
            ws.cell(_META_ROWS["candidate_id"], 1).value != "candidate_id"
            or not meta["candidate_id"]
        ):
            problems.add(
                ws.title,
                "A2:B2",
                ws.cell(2, 2).value,
                "missing candidate_id (sheet not from the template?)",
                at="B2",
            )
            continue
        dims = _read_dimensions(ws, names, problems)
        if dims:
            records.append(_record(meta, dims, ws.title, p.name, digest))
    if problems.cells:
        msgs = problems.messages
        shown = "; ".join(msgs[:10])
        more = f" (and {len(msgs) - 10} more)" if len(msgs) > 10 else ""
        raise FieldworkError(f"{p.name}: {len(msgs)} problem(s): {shown}{more}", problems.cells)
    return records


def _read_dimensions(
    ws: Any, names: dict[str, str], problems: _Problems
) -> dict[str, dict[str, Any]]:
    """Return the filled dimension rows of one candidate sheet, collecting problems."""
    dims = {}
    for i, dim in enumerate(DIMENSIONS):
        r = _FIRST_DIM_ROW + i
        vals = {c: ws.cell(r, j + 1).value for j, c in enumerate(_COLS)}
        row = _read_dimension_row(ws.title, r, vals, names[dim], problems)
        if row is not None:
            dims[dim] = row
    return dims


def _read_dimension_row(
    sheet: str, r: int, vals: dict[str, Any], name: str, problems: _Problems
) -> dict[str, Any] | None:
    """Return one dimension row (None when empty or unreadable), collecting problems."""
    from ..cellref import cell_ref

    if str(vals["dimension"] or "").strip() != name:
        problems.add(sheet, cell_ref(r, 1), vals["dimension"], f"expected dimension {name!r}")
        return None
    try:
        phase = parse_phase_cell(vals["phase"])
    except ValueError as exc:
        problems.add(sheet, cell_ref(r, 2), vals["phase"], str(exc))
        return None
    text = str(vals["evidence"] or "").strip()
    if phase and not text:
        problems.add(sheet, cell_ref(r, 3), vals["evidence"], "a phase needs its evidence text")
    if text and not str(vals["source"] or "").strip():
        problems.add(sheet, cell_ref(r, 4), vals["source"], "evidence needs a source")
    try:
        date = _parse_date(vals["date"])
    except ValueError as exc:
        problems.add(sheet, cell_ref(r, 5), vals["date"], str(exc))
        date = None
    if not (text or phase):
        return None
    return {
        "phase": phase,
        "evidence": text,
        "source": str(vals["source"] or "").strip(),
        "date": date,
        "region": str(vals["region"] or "").strip(),
    }


def _record(
    meta: dict[str, Any], dims: dict[str, dict[str, Any]], sheet: str, file: str, digest: str
) -> dict[str, Any]:
    """Return the evidence record of one candidate sheet."""
    return {
        "candidate_id": str(meta["candidate_id"]),
        "label": str(meta["label"] or ""),
        "table_id": str(meta["table_id"] or ""),
        "country": str(meta["country"] or ""),
        "sectors": [s for s in str(meta["sectors"] or "").split(";") if s],
        "isic": [s for s in str(meta["isic"] or "").split(";") if s],
        "dimensions": dims,
        "sheet": sheet,
        "file": file,
        "file_sha256": digest,
    }


@dataclass(frozen=True, slots=True)
class EvidenceStore:
    """The local store of user evidence (a JSON file)."""

    path: Path = DEFAULT_STORE

    def records(self) -> list[dict[str, Any]]:
        """Every stored record (empty when the store does not exist).

        Raises :class:`~io_clusters.errors.DamagedFileError` naming the file and what to
        do when it is not a store (corrupt, truncated, hand-edited to wrong types).
        """
        if not self.path.exists():
            return []
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self._damaged(f"is not valid JSON ({exc})") from exc
        records = doc.get("records") if isinstance(doc, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise self._damaged("has no list of records")
        for i, r in enumerate(records, start=1):
            for key in ("id", "file_sha256", "candidate_id"):
                if not isinstance(r.get(key), str):
                    raise self._damaged(f"record {i} has no text {key!r}")
        return records

    def _damaged(self, why: str) -> DamagedFileError:
        return DamagedFileError(
            f"evidence store {self.path} {why}; restore it from a backup, or move it aside "
            "and re-import the fieldwork workbooks (`io-clusters evidence import FILE.xlsx`); "
            "the study's catalogue is not affected"
        )

    def add(self, records: list[dict[str, Any]]) -> int:
        """Add records (skipping exact repeats of a sheet already imported); atomic.

        A record is identified by its file's hash, candidate and sheet, so two sheets
        for one candidate in one workbook are both kept (ids ``fw-C01-<hash>`` and
        ``fw-C01-<hash>-2``).
        """
        existing = self.records()
        self.cases()  # a store with damaged records is refused, never rewritten

        def key(r: dict[str, Any]) -> tuple[str, str, str]:
            return (r["file_sha256"], r["candidate_id"], r.get("sheet", ""))

        seen = {key(r) for r in existing}
        # records stored before sheets were recorded: one per (file, candidate)
        legacy = {(r["file_sha256"], r["candidate_id"]) for r in existing if "sheet" not in r}
        ids = {r["id"] for r in existing}
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        new = []
        for r in records:
            if key(r) in seen or (r["file_sha256"], r["candidate_id"]) in legacy:
                continue
            base = f"fw-{r['candidate_id']}-{r['file_sha256'][:8]}"
            rid, k = base, 2
            while rid in ids:
                rid, k = f"{base}-{k}", k + 1
            ids.add(rid)
            seen.add(key(r))
            new.append({**r, "id": rid, "imported_at": now})
        with atomic_path(self.path) as tmp:
            tmp.write_text(
                json.dumps({"version": 1, "records": existing + new}, indent=2, ensure_ascii=False),
                encoding="utf-8",
            )
        return len(new)

    def cases(self) -> tuple[Case, ...]:
        """Return the stored records as cases labelled ``fieldwork:<file>``."""
        try:
            return self._cases()
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise self._damaged(f"holds a record without the expected fields ({exc!r})") from exc

    def _cases(self) -> tuple[Case, ...]:
        out = []
        for r in self.records():
            dims = tuple(
                DimensionEvidence(k, v.get("phase"), v.get("evidence", ""), v.get("evidence", ""))
                for k, v in r["dimensions"].items()
            )
            regions = sorted({v.get("region") for v in r["dimensions"].values() if v.get("region")})
            sheet = f", sheet {r['sheet']}" if r.get("sheet") else ""
            case = Case(
                id=r["id"],
                name=f"{r['label']} (trabajo de campo / fieldwork)",
                country=r["country"],
                region="; ".join(regions) or "(sin región)",
                section="",
                cuadro=None,
                phase=None,
                sector=r["label"],
                products=(),
                resource="",
                isic=tuple(r.get("isic", ())),
                actors="",
                problems="",
                recommendations="",
                notes=(Note(f"imported {r.get('imported_at', '')} from {r['file']}{sheet}"),),
                dimensions=dims,
                source=f"fieldwork:{r['file']}",
                table_id=r["table_id"],
                sectors=tuple(r["sectors"]),
                departments=tuple(regions),
            )
            # The same rule as the catalogue's phase check: never the maximum, never "I"
            # by default (None when no core dimension signals a phase).
            out.append(replace(case, phase=heuristic_phase(case)))
        return tuple(out)
