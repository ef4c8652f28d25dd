"""The candidate workbook ``candidates.xlsx``, styled for people.

Sheets (Spanish by default, English with ``lang="en"``): summary, candidates, members,
linkages (with a native key-sector scatter chart), evidence (matched cases × the seven
dimensions), the phase framework, and method and validation. Frozen headers,
autofilters, column widths, number formats, conditional formatting of the indices and
of the Rosenfeld status, a bar chart of candidate sizes. Text from any input is escaped
against formula injection; sheet names respect Excel's 31-character limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..evidence.catalogue import DIMENSIONS, Case, format_lines, load_framework
from . import atomic_path, escape_formula
from .i18n import label

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
STATUS_FILLS = {
    "io_only": PatternFill("solid", fgColor="FFE699"),
    "paired": PatternFill("solid", fgColor="C6EFCE"),
    "contradicted": PatternFill("solid", fgColor="FFC7CE"),
}


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return escape_formula(v)
    if isinstance(v, list | tuple):
        return escape_formula("; ".join(str(x) for x in v))
    return v


def _table_sheet(
    wb: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int] | None = None,
    formats: Mapping[int, str] | None = None,
) -> Any:
    ws = wb.create_sheet(title[:31])
    ws.append([escape_formula(h) for h in headers])
    for c in ws[1]:
        c.fill, c.font = HEADER_FILL, HEADER_FONT
        c.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = "B2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    for j, h in enumerate(headers, start=1):
        width = widths[j - 1] if widths else max(10, min(60, len(str(h)) + 4))
        ws.column_dimensions[get_column_letter(j)].width = width
    for j, fmt in (formats or {}).items():
        for r in range(2, len(rows) + 2):
            ws.cell(r, j).number_format = fmt
    col_w = [
        ws.column_dimensions[get_column_letter(j)].width or 10 for j in range(1, len(headers) + 1)
    ]
    ws.row_dimensions[1].height = 15 * max(
        math.ceil(len(str(h)) / max(w - 1, 1)) for h, w in zip(headers, col_w, strict=True)
    )
    for r in range(2, len(rows) + 2):
        lines = 1
        for j in range(1, len(headers) + 1):
            cell = ws.cell(r, j)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, str):
                lines = max(lines, math.ceil(len(cell.value) / max(col_w[j - 1] - 1, 1)))
        ws.row_dimensions[r].height = min(15 * lines, 150)  # wrapped text stays readable
    return ws


def _status_rules(ws: Any, col: int, n: int, lang: str) -> None:
    if n == 0:  # no rows (e.g. no candidates): nothing to colour
        return
    rng = f"{get_column_letter(col)}2:{get_column_letter(col)}{n + 1}"
    for status, fill in STATUS_FILLS.items():
        ws.conditional_formatting.add(
            rng, CellIsRule(operator="equal", formula=[f'"{status}"'], fill=fill)
        )


def _scale(ws: Any, col: int, n: int) -> None:
    if n == 0:
        return
    rng = f"{get_column_letter(col)}2:{get_column_letter(col)}{n + 1}"
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
        ``matched_cases``, ``options``, ``diagnostics``, ``table``, ``evidence``).
    linkages : DataFrame
        The linkage table (index = code).
    findings : sequence of mapping
        Validation findings (``ValidationReport.to_dict()["findings"]``).
    cases : mapping
        Case id → :class:`~io_clusters.evidence.catalogue.Case` for the evidence sheet.
    path : path
    lang : {"es", "en"}
    maps : mapping, optional
        ``map_<id>`` → [png, svg] (:mod:`.maps`), placed in the regions sheet.
    """
    L = lambda k: label(k, lang)  # noqa: E731
    wb = Workbook()
    wb.remove(wb.active)
    table = doc["table"]
    cands = doc["candidates"]
    sentence_key = "sentence_es" if lang == "es" else "sentence_en"

    # summary
    ws = wb.create_sheet(L("sheet_summary"))
    ws["A1"] = L("title")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = L("caveat")
    ws["A2"].alignment = Alignment(wrap_text=True)
    ws.merge_cells("A2:B2")
    ws.row_dimensions[2].height = 48
    opts = doc["options"]
    method = (
        f"{opts['similarity']} / {opts['method']} / k = {doc['diagnostics']['k']} / "
        f"seed {opts['seed']} / bootstrap {opts['n_boot']}"
    )
    warn = [f["message"] for f in findings if f["severity"] != "info"]
    items = [
        (L("table"), table["table_id"]),
        (L("source"), table.get("source")),
        (L("sha256"), table.get("sha256")),
        (L("layout"), table.get("layout")),
        (L("country"), table.get("country")),
        (L("year"), table.get("year")),
        (L("units"), table.get("units")),
        (L("n_sectors"), doc["diagnostics"]["n_sectors"]),
        (L("method"), method),
        (L("generated"), doc.get("generated")),
        (L("version"), doc.get("versions", {}).get("io_clusters")),
        (L("warnings"), "; ".join(warn) or "—"),
    ]
    ws.append([])
    ws.append([L("item"), L("value")])
    for c in ws[4]:
        c.fill, c.font = HEADER_FILL, HEADER_FONT
    for k, v in items:
        ws.append([escape_formula(k), _cell(v)])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 100
    for r in range(5, ws.max_row + 1):
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
    ws.freeze_panes = "A5"

    # candidates
    rows = []
    for c in cands:
        r = c.get("rosenfeld", {})
        rows.append(
            [
                c["id"],
                c["label"],
                [m["name"] for m in c["members"]],
                [m["code"] for m in c["members"] if m["role"] == "core"],
                len(c["members"]),
                c["score"],
                c["stability"],
                c["stability_reading"],
                c["intra_flow_share"],
                c["output_share"],
                c["export_share"],
                [m["name"] for m in c.get("matched_cases", []) if m["same_country"]]
                or [m["name"] + f" ({m['country']})" for m in c.get("matched_cases", [])][:3],
                r.get("phase"),
                r.get("status"),
                r.get(sentence_key),
                r.get("regions", []),
                c["warnings"],
            ]
        )
    heads = [
        L(k)
        for k in (
            "id",
            "label",
            "members",
            "core",
            "n_members",
            "score",
            "stability",
            "stability_reading",
            "intra_flow_share",
            "output_share",
            "export_share",
            "matched_cases",
            "phase",
            "rosenfeld_status",
            "rosenfeld_sentence",
            "regions",
            "warnings",
        )
    ]
    ws = _table_sheet(
        wb,
        L("sheet_candidates"),
        heads,
        rows,
        widths=[7, 30, 50, 18, 10, 9, 11, 14, 11, 12, 12, 40, 7, 14, 70, 30, 40, 30],
        formats={6: "0.000", 7: "0.00", 9: "0.00", 10: "0.0%", 11: "0.0%"},
    )
    _status_rules(ws, 14, len(rows), lang)
    if rows:
        ws.conditional_formatting.add(
            f"F2:F{len(rows) + 1}",
            ColorScaleRule(
                start_type="min", start_color="FFFFFF", end_type="max", end_color="63BE7B"
            ),
        )
        chart = BarChart()
        chart.type = "bar"
        chart.title = L("chart_sizes")
        chart.y_axis.title = L("n_members")
        data = Reference(ws, min_col=5, min_row=1, max_row=len(rows) + 1)
        cats = Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 9, 16
        ws.add_chart(chart, f"B{len(rows) + 4}")

    # members
    rows = [
        [
            c["id"],
            c["label"],
            m["code"],
            m["name"],
            m["role"],
            m["mean_similarity"],
            m["output_share"],
            m["export_share"],
            m["power_dispersion"],
            m["sensitivity_dispersion"],
            m["key_sector_class"],
        ]
        for c in cands
        for m in c["members"]
    ]
    heads = [
        L(k)
        for k in (
            "id",
            "label",
            "code",
            "name",
            "role",
            "mean_similarity",
            "output_share",
            "export_share",
            "power",
            "sensitivity",
            "key_sector_class",
        )
    ]
    ws = _table_sheet(
        wb,
        L("sheet_members"),
        heads,
        rows,
        widths=[7, 30, 9, 45, 12, 11, 12, 12, 12, 14, 14],
        formats={6: "0.000", 7: "0.0%", 8: "0.0%", 9: "0.000", 10: "0.000"},
    )
    _scale(ws, 9, len(rows))
    _scale(ws, 10, len(rows))

    # linkages, with the quadrant chart
    lk = linkages.reset_index()
    heads = [str(h) for h in lk.columns]
    rows = lk.to_numpy().tolist()
    fmt = {j + 1: "0.0000" for j, h in enumerate(heads) if lk[h].dtype.kind == "f"}
    ws = _table_sheet(wb, L("sheet_linkages"), heads, rows, formats=fmt)
    ws.column_dimensions["B"].width = 45
    for col_name in ("power_dispersion", "sensitivity_dispersion"):
        _scale(ws, heads.index(col_name) + 1, len(rows))
    if rows:
        xcol = heads.index("power_dispersion") + 1
        ycol = heads.index("sensitivity_dispersion") + 1
        sc = ScatterChart()
        sc.title = L("chart_quadrant")
        sc.style = 13
        sc.x_axis.title = L("power")
        sc.y_axis.title = L("sensitivity")
        xs = Reference(ws, min_col=xcol, min_row=2, max_row=len(rows) + 1)
        ys = Reference(ws, min_col=ycol, min_row=2, max_row=len(rows) + 1)
        s = Series(ys, xs, title=L("n_sectors"))
        s.marker.symbol = "circle"
        s.graphicalProperties.line.noFill = True
        sc.series.append(s)
        sc.x_axis.crossesAt = 1
        sc.y_axis.crossesAt = 1
        sc.x_axis.delete = False
        sc.y_axis.delete = False
        sc.legend = None
        sc.height, sc.width = 12, 18
        ws.add_chart(sc, f"{get_column_letter(len(heads) + 2)}2")

    # regions: where each candidate is concentrated, and where to verify it
    _regions_sheet(wb, doc, maps or {}, lang)

    # evidence: matched cases × seven dimensions
    fw = load_framework()
    dim_name = {d["id"]: d["name_es" if lang == "es" else "name_en"] for d in fw["dimensions"]}
    rows = []
    for c in cands:
        for m in c.get("matched_cases", []):
            case = cases.get(m["case_id"])
            dims = []
            for d in DIMENSIONS:
                ev = case.dimension(d) if case else None
                if ev is None:
                    dims.append("")
                else:
                    text = ev.es if lang == "es" else ev.en
                    text += f" ({format_lines(ev.lines)})" if ev.lines else ""
                    dims.append(f"[{ev.phase}] {text}" if ev.phase else text)
            rows.append(
                [
                    c["id"],
                    c["label"],
                    m["name"],
                    m["country"],
                    m["region"],
                    m["phase"],
                    m["citation"],
                    m["coverage"],
                    *dims,
                    *_case_texts(case),
                ]
            )
    heads = [
        L(k) for k in ("id", "label", "case", "country", "region", "phase", "citation", "coverage")
    ]
    heads += [dim_name[d] for d in DIMENSIONS]
    heads += [_CASE_TEXT_HEADS[k][lang == "en"] for k in _CASE_TEXT_HEADS]
    _table_sheet(
        wb,
        L("sheet_evidence"),
        heads,
        rows,
        widths=[7, 28, 40, 8, 28, 7, 26, 10, *([40] * len(DIMENSIONS)), *([50] * 5)],
        formats={8: "0%"},
    )

    # phase framework
    rows = []
    for d in fw["dimensions"]:
        rows.append(
            [
                d["name_es" if lang == "es" else "name_en"],
                *(d[p][lang] if p in d else "—" for p in ("I", "II", "III", "IV")),
            ]
        )
    heads = [L("dimension")] + [
        f"{p} {fw['phases'][p]['name_es' if lang == 'es' else 'name_en']}"
        for p in ("I", "II", "III", "IV")
    ]
    ws = _table_sheet(wb, L("sheet_phases"), heads, rows, widths=[30, 34, 34, 34, 40])
    r0 = len(rows) + 3
    ws.cell(r0, 1, L("requirements")).font = Font(bold=True)
    for i, req in enumerate(fw["requirements"], start=1):
        ws.cell(r0 + i, 1, f"{i}.")
        ws.cell(r0 + i, 2, req[lang])
    ws.cell(r0 + 7, 1, fw["source"]).font = Font(italic=True)

    # method and validation
    rows = [[f["severity"], f["check"], f["message"], f["cells"]] for f in findings]
    ws = _table_sheet(
        wb,
        L("sheet_method"),
        [L(k) for k in ("severity", "check", "message", "cells")],
        rows,
        widths=[10, 18, 100, 30],
    )
    for status, color in (("error", "FFC7CE"), ("warning", "FFE699")) if rows else ():
        ws.conditional_formatting.add(
            f"A2:A{len(rows) + 1}",
            CellIsRule(
                operator="equal", formula=[f'"{status}"'], fill=PatternFill("solid", fgColor=color)
            ),
        )
    r0 = len(rows) + 3
    ws.cell(r0, 1, L("method")).font = Font(bold=True)
    ws.cell(r0, 3, L("method_text")).alignment = Alignment(wrap_text=True)
    ws.row_dimensions[r0].height = 60
    unproposed = doc.get("evidence", {}).get("unproposed_cases", [])
    if unproposed:
        ws.cell(r0 + 1, 1, L("unproposed")).font = Font(bold=True)
        ws.cell(r0 + 1, 3, "; ".join(cases[k].name if k in cases else k for k in unproposed))
    for sheet in wb.worksheets:  # printable: landscape, one page wide
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.print_title_rows = "1:1" if sheet.title != wb.worksheets[0].title else None
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


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


