"""Figures of the main job, as PNG and SVG (matplotlib, non-interactive Agg backend).

* ``dendrogram`` — the tree of the seed sectors with "code name" leaves, branches and
  leaves coloured by candidate (a qualitative palette without grey: grey means "in no
  candidate"), the candidate ids next to their branches, and the cut line;
* ``key_sectors`` — power vs sensitivity of dispersion with the quadrant lines at 1;
  the notable sectors (the farthest from (1, 1)) labelled with short names placed so
  that labels do not overlap; legend of the key-sector classes;
* ``similarity_heatmap`` — similarity of all sectors, ordered by the tree, with names;
* ``network_<id>`` — one per candidate (the :data:`MAX_NETWORKS` best ranked): members
  on a circle, arrows from seller to buyer (width ∝ flow), node area ∝ output, colour
  by role; wrapped names; legends for colour, size and width;
* ``regions_<id>`` — with regional data: the candidate's location quotients by region.

Sector names are never interpreted as mathematics (a ``$`` in a name is printed as is).
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
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from scipy.cluster.hierarchy import dendrogram, leaves_list

from ..clustering import ClusterResult
from ..table import IOTable
from . import atomic_path
from .i18n import code_name, display_label, enum, label, sector_names, short_names

DPI = 120
#: Dendrograms of larger trees are drawn without leaf labels, at a fixed height.
MAX_LABELLED_LEAVES = 150
#: Network figures are drawn for the best-ranked candidates only.
MAX_NETWORKS = 20
#: Key-sector plot: at most this many sectors get a name.
MAX_KEY_LABELS = 30
#: Qualitative palette without grey (grey marks sectors in no candidate): tab10 without
#: its grey, then the dark and light halves of tab20 and tab20b.


def _listed_colours(name: str) -> list[Any]:
    """Return the colours of a qualitative (listed) matplotlib colormap."""
    cmap = plt.get_cmap(name)
    if not isinstance(cmap, ListedColormap):
        raise TypeError(f"colormap {name!r} is not a listed colormap")
    return list(np.asarray(cmap.colors))


PALETTE: tuple[str, ...] = tuple(
    matplotlib.colors.to_hex(c)
    for c in (
        *[c for i, c in enumerate(_listed_colours("tab10")) if i != 7],
        *[c for i, c in enumerate(_listed_colours("tab20b")) if i % 4 in (0, 2)],
        *[c for i, c in enumerate(_listed_colours("tab20")) if i % 2 == 1 and i != 15],
    )
)
GREY = "#9E9E9E"
CLASS_COLOURS = {"key": "#C00000", "backward": "#2F75B5", "forward": "#548235", "weak": "#A6A6A6"}
ROLE_COLOURS = {"core": "#C55A11", "supporting": "#A6A6A6"}


def safe(text: Any) -> str:
    """Text for matplotlib with every ``$`` escaped, so that no mathtext is parsed."""
    return str(text).replace("$", r"\$")


def _save(fig: Any, out: Path, stem: str) -> list[Path]:
    stem = stem.replace(":", "_")  # country-sector ids ("C-PER:D24-…"): no ":" in file names
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


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def candidate_colours(res: ClusterResult) -> dict[str, str]:
    """Candidate id → colour: distinct for up to ``len(PALETTE)`` candidates, never grey."""
    return {c.id: PALETTE[k % len(PALETTE)] for k, c in enumerate(res.candidates)}


def dendrogram_figure(table: IOTable, res: ClusterResult, out: Path, lang: str) -> list[Path]:
    """Dendrogram of the seed sectors coloured by candidate, with ids and the cut line."""
    codes = list(res.tree_codes)
    cand_colour = candidate_colours(res)
    colour_of: dict[str, str] = {}
    cand_of: dict[str, str] = {}
    for c in res.candidates:
        for m in c.core:
            colour_of[m] = cand_colour[c.id]
            cand_of[m] = c.id
    n = len(codes)
    link_colour = _branch_colours(res.tree, [colour_of.get(code, GREY) for code in codes])
    names = sector_names(table.name_of, lang)
    labelled = n <= MAX_LABELLED_LEAVES
    height = max(4.0, 0.24 * n + 1.8) if labelled else 10.0
    fig, ax = plt.subplots(figsize=(11, height))
    dn = dendrogram(
        res.tree,
        orientation="left",
        labels=[safe(code_name(c, names[c], sep="  ")) for c in codes] if labelled else None,
        no_labels=not labelled,
        link_color_func=lambda k: link_colour.get(k, GREY),
        ax=ax,
        leaf_font_size=8,
    )
    _cut_line(ax, res.tree, res.diagnostics["k"], n)
    if labelled:
        for lbl in ax.get_yticklabels():
            code = lbl.get_text().split("  ")[0].replace(r"\$", "$")
            lbl.set_color(colour_of.get(code, "#404040"))
    order = [codes[i] for i in dn["leaves"] or []]
    _candidate_ids(ax, dn, order, cand_of, cand_colour)
    ax.set_xlabel("1 − " + label("similarity_word", lang))
    handles = [Line2D([], [], color=GREY, lw=2, label=label("unclustered_leaf", lang))]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.04), fontsize=8, frameon=False
    )
    ax.set_title(safe(f"{label('dendrogram', lang)} — {table.meta.table_id}"))
    fig.tight_layout()
    return _save(fig, out, "dendrogram")


def _branch_colours(tree: np.ndarray, leaf_colours: list[str]) -> dict[int, str]:
    """Return the colour of every link of ``tree``: its leaves' colour when shared, else grey."""
    n = len(leaf_colours)
    leaf_colour = dict(enumerate(leaf_colours))
    link_colour: dict[int, str] = {}
    for i, (a, b, _, _) in enumerate(tree):
        ca = leaf_colour.get(int(a), GREY) if a < n else link_colour.get(int(a), GREY)
        cb = leaf_colour.get(int(b), GREY) if b < n else link_colour.get(int(b), GREY)
        link_colour[n + i] = ca if ca == cb and ca != GREY else GREY
    return link_colour


