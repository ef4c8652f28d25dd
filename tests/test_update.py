"""Scheduled recomputation: the whole update cycle, fetching, crashes and concurrency."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from io_clusters import IOTable, load_example, write_table
from io_clusters.update import EXIT_SOME_FAILED, UpdateLockedError, update

from .conftest import CHL08, CHL13, bcch_workbook

FAST = {"n_boot": 5, "figures": False}


def _table(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    Z = rng.uniform(1, 20, (8, 8)) * (rng.uniform(size=(8, 8)) < 0.8)
    t = IOTable.from_arrays(
        Z,
        Z.sum(0) + Z.sum(1) + rng.uniform(30, 60, 8),
        final_demand=None,
        codes=[f"s{i}" for i in range(8)],
        table_id=path.stem,
    )
    return write_table(t, path)


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_update_cycle(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    _table(raw / "alpha.csv", 1)
    write_table(load_example("eurostat_germany_1995"), raw / "beta.csv")
    bcch_workbook(raw / "gamma.xlsx")

    first = update(raw, out, run_options=FAST)
    assert [o.action for o in first.outcomes] == ["computed"] * 3 and first.exit_code == 0
    second = update(raw, out, run_options=FAST)
    assert [o.action for o in second.outcomes] == ["unchanged"] * 3
    assert "nothing to recompute" in second.lines()[-1]

    os.utime(raw / "alpha.csv", (time.time() + 100, time.time() + 100))  # touched, same bytes
    assert all(o.action == "unchanged" for o in update(raw, out, run_options=FAST).outcomes)

    _table(raw / "alpha.csv", 2)  # a revised table
    third = update(raw, out, run_options=FAST)
    assert {o.path: o.action for o in third.outcomes} == {
        "alpha.csv": "computed",
        "beta.csv": "unchanged",
        "gamma.xlsx": "unchanged",
    }
    runs = sorted((out / "alpha" / "runs").iterdir())
    assert len(runs) == 2  # the earlier run is kept
    latest = (out / "alpha" / "latest").resolve()
    assert latest == runs[-1].resolve() and (latest / "candidates.json").exists()
    assert (out / "alpha" / "LATEST").read_text(encoding="utf-8").strip().endswith(runs[-1].name)

    (raw / "broken.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    fourth = update(raw, out, run_options=FAST)
    assert fourth.exit_code == EXIT_SOME_FAILED
    assert [o.path for o in fourth.failed] == ["broken.csv"]
    assert sum(o.action == "unchanged" for o in fourth.outcomes) == 3
    m = _manifest(out)  # valid JSON throughout
    assert m["tables"]["broken.csv"]["status"] == "failed"
    assert "no known CSV layout" in m["tables"]["broken.csv"]["error"]
    assert m["tables"]["alpha.csv"]["status"] == "ok"

    changed = update(raw, out, run_options={**FAST, "seed": 9})
    assert all(o.action in ("computed", "failed") for o in changed.outcomes)
    assert "options changed" in {o.path: o.reason for o in changed.outcomes}["beta.csv"]
    dry = update(raw, out, run_options={**FAST, "seed": 10}, dry_run=True)
    assert {o.action for o in dry.outcomes} == {"would compute"}


def test_keep_prunes_old_runs_but_never_the_latest(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for seed in (1, 2, 3):
        _table(raw / "t.csv", seed)
        update(raw, out, run_options=FAST, keep=2)
    runs = sorted(p.name for p in (out / "t" / "runs").iterdir())
    assert len(runs) == 2
    assert (out / "t" / "latest").resolve().name == runs[-1]


def test_edition_comparison_chile(tmp_path, shared_io):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for name, edition in ((CHL08, "2008"), (CHL13, "2013")):
        (raw / name).write_bytes((shared_io / name).read_bytes())
        (raw / name).with_suffix(".toml").write_text(
            f'series = "chl-bcch-12"\nedition = "{edition}"\n', encoding="utf-8"
        )
    summary = update(raw, out, run_options={"n_boot": 20})
    assert summary.exit_code == 0
    latest = out / "chl-2013-bcch-12" / "latest"
    changes = json.loads((latest / "changes.json").read_text(encoding="utf-8"))
    assert changes["previous"]["edition"] == "2008" and changes["current"]["edition"] == "2013"
    # sectors with identical ISIC coverage in both activity lists (SOURCES.md lists them)
    compared = {c["current"].split(" ", 1)[1] for c in changes["comparable_sectors"]}
    assert {
        "Minería",
        "Industria manufacturera",
        "Construcción",
        "Administración pública",
    } <= compared
    merged = [r for r in changes["reclassified"] if r["previous"] == "2 Pesca"]
    assert merged and merged[0]["current"] == ["1 Agropecuario-silvícola y Pesca"]
    assert changes["summary_en"].startswith("From edition 2008 (12 sectors) to 2013 (12 sectors)")
    import openpyxl

    assert "Cambios" in openpyxl.load_workbook(latest / "candidates.xlsx").sheetnames
    assert _manifest(out)["tables"][CHL13]["changes"]["summary_en"] == changes["summary_en"]


# ----------------------------------------------------------------------------- fetching
class _Handler(http.server.BaseHTTPRequestHandler):
    good: bytes = b""
    text: bytes = b"this is not a table\n"

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        if self.path == "/good.xlsx":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(self.good)))
            self.end_headers()
            self.wfile.write(self.good)
        elif self.path == "/missing.xlsx":
            self.send_error(404, "Not Found")
        elif self.path == "/error.xlsx":
            self.send_error(500, "Server Error")
        elif self.path == "/slow.xlsx":
            time.sleep(2.5)
            self.send_error(500, "too late")
        elif self.path == "/truncated.xlsx":
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.good)))
            self.end_headers()
            self.wfile.write(self.good[: len(self.good) // 2])
        elif self.path == "/text.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.text)))
            self.end_headers()
            self.wfile.write(self.text)


@pytest.fixture
def server(tmp_path):
    _Handler.good = bcch_workbook(tmp_path / "served.xlsx").read_bytes()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_fetch_statuses_and_raw_is_never_damaged(tmp_path, server):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    existing = bcch_workbook(raw / "keep.xlsx")
    before = existing.read_bytes()
    names = ["good", "missing", "error", "slow", "truncated"]
    lines = [
        f'[[source]]\nname = "{n}"\nurl = "{server}/{n}.xlsx"\nfile = "{"keep" if n != "good" else "good"}.xlsx"\n'
        + ('layout = "bcch-mip"\nseries = "s"\nedition = "2020"\n' if n == "good" else "")
        for n in names
    ]
    lines.append(f'[[source]]\nname = "text"\nurl = "{server}/text.csv"\nfile = "keep.csv"\n')
    sources = tmp_path / "sources.toml"
    sources.write_text("\n".join(lines), encoding="utf-8")
    t0 = time.perf_counter()
    summary = update(raw, out, fetch=True, sources=sources, fetch_timeout=1.0, run_options=FAST)
    assert time.perf_counter() - t0 < 30
    status = {f["name"]: f for f in summary.fetched}
    assert status["good"]["status"] == "ok"
    assert status["missing"]["status"] == "failed" and "404" in status["missing"]["message"]
    assert status["error"]["status"] == "failed" and "500" in status["error"]["message"]
    assert status["slow"]["status"] == "failed" and "timed out" in status["slow"]["message"]
    assert status["truncated"]["status"] == "failed"
    assert status["text"]["status"] == "failed" and "not accepted" in status["text"]["message"]
    assert existing.read_bytes() == before  # nothing overwrote the good file
    assert not (raw / "keep.csv").exists()
    assert not [p for p in raw.iterdir() if p.name.startswith(".fetch-")]
    assert (raw / "good.xlsx").exists() and "series" in (raw / "good.toml").read_text(
        encoding="utf-8"
    )
    assert summary.exit_code == EXIT_SOME_FAILED
    # second fetch: the server answers 304 Not Modified to the stored ETag
    again = update(raw, out, fetch=True, sources=sources, fetch_timeout=1.0, run_options=FAST)
    assert {f["name"]: f["status"] for f in again.fetched}["good"] == "unchanged"
    assert "304" in {f["name"]: f["message"] for f in again.fetched}["good"]


def test_sources_are_checked(tmp_path):
    from io_clusters.errors import IoClustersError
    from io_clusters.fetch import load_sources

    bad = tmp_path / "s.toml"
    bad.write_text(
        '[[source]]\nname = "x"\nurl = "file:///etc/passwd"\nfile = "a.xlsx"\n', encoding="utf-8"
    )
    with pytest.raises(IoClustersError, match="only http"):
        load_sources(bad)
    bad.write_text(
        '[[source]]\nname = "x"\nurl = "http://h/a"\nfile = "../../a.xlsx"\n', encoding="utf-8"
    )
    with pytest.raises(IoClustersError, match="plain name"):
        load_sources(bad)


# ------------------------------------------------------------------ crashes and locking
def _cli(
    raw: Path, out: Path, conf: Path, env_extra: dict[str, str] | None = None
) -> subprocess.Popen:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "io_clusters.cli",
            "update",
            "--raw",
            str(raw),
            "--out",
            str(out),
            "--config",
            str(conf),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(pred, timeout=60.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("stage", ["before-run", "after-run", "before-latest"])
def test_killed_update_leaves_previous_results_intact(tmp_path, stage):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    conf = tmp_path / "run.toml"
    conf.write_text("[run]\nn_boot = 5\n", encoding="utf-8")
    _table(raw / "t.csv", 1)
    assert _cli(raw, out, conf).wait(timeout=120) == 0
    good_run = (out / "t" / "latest").resolve()
    manifest_before = _manifest(out)
    _table(raw / "t.csv", 2)
    proc = _cli(raw, out, conf, {"IO_CLUSTERS_TEST_PAUSE": f"{stage}:60"})
    runs = out / "t" / "runs"
    if stage == "before-latest":
        ready = lambda: len([p for p in runs.iterdir() if not p.name.startswith(".")]) == 2  # noqa: E731
    else:
        ready = lambda: any(p.name.startswith(".run.tmp-") for p in runs.iterdir())  # noqa: E731
    assert _wait_for(ready)
    if stage == "after-run":
        assert _wait_for(lambda: any((p / "report.html").exists() for p in runs.glob(".run.tmp-*")))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # previous results intact; latest points to a complete run; manifest valid and unchanged
    assert (out / "t" / "latest").resolve() == good_run
    assert (good_run / "candidates.json").exists() and (good_run / "candidates.xlsx").exists()
    assert _manifest(out) == manifest_before
    # the next update finishes the work (and clears the unfinished temporary directory)
    follow = _cli(raw, out, conf)
    stdout, _ = follow.communicate(timeout=120)
    assert follow.returncode == 0, stdout
    assert "computed" in stdout
    new_latest = (out / "t" / "latest").resolve()
    assert new_latest != good_run and (new_latest / "candidates.json").exists()
    assert not [p.name for p in runs.iterdir() if p.name.startswith(".")]


def test_two_updates_at_once(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    conf = tmp_path / "run.toml"
    conf.write_text("[run]\nn_boot = 5\n", encoding="utf-8")
    _table(raw / "t.csv", 1)
    first = _cli(raw, out, conf, {"IO_CLUSTERS_TEST_PAUSE": "before-run:4"})
    assert _wait_for(lambda: (out / "t" / "runs").exists())
    second = _cli(raw, out, conf)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 75
    assert "another io-clusters update is running" in err and "Traceback" not in err
    with pytest.raises(UpdateLockedError):
        update(raw, out, run_options=FAST, wait=0.2)
    assert first.wait(timeout=120) == 0
    # a waiting update gets its turn once the first has finished
    assert update(raw, out, run_options={"n_boot": 5}, wait=5).outcomes[0].action == "unchanged"


def test_new_edition_keeps_the_previous_file(tmp_path, server):
    from io_clusters.fetch import fetch_one

    raw = tmp_path / "raw"
    raw.mkdir()
    src = {"name": "g", "url": f"{server}/good.xlsx", "file": "t.xlsx", "layout": "bcch-mip"}
    assert fetch_one(src, raw, {}, timeout=5, dry_run=False)["status"] == "ok"
    first = (raw / "t.xlsx").read_bytes()

    def revise(wb):
        wb["4x4_2020"]["C12"] = 11.0
        wb["4x4_2020"]["O12"] = wb["4x4_2020"]["O12"].value + 1

    _Handler.good = bcch_workbook(tmp_path / "v2.xlsx", revise).read_bytes()
    assert fetch_one(src, raw, {}, timeout=5, dry_run=False)["status"] == "ok"
    assert (raw / "t.xlsx").read_bytes() == _Handler.good
    kept = list((raw / ".editions").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == first
