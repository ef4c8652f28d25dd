"""The executive summary's content, shared by the workbook and ``report.html``.

Everything here returns display values in the output's language; the writers only lay
them out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..evidence.catalogue import load_framework
from ..mrio import split_codes
from .i18n import (
    cepal_sector_names,
    code_name,
    display_label,
    enum,
    label,
    relabel,
    sector_names,
    translate_finding,
    translate_warning,
)

#: Torres Zorrilla's (2003) three export complexes in CEPAL's 40-sector codes
#: (METHOD.md §1.2 and §4: mining–metals, fishing, textiles).
TORRES_ZORRILLA = (
    ("tz_mining", ("s04", "s23")),
    ("tz_fishing", ("s02", "s08")),
    ("tz_textiles", ("s11", "s12")),
)


@dataclass
class View:
    """Display context of one output: language and sector names."""

    lang: str
    names_en: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = sector_names(self.names_en, self.lang)

    def L(self, key: str) -> str:
        """Return the label ``key`` in this output's language."""
        return label(key, self.lang)

    def text(self, s: Any) -> str:
        """Source-language sector names inside ``s`` replaced by display names."""
        return relabel(str(s), self.names_en, self.names) if s is not None else "—"

    @property
    def multiregional(self) -> bool:
        """True when the table's codes are "REGION:SECTOR" over two or more regions."""
        return split_codes(list(self.names_en)) is not None

    def cand_label(self, c: Mapping[str, Any]) -> str:
        """Display label of a candidate: its ``label`` in display names (the one name).

        Every sheet, the report and the figures print this (:func:`.i18n.display_label`),
        never a name rebuilt from ``chain`` or ``anchor``.
        """
        return display_label(str(c.get("label", "")), self.names_en, self.names)

    def name(self, code: str) -> str:
        """Return the display name of a sector."""
        return self.names.get(code, code)

    def code_name(self, code: str) -> str:
        """Return "code name", or the code alone when the name is the code (pymrio tables)."""
        return code_name(code, self.names.get(code))

    def warning(self, w: str) -> str:
        """Return a candidate warning in this output's language."""
        return self.text(translate_warning(w, self.lang))

    def finding(self, f: Mapping[str, Any]) -> str:
        """Return a validation finding's message in this output's language."""
        return self.text(translate_finding(f, self.lang))


def core_share(c: Mapping[str, Any]) -> float:
    """Share of the core members in total output (``core_output_share`` when given)."""
    if c.get("core_output_share") is not None:
        return float(c["core_output_share"])
    return float(sum(m["output_share"] for m in c["members"] if m["role"] == "core"))


def where_to_verify(c: Mapping[str, Any]) -> str:
    """Places to verify a candidate: the evidence's, then regions where it concentrates."""
    r = c.get("rosenfeld", {})
    places = list(c.get("verify_in") or r.get("verify_in") or r.get("regions") or [])
    conc = [g["region"] for g in c.get("regions", []) if g.get("concentrated")]
    places += [p for p in conc[:5] if p not in places]
    return "; ".join(places) or "—"


def status_words(c: Mapping[str, Any], lang: str) -> str:
    """Rosenfeld status and flags in words."""
    r = c.get("rosenfeld", {})
    words = enum("status", r.get("status", "io_only"), lang)
    flags = [enum("flag", f, lang) for f in r.get("flags", []) or []]
    return words + (f" ({'; '.join(flags)})" if flags else "")


def foreign_members_text(c: Mapping[str, Any], view: View) -> str:
    """Return the country-sectors of a candidate outside the focus region ("—" if none).

    Each is its code, followed by its display name when that differs from the code.
    """
    return "; ".join(view.code_name(code) for code in c.get("foreign_members") or []) or "—"


def stability_words(c: Mapping[str, Any], lang: str) -> str:
    """Stability reading in words, with the figure it is read from (cohesion, else Jaccard)."""
    words = enum("stability_reading", c.get("stability_reading"), lang)
    if c.get("cohesion") is not None:
        return f"{words} ({label('cohesion_word', lang)} {c['cohesion']:.2f})"
    st = c.get("stability_tree")
    st = c.get("stability") if st is None else st
    return words if st is None else f"{words} ({st:.2f})"


