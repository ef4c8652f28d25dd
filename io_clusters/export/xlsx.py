"""The candidate workbook ``candidates.xlsx``, styled for people and for print.

Sheets (Spanish by default, English with ``lang="en"``; one language per workbook):

1. executive summary — one line per candidate (chain, core, core output share,
   stability and Rosenfeld status in words, where and what to verify), the sectors in
   no candidate with their reasons, similar-structure groups, documented cases the table
   does not propose, the comparison with Torres Zorrilla (2003), the data anomalies;
2. candidates, members, strongest chains, linkages (display headers with the machine
   names in a second header row, a native key-sector scatter chart), regions (with
   regional data), evidence, phases, method and validation, run details. A run with a
   focus region (multi-regional tables) adds to the candidates sheet each candidate's
   focus region, foreign country-sectors and cross-border shares, with a note saying
   what the shares measure (repeated in the method sheet).

Printing: landscape A4, narrow margins, header rows repeated on every page; a sheet
whose columns fit a page at ≥ 80 % scale is fitted to one page wide, a wider one is
printed in column groups with its first columns (code, name) repeated, so text prints
at 8 pt or more. Column widths follow the displayed content (no "###"); numbers are
rounded for display only (the cells keep full precision). Text from any input is escaped
against formula injection; sheet names respect Excel's 31-character limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from ..evidence.catalogue import DIMENSIONS, Case, format_lines, load_framework
from . import atomic_path, escape_formula
from .i18n import enum, label, linkage_header
from .summary import (
    CANDIDATE_KEYS,
    View,
    anomaly_rows,
    candidate_rows,
    core_share,
    dimension_names,
    foreign_members_text,
    method_text,
    output_share_note,
    similar_group_rows,
    source_line,
    status_words,
    torres_zorrilla_rows,
    unclustered_rows,
    units_text,
    unproposed_rows,
)

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
MACHINE_FONT = Font(italic=True, color="595959", size=9)
SECTION_FONT = Font(bold=True, size=12, color="1F4E78")
STATUS_FILLS = {
    "io_only": PatternFill("solid", fgColor="FFE699"),
    "paired": PatternFill("solid", fgColor="C6EFCE"),
    "contradicted": PatternFill("solid", fgColor="FFC7CE"),
}
#: Printable width of a landscape A4 page at 100 % with 1 cm side margins, in column
#: width units as LibreOffice prints them (≈ 0.094 in each, measured on its PDF output).
PAGE_WIDTH_CHARS = 112.0
#: Smallest print scale used: 11-pt text prints at ≥ 8.8 pt.
MIN_SCALE = 80
#: Height of rows available on a landscape A4 page at 100 % (points): 8.27 in
#: minus 1 in of margins, less a little for LibreOffice's header and footer.
PAGE_HEIGHT_PT = 500.0
#: Height of a section-title row of the executive summary (points).
SECTION_HEIGHT = 20.5
#: Height of one line of 11-pt text in a row, points.
LINE_HEIGHT = 14.5
#: Largest row height (points) for wrapped text.
MAX_ROW_HEIGHT = 300.0


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return escape_formula(v)
    if isinstance(v, list | tuple):
        return escape_formula("; ".join(str(x) for x in v))
    return v


def _display(v: Any, fmt: str | None) -> str:
    """How a cell value reads once formatted (for widths)."""
    if isinstance(v, bool) or v is None:
        return str(v or "")
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            return "#NUM!"
        if fmt and fmt.endswith("%"):
            decimals = len(fmt.split(".")[1]) - 1 if "." in fmt else 0
            return f"{v * 100:.{decimals}f}%"
        if fmt and fmt.startswith("#,##0"):
            decimals = len(fmt.split(".")[1]) if "." in fmt else 0
            return f"{v:,.{decimals}f}"
        if fmt and fmt.startswith("0"):
            decimals = len(fmt.split(".")[1]) if "." in fmt else 0
            return f"{v:.{decimals}f}"
        return f"{v:.10g}"
    return str(v)


def _style_header(ws: Any, row: int, ncols: int, col0: int = 1) -> None:
    for j in range(col0, col0 + ncols):
        c = ws.cell(row, j)
        c.fill, c.font = HEADER_FILL, HEADER_FONT
        c.alignment = Alignment(wrap_text=True, vertical="center")


def _header_height(headers: Sequence[str], widths: Sequence[float]) -> float:
    lines = 1
    for h, w in zip(headers, widths, strict=False):
        lines = max(lines, _lines(str(h), w))
    return LINE_HEIGHT * lines


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (word wrap)."""
    usable = max(width * 1.1 - 1.0, 1.0)
    n = 0
    for para in str(text).split("\n"):
        line, count = 0.0, 1
        for word in para.split(" "):
            wl = float(len(word))
            if line and line + 1 + wl > usable:
                count += 1 + int(wl // usable)
                line = wl % usable
            else:
                line = line + (1 if line else 0) + wl
        n += count
    return n


def _fit_widths(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: Mapping[int, str],
    caps: Mapping[int, float] | None = None,
) -> list[float]:
    """Column widths from the displayed content: headers wrap at word boundaries."""
    widths = []
    for j, h in enumerate(headers, start=1):
        longest_word = max((len(w) for w in str(h).split()), default=4)
        w = max(8.0, longest_word + 2.0, min(len(str(h)) + 2.0, 14.0))
        cap = (caps or {}).get(j, 45.0)
        for r in rows:
            v = r[j - 1] if j - 1 < len(r) else None
            shown = _display(_cell(v), formats.get(j))
            need = len(shown) + 2.0
            if isinstance(v, int | float) and not isinstance(v, bool):
                w = max(w, need)  # numbers never wrap: always wide enough
            else:
                w = max(w, min(need, cap))
        widths.append(w)
    return widths


def _page_setup(
    ws: Any, widths: Sequence[float], title_rows: str | None, title_cols: str | None
) -> None:
    """Landscape A4; one page wide when that keeps ≥ 80 % scale, else column groups."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    total = sum(widths)
    if total <= PAGE_WIDTH_CHARS:
        ws.page_setup.scale = 100
    elif total <= PAGE_WIDTH_CHARS * 100 / MIN_SCALE:
        ws.page_setup.scale = max(MIN_SCALE, int(100 * PAGE_WIDTH_CHARS / total))
    else:  # printed in column groups; the first columns repeat on every page
        ws.page_setup.scale = MIN_SCALE + 5
        if title_cols:
            ws.print_title_cols = title_cols
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_options.gridLines = False


def _table_sheet(
    wb: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    formats: Mapping[int, str] | None = None,
    caps: Mapping[int, float] | None = None,
    widths: Sequence[float] | None = None,
    machine: Sequence[str] | None = None,
    title_cols: str | None = "A:B",
) -> Any:
    """Write a styled table: header row(s), wrapped text, fitting widths, print setup."""
    formats = dict(formats or {})
    ws = wb.create_sheet(title[:31])
    ws.append([escape_formula(h) for h in headers])
    _style_header(ws, 1, len(headers))
    first = 2
    if machine:
        ws.append([escape_formula(m) for m in machine])
        for c in ws[2]:
            c.font = MACHINE_FONT
        first = 3
    for row in rows:
        ws.append([_cell(v) for v in row])
    last = first + len(rows) - 1
    ws.freeze_panes = f"C{first}" if title_cols == "A:B" else f"B{first}"
    if rows:
        ws.auto_filter.ref = f"A{first - 1}:{get_column_letter(len(headers))}{last}"
    w = list(widths) if widths else _fit_widths(headers, rows, formats, caps)
    for j, width in enumerate(w, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[1].height = _header_height(headers, w)
    for r in range(first, last + 1):
        lines = 1
        for j in range(1, len(headers) + 1):
            cell = ws.cell(r, j)
            if j in formats:
                cell.number_format = formats[j]
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, str):
                lines = max(lines, _lines(cell.value, w[j - 1]))
        ws.row_dimensions[r].height = min(LINE_HEIGHT * lines, MAX_ROW_HEIGHT)
    _page_setup(ws, w, f"1:{first - 1}", title_cols)
    return ws


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table sheet: its header, how a record fills it, how it shows.

    ``key`` names the column: charts and conditional formats find their sheet column
    with :func:`_position`, never by a typed number. ``value`` computes the cell from one
    record; ``fmt`` is the number format, ``cap`` the largest width of wrapped text (the
    width otherwise follows the content), ``width`` a fixed width, ``machine`` the
    machine name shown in a second header row, ``span`` the number of sheet columns the
    column covers in a small table of the executive summary (:func:`_grid`).
    """

    key: str
    header: str
    value: Callable[[Any], Any]
    fmt: str | None = None
    cap: float | None = None
    width: float | None = None
    machine: str | None = None
    span: int = 1


def _position(columns: Sequence[Column], key: str) -> int:
    """Return the sheet column (1-based) of the column ``key``."""
    return 1 + [c.key for c in columns].index(key)


def _spec_sheet(
    wb: Workbook,
    title: str,
    columns: Sequence[Column],
    records: Sequence[Any],
    *,
    title_cols: str | None = "A:B",
) -> tuple[Any, list[list[Any]]]:
    """Write one row per record from column specifications; return the sheet and rows.

    Widths are fixed when every column gives one, else fitted to the content; a second
    header row of machine names is written when any column has one.
    """
    rows = [[c.value(r) for c in columns] for r in records]
    fixed = [c.width for c in columns if c.width is not None]
    ws = _table_sheet(
        wb,
        title,
        [c.header for c in columns],
        rows,
        formats={j: c.fmt for j, c in enumerate(columns, start=1) if c.fmt},
        caps={j: c.cap for j, c in enumerate(columns, start=1) if c.cap},
        widths=fixed if len(fixed) == len(columns) else None,
        machine=[c.machine or "" for c in columns] if any(c.machine for c in columns) else None,
        title_cols=title_cols,
    )
    return ws, rows


def _status_rules(ws: Any, col: int, first: int, last: int, lang: str) -> None:
    """Fill the Rosenfeld status cells by status (rules on the displayed words)."""
    if last < first:  # no rows: no rule on an empty range
        return
    letter = get_column_letter(col)
    rng = f"{letter}{first}:{letter}{last}"
    for status, fill in STATUS_FILLS.items():  # the words may be followed by the flags
        word = enum("status", status, lang).replace('"', '""')
        ws.conditional_formatting.add(
            rng, FormulaRule(formula=[f'LEFT({letter}{first},{len(word)})="{word}"'], fill=fill)
        )


def _scale(ws: Any, col: int, first: int, last: int) -> None:
    if last < first:
        return
    rng = f"{get_column_letter(col)}{first}:{get_column_letter(col)}{last}"
    ws.conditional_formatting.add(
        rng,
        ColorScaleRule(
            start_type="min",
            start_color="F8696B",
            mid_type="num",
            mid_value=1,
            mid_color="FFFFFF",
            end_type="max",
            end_color="63BE7B",
        ),
    )


# ------------------------------------------------------------------ executive summary
def _section(ws: Any, row: int, title: str) -> int:
    ws.cell(row, 1, escape_formula(title)).font = SECTION_FONT
    ws.row_dimensions[row].height = SECTION_HEIGHT
    return row + 1


def _keep_sections_whole(ws: Any, scale: int) -> None:
    """Break the page before a section title that would be left at the bottom of a page.

    Row heights are known (set when written); a page holds ``PAGE_HEIGHT_PT`` points of
    rows at 100 % (landscape A4 minus margins), ``PAGE_HEIGHT_PT * 100 / scale`` at
    ``scale``. A section title needs room for itself, its header row and two rows.
    """
    capacity = PAGE_HEIGHT_PT * 100.0 / scale
    used = 0.0
    for r in range(1, ws.max_row + 1):
        h = ws.row_dimensions[r].height or 15.0
        is_title = ws.row_dimensions[r].height == SECTION_HEIGHT and ws.cell(r, 1).font.bold
        if used and (used + h > capacity or (is_title and used + 100.0 > capacity)):
            ws.row_breaks.append(Break(id=r - 1))
            used = 0.0
        used += h


def _grid(
    ws: Any,
    row: int,
    columns: Sequence[Column],
    records: Sequence[Any],
    widths: Sequence[float],
) -> int:
    """Write a small table at ``row``; each column covers ``span`` sheet columns.

    Returns the next free row (one blank row left below the table).
    """
    headers = [c.header for c in columns]
    rows = [[c.value(r) for c in columns] for r in records]
    formats = {i: c.fmt for i, c in enumerate(columns, start=1) if c.fmt}
    spans = [c.span for c in columns]
    starts = [1 + sum(spans[:i]) for i in range(len(spans))]
    span_w = [sum(widths[a - 1 : a - 1 + k]) for a, k in zip(starts, spans, strict=True)]

    def put(r: int, values: Sequence[Any], header: bool) -> None:
        lines = 1
        for i, v in enumerate(values):
            a, k = starts[i], spans[i]
            cell = ws.cell(r, a, escape_formula(v) if header else _cell(v))
            if k > 1:
                ws.merge_cells(start_row=r, start_column=a, end_row=r, end_column=a + k - 1)
            if header:
                continue
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if formats and i + 1 in formats:
                cell.number_format = formats[i + 1]
            if isinstance(cell.value, str):
                lines = max(lines, _lines(cell.value, span_w[i]))
        if header:
            _style_header(ws, r, sum(spans))
            ws.row_dimensions[r].height = _header_height(values, span_w)
        else:
            ws.row_dimensions[r].height = min(LINE_HEIGHT * lines, MAX_ROW_HEIGHT)

    put(row, headers, True)
    for r in rows:
        row += 1
        put(row, r, False)
    return row + 2


def _note(ws: Any, row: int, text: str, ncols: int, widths: Sequence[float]) -> int:
    ws.cell(row, 1, escape_formula(text)).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
    ws.row_dimensions[row].height = 15.0 * _lines(text, sum(widths[:ncols]))
    return row + 1


#: Column widths of the executive summary; its small tables span groups of these columns.
_EXEC_WIDTHS = (7.0, 22.0, 30.0, 12.0, 13.0, 14.0, 17.0, 23.0)


@dataclass(frozen=True, slots=True)
class _Summary:
    """What every section of the executive summary writes from and into."""

    ws: Any
    doc: Mapping[str, Any]
    findings: Sequence[Mapping[str, Any]]
    cases: Mapping[str, Case]
    view: View
    widths: list[float]

    def columns(self, *spec: tuple[str, int] | tuple[str, int, str]) -> list[Column]:
        """Return columns over list rows: (label key, span[, number format]) each, in order."""
        return [
            Column(
                k[0], self.view.L(k[0]), itemgetter(i), fmt=k[2] if len(k) > 2 else None, span=k[1]
            )
            for i, k in enumerate(spec)
        ]

    def note(self, row: int, text: str) -> int:
        """Write a note across the whole width; return the next row."""
        return _note(self.ws, row, text, len(self.widths), self.widths)


def _executive_summary(
    wb: Workbook,
    doc: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    cases: Mapping[str, Case],
    view: View,
) -> Any:
    """Write the executive summary: the heading, then one section after another, printed whole."""
    ws = wb.create_sheet(view.L("sheet_exec"))
    widths = list(_EXEC_WIDTHS)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    s = _Summary(ws, doc, findings, cases, view, widths)
    row = _exec_heading(s)
    for section in (
        _exec_candidates,
        _exec_unclustered,
        _exec_similar_groups,
        _exec_unproposed,
        _exec_torres_zorrilla,
        _exec_anomalies,
    ):
        row = section(s, row)
    if view.lang == "es" and view.names != view.names_en:
        ws.cell(row, 1, view.L("names_source")).font = Font(italic=True, size=9, color="595959")
    ws.freeze_panes = None
    _page_setup(ws, widths, None, None)
    _keep_sections_whole(ws, ws.page_setup.scale or 100)
    return ws


def _exec_heading(s: _Summary) -> int:
    """Title, source line and the read-first note; return the next free row."""
    L, ws = s.view.L, s.ws
    ws["A1"] = L("exec_title")
    ws["A1"].font = Font(bold=True, size=14, color="1F4E78")
    ws.row_dimensions[1].height = 22
    row = s.note(2, source_line(s.doc, s.view))
    cell = ws.cell(row, 1)
    row = s.note(row, L("read_first"))
    cell.font = Font(italic=True)
    return row + 1


def _exec_candidates(s: _Summary, row: int) -> int:
    """One line per candidate (or why there is none), status cells filled."""
    L, ws, doc = s.view.L, s.ws, s.doc
    row = _section(ws, row, L("exec_candidates"))
    if doc.get("too_aggregated"):
        msg = (doc.get("message") or {}).get(s.view.lang) or L("too_aggregated_title")
        ws.cell(row, 1).font = Font(bold=True, color="C00000")
        row = s.note(row, f"{L('too_aggregated_title')}: {msg}") + 1
    if not doc.get("candidates", []):
        return s.note(row, L("no_candidates")) + 1
    rows = candidate_rows(doc, s.view)
    first = row + 1
    fmts = {"core_output_share": "0.0%"}
    columns = [
        Column(k, L(k), itemgetter(i), fmt=fmts.get(k)) for i, k in enumerate(CANDIDATE_KEYS)
    ]
    row = _grid(ws, row, columns, rows, s.widths)
    status_col = _position(columns, "rosenfeld_status")  # every span is 1
    _status_rules(ws, status_col, first, first + len(rows) - 1, s.view.lang)
    note = output_share_note(s.view)
    if note is not None:  # multi-regional: a share of every country's output
        ws.cell(row - 1, 1).font = Font(italic=True)
        row = s.note(row - 1, note) + 1
    return row


def _exec_unclustered(s: _Summary, row: int) -> int:
    """Write the sectors in no candidate, with the reason."""
    L = s.view.L
    row = _section(s.ws, row, L("unclustered_title"))
    un = unclustered_rows(s.doc, s.findings, s.view)
    if not un:
        return s.note(row, "—") + 1
    # country-sector codes ("USA:D10T12") need more than the first, narrow column
    spans = (2, 1) if s.view.multiregional else (1, 2)
    columns = s.columns(("code", spans[0]), ("name", spans[1]), ("reason", 4))
    return _grid(s.ws, row, columns, un, s.widths)


def _exec_similar_groups(s: _Summary, row: int) -> int:
    """Write the groups of similar structure (no section when there is none)."""
    L = s.view.L
    rows = similar_group_rows(s.doc, s.view)
    if not rows:
        return row
    row = _section(s.ws, row, L("similar_groups_title"))
    columns = s.columns(("code", 2), ("name", 4), ("mean_similarity", 1, "0.00"))
    return _grid(s.ws, row, columns, rows, s.widths)


def _exec_unproposed(s: _Summary, row: int) -> int:
    """Documented cases the table does not propose."""
    L = s.view.L
    rows = unproposed_rows(s.doc, s.cases)
    row = _section(s.ws, row, L("unproposed"))
    if not rows:
        return s.note(row, "—") + 1
    columns = s.columns(("phase", 1), ("case", 3), ("region", 3))
    return _grid(s.ws, row, columns, rows, s.widths)


def _exec_torres_zorrilla(s: _Summary, row: int) -> int:
    """Torres Zorrilla's three complexes and where the table puts their sectors."""
    L = s.view.L
    tz = torres_zorrilla_rows(s.doc, s.view)
    if tz is None:
        return row
    row = _section(s.ws, row, L("torres_title"))
    row = s.note(row, L("torres_note"))
    columns = s.columns(("complex", 2), ("expected_sectors", 2), ("found_in", 3))
    return _grid(s.ws, row, columns, tz, s.widths)


def _exec_anomalies(s: _Summary, row: int) -> int:
    """Warnings and errors of the validation."""
    L = s.view.L
    row = _section(s.ws, row, L("anomalies_title"))
    if not any(f.get("severity") != "info" for f in s.findings):
        return s.note(row, L("no_anomalies")) + 1
    rows = anomaly_rows(s.findings, s.view)
    columns = s.columns(("check", 2), ("message", 4), ("cells", 2))
    return _grid(s.ws, row, columns, rows, s.widths)


# ------------------------------------------------------------------ other sheets
def _run_details(
    wb: Workbook, doc: Mapping[str, Any], findings: Sequence[Mapping[str, Any]], view: View
) -> None:
    L = view.L
    table = doc["table"]
    opts = doc["options"]
    method = (
        f"{opts['similarity']} / {opts['method']} / k = {doc['diagnostics']['k']} / "
        f"seed {opts['seed']} / bootstrap {opts['n_boot']}"
    )
    items = [
        (L("table"), table["table_id"]),
        (L("source_citation"), table.get("citation") or "—"),
        (L("source"), Path(str(table.get("source"))).name if table.get("source") else "—"),
        (L("sha256"), table.get("sha256")),
        (L("layout"), table.get("layout")),
        (L("country"), table.get("country")),
        (L("year"), table.get("year")),
        (L("units"), units_text(table.get("units"), view.lang)),
        (L("n_sectors"), doc["diagnostics"]["n_sectors"]),
        (L("n_candidates"), len(doc.get("candidates", []))),
        (L("method"), method),
        (L("generated"), doc.get("generated")),
        (L("version"), doc.get("versions", {}).get("io_clusters")),
    ]
    columns = [
        Column("item", L("item"), lambda kv: kv[0], width=34),
        Column("value", L("value"), lambda kv: "—" if kv[1] is None else kv[1], width=100),
    ]
    ws, _ = _spec_sheet(wb, L("sheet_run"), columns, items, title_cols=None)
    ws.cell(len(items) + 3, 1, L("caveat")).alignment = Alignment(wrap_text=True)
    ws.merge_cells(start_row=len(items) + 3, start_column=1, end_row=len(items) + 3, end_column=2)
    ws.row_dimensions[len(items) + 3].height = 15.0 * _lines(
        L("caveat"), sum(c.width or 0 for c in columns)
    )


def _matched_names(c: Mapping[str, Any]) -> str:
    """Paired cases of a candidate: same-country ones, else up to three with their country."""
    ms = c.get("matched_cases", [])
    names = [m["name"] for m in ms if m["same_country"]] or [
        m["name"] + f" ({m['country']})" for m in ms
    ][:3]
    return "; ".join(names) or "—"


def _focus_region(cands: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the focus region of a multi-regional run (its candidates carry it), else None."""
    return next((str(c["focus_region"]) for c in cands if c.get("focus_region")), None)


def _share_or_dash(value: Any) -> Any:
    """Return a share as it is, "—" when it could not be computed (no intermediate trade)."""
    return "—" if value is None else value


def _focus_columns(view: View) -> list[Column]:
    """Columns of a run with a focus region: foreign members and the cross-border shares."""
    L = view.L
    return [
        Column("focus_region", L("focus_region"), lambda c: c.get("focus_region") or "—"),
        Column(
            "foreign_members", L("foreign_members"), lambda c: foreign_members_text(c, view), cap=40
        ),
        Column(
            "cross_border_sales_share",
            L("cross_border_sales_share"),
            lambda c: _share_or_dash(c.get("cross_border_sales_share")),
            fmt="0.0%",
        ),
        Column(
            "cross_border_purchases_share",
            L("cross_border_purchases_share"),
            lambda c: _share_or_dash(c.get("cross_border_purchases_share")),
            fmt="0.0%",
        ),
    ]


def _cross_border_note(view: View, region: str) -> str:
    """Return what the foreign-member and cross-border columns hold, in the output's language."""
    L = view.L
    return L("cross_border_note").format(
        foreign=L("foreign_members"),
        sales=L("cross_border_sales_share"),
        purchases=L("cross_border_purchases_share"),
        region=region,
    )


def _page_note(ws: Any, row: int, text: str, ncols: int) -> None:
    """Write an italic note at ``row``, wrapped within columns that print whole.

    The sheet's widths and page setup are set. A sheet printed in column groups repeats
    its first two columns on every page: the note is merged over those two, so every page
    prints it whole. Otherwise it spans as many of the first ``ncols`` columns as one page
    holds at the sheet's print scale (at least two).
    """
    widths = [ws.column_dimensions[get_column_letter(j)].width for j in range(1, ncols + 1)]
    room = PAGE_WIDTH_CHARS * 100.0 / (ws.page_setup.scale or 100)
    span = 2
    while not ws.print_title_cols and span < ncols and sum(widths[: span + 1]) <= room:
        span += 1
    _note(ws, row, text, span, widths)
    ws.cell(row, 1).font = Font(italic=True)


def _candidate_columns(view: View, *, focus: bool = False) -> list[Column]:
    """Column specifications of the candidates sheet (one record = one candidate).

    With ``focus`` (a multi-regional run with a focus region) the columns of
    :func:`_focus_columns` follow the export share.
    """
    L, lang = view.L, view.lang
    sentence_key = "sentence_es" if lang == "es" else "sentence_en"

    def col(
        key: str, value: Callable[[Any], Any], fmt: str | None = None, cap: float | None = None
    ) -> Column:
        return Column(key, L(key), value, fmt=fmt, cap=cap)

    def words(kind: str, keys: Sequence[str] | None) -> str:
        return ", ".join(enum(kind, k, lang) for k in keys or []) or "—"

    rosenfeld = lambda c: c.get("rosenfeld", {})  # noqa: E731
    return [
        col("id", lambda c: c["id"]),
        col("label", view.cand_label, cap=30),
        col("members", lambda c: "; ".join(view.name(m["code"]) for m in c["members"]), cap=45),
        col("core", lambda c: ", ".join(k for k in _core(c)), cap=24),
        col("n_members", lambda c: len(c["members"])),
        col("score", lambda c: c["score"], "0.00"),
        col("cohesion", lambda c: c.get("cohesion"), "0.00"),
        col("stability", lambda c: c.get("stability_tree", c.get("stability")), "0.00"),
        col("stability_rule", lambda c: c.get("stability"), "0.00"),
        col(
            "stability_reading",
            lambda c: enum("stability_reading", c["stability_reading"], lang),
        ),
        col("confirmed_by", lambda c: words("confirmed_by", c.get("confirmed_by")), cap=26),
        col("intra_flow_share", lambda c: c["intra_flow_share"], "0.0%"),
        col("output_share", lambda c: c["output_share"], "0.0%"),
        col("core_output_share", core_share, "0.0%"),
        col("export_share", lambda c: c["export_share"], "0.0%"),
        *(_focus_columns(view) if focus else []),
        col("matched_cases", _matched_names, cap=35),
        col("phase", lambda c: rosenfeld(c).get("phase") or "—"),
        col("rosenfeld_status", lambda c: status_words(c, lang), cap=22),
        col("rosenfeld_sentence", lambda c: view.text(rosenfeld(c).get(sentence_key)), cap=60),
        col("regions", lambda c: "; ".join(rosenfeld(c).get("regions", [])) or "—", cap=30),
        col(
            "flags",
            lambda c: (
                "; ".join(enum("candidate_flag", f, lang) for f in c.get("flags") or []) or "—"
            ),
            cap=30,
        ),
        col(
            "warnings",
            lambda c: "; ".join(view.warning(w) for w in c["warnings"]) or "—",
            cap=45,
        ),
    ]


def _candidates_sheet(wb: Workbook, cands: Sequence[Mapping[str, Any]], view: View) -> None:
    """Candidates sheet: one row per candidate, status fills, a bar chart of the sizes.

    With a focus region, a note below the table says what the cross-border columns hold;
    in a multi-regional table it also says the output shares are of every region's output.
    """
    region = _focus_region(cands)
    columns = _candidate_columns(view, focus=region is not None)
    ws, rows = _spec_sheet(wb, view.L("sheet_candidates"), columns, cands)
    _status_rules(ws, _position(columns, "rosenfeld_status"), 2, len(rows) + 1, view.lang)
    below = len(rows) + 1  # last row used below the table
    notes = [_cross_border_note(view, region)] if region is not None else []
    notes += [n for n in (output_share_note(view),) if n is not None]
    if notes and rows:
        below += 1
        _page_note(ws, below, " ".join(notes), len(columns))
    if rows:
        _sizes_chart(ws, columns, len(rows), view, below=below)


def _sizes_chart(
    ws: Any, columns: Sequence[Column], n: int, view: View, *, below: int | None = None
) -> None:
    """Bar chart of the number of members by candidate id, below the table.

    ``below`` is the last row written under the table (default: the table's last row,
    ``n + 1``); the chart starts two rows further down, on a page of its own.
    """
    chart = BarChart()
    chart.type = "bar"
    chart.title = view.L("chart_sizes")
    chart.y_axis.title = view.L("n_members")
    size_col = _position(columns, "n_members")
    chart.add_data(Reference(ws, min_col=size_col, min_row=1, max_row=n + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=_position(columns, "id"), min_row=2, max_row=n + 1))
    chart.x_axis.tickLblSkip = 1
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.height, chart.width = min(17.0, max(6.0, 0.6 * n + 3)), 14
    below = n + 1 if below is None else below
    ws.row_breaks.append(Break(id=below))  # the chart prints whole
    ws.add_chart(chart, f"B{below + 3}")


def _core(c: Mapping[str, Any]) -> list[str]:
    return [m["code"] for m in c["members"] if m["role"] == "core"]


def _members_sheet(wb: Workbook, cands: Sequence[Mapping[str, Any]], view: View) -> None:
    """Members sheet: one row per (candidate, member), dispersion columns colour-scaled."""
    L, lang = view.L, view.lang

    def col(
        key: str, value: Callable[[Any], Any], fmt: str | None = None, cap: float | None = None
    ) -> Column:
        return Column(key, L(key), value, fmt=fmt, cap=cap)

    def member(key: str) -> Callable[[Any], Any]:
        return lambda cm: cm[1][key]

    columns = [
        col("id", lambda cm: cm[0]["id"]),
        col("label", lambda cm: view.cand_label(cm[0]), cap=28),
        col("code", member("code")),
        col("name", lambda cm: view.name(cm[1]["code"]), cap=36),
        col("role", lambda cm: enum("role", cm[1]["role"], lang)),
        col("mean_similarity", member("mean_similarity"), "0.00"),
        col("output_share", member("output_share"), "0.0%"),
        col("export_share", member("export_share"), "0.0%"),
        col("power", member("power_dispersion"), "0.00"),
        col("sensitivity", member("sensitivity_dispersion"), "0.00"),
        col(
            "key_sector_class", lambda cm: enum("key_sector_class", cm[1]["key_sector_class"], lang)
        ),
        col(
            "link_partner",
            lambda cm: view.name(cm[1]["link_partner"]) if cm[1].get("link_partner") else "—",
            cap=30,
        ),
        col("link_strength", lambda cm: cm[1].get("link_strength"), "0.00"),
    ]
    records = [(c, m) for c in cands for m in c["members"]]
    ws, rows = _spec_sheet(wb, L("sheet_members"), columns, records)
    _scale(ws, _position(columns, "power"), 2, len(rows) + 1)
    _scale(ws, _position(columns, "sensitivity"), 2, len(rows) + 1)


def _chains_sheet(wb: Workbook, doc: Mapping[str, Any], view: View) -> None:
    """Strongest chains: seller, buyer, strength, shares and the candidates holding both."""
    L = view.L
    where: dict[str, set[str]] = {}
    for c in doc.get("candidates", []):
        where[c["id"]] = {m["code"] for m in c["members"]}

    def holders(ch: Mapping[str, Any]) -> str:
        s, b = ch["seller"], ch["buyer"]
        return ", ".join(cid for cid, codes in where.items() if s in codes and b in codes) or "—"

    def name(code: str, fallback: Any) -> str:
        return view.name(code) if code in view.names else view.text(fallback)

    def col(key: str, machine: str, value: Callable[[Any], Any], **kw: Any) -> Column:
        return Column(key, L(key), value, machine=machine, **kw)

    columns = [
        col("seller", "seller", lambda ch: ch["seller"]),
        col(
            "name",
            "seller_name",
            lambda ch: name(ch["seller"], ch.get("seller_name", ch["seller"])),
            cap=34,
        ),
        col("buyer", "buyer", lambda ch: ch["buyer"]),
        col(
            "name",
            "buyer_name",
            lambda ch: name(ch["buyer"], ch.get("buyer_name", ch["buyer"])),
            cap=34,
        ),
        col("strength", "strength", lambda ch: ch.get("strength"), fmt="0.00"),
        col(
            "share_of_seller_sales",
            "share_of_seller_sales",
            lambda ch: ch.get("share_of_seller_sales"),
            fmt="0.0%",
        ),
        col(
            "share_of_buyer_purchases",
            "share_of_buyer_purchases",
            lambda ch: ch.get("share_of_buyer_purchases"),
            fmt="0.0%",
        ),
        col("candidate_of_chain", "candidate", holders),
    ]
    chains = doc.get("strongest_chains") or []
    ws, rows = _spec_sheet(wb, L("sheet_chains"), columns, chains, title_cols=None)
    if not rows:
        ws.cell(4, 1, "—")


def _linkage_format(name: str, kind: str) -> str | None:
    """Return the number format of a linkage column (``kind``: its dtype kind); None for text."""
    if kind not in "fi":
        return None
    if name == "output" or (name.startswith("hem_") and not name.endswith("_pct")):
        return "#,##0.0"
    if name.endswith("_pct"):
        return "0.00"
    return "0.000"


def _linkages_sheet(wb: Workbook, linkages: pd.DataFrame, view: View) -> None:
    """Linkages sheet: every column of the table, colour scales and the key-sector chart."""
    lang = view.lang
    lk = linkages.reset_index()
    cols = [str(h) for h in lk.columns]

    def value(h: str) -> Callable[[Any], Any]:
        if h == "name":
            return lambda rec: view.name(str(rec[cols[0]]))
        if h == "key_sector_class":
            return lambda rec: enum("key_sector_class", rec[h], lang)
        return lambda rec: rec[h]

    columns = [
        Column(
            h,
            linkage_header(h, lang),
            value(h),
            fmt=_linkage_format(h, lk[h].dtype.kind),
            cap=34 if j == 2 else None,
            machine=h,
        )
        for j, h in enumerate(cols, start=1)
    ]
    ws, rows = _spec_sheet(wb, view.L("sheet_linkages"), columns, lk.to_dict("records"))
    first, last = 3, len(rows) + 2
    for col_name in ("power_dispersion", "sensitivity_dispersion"):
        if col_name in cols:
            _scale(ws, _position(columns, col_name), first, last)
    if rows and "power_dispersion" in cols and "sensitivity_dispersion" in cols:
        _key_sector_chart(ws, cols, rows, first, last, view)


def _key_sector_chart(
    ws: Any, cols: Sequence[str], rows: Sequence[Sequence[Any]], first: int, last: int, view: View
) -> None:
    """Native scatter: filled markers, axes at the bottom/left, the lines at 1 as series."""
    L = view.L
    xcol = cols.index("power_dispersion") + 1
    ycol = cols.index("sensitivity_dispersion") + 1
    xs_v = [float(r[xcol - 1]) for r in rows]
    ys_v = [float(r[ycol - 1]) for r in rows]
    lo_x, hi_x = math.floor(min(*xs_v, 1.0) * 10) / 10, math.ceil(max(*xs_v, 1.0) * 10) / 10
    lo_y, hi_y = math.floor(min(*ys_v, 1.0) * 10) / 10, math.ceil(max(*ys_v, 1.0) * 10) / 10
    # the two reference lines, in cells beyond the printed table
    hc = len(cols) + 3
    for i, (x, y) in enumerate(((1.0, lo_y), (1.0, hi_y), (lo_x, 1.0), (hi_x, 1.0))):
        ws.cell(first + i, hc, x)
        ws.cell(first + i, hc + 1, y)
    sc = ScatterChart(scatterStyle="lineMarker")
    sc.title = L("chart_quadrant")
    sc.x_axis.title = L("power")
    sc.y_axis.title = L("sensitivity_short")
    s = Series(
        Reference(ws, min_col=ycol, min_row=first, max_row=last),
        Reference(ws, min_col=xcol, min_row=first, max_row=last),
        title=L("n_sectors"),
    )
    s.marker.symbol = "circle"
    s.marker.size = 7
    s.marker.graphicalProperties = GraphicalProperties(solidFill="2F75B5")
    s.marker.graphicalProperties.line.solidFill = "1F4E78"
    s.graphicalProperties.line.noFill = True
    sc.series.append(s)
    for k in (0, 2):
        ref = Series(
            Reference(ws, min_col=hc + 1, min_row=first + k, max_row=first + k + 1),
            Reference(ws, min_col=hc, min_row=first + k, max_row=first + k + 1),
            title="1",
        )
        ref.marker.symbol = "none"
        ref.smooth = False
        ref.graphicalProperties = GraphicalProperties(
            ln=LineProperties(solidFill="7F7F7F", w=15875, prstDash="dash")
        )
        sc.series.append(ref)
    _quadrant_axes(sc.x_axis, lo_x, hi_x)
    _quadrant_axes(sc.y_axis, lo_y, hi_y)
    sc.legend = None
    sc.height, sc.width = 14, 22
    anchor_row = last + 3
    ws.row_breaks.append(Break(id=last + 1))  # the chart prints whole, on its own page
    ws.add_chart(sc, f"B{anchor_row}")
    ws.print_area = f"A1:{get_column_letter(len(cols))}{anchor_row + 26}"


def _quadrant_axes(axis: Any, lo: float, hi: float) -> None:
    """Scale an axis of the key-sector chart to [lo, hi], labels low, no gridlines."""
    axis.scaling.min, axis.scaling.max = lo, hi
    axis.majorGridlines = None  # the reference lines at 1 stand out
    axis.crosses = "min"
    axis.delete = False
    axis.tickLblPos = "low"
    axis.number_format = "0.0"


_REGION_TEXT = {
    "data": ("Datos regionales", "Regional data"),
    "source": ("Fuente", "Source"),
    "year": ("Año", "Year"),
    "prices": ("Precios", "Price basis"),
    "measure": ("Medida", "Measure"),
    "units": ("Unidades", "Units"),
    "classification": ("Clasificación", "Classification"),
    "located": ("Ubicado", "Located"),
    "note": ("Nota de ubicación", "Location note"),
    "activity": ("Actividad regional", "Regional activity"),
    "verify_in": ("Verificar en", "Verify in"),
    "why": ("Por qué", "Why"),
    "cases": ("Casos de evidencia", "Evidence cases"),
    "conc": (
        "concentrado: LQ {lq:.2f}, {share:.1%} de la actividad nacional",
        "concentrated: LQ {lq:.2f}, {share:.1%} of the national activity",
    ),
    "ev": ("evidencia", "evidence"),
    "conc_head": ("Concentrado (LQ > 1 y ≥ {s})", "Concentrated (LQ > 1 and ≥ {s})"),
    "yes": ("sí", "yes"),
    "no": ("no", "no"),
}


#: Column widths of the regions sheet (labels, values and notes, cases, flags).
_REGION_WIDTHS = (22, 70, 40, 12)


class _RowWriter:
    """Write rows one after another from row 1 down (the regions sheet is not a table)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 0

    def put(self, values: Sequence[Any], font: Any = None, fill: Any = None) -> int:
        """Write ``values`` on the next row; the font goes to column A (to all when filled)."""
        self.row += 1
        for j, v in enumerate(values, start=1):
            cell = self.ws.cell(self.row, j, v)
            if font is not None and (j == 1 or fill is not None):
                cell.font = font
            if fill is not None:
                cell.fill = fill
        return self.row


def _regions_sheet(
    wb: Workbook, doc: Mapping[str, Any], maps: Mapping[str, Sequence[Path]], lang: str
) -> None:
    """Write the regions sheet: what the LQs measure, then each candidate's location.

    Per candidate: located or not (with the note), where to verify it (concentration ∪
    evidence departments, each with why), its LQ rows with a bar chart, and its map.
    """
    rd = doc.get("regional_data")
    if not rd:  # without regional data, verify_in (evidence only) is in the JSON and report
        return
    ws = wb.create_sheet(label("sheet_regions", lang))
    out = _RowWriter(ws)
    out.put([_region_text("data", lang)], Font(bold=True, size=12))
    for k in ("source", "year", "prices", "measure", "units", "classification"):
        value = _cell(rd.get(k)) if rd.get(k) not in (None, "") else "—"
        out.put([_region_text(k, lang), value], Font(bold=True))
    for c in doc["candidates"]:
        out.row += 1
        top = out.put([c["id"], _cell(c["label"])], Font(bold=True, size=12))
        ws.cell(top, 2).font = Font(bold=True, size=12)
        _region_location(out, c, lang)
        rows_c = c.get("regions", [])
        if rows_c:
            _region_lqs(out, c, rd, lang)
        png = maps.get(f"map_{c['id']}")
        if png:
            _region_map(out, png[0], f"{'M' if rows_c else 'F'}{top}")
            out.row = max(out.row, top + 30)  # room for the picture before the next candidate
    for col, w in zip("ABCD", _REGION_WIDTHS, strict=True):
        ws.column_dimensions[col].width = w


def _region_text(key: str, lang: str) -> str:
    return _REGION_TEXT[key][0 if lang == "es" else 1]


def _region_location(out: _RowWriter, c: Mapping[str, Any], lang: str) -> None:
    """Located or not, its note and activities; where to verify it, and why."""
    T = lambda k: _region_text(k, lang)  # noqa: E731
    bold = Font(bold=True)
    if "located" in c:
        out.put([T("located"), T("yes") if c["located"] else T("no")], bold)
        r_ = out.put([T("note"), _cell((c.get("location_note") or {}).get(lang, ""))], bold)
        out.ws.cell(r_, 2).alignment = Alignment(wrap_text=True, vertical="top")
        acts = "; ".join(f"{a['code']} {a['name']}" for a in c.get("regional_activities", []))
        out.put([T("activity"), _cell(acts)], bold)
    out.put([T("verify_in"), _cell(", ".join(c.get("verify_in", [])) or "—")], bold)
    out.put([T("verify_in"), T("why"), T("cases")], HEADER_FONT, HEADER_FILL)
    for d in c.get("verify_in_detail", []):
        why = []
        if d.get("concentrated"):
            why.append(T("conc").format(lq=d["lq"], share=d["share"]))
        if d.get("cases"):
            why.append(T("ev"))
        out.put([_cell(d["department"]), _cell("; ".join(why)), _cell(d.get("cases", []))])


def _region_lqs(out: _RowWriter, c: Mapping[str, Any], rd: Mapping[str, Any], lang: str) -> None:
    """Write the candidate's LQ by region (concentrated rows filled) and their bar chart."""
    L = lambda k: label(k, lang)  # noqa: E731
    share = f"{(rd or {}).get('min_share', 0.05):.0%}"
    conc_head = _region_text("conc_head", lang).format(s=share)
    out.put([L("region"), L("lq"), L("share_national"), conc_head], HEADER_FONT, HEADER_FILL)
    first = out.row + 1
    conc_fill = PatternFill("solid", fgColor="F8CBAD")
    for r in c.get("regions", []):
        i = out.put(
            [_cell(r["region"]), r["lq"], r["share"], "✔" if r["concentrated"] else ""],
            None,
            conc_fill if r["concentrated"] else None,
        )
        out.ws.cell(i, 2).number_format = "0.00"
        out.ws.cell(i, 3).number_format = "0.0%"
    chart = BarChart()
    chart.type = "bar"
    chart.title = f"{c['id']} {c['label'][:40]} — LQ"
    chart.add_data(
        Reference(out.ws, min_col=2, min_row=first, max_row=out.row), titles_from_data=False
    )
    chart.set_categories(Reference(out.ws, min_col=1, min_row=first, max_row=out.row))
    chart.legend = None
    chart.height, chart.width = 10, 12
    out.ws.add_chart(chart, f"F{first}")


def _region_map(out: _RowWriter, png: Path, anchor: str) -> None:
    """Place the candidate's map at ``anchor``, at 55 %."""
    from openpyxl.drawing.image import Image

    img = Image(str(png))
    img.width, img.height = int(img.width * 0.55), int(img.height * 0.55)
    out.ws.add_image(img, anchor)


#: Evidence-sheet columns with what the study says of a case beyond its dimensions.
_CASE_TEXT_HEADS = {
    "actors": ("Actores", "Actors"),
    "problems": ("Problemas", "Problems"),
    "recommendations": ("Recomendaciones", "Recommendations"),
    "notes": ("Notas", "Notes"),
    "line_refs": ("Líneas del estudio", "Lines of the study"),
}


def _case_texts(case: Case | None) -> list[str]:
    """Actors, problems, recommendations, notes and line references of a case."""
    if case is None:
        return [""] * len(_CASE_TEXT_HEADS)
    notes = " | ".join(
        n.text + (f" ({format_lines(n.lines)})" if n.lines else "") for n in case.notes
    )
    refs = "; ".join(f"{k}: {format_lines(v)}" for k, v in case.line_refs.items() if v)
    return [
        escape_formula(case.actors),
        escape_formula(case.problems),
        escape_formula(case.recommendations),
        escape_formula(notes),
        refs,
    ]


def _dimension_text(case: Case | None, dimension: str, lang: str) -> str:
    """Return what a case says on one dimension, with its phase and the study's lines."""
    ev = case.dimension(dimension) if case else None
    if ev is None:
        return ""
    text = ev.es if lang == "es" else ev.en
    text += f" ({format_lines(ev.lines)})" if ev.lines else ""
    return f"[{ev.phase}] {text}" if ev.phase else text


def _evidence_columns(view: View) -> list[Column]:
    """Column specifications of the evidence sheet; a record is (candidate, match, case)."""
    L, lang = view.L, view.lang
    dim_name = dimension_names(lang)
    caps = {"label": 24, "case": 34, "region": 24, "citation": 26}
    fmts = {"coverage": "0%"}
    matched = ("case", "country", "region", "phase", "citation", "coverage")
    columns = [
        Column("id", L("id"), lambda r: r[0]["id"]),
        Column("label", L("label"), lambda r: view.cand_label(r[0]), cap=caps["label"]),
    ]

    def match_field(key: str) -> Callable[[Any], Any]:
        return lambda r: r[1][key]

    def dimension(d: str) -> Callable[[Any], Any]:
        return lambda r: _dimension_text(r[2], d, lang)

    def case_text(i: int) -> Callable[[Any], Any]:
        return lambda r: _case_texts(r[2])[i]

    columns += [
        Column(
            k,
            L(k),
            match_field("name" if k == "case" else k),
            fmt=fmts.get(k),
            cap=caps.get(k),
        )
        for k in matched
    ]
    columns += [Column(d, dim_name[d], dimension(d), cap=40) for d in DIMENSIONS]
    columns += [
        Column(k, _CASE_TEXT_HEADS[k][lang == "en"], case_text(i), cap=40)
        for i, k in enumerate(_CASE_TEXT_HEADS)
    ]
    return columns


def _evidence_sheet(
    wb: Workbook, cands: Sequence[Mapping[str, Any]], cases: Mapping[str, Case], view: View
) -> None:
    """Evidence sheet: one row per paired case, with all the study says of it."""
    records = [(c, m, cases.get(m["case_id"])) for c in cands for m in c.get("matched_cases", [])]
    _spec_sheet(wb, view.L("sheet_evidence"), _evidence_columns(view), records)


def _phases_sheet(wb: Workbook, lang: str) -> None:
    """Phases sheet: each dimension across Rosenfeld's four phases, then the requirements."""
    L = lambda k: label(k, lang)  # noqa: E731
    fw = load_framework()
    name_key = "name_es" if lang == "es" else "name_en"

    def in_phase(p: str) -> Callable[[Any], Any]:
        return lambda d: d[p][lang] if p in d else "—"

    columns = [Column("dimension", L("dimension"), lambda d: d[name_key], width=22)]
    columns += [
        Column(p, f"{p} {fw['phases'][p][name_key]}", in_phase(p), width=w)
        for p, w in zip(("I", "II", "III", "IV"), (29, 29, 29, 31), strict=True)
    ]
    ws, rows = _spec_sheet(wb, L("sheet_phases"), columns, fw["dimensions"], title_cols=None)
    r0 = len(rows) + 3
    ws.cell(r0, 1, L("requirements")).font = Font(bold=True)
    for i, req in enumerate(fw["requirements"], start=1):
        ws.cell(r0 + i, 1, f"{i}.")
        ws.cell(r0 + i, 2, req[lang])
        ws.merge_cells(start_row=r0 + i, start_column=2, end_row=r0 + i, end_column=5)
        ws.cell(r0 + i, 2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r0 + i].height = 15.0 * _lines(req[lang], 118)
    ws.cell(r0 + 7, 1, fw["source"]).font = Font(italic=True)


def _titled_note(ws: Any, row: int, title: str, text: str, last_col: int, width: float) -> None:
    """Write a bold title in column A and a wrapped text merged over columns B..``last_col``."""
    ws.cell(row, 1, title).font = Font(bold=True)
    ws.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")  # beside the text
    ws.cell(row, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=last_col)
    ws.row_dimensions[row].height = 15.0 * _lines(text, width)


def _method_sheet(
    wb: Workbook,
    doc: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    cases: Mapping[str, Case],
    view: View,
) -> None:
    """Write the method sheet: findings (errors and warnings filled), the method text."""
    L, lang = view.L, view.lang
    columns = [
        Column(
            "severity", L("severity"), lambda f: enum("severity", f["severity"], lang), width=14.0
        ),
        Column("check", L("check"), lambda f: enum("check", f["check"], lang), width=24.0),
        Column("message", L("message"), view.finding, width=70.0),
        Column(
            "cells",
            L("cells"),
            lambda f: ", ".join(f.get("cells") or f.get("sectors") or []) or "—",
            width=30.0,
        ),
    ]
    ws, rows = _spec_sheet(wb, L("sheet_method"), columns, findings, title_cols=None)
    if rows:
        letter = get_column_letter(_position(columns, "severity"))
        for status, color in (("error", "FFC7CE"), ("warning", "FFE699")):
            word = enum("severity", status, lang)
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{len(rows) + 1}",
                CellIsRule(
                    operator="equal",
                    formula=[f'"{word}"'],
                    fill=PatternFill("solid", fgColor=color),
                ),
            )
    r0 = len(rows) + 3
    text_width = sum(c.width or 0.0 for c in columns[1:])
    _titled_note(ws, r0, L("method"), method_text(doc, lang), len(columns), text_width)
    unproposed = doc.get("evidence", {}).get("unproposed_cases", [])
    if unproposed:
        text = "; ".join(cases[k].name if k in cases else k for k in unproposed)
        _titled_note(ws, r0 + 1, L("unproposed"), text, len(columns), text_width)
    region = _focus_region(doc.get("candidates", []))
    if region is not None:
        text = _cross_border_note(view, region)
        row = r0 + (2 if unproposed else 1)
        _titled_note(ws, row, L("cross_border_title"), text, len(columns), text_width)


def write_workbook(
    doc: Mapping[str, Any],
    linkages: pd.DataFrame,
    findings: Sequence[Mapping[str, Any]],
    cases: Mapping[str, Case],
    path: str | Path,
    *,
    lang: str = "es",
    maps: Mapping[str, Sequence[Path]] | None = None,
) -> Path:
    """Write ``candidates.xlsx``.

    Parameters
    ----------
    doc : mapping
        The ``candidates.json`` document (candidates with ``rosenfeld`` and
        ``matched_cases``, ``options``, ``diagnostics``, ``table``, ``evidence``; the
        optional ``unclustered_reasons``, ``similar_structure_groups``,
        ``strongest_chains``, ``too_aggregated`` and ``message`` when present).
    linkages : DataFrame
        The linkage table (index = code, with a ``name`` column).
    findings : sequence of mapping
        Validation findings (``ValidationReport.to_dict()["findings"]``).
    cases : mapping
        Case id → :class:`~io_clusters.evidence.catalogue.Case` for the evidence sheet.
    path : path
    lang : {"es", "en"}
    maps : mapping, optional
        ``map_<id>`` → [png, svg] (:mod:`.maps`), placed in the regions sheet.
    """
    label("title", lang)  # validates lang
    names_en: dict[str, str] = {}
    if "name" in linkages.columns:
        names_en.update({str(k): str(v) for k, v in linkages["name"].items()})
    for c in doc.get("candidates", []):
        for m in c["members"]:
            names_en.setdefault(m["code"], m["name"])
    view = View(lang, names_en)
    cands = doc.get("candidates", [])
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    _executive_summary(wb, doc, findings, cases, view)
    _candidates_sheet(wb, cands, view)
    _members_sheet(wb, cands, view)
    _chains_sheet(wb, doc, view)
    _linkages_sheet(wb, linkages, view)
    # the regions sheet (regions engineer's), fed display labels; printed like the others
    shown = dict(doc, candidates=[dict(c, label=view.cand_label(c)) for c in cands])
    _regions_sheet(wb, shown, maps or {}, lang)
    if regions_ws := [w for w in wb.worksheets if w.title == label("sheet_regions", lang)]:
        _page_setup(regions_ws[0], _REGION_WIDTHS, None, None)
    _evidence_sheet(wb, cands, cases, view)
    _phases_sheet(wb, lang)
    _method_sheet(wb, doc, findings, cases, view)
    _run_details(wb, doc, findings, view)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)
