"""``report.html``: one self-contained page for readers who never open Python.

The page opens with the executive summary (the same content as the workbook's first
sheet), then the strongest chains, one card per candidate, the figures and the method
and validation. Figures are embedded as data URIs and the style sheet is inline: the page
makes no external request. It reads on a narrow screen (wide tables scroll sideways) and
prints (print style sheet: no navigation, cards and figures not split across pages).
One language per page: every value, warning and message goes through the catalogue.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import atomic_path
from .i18n import enum, label
from .summary import (
    CANDIDATE_KEYS,
    View,
    anomaly_rows,
    candidate_headers,
    candidate_rows,
    dimension_names,
    foreign_members_text,
    method_text,
    output_share_note,
    similar_group_rows,
    source_line,
    status_words,
    torres_zorrilla_rows,
    unclustered_rows,
    unproposed_rows,
)

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:2rem auto;max-width:72rem;color:#222;line-height:1.45;padding:0 1rem;background:#fff}
h1{color:#1F4E78;margin-bottom:.2rem;font-size:1.7rem}
h2{color:#1F4E78;border-bottom:2px solid #1F4E78;padding-bottom:.2rem;margin-top:2rem}
h3{color:#1F4E78;margin:.8rem 0 .4rem}
nav{font-size:.9rem;margin:.5rem 0 1rem}nav a{margin-right:1rem;white-space:nowrap}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
th{background:#1F4E78;color:#fff;text-align:left;padding:.35rem;vertical-align:bottom}
td{border-bottom:1px solid #ddd;padding:.35rem;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
.caveat{background:#FFF2CC;border-left:5px solid #BF9000;padding:.7rem 1rem}
.alert{background:#FFC7CE;border-left:5px solid #C00000;padding:.7rem 1rem}
.status{padding:.1rem .45rem;border-radius:.3rem;font-weight:600}
.io_only{background:#FFE699}.paired{background:#C6EFCE}.contradicted{background:#FFC7CE}
img{max-width:100%;height:auto;border:1px solid #eee;display:block;margin:.5rem 0}
.meta{color:#555;font-size:.85rem}
.cand{border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;margin:1rem 0}
.border{background:#EEF3F8;border-left:5px solid #1F4E78;padding:.4rem .8rem}
@media (max-width:700px){
 body{margin:1rem auto;padding:0 .6rem}h1{font-size:1.3rem}
 table{font-size:.8rem}th,td{padding:.25rem}nav a{display:inline-block;margin:.1rem .6rem .1rem 0}
 .scroll table{min-width:40rem}
}
@media print{
 @page{size:A4 landscape;margin:1.2cm}
 body{max-width:none;margin:0;padding:0;font-size:10pt}
 nav{display:none}a{color:inherit;text-decoration:none}
 .scroll{overflow:visible}table{font-size:9pt}
 h2,h3{break-after:avoid}tr,img,.cand{break-inside:avoid}
 th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 .status,.caveat,.alert{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _e(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.2f}"
    return html.escape(str(v))


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * float(v):.1f} %"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], raw: Sequence[int] = ()) -> str:
    """Return a scrollable table; columns in ``raw`` hold HTML already escaped."""
    out = ['<div class="scroll"><table><tr>']
    out += [f"<th>{_e(h)}</th>" for h in headers]
    out.append("</tr>")
    for r in rows:
        cells = []
        for j, v in enumerate(r):
            if j in raw:
                cells.append(f"<td>{v}</td>")
            elif isinstance(v, int | float) and not isinstance(v, bool):
                cells.append(f"<td class='num'>{_e(v)}</td>")
            else:
                cells.append(f"<td>{_e(v)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></div>")
    return "".join(out)


def _executive(
    doc: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    cases: Mapping[str, Any],
    view: View,
) -> list[str]:
    L = view.L
    parts = [f"<h2 id='summary'>{_e(L('sheet_exec'))}</h2>"]
    if doc.get("too_aggregated"):
        msg = (doc.get("message") or {}).get(view.lang) or ""
        parts.append(f"<p class='alert'><b>{_e(L('too_aggregated_title'))}</b>: {_e(msg)}</p>")
    parts.append(f"<h3>{_e(L('exec_candidates'))}</h3>")
    parts.append(_candidate_table(doc, view))
    note = output_share_note(view) if doc.get("candidates") else None
    if note is not None:  # multi-regional: a share of every country's output
        parts.append(f"<p class='meta'>{_e(note)}</p>")
    un = unclustered_rows(doc, findings, view)
    parts.append(f"<h3>{_e(L('unclustered_title'))}</h3>")
    parts.append(_table([L("code"), L("name"), L("reason")], un) if un else "<p>—</p>")
    groups = similar_group_rows(doc, view)
    if groups:
        parts.append(f"<h3>{_e(L('similar_groups_title'))}</h3>")
        parts.append(_table([L("code"), L("name"), L("mean_similarity")], groups))
    unproposed = unproposed_rows(doc, cases)
    parts.append(f"<h3>{_e(L('unproposed'))}</h3>")
    parts.append(
        _table([L("phase"), L("case"), L("region")], unproposed) if unproposed else "<p>—</p>"
    )
    tz = torres_zorrilla_rows(doc, view)
    if tz is not None:
        parts.append(f"<h3>{_e(L('torres_title'))}</h3><p class='meta'>{_e(L('torres_note'))}</p>")
        parts.append(_table([L("complex"), L("expected_sectors"), L("found_in")], tz))
    parts.append(f"<h3>{_e(L('anomalies_title'))}</h3>")
    an = anomaly_rows(findings, view)
    parts.append(
        _table([L("check"), L("message"), L("cells")], an)
        if an
        else f"<p>{_e(L('no_anomalies'))}</p>"
    )
    return parts


def _candidate_table(doc: Mapping[str, Any], view: View) -> str:
    """Return the executive table of candidates (rank links to the card, status coloured)."""
    cands = doc.get("candidates", [])
    if not cands:
        return f"<p>{_e(view.L('no_candidates'))}</p>"
    rank = CANDIDATE_KEYS.index("rank")
    share = CANDIDATE_KEYS.index("core_output_share")
    status = CANDIDATE_KEYS.index("rosenfeld_status")
    rows = []
    for c, r in zip(cands, candidate_rows(doc, view), strict=True):
        st = c.get("rosenfeld", {}).get("status", "io_only")
        r = list(r)
        r[rank] = f"<a href='#{_e(c['id'])}'>{_e(r[rank])}</a>"
        r[share] = _pct(r[share])
        r[status] = f"<span class='status {_e(st)}'>{_e(r[status])}</span>"
        rows.append(r)
    return _table(candidate_headers(view), rows, raw=(rank, status))


def _chains(doc: Mapping[str, Any], view: View) -> list[str]:
    chains = doc.get("strongest_chains") or []
    if not chains:
        return []
    L = view.L
    rows = [
        [
            view.code_name(ch["seller"]),
            view.code_name(ch["buyer"]),
            ch.get("strength"),
            _pct(ch.get("share_of_seller_sales")),
            _pct(ch.get("share_of_buyer_purchases")),
        ]
        for ch in chains
    ]
    heads = [
        L("seller"),
        L("buyer"),
        L("strength"),
        L("share_of_seller_sales"),
        L("share_of_buyer_purchases"),
    ]
    return [f"<h2 id='chains'>{_e(L('sheet_chains'))}</h2>", _table(heads, rows)]


def _candidate_cards(
    doc: Mapping[str, Any], figures: Mapping[str, Sequence[Path]], view: View
) -> list[str]:
    L, lang = view.L, view.lang
    sentence = "sentence_es" if lang == "es" else "sentence_en"
    dim_name = dimension_names(lang)
    parts = []
    for c in doc.get("candidates", []):
        r = c.get("rosenfeld", {})
        st = r.get("status", "io_only")
        parts.append(
            f"<div class='cand' id='{_e(c['id'])}'><h3>{_e(c['id'])} {_e(view.cand_label(c))} "
            f"<span class='status {_e(st)}'>{_e(status_words(c, lang))}</span></h3>"
        )
        parts.append(f"<p>{_e(view.text(r.get(sentence)))}</p>")
        parts.append(_geography(r, view))
        unv = [dim_name.get(d, d) for d in r.get("dimensions_unverified", [])]
        if unv:
            parts.append(f"<p class='meta'>{_e(L('unverified'))}: {_e(', '.join(unv))}</p>")
        parts.extend(_cross_border(c, view))
        rows = [
            [
                m["code"],
                view.name(m["code"]),
                enum("role", m["role"], lang),
                enum("key_sector_class", m["key_sector_class"], lang),
                _pct(m["output_share"]),
            ]
            for m in c["members"]
        ]
        parts.append(
            _table(
                [L(k) for k in ("code", "name", "role", "key_sector_class", "output_share")], rows
            )
        )
        matches = c.get("matched_cases", [])
        if matches:
            parts.append(f"<p><b>{_e(L('matched_cases'))}</b></p><ul>")
            for m in matches:
                parts.append(
                    f"<li>{_e(m['name'])} — {_e(m['region'])} ({_e(m['country'])}), "
                    f"{_e(L('phase'))} {_e(m['phase'])}; {_e(m['citation'])}</li>"
                )
            parts.append("</ul>")
        if c["warnings"]:
            warn = "; ".join(view.warning(w) for w in c["warnings"])
            parts.append(f"<p class='meta'>{_e(L('warnings'))}: {_e(warn)}</p>")
        net = figures.get(f"network_{c['id']}")
        if net:
            parts.append(_img(net[0], f"{c['id']} {L('network')}"))
        parts.extend(_where(c, doc.get("regional_data"), figures, lang))
        parts.append("</div>")
    return parts


def _geography(r: Mapping[str, Any], view: View) -> str:
    """Return the card's geography line: the record's note, then the regions.

    A multi-regional table words the note for countries; its cards list no regions when
    the record has none (a "Regions: —" would read as missing departments).
    """
    L = view.L
    note = r.get("geography_note_es" if view.lang == "es" else "geography_note_en")
    regions = "; ".join(r.get("regions", []))
    line = _e(note or L("geography"))
    if regions or not view.multiregional:
        line += f" {_e(L('regions'))}: {_e(regions or '—')}"
    return f"<p class='meta'>{line}</p>"


def _cross_border(c: Mapping[str, Any], view: View) -> list[str]:
    """With a focus region: the candidate's foreign country-sectors and cross-border shares."""
    region = c.get("focus_region")
    if not region:
        return []
    L = view.L
    outside = L("cross_border_outside").format(region=region)
    shares = L("cross_border_sentence").format(
        region=region,
        sales=_pct(c.get("cross_border_sales_share")),
        purchases=_pct(c.get("cross_border_purchases_share")),
    )
    return [
        f"<p class='border'><b>{_e(outside)}</b>: {_e(foreign_members_text(c, view))}<br>"
        f"{_e(shares)}</p>"
    ]