def unclustered_rows(
    doc: Mapping[str, Any], findings: Sequence[Mapping[str, Any]], view: View
) -> list[list[str]]:
    """Code, name and reason of every sector in no candidate (zero-output ones included)."""
    reasons = doc.get("unclustered_reasons") or {}
    services = doc.get("services") or {}
    supporting = set(doc.get("options", {}).get("supporting") or [])
    rows = []
    for code in doc.get("unclustered", []):
        key = reasons.get(code) or (
            "service_not_attached" if code in supporting or code in services else "singleton"
        )
        rows.append([code, view.name(code), enum("unclustered_reason", key, view.lang)])
    listed = {r[0] for r in rows}
    conc = cepal_sector_names()
    for f in findings:
        if f.get("check") != "zero_output":
            continue
        for code in f.get("sectors", []):
            if code in listed:
                continue
            name = view.names.get(code)
            if name is None and code in conc:
                name = conc[code]["name_es" if view.lang == "es" else "name_en"]
            rows.append([code, name or code, enum("unclustered_reason", "zero_output", view.lang)])
            listed.add(code)
    return rows


def similar_group_rows(doc: Mapping[str, Any], view: View) -> list[list[Any]]:
    """Similar-structure groups: codes, names, mean similarity within the group."""
    return [
        [
            ", ".join(g["codes"]),
            "; ".join(view.name(k) for k in g["codes"]),
            g.get("within_mean_similarity"),
        ]
        for g in doc.get("similar_structure_groups") or []
    ]


def unproposed_rows(doc: Mapping[str, Any], cases: Mapping[str, Any]) -> list[list[Any]]:
    """Documented cases the table does not propose: phase, name, region ("—" if unknown)."""
    rows = []
    for k in doc.get("evidence", {}).get("unproposed_cases", []):
        case = cases.get(k)
        rows.append(
            [case.phase if case else "—", case.name if case else k, case.region if case else "—"]
        )
    return rows


def torres_zorrilla_rows(doc: Mapping[str, Any], view: View) -> list[list[str]] | None:
    """Where Torres Zorrilla's three complexes fall, for Peruvian CEPAL 40-sector tables."""
    table = doc.get("table", {})
    conc = cepal_sector_names()
    codes = [c for _, pair in TORRES_ZORRILLA for c in pair]
    if table.get("country") not in ("PER", "Peru", "Perú") or not all(
        c in view.names_en and view.names_en[c] in (conc[c]["name_en"], conc[c]["name_es"])
        for c in codes
    ):
        return None
    where: dict[str, str] = {}
    for c in doc.get("candidates", []):
        for m in c["members"]:
            where.setdefault(m["code"], c["id"])
    rows = []
    for key, pair in TORRES_ZORRILLA:
        ids = [where.get(code) for code in pair]
        if ids[0] and ids[0] == ids[1]:
            found = view.L("tz_together").format(id=ids[0])
        elif any(ids):
            parts = ", ".join(f"{code} → {i or '—'}" for code, i in zip(pair, ids, strict=True))
            found = view.L("tz_split").format(parts=parts)
        else:
            found = view.L("tz_absent")
        rows.append([view.L(key), "; ".join(view.code_name(c) for c in pair), found])
    return rows


def dimension_names(lang: str) -> dict[str, str]:
    """Dimension id → name of the study's framework."""
    fw = load_framework()
    return {d["id"]: d["name_es" if lang == "es" else "name_en"] for d in fw["dimensions"]}


def candidate_rows(doc: Mapping[str, Any], view: View) -> list[list[Any]]:
    """One executive-summary line per candidate (see :func:`candidate_headers`)."""
    dim_name = dimension_names(view.lang)
    rows: list[list[Any]] = []
    for c in doc.get("candidates", []):
        r = c.get("rosenfeld", {})
        core = [m["code"] for m in c["members"] if m["role"] == "core"]
        rows.append(
            [
                c.get("rank", len(rows) + 1),
                f"{view.cand_label(c)}\n({c['id']})",
                "; ".join(view.code_name(k) for k in core),
                core_share(c),
                stability_words(c, view.lang),
                status_words(c, view.lang),
                where_to_verify(c),
                ", ".join(dim_name.get(d, d) for d in r.get("dimensions_unverified", [])) or "—",
            ]
        )
    return rows


