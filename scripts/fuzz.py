"""Mutation fuzzer: `make fuzz` (default 5,000 cases on 2 processes).

Seeds: the real tables in ../shared/data/io (when present) and synthetic workbooks and
CSVs in every layout. Each case mutates a seed (byte flips, truncation, zeroed or
inserted bytes, swapped / junk / deleted cells and rows inside worksheets and CSVs) and
checks the invariant of tests/fuzzing.py. Families of files other programs produce are
mutated too: CSVs re-separated by ``;`` or tabs with decimal commas, re-encoded
(Windows-1252, UTF-16 …), with line-boundary characters (U+0085, U+2028, form feed) or
control characters (BEL, NUL) in fields; workbooks with a phantom used range (one space
typed far away) or ``_x0007_``-escaped control characters in their strings. Prints the
counts and writes fuzz.json.

With ``--state N`` it also runs N cases of the state families (tests/fuzzing_state.py:
damaged update manifests, sidecars and evidence stores; default 300).

With ``--sut N`` it also runs N cases on supply-use files (default 1,000): seeds written
by ``write_sut`` (interchange CSV and xlsx, one with imported use), the same mutations,
and the invariant of ``tests.fuzzing.check_sut_file`` (``read_sut`` gives a table or a
documented error; a valid one is transformed by model D or A and written; nothing
written on failure; no hang).

Usage: python scripts/fuzz.py [--cases N] [--state N] [--sut N] [--jobs J] [--out fuzz.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SHARED_IO, bcch_workbook  # noqa: E402
from tests.fuzzing import run_case, sut_seeds  # noqa: E402

_SEEDS: list[Path] = []


def _make_seeds(tmp: Path) -> list[Path]:
    import numpy as np

    from io_clusters import IOTable, write_table

    seeds = [bcch_workbook(tmp / "bcch.xlsx")]
    rng = np.random.default_rng(0)
    for n in (5, 30):
        Z = rng.uniform(0, 50, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
        t = IOTable.from_arrays(
            Z, Z.sum(0) + Z.sum(1) + rng.uniform(1, 100, n), final_demand=rng.uniform(1, 100, n)
        )
        seeds += [write_table(t, tmp / f"ic{n}.csv"), write_table(t, tmp / f"ic{n}.xlsx")]
    if SHARED_IO.is_dir():
        for name in (
            "chile_bcch_mip_2008_12x12.xlsx",
            "chile_bcch_mip_2013_12x12.xlsx",
            "peru_cepal_lac_iot_2011_per_rows.csv",
            "chile_bcch_mip_2008_111x111.xlsx",
        ):
            seeds.append(SHARED_IO / name)
    return seeds


def _init(seeds: list[str]) -> None:
    _SEEDS[:] = [Path(s) for s in seeds]


def _case(i: int) -> tuple[str, str, str, float]:
    seed = _SEEDS[i % len(_SEEDS)]
    if "111x111" in seed.name and i % 8:  # the big workbook is slow to read: 1 case in 8
        seed = _SEEDS[(i + 1) % len(_SEEDS)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        kind, outcome = run_case(seed, i, Path(d), full_run=i % 4 == 0)
    return seed.name, kind, outcome, time.perf_counter() - t0


# ------------------------------------------------------------------ state families
_STATE: dict[str, Path] = {}


def _state_init() -> None:
    import logging

    from tests.fuzzing_state import make_base

    logging.getLogger("io_clusters").setLevel(logging.ERROR)  # damage is expected here
    tmp = Path(tempfile.mkdtemp(prefix="io-clusters-fuzz-state-"))
    _STATE["base"], _STATE["work"] = make_base(tmp), tmp


def _state_case(i: int) -> tuple[str, str, float]:
    from tests.fuzzing_state import state_case

    t0 = time.perf_counter()
    kind, outcome = state_case(_STATE["base"], i, _STATE["work"])
    return kind, outcome, time.perf_counter() - t0


def run_state_families(cases: int, jobs: int) -> dict[str, object]:
    """Damaged manifests, sidecars and evidence stores; returns the summary."""
    t0 = time.perf_counter()
    with mp.Pool(jobs, initializer=_state_init) as pool:
        results = pool.map(_state_case, range(cases), chunksize=10)
    others = [r for r in results if r[1].startswith("other")]
    return {
        "cases": len(results),
        "seconds": round(time.perf_counter() - t0, 1),
        "handled": sum(not r[1].startswith(("other", "hang")) for r in results),
        "other_exceptions": len(others),
        "hangs": sum(r[1] == "hang" for r in results),
        "outcomes": dict(collections.Counter(r[1] for r in results).most_common()),
        "kinds": dict(collections.Counter(r[0].split(":")[0] for r in results).most_common()),
        "defects": [list(r[:2]) for r in others[:50]],
    }


# ------------------------------------------------------------------ supply-use files
def _sut_case(i: int) -> tuple[str, str, str, float]:
    seed = _SEEDS[i % len(_SEEDS)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        kind, outcome = run_case(seed, i, Path(d), sut=True)
    return seed.name, kind, outcome, time.perf_counter() - t0


def run_sut_families(cases: int, jobs: int) -> dict[str, object]:
    """Damaged supply-use files (CSV and xlsx seeds of ``write_sut``); returns the summary."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = [str(s) for s in sut_seeds(Path(tmp))]
        with mp.Pool(jobs, initializer=_init, initargs=(seeds,)) as pool:
            results = pool.map(_sut_case, range(cases), chunksize=20)
    others = [r for r in results if r[2].startswith("other")]
    errors = collections.Counter(r[2] for r in results if r[2].startswith("error:"))
    return {
        "cases": len(results),
        "seconds": round(time.perf_counter() - t0, 1),
        "correct_tables": sum(r[2] == "table" for r in results),
        "documented_errors": sum(errors.values()),
        "other_exceptions": len(others),
        "hangs": sum(r[2] == "hang" for r in results),
        "outputs_on_failure": sum(r[2] == "output-on-failure" for r in results),
        "slowest_case_seconds": round(max((r[3] for r in results), default=0), 2),
        "error_classes": dict(errors.most_common()),
        "mutation_kinds": dict(collections.Counter(r[1] for r in results).most_common()),
        "seeds": [Path(s).name for s in seeds],
        "defects": [list(r[:3]) for r in others[:50]],
    }


