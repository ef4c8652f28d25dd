"""Maps of Peru's departments per candidate: ``map_<id>.png`` and ``.svg``.

* a **located** candidate: choropleth of its location quotient by department (diverging
  at LQ = 1), departments where it is concentrated outlined, departments of its paired
  evidence cases hatched;
* a candidate **not located**: its evidence departments only, with the note saying why
  the regional data cannot place it.

Boundaries: the package's simplified INEI departmental limits (:func:`io_clusters.geo.
boundaries`, MIT licence). When the regional data fold Callao into Lima (INEI's
departmental accounts), Callao is drawn with Lima's value and the figure says so.
Drawn with matplotlib patches (even-odd paths, so holes stay holes); no GIS stack.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from .. import geo
from . import atomic_path
from .i18n import display_label, sector_names

DPI = 120
NO_DATA = "#E7E6E6"
EVIDENCE = "#F4B183"

_TEXT = {
    "lq": ("Cociente de localización (LQ)", "Location quotient (LQ)"),
    "concentrated": (
        "concentrado (LQ > 1 y ≥ {s} de la actividad)",
        "concentrated (LQ > 1, ≥ {s})",
    ),
    "evidence": ("caso de evidencia emparejado", "paired evidence case"),
    "not_located": ("sin ubicar con estos datos", "not located with these data"),
    "callao": (
        "Los datos regionales no separan el Callao (el INEI lo incluye en Lima): el Callao se "
        "dibuja con el valor de Lima.",
        "The regional data have no Callao of their own (INEI folds it into Lima): Callao is "
        "drawn with Lima's value.",
    ),
    "boundaries": (
        "Límites departamentales: INEI, vía josedaniel-cb/limites-peru-geojson (MIT), "
        "simplificados.",
        "Department boundaries: INEI, via josedaniel-cb/limites-peru-geojson (MIT), simplified.",
    ),
    "no_data": ("sin datos", "no data"),
    "no_evidence": ("sin casos de evidencia en el Perú", "no evidence case in Peru"),
}


def _t(key: str, lang: str) -> str:
    es, en = _TEXT[key]
    return es if lang == "es" else en


def _path(rings: Sequence[np.ndarray]) -> MplPath:
    verts, codes = [], []
    for r in rings:
        verts.extend(r.tolist())
        codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 2) + [MplPath.CLOSEPOLY])
    return MplPath(np.asarray(verts), codes)


def _label_point(rings: Sequence[np.ndarray]) -> tuple[float, float]:
    """Area centroid of the largest ring (shoelace formula)."""
    best, area_best = rings[0], 0.0
    for r in rings:
        x, y = r[:, 0], r[:, 1]
        a = 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
        if abs(a) > abs(area_best):
            best, area_best = r, a
    x, y = best[:, 0], best[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    return (
        float(np.sum((x[:-1] + x[1:]) * cross) / (6 * area_best)),
        float(np.sum((y[:-1] + y[1:]) * cross) / (6 * area_best)),
    )


def department_values(regions: Sequence[Mapping[str, Any]]) -> tuple[dict[str, float], bool]:
    """LQ by INEI code from a candidate's ``regions`` rows; True when Callao took Lima's."""
    out = {}
    for r in regions:
        d = geo.department(r["region"])
        if d is not None:
            out[d.code] = float(r["lq"])
    folded = geo.CALLAO not in out and geo.LIMA in out
    if folded:
        out[geo.CALLAO] = out[geo.LIMA]
    return out, folded


def map_figure(
    cand: Mapping[str, Any],
    out: str | Path,
    *,
    lang: str = "es",
    regional_data: Mapping[str, Any] | None = None,
    min_share: float = 0.05,
) -> list[Path]:
    """Draw one candidate's map; return [png, svg].

    Parameters
    ----------
    cand : mapping
        A candidate of ``candidates.json``: ``id``, ``label``, ``located``,
        ``location_note``, ``regions``, ``verify_in_detail``.
    out : path
        Directory.
    regional_data : mapping, optional
        ``candidates.json``'s ``regional_data`` (source, year, prices, measure).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shapes = geo.boundaries()
    located = bool(cand.get("located")) and bool(cand.get("regions"))
    detail = cand.get("verify_in_detail", [])
    evidence = {d["code"]: d for d in detail if d.get("code") and d.get("cases")}
    concentrated = {d["code"] for d in detail if d.get("code") and d.get("concentrated")}
    values, folded = department_values(cand.get("regions", [])) if located else ({}, False)
    fig = plt.figure(figsize=(7.2, 9.0))
    ax = fig.add_axes((0.03, 0.17, 0.8, 0.74))
    norm = None
    cmap = plt.get_cmap("RdBu_r")
    if located and values:
        vmax = max(2.0, max(values.values()))
        norm = TwoSlopeNorm(vmin=0.0, vcenter=1.0, vmax=vmax)
    _draw_departments(ax, shapes, values, norm, cmap, located, evidence, concentrated)
    _name_departments(ax, shapes, concentrated | set(evidence))
    _frame_peru(ax)
    _map_titles(ax, cand, located, lang)
    handles = []
    if norm is not None:
        _colour_bar(fig, norm, cmap, lang)
        handles += _choropleth_handles(set(shapes) - set(values), min_share, lang)
    else:
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#A6A6A6", label=_t("not_located", lang)))
    handles.append(_evidence_handle(bool(evidence), lang))
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    notes = _map_notes(cand, regional_data or {}, located, evidence, folded, lang)
    text = "\n".join(textwrap.fill(n, 118) for n in notes)
    fig.text(0.03, 0.015, text, fontsize=6.5, va="bottom", ha="left", color="#404040")
    return _save(fig, out, f"map_{cand['id']}")