#: Label keys of the columns of :func:`candidate_rows`, in order.
CANDIDATE_KEYS = (
    "rank",
    "chain",
    "core",
    "core_output_share",
    "stability_reading",
    "rosenfeld_status",
    "where_to_verify",
    "what_to_verify",
)


def candidate_headers(view: View) -> list[str]:
    """Headers of :func:`candidate_rows`."""
    return [view.L(k) for k in CANDIDATE_KEYS]


def anomaly_rows(findings: Sequence[Mapping[str, Any]], view: View) -> list[list[str]]:
    """Warnings and errors of the validation: what, message, sectors."""
    return [
        [
            f"{enum('severity', f['severity'], view.lang)}: {enum('check', f['check'], view.lang)}",
            view.finding(f),
            ", ".join(f.get("sectors", [])[:12]) or "—",
        ]
        for f in findings
        if f.get("severity") != "info"
    ]


def source_line(doc: Mapping[str, Any], view: View) -> str:
    """Citation, year, units and run date of the table, in one line."""
    from pathlib import Path

    t = doc.get("table", {})
    source = t.get("citation") or Path(str(t.get("source") or t.get("table_id"))).name
    L = view.L
    return (
        f"{L('source_citation')}: {source} · {L('year')}: {t.get('year') or '—'} · "
        f"{L('units')}: {units_text(t.get('units'), view.lang)} · {L('run_date')}: "
        f"{str(doc.get('generated') or '—')[:10]}"
    )


def units_text(units: str | None, lang: str) -> str:
    """Units in one language: "millones de … (millions of …)" gives one side of it."""
    if not units:
        return "—"
    m = re.match(r"^(.+?) \((.+)\)$", units.strip())
    if m and re.search(r"\b(million|thousand|billion|current|constant)s?\b", m.group(2)):
        return m.group(1) if lang == "es" else m.group(2)
    return units


def output_share_note(view: View) -> str | None:
    """Return what a multi-regional table's output shares are shares of (else None).

    Core output share, output share and the members' shares divide by the whole
    table's output, every region's: in a multi-regional table that is not one country's.
    """
    if not view.multiregional:
        return None
    return view.L("output_share_note").format(core=view.L("core_output_share"))


def _number(value: float, lang: str, *, percent: bool = False) -> str:
    """Return a number of the method text: "0.5" ("0,5" in Spanish), "10 %" for a share."""
    text = f"{float(value) * 100:g} %" if percent else f"{float(value):g}"
    return text.replace(".", ",") if lang == "es" else text


def _choice(prefix: str, value: Any, default: str, lang: str) -> str:
    """Return the method text's words for an option's value (the default's when unknown)."""
    try:
        return label(f"{prefix}_{value or default}", lang)
    except KeyError:
        return label(f"{prefix}_{default}", lang)


def method_text(doc: Mapping[str, Any], lang: str) -> str:
    """Return the method paragraph, every number and choice read from the run's options.

    ``doc`` is ``candidates.json``; its ``options`` give the similarity, linkage, cut,
    link, join, split and chain thresholds and the bootstrap replicates.
    """
    o = doc.get("options") or {}
    L = lambda k: label(k, lang)  # noqa: E731
    n = int(o.get("n_boot", 0) or 0)
    if n:
        reps = L("method_replicate" if n == 1 else "method_replicates").format(n=n)
        bootstrap = L("method_bootstrap").format(n_boot=reps)
    else:
        bootstrap = L("method_no_bootstrap")
    if o.get("k") is not None:
        cut = L("method_cut_k").format(value=o["k"])
    elif o.get("threshold") is not None:
        cut = L("method_cut_threshold").format(value=_number(o["threshold"], lang))
    else:
        cut = L("method_cut_similarity").format(value=_number(o.get("min_similarity", 0.5), lang))
    return L("method_text").format(
        services=_choice("method_services", o.get("services_rule"), "isic", lang),
        similarity=_choice("method_similarity", o.get("similarity"), "combined", lang),
        linkage=_choice("method_linkage", o.get("method"), "average", lang),
        cut=cut,
        link=_number(o.get("link_threshold", 0.1), lang, percent=True),
        join=_number(o.get("join_strength", 0.4), lang),
        max_core=_number(o.get("max_core_output_share", 0.2), lang, percent=True),
        bootstrap=bootstrap,
        chain=_number(o.get("chain_strength", 0.5), lang),
    )
