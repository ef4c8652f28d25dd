"""Figures of the main job, as PNG and SVG (matplotlib, non-interactive Agg backend).

* ``dendrogram`` — the tree of the seed sectors, branches coloured by candidate, with
  the cut line;
* ``key_sectors`` — power vs sensitivity of dispersion with the quadrant lines at 1,
  labelled by sector code;
* ``similarity_heatmap`` — similarity of all sectors, ordered by the tree;
* ``network_<id>`` — one per candidate (the :data:`MAX_NETWORKS` best ranked): members
  on a circle, arrows for the flows between them (width ∝ flow), node area ∝ output;
* ``regions_<id>`` — with regional data: the candidate's location quotients by region.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import dendrogram, leaves_list

from ..clustering import ClusterResult
from ..table import IOTable
from . import atomic_path
from .i18n import label

DPI = 120
#: Dendrograms of larger trees are drawn without leaf labels, at a fixed height.
MAX_LABELLED_LEAVES = 150
#: Network figures are drawn for the best-ranked candidates only.
MAX_NETWORKS = 20
PALETTE = plt.get_cmap("tab10").colors
CLASS_COLOURS = {"key": "#C00000", "backward": "#2F75B5", "forward": "#548235", "weak": "#A6A6A6"}


def _save(fig: Any, out: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{stem}.{ext}"
        with atomic_path(p) as tmp:
            # metadata without dates keeps SVG output identical from run to run
            meta = {"Date": None} if ext == "svg" else {"Software": None}
            fig.savefig(tmp, format=ext, dpi=DPI, bbox_inches=None, metadata=meta)
        paths.append(p)
    plt.close(fig)
    return paths


def _short(name: str, n: int = 28) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def dendrogram_figure(table: IOTable, res: ClusterResult, out: Path, lang: str) -> list[Path]:
    """Dendrogram of the seed sectors coloured by candidate, with the cut line."""
    codes = list(res.tree_codes)
    colour_of = {}
    for k, c in enumerate(res.candidates):
        for m in c.core:
            colour_of[m] = matplotlib.colors.to_hex(PALETTE[k % len(PALETTE)])
    n = len(codes)
    leaf_colour = {i: colour_of.get(codes[i], "#808080") for i in range(n)}
    link_colour: dict[int, str] = {}
    for i, (a, b, _, _) in enumerate(res.tree):
        ca = leaf_colour.get(int(a)) if a < n else link_colour.get(int(a))
        cb = leaf_colour.get(int(b)) if b < n else link_colour.get(int(b))
        link_colour[n + i] = ca if ca == cb and ca != "#808080" else "#808080"
    names = table.name_of
    labelled = n <= MAX_LABELLED_LEAVES
    height = max(4.0, 0.22 * n + 1.5) if labelled else 10.0
    fig, ax = plt.subplots(figsize=(10, height))
    dendrogram(
        res.tree,
        orientation="right",
        labels=[f"{c} {_short(names[c])}" for c in codes] if labelled else None,
        no_labels=not labelled,
        link_color_func=lambda k: link_colour.get(k, "#808080"),
        ax=ax,
        leaf_font_size=8,
    )
    k = res.diagnostics["k"]
    heights = np.sort(res.tree[:, 2])
    if 1 <= k < n:
        cut = (heights[n - k - 1] + heights[n - k]) / 2 if n - k < len(heights) else heights[-1]
        ax.axvline(cut, color="#C00000", linestyle="--", linewidth=1)
        ax.text(cut, ax.get_ylim()[1], f" k = {k}", color="#C00000", va="top", fontsize=8)
    for lbl in ax.get_yticklabels():
        code = lbl.get_text().split(" ")[0]
        lbl.set_color(colour_of.get(code, "#404040"))
    ax.set_xlabel("1 − " + ("similitud" if lang == "es" else "similarity"))
    ax.set_title(f"{label('dendrogram', lang)} — {table.meta.table_id}")
    fig.tight_layout()
    return _save(fig, out, "dendrogram")


def key_sector_figure(table: IOTable, lk: pd.DataFrame, out: Path, lang: str) -> list[Path]:
    """Rasmussen–Hirschman quadrant plot, labelled by code."""
    fig, ax = plt.subplots(figsize=(8, 7))
    x = lk["power_dispersion"].to_numpy()
    y = lk["sensitivity_dispersion"].to_numpy()
    colours = [CLASS_COLOURS[c] for c in lk["key_sector_class"]]
    ax.scatter(x, y, c=colours, s=30, zorder=3)
    labelled = np.arange(len(x))
    if len(x) > MAX_LABELLED_LEAVES:  # large tables: label the 40 most extreme sectors
        labelled = np.argsort(-np.hypot(x - 1, y - 1))[:40]
    for i in labelled:
        ax.annotate(
            str(lk.index[i]), (x[i], y[i]), xytext=(3, 3), textcoords="offset points", fontsize=7
        )
    ax.axvline(1, color="#404040", linewidth=0.8)
    ax.axhline(1, color="#404040", linewidth=0.8)
    for cls, colour in CLASS_COLOURS.items():
        ax.scatter([], [], c=colour, label=cls)
    ax.legend(loc="best", fontsize=8, title=label("key_sector_class", lang))
    ax.set_xlabel(label("power", lang))
    ax.set_ylabel(label("sensitivity", lang))
    ax.set_title(f"{label('chart_quadrant', lang)} — {table.meta.table_id}")
    fig.tight_layout()
    return _save(fig, out, "key_sectors")


def heatmap_figure(table: IOTable, res: ClusterResult, out: Path, lang: str) -> list[Path]:
    """Similarity heat map, seed sectors in tree order, then supporting/other sectors."""
    seeds = [res.tree_codes[i] for i in leaves_list(res.tree)]
    order = seeds + [c for c in res.similarity.index if c not in set(seeds)]
    S = res.similarity.loc[order, order].to_numpy()
    n = len(order)
    size = min(max(6.0, 0.16 * n + 2), 14.0)  # large tables: a fixed 14-inch image
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(S, cmap="viridis", vmin=0, vmax=1)
    step = 1 if n <= 80 else int(np.ceil(n / 60))
    ax.set_xticks(range(0, n, step), [order[i] for i in range(0, n, step)], rotation=90, fontsize=6)
    ax.set_yticks(range(0, n, step), [order[i] for i in range(0, n, step)], fontsize=6)
    ax.axhline(len(seeds) - 0.5, color="white", linewidth=1)
    ax.axvline(len(seeds) - 0.5, color="white", linewidth=1)
    fig.colorbar(im, ax=ax, shrink=0.7)
    ax.set_title(f"{label('heatmap', lang)} — {table.meta.table_id}")
    fig.tight_layout()
    return _save(fig, out, "similarity_heatmap")


def network_figure(table: IOTable, cand: Any, out: Path, lang: str) -> list[Path]:
    """Draw the internal flows of one candidate: nodes on a circle, arrows ∝ flows."""
    codes = list(cand.codes)
    Z = table.Z.loc[codes, codes].to_numpy()
    x = table.x.loc[codes].to_numpy()
    k = len(codes)
    theta = np.linspace(0, 2 * np.pi, k, endpoint=False) + np.pi / 2
    pos = np.c_[np.cos(theta), np.sin(theta)]
    fig, ax = plt.subplots(figsize=(7, 7))
    off = Z.copy()
    np.fill_diagonal(off, 0)
    top = off.max() if off.max() > 0 else 1.0
    for i in range(k):
        for j in range(k):
            if i != j and off[i, j] > 0.01 * top:
                ax.annotate(
                    "",
                    xy=pos[j] * 0.9,
                    xytext=pos[i] * 0.9,
                    arrowprops={
                        "arrowstyle": "-|>",
                        "lw": 0.5 + 6 * off[i, j] / top,
                        "color": "#2F75B5",
                        "alpha": 0.7,
                        "connectionstyle": "arc3,rad=0.15",
                    },
                )
    sizes = 300 + 2500 * x / x.max()
    roles = {m.code: m.role for m in cand.members}
    colours = ["#C55A11" if roles[c] == "core" else "#A6A6A6" for c in codes]
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=colours, zorder=3, edgecolors="white")
    names = table.name_of
    for (px, py), c in zip(pos, codes, strict=True):
        ax.text(
            px * 1.22,
            py * 1.22,
            f"{c}\n{_short(names[c], 24)}",
            ha="center",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{cand.id} {_short(cand.label, 40)} — {label('network', lang)}")
    fig.tight_layout()
    return _save(fig, out, f"network_{cand.id}")


def regions_figure(cand: dict[str, Any], out: Path, lang: str) -> list[Path]:
    """Bar chart of a candidate's location quotients by region (LQ > 1 highlighted)."""
    rows = cand["regions"]
    names = [r["region"] for r in rows][::-1]
    lqs = [r["lq"] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(7, max(4.0, 0.25 * len(rows) + 1)))
    ax.barh(names, lqs, color=["#C55A11" if v > 1 else "#A6A6A6" for v in lqs])
    ax.axvline(1, color="#404040", linewidth=0.8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(label("lq", lang))
    ax.set_title(
        f"{cand['id']} {_short(cand['label'], 40)} — {label('regions', lang)}", fontsize=10
    )
    fig.tight_layout()
    return _save(fig, out, f"regions_{cand['id']}")


def write_figures(
    table: IOTable,
    lk: pd.DataFrame,
    res: ClusterResult,
    out: str | Path,
    *,
    lang: str = "es",
    doc: dict[str, Any] | None = None,
) -> dict[str, list[Path]]:
    """Write every figure into ``out`` (created); returns name → [png, svg]."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "io_clusters"  # stable element ids in SVG
    figs = {"key_sectors": key_sector_figure(table, lk, out, lang)}
    if len(res.tree):  # no tree when the table is too aggregated for candidates
        figs["dendrogram"] = dendrogram_figure(table, res, out, lang)
        figs["similarity_heatmap"] = heatmap_figure(table, res, out, lang)
    for cand in res.candidates[:MAX_NETWORKS]:
        figs[f"network_{cand.id}"] = network_figure(table, cand, out, lang)
    for cand in (doc or {}).get("candidates", [])[:MAX_NETWORKS]:
        if cand.get("regions"):
            figs[f"regions_{cand['id']}"] = regions_figure(cand, out, lang)
    return figs