def _cut_line(ax: Any, tree: np.ndarray, k: int, n: int) -> None:
    """Draw the cut of the tree into ``k`` groups, halfway between the two heights."""
    heights = np.sort(tree[:, 2])
    if 1 <= k < n:
        cut = (heights[n - k - 1] + heights[n - k]) / 2 if n - k < len(heights) else heights[-1]
        ax.axvline(cut, color="#C00000", linestyle="--", linewidth=1)
        ax.text(cut, ax.get_ylim()[1], f" k = {k}", color="#C00000", va="top", fontsize=8)


def _candidate_ids(
    ax: Any,
    dn: Mapping[str, Any],
    order: Sequence[str],
    cand_of: Mapping[str, str],
    cand_colour: Mapping[str, str],
) -> None:
    """Write the candidate ids next to their branches (``order``: the leaves, top down).

    Leaves are 10 units apart in scipy's layout. The highest branch drawn in a
    candidate's colour carries its id; a candidate whose members the tree keeps apart
    (cores joined by flows) gets it at its first leaf.
    """
    ys: dict[str, list[float]] = {}
    for pos, code in enumerate(order):
        if code in cand_of:
            ys.setdefault(cand_of[code], []).append(5.0 + 10.0 * pos)
    span = float(ax.get_xlim()[0])  # orientation "left": the root is on the left
    top: dict[str, tuple[float, float]] = {}
    colour_cand = {v: k for k, v in cand_colour.items()}
    for ys_, xs_, col in zip(dn["icoord"], dn["dcoord"], dn["color_list"], strict=True):
        cid = colour_cand.get(col)
        if cid is not None and (cid not in top or xs_[1] > top[cid][0]):
            top[cid] = (float(xs_[1]), float(np.mean(ys_[1:3])))
    for cid, yy in ys.items():
        x_at, y_at = top.get(cid, (0.0, min(yy)))
        ax.text(
            x_at + 0.01 * span,
            y_at + 1.5,
            cid,
            color=cand_colour[cid],
            fontsize=8,
            fontweight="bold",
            ha="right",
            va="bottom",
        )


