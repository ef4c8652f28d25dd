"""``io-clusters evidence …``: framework, cases, fieldwork template and import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import OptionError
from .catalogue import DIMENSIONS, load_cases, load_framework, phase_check
from .fieldwork import DEFAULT_STORE, EvidenceStore, read_fieldwork, write_template


def _cmd(args: Any) -> int:
    store = EvidenceStore(Path(args.store) if args.store else DEFAULT_STORE)
    action = args.action
    if action == "framework":
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
        return 0
    if action == "list":
        for c in load_cases():
            print(f"{c.id:32} {c.country} fase {c.phase:3} {c.citation:32} {c.name}")
        for c in store.cases():
            print(f"{c.id:32} {c.country} fase {c.phase:3} {c.source:32} {c.name}")
        return 0
    if action == "show":
        if not args.id:
            raise OptionError("evidence show needs a case id (see `io-clusters evidence list`)")
        every = {c.id: c for c in (*load_cases(), *store.cases())}
        if args.id not in every:
            raise OptionError(f"no case {args.id!r}; see `io-clusters evidence list`")
        print(json.dumps(every[args.id].to_dict(), indent=2, ensure_ascii=False))
        return 0
    if action == "phase-check":
        rows = phase_check()
        for r in rows:
            mark = "=" if r["agrees"] else "≠"
            print(f"{r['case']:32} study {r['study_phase']:3} {mark} rule {r['rule_phase']}")
        agree = sum(r["agrees"] for r in rows)
        print(f"{agree} of {len(rows)} cases: the rule reproduces the study's phase")
        return 0
    if action == "template":
        if not args.path or not args.out:
            raise OptionError(
                "usage: io-clusters evidence template RESULT.json --out fieldwork.xlsx"
            )
        doc = json.loads(Path(args.path).read_text(encoding="utf-8"))
        print(
            f"wrote {write_template(doc, args.out)} ({len(doc.get('candidates', []))} candidates, "
            f"{len(DIMENSIONS)} dimensions each)"
        )
        return 0
    if action == "import":
        if not args.path:
            raise OptionError("usage: io-clusters evidence import fieldwork.xlsx")
        records = read_fieldwork(args.path)
        n = store.add(records)
        print(
            f"imported {n} candidate record(s) into {store.path} ({len(records) - n} already there)"
        )
        return 0
    raise OptionError(f"unknown evidence action {action!r}")


def add_cli(sub: Any) -> None:
    """Register ``io-clusters evidence``."""
    p = sub.add_parser("evidence", help="qualitative evidence: framework, cases, fieldwork loop")
    p.add_argument(
        "action", choices=["framework", "list", "show", "phase-check", "template", "import"]
    )
    p.add_argument("path", nargs="?", help="RESULT.json (template) or fieldwork.xlsx (import)")
    p.add_argument("--id", help="case id for `show`")
    p.add_argument("--out", help="fieldwork workbook to write (template)")
    p.add_argument("--store", help=f"evidence store (default {DEFAULT_STORE})")
    p.set_defaults(func=_cmd)
