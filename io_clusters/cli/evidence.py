"""``io-clusters evidence …``: framework, cases, phase check, fieldwork template and import."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK, FileFormatError, OptionError
from ..evidence.catalogue import (
    DIMENSIONS,
    format_lines,
    load_cases,
    load_framework,
    phase_check,
)
from ..evidence.fieldwork import DEFAULT_STORE, EvidenceStore, read_fieldwork, write_template
from ._common import Subparsers

PHASE_CHECK_PREAMBLE = (
    "Phase heuristic: io_clusters' own, not the study's. The study gives no per-dimension",
    "scores and no aggregation rule; it places cases by interaction and joint action",
    "(ch. 5.1) and asks for own technology to pass from III to IV (§1.2.4). The heuristic:",
    "median of relations (counted twice: relations lead), technology, demand and",
    "institutions; a median between two phases is a range (e.g. II–III), never rounded;",
    "cooperative competition (joint action) at IV with relations at III or more reads IV;",
    "IV needs technology IV (own technology), institutions III or IV and relations III",
    "or IV, else III.",
    "The study's phase is authoritative; this only shows how far the dimensions agree.",
)


def _show_text(c: Any) -> str:
    """Return a case as readable text: every field with the study's line references."""
    lr = c.line_refs

    def refs(key: str) -> str:
        return f"  [{format_lines(lr[key])}]" if lr.get(key) else ""

    out = [f"{c.name}  ({c.id})", f"  {c.citation}; fase {c.phase or '—'}{refs('phase')}"]
    out.append(f"  país {c.country}; región: {c.region}{refs('region')}")
    if c.departments:
        out.append(f"  departamentos: {', '.join(c.departments)}")
    out.append(f"  sector: {c.sector}{refs('sector')}")
    if c.products:
        out.append(f"  productos: {', '.join(c.products)}{refs('products')}")
    if c.resource:
        out.append(f"  recurso: {c.resource}{refs('resource')}")
    out.append(f"  CIIU (io_clusters' mapping): {', '.join(c.isic)}{refs('isic')}")
    for key, title in (
        ("actors", "actors"),
        ("problems", "problems"),
        ("recommendations", "recommendations"),
    ):
        text = getattr(c, key)
        if text:
            out.append(f"  {title}: {text}{refs(key)}")
    if c.local_relations is not None:
        lrl = c.local_relations
        out.append(f"  relations in the zone: {lrl.en}  [{format_lines(lrl.lines)}]")
    for d in c.denies:
        out.append(f"  absent step (ISIC {d.isic}): «{d.quote}»  [{format_lines(d.lines)}]")
    out.append("  dimensions:")
    for d in c.dimensions:
        where = f"  [{format_lines(d.lines)}]" if d.lines else ""
        out.append(f"    {d.dimension:24} {d.phase or '—':7} {d.en}{where}")
    for n in c.notes:
        where = f"  [{format_lines(n.lines)}]" if n.lines else ""
        out.append(f"  note: {n.text}{where}")
    for o in c.outside_study:
        out.append(f"  not from the study: {o}")
    return "\n".join(out)


def _framework(args: argparse.Namespace, store: EvidenceStore) -> None:
    fw = load_framework()
    print(f"{fw['source']} (version {fw['version']})")
    for p, d in fw["phases"].items():
        print(f"  fase {p:3} {d['name_es']:17} {d['summary_es']}")
    for dim in fw["dimensions"]:
        cells = " | ".join(
            f"{p}: {dim[p]['es']}" if p in dim else f"{p}: —" for p in ("I", "II", "III", "IV")
        )
        print(f"  {dim['name_es']}: {cells}")
    print("  requisitos mínimos: " + "; ".join(r["es"] for r in fw["requirements"]))


def _list(args: argparse.Namespace, store: EvidenceStore) -> None:
    for c in (*load_cases(), *store.cases()):
        where = c.citation if c.source == "study" else c.source
        print(f"{c.id:32} {c.country} fase {c.phase or '—':7} {where:32} {c.name}")


def _show(args: argparse.Namespace, store: EvidenceStore) -> None:
    if not args.id:
        raise OptionError("evidence show needs a case id (see `io-clusters evidence list`)")
    every = {c.id: c for c in (*load_cases(), *store.cases())}
    if args.id not in every:
        raise OptionError(f"no case {args.id!r}; see `io-clusters evidence list`")
    if args.json:
        print(json.dumps(every[args.id].to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_show_text(every[args.id]))


def _phase_check(args: argparse.Namespace, store: EvidenceStore) -> None:
    rows = phase_check()
    for line in PHASE_CHECK_PREAMBLE:
        print(line)
    marks = {"agrees": "agrees with", "range": "range includes", "differs": "differs from"}
    for r in rows:
        print(
            f"  {r['case']:32} heuristic {r['heuristic_phase'] or '—':7} "
            f"{marks[r['verdict']]:14} study {r['study_phase']}"
        )
    n = len(rows)
    agree = sum(r["verdict"] == "agrees" for r in rows)
    within = sum(r["verdict"] == "range" for r in rows)
    print(
        f"The heuristic agrees with the study's phase in {agree} of {n} cases"
        + (f"; in {within} more the study's phase lies within its range" if within else "")
        + f"; it differs in {n - agree - within}."
    )


def _template(args: argparse.Namespace, store: EvidenceStore) -> None:
    if not args.path or not args.out:
        raise OptionError("usage: io-clusters evidence template RESULT.json --out fieldwork.xlsx")
    try:
        doc = json.loads(Path(args.path).read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(
            f"{args.path}: not a candidates.json written by `io-clusters run` ({exc})"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("candidates", []), list):
        raise FileFormatError(f"{args.path}: not a candidates.json (no candidates list)")
    print(
        f"wrote {write_template(doc, args.out)} ({len(doc.get('candidates', []))} candidates, "
        f"{len(DIMENSIONS)} dimensions each)"
    )


def _import(args: argparse.Namespace, store: EvidenceStore) -> None:
    if not args.path:
        raise OptionError("usage: io-clusters evidence import fieldwork.xlsx")
    records = read_fieldwork(args.path)
    n = store.add(records)
    print(f"imported {n} candidate record(s) into {store.path} ({len(records) - n} already there)")


#: The actions of ``io-clusters evidence``, in the order ``--help`` lists them.
ACTIONS: dict[str, Callable[[argparse.Namespace, EvidenceStore], None]] = {
    "framework": _framework,
    "list": _list,
    "show": _show,
    "phase-check": _phase_check,
    "template": _template,
    "import": _import,
}


def cmd_evidence(args: argparse.Namespace) -> int:
    """Run one action of ``io-clusters evidence`` on the evidence store."""
    store = EvidenceStore(Path(args.store) if args.store else DEFAULT_STORE)
    action = ACTIONS.get(args.action)
    if action is None:
        raise OptionError(f"unknown evidence action {args.action!r}")
    action(args, store)
    return EXIT_OK


def add_evidence(sub: Subparsers) -> None:
    """Register ``io-clusters evidence``."""
    p = sub.add_parser("evidence", help="qualitative evidence: framework, cases, fieldwork loop")
    p.add_argument("action", choices=list(ACTIONS))
    p.add_argument("path", nargs="?", help="RESULT.json (template) or fieldwork.xlsx (import)")
    p.add_argument("--id", help="case id for `show`")
    p.add_argument("--out", help="fieldwork workbook to write (template)")
    p.add_argument("--store", help=f"evidence store (default {DEFAULT_STORE})")
    p.add_argument("--json", action="store_true", help="`show`: the case as JSON")
    p.set_defaults(func=cmd_evidence)