def _place_labels(
    ax: Any, xy: np.ndarray, texts: list[str], order: np.ndarray, fontsize: float
) -> list[int]:
    """Greedy, deterministic label placement: no label overlaps a label or a point.

    Tries eight directions at two distances around each point (in display pixels);
    a label that fits nowhere is left out. Returns the indices labelled.
    """
    fig = ax.figure
    fig.canvas.draw()
    pts = ax.transData.transform(xy)
    px_per_pt = fig.dpi / 72.0
    h = fontsize * 1.25 * px_per_pt
    taken: list[tuple[float, float, float, float]] = [(x - 4, y - 4, x + 4, y + 4) for x, y in pts]
    bbox = ax.get_window_extent()
    placed = []
    for i in order:
        w = 0.6 * fontsize * px_per_pt * len(texts[i]) + 2
        x, y = pts[i]
        for dist in (5.0, 14.0, 26.0):
            done = False
            for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)):
                x0 = x + dx * dist - (w if dx < 0 else 0 if dx > 0 else w / 2)
                y0 = y + dy * dist - (h if dy < 0 else 0 if dy > 0 else h / 2)
                box = (x0, y0, x0 + w, y0 + h)
                if box[0] < bbox.x0 or box[2] > bbox.x1 or box[1] < bbox.y0 or box[3] > bbox.y1:
                    continue
                if any(
                    box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3]
                    for t in taken
                ):
                    continue
                taken.append(box)
                tx, ty = ax.transData.inverted().transform((x0, y0))
                ax.annotate(
                    safe(texts[i]),
                    xy=tuple(xy[i]),
                    xytext=(tx, ty),
                    fontsize=fontsize,
                    ha="left",
                    va="bottom",
                    arrowprops={
                        "arrowstyle": "-",
                        "color": "#808080",
                        "lw": 0.5,
                        "shrinkA": 0,
                        "shrinkB": 2,
                    },
                )
                placed.append(int(i))
                done = True
                break
            if done:
                break
    return placed


def _code_short(code: str, name: str | None, short: str) -> str:
    """Return "code short-name", or the code alone when the sector's name is its code."""
    return code if name in (None, "", code) else f"{code} {short}".strip()


def key_sector_figure(table: IOTable, lk: pd.DataFrame, out: Path, lang: str) -> list[Path]:
    """Rasmussen–Hirschman quadrant plot; notable sectors labelled with short names."""
    fig, ax = plt.subplots(figsize=(8, 7))
    x = lk["power_dispersion"].to_numpy()
    y = lk["sensitivity_dispersion"].to_numpy()
    colours = [CLASS_COLOURS.get(c, GREY) for c in lk["key_sector_class"]]
    ax.scatter(x, y, c=colours, s=30, zorder=3, edgecolors="white", linewidths=0.5)
    ax.axvline(1, color="#404040", linewidth=0.8)
    ax.axhline(1, color="#404040", linewidth=0.8)
    pad_x = 0.08 * (x.max() - x.min() + 1e-9)
    pad_y = 0.08 * (y.max() - y.min() + 1e-9)
    ax.set_xlim(min(x.min(), 1) - pad_x, max(x.max(), 1) + 4 * pad_x)
    ax.set_ylim(min(y.min(), 1) - pad_y, max(y.max(), 1) + 2 * pad_y)
    names = {str(c): str(n) for c, n in lk["name"].items()} if "name" in lk else {}
    short = short_names(names, lang, width=30) if names else {}
    texts = [_code_short(str(c), names.get(str(c)), short.get(str(c), "")) for c in lk.index]
    extremity = np.hypot(x - 1, y - 1)
    is_key = (lk["key_sector_class"].to_numpy() == "key").astype(float)
    # key sectors first, then the sectors farthest from (1, 1)
    order = np.lexsort((-extremity, -is_key))[:MAX_KEY_LABELS]
    _place_labels(ax, np.c_[x, y], texts, order, fontsize=7)
    for cls, colour in CLASS_COLOURS.items():
        ax.scatter([], [], c=colour, label=enum("key_sector_class", cls, lang))
    ax.legend(loc="upper right", fontsize=8, title=label("key_sector_class", lang))
    ax.set_xlabel(label("power", lang))
    ax.set_ylabel(label("sensitivity", lang))
    ax.set_title(safe(f"{label('chart_quadrant', lang)} — {table.meta.table_id}"))
    fig.tight_layout()
    return _save(fig, out, "key_sectors")