def _draw_departments(
    ax: Any,
    shapes: Mapping[str, Sequence[np.ndarray]],
    values: Mapping[str, float],
    norm: TwoSlopeNorm | None,
    cmap: Any,
    located: bool,
    evidence: Mapping[str, Any],
    concentrated: set[str],
) -> None:
    """Fill every department, hatch the evidence ones, outline the concentrated ones."""
    face: str | tuple[float, float, float, float]
    for code, rings in shapes.items():
        if norm is not None and code in values:
            face = cmap(norm(values[code]))
        elif not located and code in evidence:
            face = EVIDENCE
        else:
            face = NO_DATA
        ax.add_patch(PathPatch(_path(rings), facecolor=face, edgecolor="white", linewidth=0.6))
    for code in evidence:
        if code in shapes:
            ax.add_patch(
                PathPatch(
                    _path(shapes[code]),
                    facecolor="none",
                    edgecolor="#7F3F00",
                    hatch="///",
                    linewidth=1.2,
                )
            )
    for code in sorted(concentrated & set(shapes)):  # fixed order: reproducible files
        ax.add_patch(
            PathPatch(_path(shapes[code]), facecolor="none", edgecolor="#1F1F1F", linewidth=1.8)
        )


def _name_departments(ax: Any, shapes: Mapping[str, Sequence[np.ndarray]], named: set[str]) -> None:
    """Write the names of the ``named`` departments at their label points."""
    by_code = {d.code: d.name for d in geo.DEPARTMENTS}
    for code in sorted(named):
        if code in shapes:
            x, y = _label_point(shapes[code])
            ax.annotate(
                by_code[code],
                (x, y),
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )


def _frame_peru(ax: Any) -> None:
    """Peru's extent, the aspect of its mean latitude, no axes."""
    ax.set_xlim(-81.6, -68.4)
    ax.set_ylim(-18.6, 0.2)
    ax.set_aspect(1 / np.cos(np.radians(9.2)))
    ax.axis("off")


def _map_subtitle(cand: Mapping[str, Any], located: bool, lang: str) -> tuple[str, str]:
    """Return the line under the title (which activities, or why not located) and its colour."""
    acts_all = [a for a in cand.get("regional_activities", []) if isinstance(a, dict)]
    if located:
        sub = ("LQ de: " if lang == "es" else "LQ of: ") + "; ".join(
            f"{a['code']} {a['name']}" for a in acts_all
        )
        return sub, "#404040"
    if "located" in cand:
        broad = [f"{a['code']} «{a['name']}»" for a in acts_all if a.get("broad")]
        sub = _t("not_located", lang).capitalize()
        if broad:
            sub += (" — actividad amplia: " if lang == "es" else " — broad activity: ") + ", ".join(
                broad
            )
        return sub, "#C00000"
    return "", "#404040"


