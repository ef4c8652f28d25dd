"""Fuzzing of the files the tool keeps: update manifest, sidecars, sources, evidence store.

Shared by tests/test_update.py and ``scripts/fuzz.py --state N``. Each case damages one
file of a finished ``update`` (byte flips, truncation, a byte-order mark, wrong-typed or
deleted JSON/TOML values, paths pointing elsewhere) and checks the invariant:

* ``update`` finishes with exit code 0 or 9, or raises a documented error with a message —
  never another exception or a hang;
* afterwards the manifest is valid JSON that loads without notes, and every table it
  records as ``ok`` has its latest run on disk, inside the output directory;
* nothing outside the case's directory is touched (a sentinel directory beside it stays);
* an evidence store is read or refused with :class:`DamagedFileError`, and a refused
  store is never rewritten; a damaged ``sources.toml`` gives failed sources or an
  :class:`OptionError`.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import warnings
from pathlib import Path
from typing import Any

from io_clusters.errors import IoClustersError

from .fuzzing import Hang, _alarm, mutate_bytes

FAST = {"n_boot": 0, "figures": False}
_WRONG: list[Any] = [
    None,
    0,
    -1,
    2.5,
    True,
    "",
    "x",
    [],
    {},
    [1, "a"],
    {"dir": 5},
    "../../sentinel",
    "/etc",
    "ok",
    "9" * 400,
]


def make_base(workdir: Path) -> Path:
    """A finished update (two tables, one series, a store) to copy for each case."""
    import numpy as np

    from io_clusters import IOTable, write_table
    from io_clusters.update import update

    base = workdir / "base"
    raw = base / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k, name in enumerate(("a", "b")):
        Z = rng.uniform(1, 20, (5, 5))
        t = IOTable.from_arrays(
            Z, Z.sum(0) + Z.sum(1) + 30, codes=[f"s{i}" for i in range(5)], table_id=f"t{k}"
        )
        write_table(t, raw / f"{name}.csv")
        (raw / f"{name}.toml").write_text(
            f'series = "s"\nedition = "{2010 + k}"\n', encoding="utf-8"
        )
    store = base / "store.json"
    store.write_text(
        json.dumps(
            {
                "version": 1,
                "records": [
                    {
                        "id": "fw-c1-00000000",
                        "candidate_id": "C1",
                        "label": "x",
                        "country": "PER",
                        "file": "f.xlsx",
                        "file_sha256": "0" * 64,
                        "table_id": "t0",
                        "sectors": ["s1"],
                        "isic": ["01"],
                        "dimensions": {"cooperation": {"phase": "II", "evidence": "e"}},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    (base / "sources.toml").write_text(
        '[[source]]\nname = "a"\nurl = "http://127.0.0.1:9/a.xlsx"\nfile = "a.xlsx"\n'
        'layout = "bcch-mip"\nedition = 2011\n\n'
        '[[source]]\nname = "b"\nurl = "https://127.0.0.1:9/b.csv"\nfile = "b.csv"\n',
        encoding="utf-8",
    )
    update(raw, base / "out", run_options=FAST)
    return base


def _mutate_json(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Replace, delete or retype one value somewhere in a JSON document."""
    try:
        doc = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                nodes.append((node, k))
                walk(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                nodes.append((node, i))
                walk(v)

    walk(doc)
    if not nodes:
        return mutate_bytes(data, rng)
    parent, key = rng.choice(nodes)
    kind = rng.choice(["retype", "delete"])
    if kind == "delete":
        del parent[key]
    else:
        parent[key] = rng.choice(_WRONG)
    return json.dumps(doc).encode(), f"json-{kind}"


def _damage(data: bytes, suffix: str, rng: random.Random) -> tuple[bytes, str]:
    roll = rng.random()
    if roll < 0.1:
        return b"\xef\xbb\xbf" + data, "bom"
    if suffix == ".json" and roll < 0.7:
        return _mutate_json(data, rng)
    if suffix == ".toml" and roll < 0.6:
        lines = data.decode("utf-8", "replace").splitlines()
        i = rng.randrange(len(lines)) if lines else 0
        value = rng.choice(["= 5", '= "x"', "= [1]", "= true", '= "2010"', "=", '= "\\u0000"'])
        if lines:
            lines[i] = lines[i].split("=")[0] + value
        return "\n".join(lines).encode(), "toml-value"
    return mutate_bytes(data, rng)


def state_case(base: Path, case: int, workdir: Path, timeout: int = 60) -> tuple[str, str]:
    """Damage one kept file of a copy of ``base`` and check the invariant."""
    from io_clusters.evidence.fieldwork import EvidenceStore
    from io_clusters.update import load_manifest, update

    rng = random.Random(f"state:{case}")
    root = workdir / f"case{case}"
    shutil.copytree(base, root / "base", symlinks=True)
    sentinel = root / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("keep", encoding="utf-8")
    raw, out = root / "base" / "raw", root / "base" / "out"
    target = rng.choice(
        [out / "manifest.json"] * 3
        + [raw / "a.toml", raw / "b.toml", root / "base/store.json", root / "base/sources.toml"]
    )
    data, kind = _damage(target.read_bytes(), target.suffix, rng)
    target.write_bytes(data)
    kind = f"{target.name}:{kind}"
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if target.name == "store.json":
                return kind, _check_store(EvidenceStore(target), data)
            if target.name == "sources.toml":
                from io_clusters.fetch import fetch_sources

                fetched = fetch_sources(target, raw, {}, timeout=1, dry_run=True)
                bad = [f for f in fetched if f["status"] == "failed"]
                return kind, "error:source refused" if bad else "ok"
            summary = update(raw, out, run_options=FAST)
            if summary.exit_code not in (0, 9):
                return kind, f"other:exit {summary.exit_code}"
            notes: list[str] = []
            manifest = load_manifest(out / "manifest.json", notes=notes)
            if notes:
                return kind, f"other:manifest left damaged: {notes[0]}"[:300]
            for key, entry in manifest["tables"].items():
                latest = entry.get("latest_run")
                if entry.get("status") == "ok":
                    if not latest or not (out / latest / "candidates.json").is_file():
                        return kind, f"other:{key} ok without its latest run"
                    if not (out / latest).resolve().is_relative_to(out.resolve()):
                        return kind, f"other:{key} latest run outside --out"
            if (sentinel / "keep.txt").read_text(encoding="utf-8") != "keep":
                return kind, "other:a file outside the output directory was touched"
            return kind, "ok" if summary.exit_code == 0 else "error:some tables failed"
    except Hang:
        return kind, "hang"
    except IoClustersError as exc:
        return kind, f"error:{type(exc).__name__}" if str(exc) else "other:empty message"
    except Exception as exc:  # the defect the fuzzer looks for
        return kind, f"other:{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        shutil.rmtree(root, ignore_errors=True)


def _check_store(store: Any, data: bytes) -> str:
    from io_clusters.errors import DamagedFileError

    try:
        store.cases()
    except DamagedFileError:
        try:
            store.add([])
        except DamagedFileError:
            pass
        if store.path.read_bytes() != data:
            return "other:a refused store was rewritten"
        return "error:DamagedFileError"
    return "ok"
