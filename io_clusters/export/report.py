"""``report.html``: one self-contained page for readers who never open Python.

Figures are embedded as data URIs (no external requests); the page lists the
candidates, their evidence and caveats.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..evidence.catalogue import load_framework
from . import atomic_path
from .i18n import label

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:70rem;color:#222;line-height:1.45;padding:0 1rem}
h1{color:#1F4E78;margin-bottom:.2rem}
h2{color:#1F4E78;border-bottom:2px solid #1F4E78;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
th{background:#1F4E78;color:#fff;text-align:left;padding:.35rem}
td{border-bottom:1px solid #ddd;padding:.35rem;vertical-align:top}
.caveat{background:#FFF2CC;border-left:5px solid #BF9000;padding:.7rem 1rem}
.status{padding:.1rem .45rem;border-radius:.3rem;font-weight:600;white-space:nowrap}
.io_only{background:#FFE699}.paired{background:#C6EFCE}.contradicted{background:#FFC7CE}
img{max-width:100%;height:auto;border:1px solid #eee}.meta{color:#555;font-size:.85rem}
.cand{border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;margin:1rem 0}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _e(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def write_report(
    doc: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    figures: Mapping[str, Sequence[Path]],
    path: str | Path,
    *,
    lang: str = "es",
) -> Path:
    """Write the self-contained HTML report."""
    L = lambda k: label(k, lang)  # noqa: E731
    t = doc["table"]
    sentence = "sentence_es" if lang == "es" else "sentence_en"
    fw = load_framework()
    dim_name = {d["id"]: d["name_es" if lang == "es" else "name_en"] for d in fw["dimensions"]}
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(L('title'))} — {_e(t['table_id'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(L('title'))}</h1>",
        f'<p class="meta">{_e(L("table"))}: <b>{_e(t["table_id"])}</b>'
        f" · {_e(L('units'))}: {_e(t.get('units'))}"
        f" · {_e(L('layout'))}: {_e(t.get('layout'))}"
        f" · SHA-256: {_e((t.get('sha256') or '')[:16])}…"
        f" · {_e(L('generated'))}: {_e(doc.get('generated'))}</p>",
        f'<p class="caveat">{_e(L("caveat"))}</p>',
        f"<h2>{_e(L('sheet_candidates'))}</h2>",
    ]
    cands = doc["candidates"]
    if not cands:
        parts.append(f"<p>{_e(L('no_candidates'))}</p>")
    else:
        parts.append(
            "<table><tr>"
            + "".join(
                f"<th>{_e(L(k))}</th>"
                for k in (
                    "id",
                    "label",
                    "members",
                    "score",
                    "stability",
                    "intra_flow_share",
                    "phase",
                    "rosenfeld_status",
                )
            )
            + "</tr>"
        )
        for c in cands:
            r = c.get("rosenfeld", {})
            st = r.get("status", "io_only")
            parts.append(
                f"<tr><td><a href='#{_e(c['id'])}'>{_e(c['id'])}</a></td><td>{_e(c['label'])}</td>"
                f"<td>{_e(', '.join(m['code'] for m in c['members']))}</td>"
                f"<td>{_e(c['score'])}</td>"
                f"<td>{_e(c['stability'])}</td><td>{_e(c['intra_flow_share'])}</td>"
                f"<td>{_e(r.get('phase'))}</td>"
                f"<td><span class='status {st}'>{_e(L('status_' + st))}</span></td></tr>"
            )
        parts.append("</table>")
    for c in cands:
        r = c.get("rosenfeld", {})
        st = r.get("status", "io_only")
        parts.append(
            f"<div class='cand' id='{_e(c['id'])}'><h3>{_e(c['id'])} {_e(c['label'])} "
            f"<span class='status {st}'>{_e(L('status_' + st))}</span></h3>"
        )
        parts.append(f"<p>{_e(r.get(sentence))}</p>")
        parts.append(
            f"<p class='meta'>{_e(L('geography'))} {_e(L('regions'))}: "
            f"{_e('; '.join(r.get('regions', [])) or '—')}</p>"
        )
        unv = [dim_name[d] for d in r.get("dimensions_unverified", [])]
        if unv:
            parts.append(f"<p class='meta'>{_e(L('unverified'))}: {_e(', '.join(unv))}</p>")
        parts.append(
            "<table><tr>"
            + "".join(
                f"<th>{_e(L(k))}</th>"
                for k in ("code", "name", "role", "key_sector_class", "output_share")
            )
            + "</tr>"
        )
        for m in c["members"]:
            parts.append(
                f"<tr><td>{_e(m['code'])}</td><td>{_e(m['name'])}</td><td>{_e(m['role'])}</td>"
                f"<td>{_e(m['key_sector_class'])}</td><td>{m['output_share']:.1%}</td></tr>"
            )
        parts.append("</table>")
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
            parts.append(f"<p class='meta'>{_e(L('warnings'))}: {_e('; '.join(c['warnings']))}</p>")
        net = figures.get(f"network_{c['id']}")
        if net:
            parts.append(_img(net[0], f"{c['id']} {L('network')}"))
        parts.extend(_where(c, doc.get("regional_data"), figures, lang))
        parts.append("</div>")
    for key, title in (
        ("dendrogram", "dendrogram"),
        ("key_sectors", "chart_quadrant"),
        ("similarity_heatmap", "heatmap"),
    ):
        if key in figures:
            parts.append(f"<h2>{_e(L(title))}</h2>{_img(figures[key][0], L(title))}")
    parts.append(f"<h2>{_e(L('sheet_method'))}</h2><p>{_e(L('method_text'))}</p>")
    notable = [f for f in findings if f["severity"] != "info"]
    if notable:
        parts.append(
            "<ul>"
            + "".join(
                f"<li><b>{_e(f['severity'])}</b> {_e(f['check'])}: {_e(f['message'])}</li>"
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