def _print_sut(sut: dict[str, object]) -> None:
    print(f"supply-use cases      {sut['cases']}  ({sut['seconds']:.0f} s)")
    print(f"  correct tables      {sut['correct_tables']}")
    print(f"  documented errors   {sut['documented_errors']}")
    print(f"  other exceptions    {sut['other_exceptions']}  (must be 0)")
    print(f"  hangs               {sut['hangs']}  (must be 0)")
    print(f"  outputs on failure  {sut['outputs_on_failure']}  (must be 0)")
    for cls, n in sut["error_classes"].items():
        print(f"    {cls:32} {n}")
    for d in sut["defects"][:10]:
        print("DEFECT", d)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="fuzz.json")
    ap.add_argument("--state", type=int, default=300, help="cases of the state families")
    ap.add_argument("--sut", type=int, default=1000, help="cases on supply-use files")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = _make_seeds(Path(tmp))
        with mp.Pool(args.jobs, initializer=_init, initargs=([str(s) for s in seeds],)) as pool:
            results = pool.map(_case, range(args.cases), chunksize=20)
    elapsed = time.perf_counter() - t0
    counts = collections.Counter(
        "table"
        if o == "table"
        else o.split(":")[0]
        if not o.startswith("error:")
        else "documented error"
        for _, _, o, _ in results
    )
    errors = collections.Counter(o for _, _, o, _ in results if o.startswith("error:"))
    others = [r for r in results if r[2].startswith("other")]
    summary = {
        "cases": len(results),
        "seconds": round(elapsed, 1),
        "correct_tables": counts.get("table", 0),
        "documented_errors": counts.get("documented error", 0),
        "other_exceptions": len(others),
        "hangs": counts.get("hang", 0),
        "outputs_on_failure": counts.get("output-on-failure", 0),
        "slowest_case_seconds": round(max((r[3] for r in results), default=0), 2),
        "error_classes": dict(errors.most_common()),
        "mutation_kinds": dict(collections.Counter(k for _, k, _, _ in results).most_common()),
        "seeds": [s.name for s in seeds],
        "defects": [list(r[:3]) for r in others[:50]],
    }
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"cases tried           {summary['cases']}  ({elapsed:.0f} s, {args.jobs} processes)")
    print(f"correct tables        {summary['correct_tables']}")
    print(f"documented errors     {summary['documented_errors']}")
    print(f"other exceptions      {summary['other_exceptions']}  (must be 0)")
    print(f"hangs                 {summary['hangs']}  (must be 0)")
    print(f"outputs on failure    {summary['outputs_on_failure']}  (must be 0)")
    for cls, n in errors.most_common():
        print(f"    {cls:32} {n}")
    for d in summary["defects"][:10]:
        print("DEFECT", d)
    bad = summary["other_exceptions"] + summary["hangs"] + summary["outputs_on_failure"]
    if args.state:
        state = run_state_families(args.state, args.jobs)
        summary["state_families"] = state
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"state cases           {state['cases']}  ({state['seconds']:.0f} s)")
        print(f"  handled             {state['handled']}")
        print(f"  other exceptions    {state['other_exceptions']}  (must be 0)")
        print(f"  hangs               {state['hangs']}  (must be 0)")
        for d in state["defects"][:10]:
            print("DEFECT", d)
        bad += state["other_exceptions"] + state["hangs"]
    if args.sut:
        sut = run_sut_families(args.sut, args.jobs)
        summary["sut_families"] = sut
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        _print_sut(sut)
        bad += sut["other_exceptions"] + sut["hangs"] + sut["outputs_on_failure"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