def _regions_sheet(
    wb: Workbook, doc: Mapping[str, Any], maps: Mapping[str, Sequence[Path]], lang: str
) -> None:
    """Write the regions sheet: what the LQs measure, then each candidate's location.

    Per candidate: located or not (with the note), where to verify it (concentration ∪
    evidence departments, each with why), its LQ rows with a bar chart, and its map.
    """
    cands = doc["candidates"]
    rd = doc.get("regional_data")
    if not rd:  # without regional data, verify_in (evidence only) is in the JSON and report
        return
    from openpyxl.drawing.image import Image

    def T(k: str) -> str:
        return _REGION_TEXT[k][0 if lang == "es" else 1]

    L = lambda k: label(k, lang)  # noqa: E731
    ws = wb.create_sheet(label("sheet_regions", lang))
    bold = Font(bold=True)
    row = 0

    def put(values: Sequence[Any], font: Any = None, fill: Any = None) -> int:
        nonlocal row
        row += 1
        for j, v in enumerate(values, start=1):
            cell = ws.cell(row, j, v)
            if font is not None and (j == 1 or fill is not None):
                cell.font = font
            if fill is not None:
                cell.fill = fill
        return row

    put([T("data")], Font(bold=True, size=12))
    for k in ("source", "year", "prices", "measure", "units", "classification"):
        put([T(k), _cell(rd.get(k)) if rd.get(k) not in (None, "") else "—"], bold)
    conc_fill = PatternFill("solid", fgColor="F8CBAD")
    for c in cands:
        row += 1
        top = put([c["id"], _cell(c["label"])], Font(bold=True, size=12))
        ws.cell(top, 2).font = Font(bold=True, size=12)
        if "located" in c:
            put([T("located"), T("yes") if c["located"] else T("no")], bold)
            r_ = put([T("note"), _cell((c.get("location_note") or {}).get(lang, ""))], bold)
            ws.cell(r_, 2).alignment = Alignment(wrap_text=True, vertical="top")
            acts = "; ".join(f"{a['code']} {a['name']}" for a in c.get("regional_activities", []))
            put([T("activity"), _cell(acts)], bold)
        put([T("verify_in"), _cell(", ".join(c.get("verify_in", [])) or "—")], bold)
        put([T("verify_in"), T("why"), T("cases")], HEADER_FONT, HEADER_FILL)
        for d in c.get("verify_in_detail", []):
            why = []
            if d.get("concentrated"):
                why.append(T("conc").format(lq=d["lq"], share=d["share"]))
            if d.get("cases"):
                why.append(T("ev"))
            put([_cell(d["department"]), _cell("; ".join(why)), _cell(d.get("cases", []))])
        rows_c = c.get("regions", [])
        if rows_c:
            share = f"{(rd or {}).get('min_share', 0.05):.0%}"
            put(
                [L("region"), L("lq"), L("share_national"), T("conc_head").format(s=share)],
                HEADER_FONT,
                HEADER_FILL,
            )
            first = row + 1
            for r in rows_c:
                i = put(
                    [_cell(r["region"]), r["lq"], r["share"], "✔" if r["concentrated"] else ""],
                    None,
                    conc_fill if r["concentrated"] else None,
                )
                ws.cell(i, 2).number_format = "0.00"
                ws.cell(i, 3).number_format = "0.0%"
            chart = BarChart()
            chart.type = "bar"
            chart.title = f"{c['id']} {c['label'][:40]} — LQ"
            chart.add_data(
                Reference(ws, min_col=2, min_row=first, max_row=row), titles_from_data=False
            )
            chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=row))
            chart.legend = None
            chart.height, chart.width = 10, 12
            ws.add_chart(chart, f"F{first}")
        png = maps.get(f"map_{c['id']}")
        if png:
            img = Image(str(png[0]))
            img.width, img.height = int(img.width * 0.55), int(img.height * 0.55)
            ws.add_image(img, f"{'M' if rows_c else 'F'}{top}")
            row = max(row, top + 30)  # room for the picture before the next candidate
    for col, w in zip("ABCD", (22, 70, 40, 12), strict=True):
        ws.column_dimensions[col].width = w