def heatmap_figure(table: IOTable, res: ClusterResult, out: Path, lang: str) -> list[Path]:
    """Similarity heat map, seed sectors in tree order, then supporting/other sectors."""
    seeds = [res.tree_codes[i] for i in leaves_list(res.tree)]
    order = seeds + [c for c in res.similarity.index if c not in set(seeds)]
    S = res.similarity.loc[order, order].to_numpy()
    n = len(order)
    short = short_names(table.name_of, lang, width=26)
    size = min(max(7.0, 0.2 * n + 3), 16.0)  # large tables: a fixed 16-inch image
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(S, cmap="viridis", vmin=0, vmax=1)
    step = 1 if n <= 80 else int(np.ceil(n / 60))
    ticks = list(range(0, n, step))
    names = [
        safe(_code_short(order[i], table.name_of.get(order[i]), short.get(order[i], "")))
        for i in ticks
    ]
    fs = 7 if n <= 45 else 6
    ax.set_xticks(ticks, names, rotation=90, fontsize=fs)
    ax.set_yticks(ticks, names, fontsize=fs)
    ax.axhline(len(seeds) - 0.5, color="white", linewidth=1)
    ax.axvline(len(seeds) - 0.5, color="white", linewidth=1)
    cb = fig.colorbar(im, ax=ax, shrink=0.6)
    cb.set_label(label("similarity_word", lang))
    ax.set_title(safe(f"{label('heatmap', lang)} — {table.meta.table_id}"))
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
    side = 7.0 if k <= 8 else 9.0  # room for the labels of large candidates
    fig, ax = plt.subplots(figsize=(side, side))
    off = Z.copy()
    np.fill_diagonal(off, 0)
    sizes = 300 + 2500 * x / x.max()  # marker areas, points²
    radius_pt = np.sqrt(sizes / np.pi)
    _flow_arrows(ax, pos, off, radius_pt)
    roles = {m.code: m.role for m in cand.members}
    colours = [ROLE_COLOURS.get(roles[c], GREY) for c in codes]
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=colours, zorder=3, edgecolors="white")
    _node_labels(ax, pos, codes, sector_names(table.name_of, lang), radius_pt)
    _network_legend(ax, lang)
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-2.0, 1.9)
    ax.set_aspect("equal")
    ax.axis("off")
    title = f"{cand.id} {cand.label}"
    ax.set_title(safe(_wrap(f"{title} — {label('network', lang)}", 70)), fontsize=10)
    fig.tight_layout()
    return _save(fig, out, f"network_{cand.id}")