def write_report(
    doc: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    figures: Mapping[str, Sequence[Path]],
    path: str | Path,
    *,
    lang: str = "es",
    cases: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> Path:
    """Write the self-contained HTML report.

    Parameters
    ----------
    doc, findings
        As for :func:`~io_clusters.export.xlsx.write_workbook`.
    figures : mapping
        Figure name → [png, svg] paths (:func:`~io_clusters.export.figures.write_figures`).
    path : path
    lang : {"es", "en"}
    cases : mapping, optional
        Case id → case, to name the documented cases the table does not propose.
    names : mapping, optional
        Code → name of every sector (the table's); members' names are used otherwise.
    """
    label("title", lang)  # validates lang
    names_en = dict(names or {})
    for c in doc.get("candidates", []):
        for m in c["members"]:
            names_en.setdefault(m["code"], m["name"])
    view = View(lang, names_en)
    L = view.L
    t = doc["table"]
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(L('title'))} — {_e(t['table_id'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(L('title'))}</h1>",
        f"<p class='meta'>{_e(source_line(doc, view))} · {_e(L('table'))}: "
        f"<b>{_e(t['table_id'])}</b> · SHA-256: {_e((t.get('sha256') or '')[:16])}…</p>",
        f"<p class='caveat'>{_e(L('caveat'))}</p>",
        "<nav>"
        + "".join(
            f"<a href='#{a}'>{_e(L(k))}</a>"
            for a, k in (
                ("summary", "sheet_exec"),
                ("candidates", "sheet_candidates"),
                ("figures", "dendrogram"),
                ("method", "sheet_method"),
            )
        )
        + "</nav>",
    ]
    parts += _executive(doc, findings, cases or {}, view)
    parts += _chains(doc, view)
    parts.append(f"<h2 id='candidates'>{_e(L('sheet_candidates'))}</h2>")
    parts += _candidate_cards(doc, figures, view)
    parts.append("<div id='figures'></div>")
    for key, title in (
        ("dendrogram", "dendrogram"),
        ("key_sectors", "chart_quadrant"),
        ("similarity_heatmap", "heatmap"),
    ):
        if key in figures:
            parts.append(f"<h2>{_e(L(title))}</h2>{_img(figures[key][0], L(title))}")
    parts.append(f"<h2 id='method'>{_e(L('sheet_method'))}</h2><p>{_e(method_text(doc, lang))}</p>")
    notable = [f for f in findings if f["severity"] != "info"]
    if notable:
        parts.append(
            "<ul>"
            + "".join(
                f"<li><b>{_e(enum('severity', f['severity'], lang))}</b> "
                f"{_e(enum('check', f['check'], lang))}: {_e(view.finding(f))}</li>"
                for f in notable
            )
            + "</ul>"
        )
    parts.append(
        f"<p class='meta'>io_clusters {_e(doc.get('versions', {}).get('io_clusters'))}</p>"
    )
    parts.append("</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return Path(path)


def _where(
    c: Mapping[str, Any],
    rd: Mapping[str, Any] | None,
    figures: Mapping[str, Sequence[Path]],
    lang: str,
) -> list[str]:
    """Where a candidate is and where to verify it: data, note, verify_in, map, LQ bars."""
    es = lang == "es"
    out = []
    if rd and "located" in c:
        acts = "; ".join(f"{a['code']} {a['name']}" for a in c.get("regional_activities", []))
        bits = [rd.get("measure"), rd.get("year"), rd.get("prices"), rd.get("units")]
        what = ", ".join(str(b) for b in bits if b)
        out.append(
            f"<p class='meta'>{'Datos regionales' if es else 'Regional data'}: {_e(what)} — "
            f"{_e(rd.get('source'))}; {'actividad' if es else 'activity'}: {_e(acts or '—')}</p>"
        )
        state = (
            ("ubicado" if es else "located")
            if c["located"]
            else ("sin ubicar" if es else "not located")
        )
        note = (c.get("location_note") or {}).get(lang, "")
        out.append(f"<p><b>{_e(state)}</b>: {_e(note)}</p>")
    detail = c.get("verify_in_detail", [])
    if detail:
        items = []
        for d in detail:
            why = []
            if d.get("concentrated"):
                why.append(f"LQ {d['lq']:.2f}, {d['share']:.1%}")
            if d.get("cases"):
                why.append(", ".join(d["cases"]))
            items.append(f"{_e(d['department'])} ({_e('; '.join(why))})")
        out.append(f"<p><b>{'Verificar en' if es else 'Verify in'}</b>: {'; '.join(items)}</p>")
    m = figures.get(f"map_{c['id']}")
    if m:
        out.append(_img(m[0], f"{c['id']} {'mapa' if es else 'map'}"))
    bars = figures.get(f"regions_{c['id']}")
    if bars:
        out.append(_img(bars[0], f"{c['id']} {label('regions', lang)}"))
    return out