def _map_titles(ax: Any, cand: Mapping[str, Any], located: bool, lang: str) -> None:
    """Title (id and label) and, when there is one, the subtitle."""
    title = f"{cand['id']} {cand['label']}"
    ax.set_title(textwrap.shorten(title, 70, placeholder="…"), fontsize=11, loc="left", pad=18)
    sub, colour = _map_subtitle(cand, located, lang)
    if sub:
        ax.text(
            0.0,
            1.005,
            textwrap.shorten(sub, 95, placeholder="…"),
            transform=ax.transAxes,
            fontsize=8.5,
            color=colour,
            va="bottom",
        )


def _colour_bar(fig: Any, norm: TwoSlopeNorm, cmap: Any, lang: str) -> None:
    """Draw the LQ colour bar to the right of the map."""
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cax = fig.add_axes((0.84, 0.35, 0.025, 0.45))
    cb = fig.colorbar(sm, cax=cax)
    cb.set_label(_t("lq", lang), fontsize=8)
    cb.ax.tick_params(labelsize=7)


def _choropleth_handles(missing: set[str], min_share: float, lang: str) -> list[Patch]:
    """Legend entries of a choropleth: the concentration outline, "no data" when any."""
    share = f"{min_share:.0%}"
    handles = [
        Patch(
            facecolor="none",
            edgecolor="#1F1F1F",
            linewidth=1.8,
            label=_t("concentrated", lang).format(s=share),
        )
    ]
    if missing:
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#A6A6A6", label=_t("no_data", lang)))
    return handles


def _evidence_handle(any_evidence: bool, lang: str) -> Patch:
    """Legend entry of the evidence hatching (or saying there is no evidence case)."""
    if any_evidence:
        return Patch(facecolor="none", edgecolor="#7F3F00", hatch="///", label=_t("evidence", lang))
    return Patch(facecolor="none", edgecolor="none", label=_t("no_evidence", lang))


def _map_notes(
    cand: Mapping[str, Any],
    rd: Mapping[str, Any],
    located: bool,
    evidence: Mapping[str, Any],
    folded: bool,
    lang: str,
) -> list[str]:
    """Return the notes under the map: data, activity, location note, cases, Callao, limits."""
    notes = []
    acts = ", ".join(
        f"{a['code']} {a['name']}"
        for a in cand.get("regional_activities", [])
        if isinstance(a, dict)
    )
    if rd:
        bits = [rd.get("measure"), rd.get("year"), rd.get("prices"), rd.get("units")]
        what = ", ".join(str(b) for b in bits if b)
        src = rd.get("source", "")
        notes.append(("Datos: " if lang == "es" else "Data: ") + f"{what} — {src}")
        if acts:
            notes.append(("Actividad: " if lang == "es" else "Activity: ") + acts)
    if not located:
        note = (cand.get("location_note") or {}).get(lang, "")
        if note:
            notes.append(note)
    if evidence:
        notes.append(
            ("Casos: " if lang == "es" else "Cases: ")
            + "; ".join(f"{d['department']}: {', '.join(d['cases'])}" for d in evidence.values())
        )
    if folded:
        notes.append(_t("callao", lang))
    notes.append(_t("boundaries", lang))
    return notes


def _save(fig: Any, out: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{stem}.{ext}"
        with atomic_path(p) as tmp:
            meta = {"Date": None} if ext == "svg" else {"Software": None}
            fig.savefig(tmp, format=ext, dpi=DPI, metadata=meta)
        paths.append(p)
    plt.close(fig)
    return paths


def write_maps(
    doc: Mapping[str, Any],
    out: str | Path,
    *,
    lang: str = "es",
    limit: int = 20,
) -> dict[str, list[Path]]:
    """Draw ``map_<id>`` for the first ``limit`` candidates of ``doc``; name → [png, svg].

    Only when the regional data are Peru's departments (every region an INEI name).
    """
    rd = doc.get("regional_data")
    if not rd or not rd.get("peru_departments"):
        return {}
    plt.rcParams["svg.hashsalt"] = "io_clusters"
    names_en = {m["code"]: m["name"] for c in doc.get("candidates", []) for m in c["members"]}
    display = sector_names(names_en, lang)
    figs = {}
    for cand in doc.get("candidates", [])[:limit]:
        shown = dict(cand, label=display_label(cand["label"], names_en, display))
        figs[f"map_{cand['id']}"] = map_figure(
            shown, out, lang=lang, regional_data=rd, min_share=rd.get("min_share", 0.05)
        )
    return figs