def _flow_arrows(ax: Any, pos: np.ndarray, off: np.ndarray, radius_pt: np.ndarray) -> None:
    """Arrow from seller i to buyer j for every flow above 1 % of the largest, width ∝ flow."""
    k = len(pos)
    top = off.max() if off.max() > 0 else 1.0
    for i in range(k):
        for j in range(k):
            if i != j and off[i, j] > 0.01 * top:
                ax.add_patch(
                    FancyArrowPatch(
                        tuple(pos[i]),
                        tuple(pos[j]),
                        arrowstyle="-|>",
                        mutation_scale=14 + 6 * off[i, j] / top,
                        lw=0.5 + 6 * off[i, j] / top,
                        color="#2F75B5",
                        alpha=0.75,
                        connectionstyle="arc3,rad=0.15",
                        shrinkA=radius_pt[i] + 2,
                        shrinkB=radius_pt[j] + 3,
                        zorder=2,
                    )
                )


def _node_labels(
    ax: Any,
    pos: np.ndarray,
    codes: Sequence[str],
    names: Mapping[str, str],
    radius_pt: np.ndarray,
) -> None:
    """Label every node with its code and wrapped name, pointing away from the centre.

    Just outside the node (its radius in points): left/right by the side of the
    circle, above/below at top and bottom.
    """
    k = len(codes)
    for i, ((px, py), c) in enumerate(zip(pos, codes, strict=True)):
        ha = "center" if abs(px) < 0.05 else ("left" if px > 0 else "right")
        va = "center" if abs(py) < 0.85 else ("bottom" if py > 0 else "top")
        gap = radius_pt[i] + 4.0
        ax.annotate(
            safe(code_name(c, _wrap(names[c], 20 if k > 8 else 24), sep="\n")),
            xy=(px, py),
            xytext=(px * gap, py * gap),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=8 if k <= 8 else 7,
        )


def _network_legend(ax: Any, lang: str) -> None:
    """Legend of the network: role colours, node size, arrow width and direction."""
    handles = [
        Line2D(
            [], [], ls="", marker="o", ms=9, color=ROLE_COLOURS[r], label=label(f"legend_{r}", lang)
        )
        for r in ("core", "supporting")
    ]
    handles += [
        Line2D([], [], ls="", marker="o", ms=4, color="#7F7F7F", label=label("legend_size", lang)),
        Line2D([], [], color="#2F75B5", lw=3, label=label("legend_width", lang)),
        Line2D([], [], color="#2F75B5", lw=1, marker=">", ms=6, label=label("legend_arrow", lang)),
    ]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=3,
        fontsize=7,
        frameon=False,
    )


def regions_figure(cand: dict[str, Any], out: Path, lang: str) -> list[Path]:
    """Bar chart of a candidate's location quotients by region (LQ > 1 highlighted)."""
    rows = cand["regions"]
    names = [safe(r["region"]) for r in rows][::-1]
    lqs = [r["lq"] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(7, max(4.0, 0.25 * len(rows) + 1)))
    ax.barh(names, lqs, color=["#C55A11" if v > 1 else "#A6A6A6" for v in lqs])
    ax.axvline(1, color="#404040", linewidth=0.8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(label("lq", lang))
    ax.set_title(
        safe(_wrap(f"{cand['id']} {cand['label']} — {label('regions', lang)}", 70)), fontsize=10
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
    if len(res.tree) and len(res.tree_codes) >= 2:  # no tree: table too aggregated
        from ..mrio import focus_view  # with a focus region: its neighbourhood only

        view = focus_view(table, res)
        figs["dendrogram"] = dendrogram_figure(table, view, out, lang)
        figs["similarity_heatmap"] = heatmap_figure(table, view, out, lang)
    names_en = table.name_of
    display = sector_names(names_en, lang)
    for cand in res.candidates[:MAX_NETWORKS]:
        shown = cand.renamed(display_label(cand.label, names_en, display))
        figs[f"network_{cand.id}"] = network_figure(table, shown, out, lang)
    for entry in (doc or {}).get("candidates", [])[:MAX_NETWORKS]:
        if entry.get("regions"):
            located = dict(entry, label=display_label(entry["label"], names_en, display))
            figs[f"regions_{entry['id']}"] = regions_figure(located, out, lang)
    return figs
