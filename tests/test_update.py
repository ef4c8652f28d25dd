"""Scheduled recomputation: the whole update cycle, fetching, crashes and concurrency."""

from __future__ import annotations

import contextlib
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
    actions = {o.path: o.action for o in changed.outcomes}
    assert actions.pop("broken.csv") == "failed"
    assert len(actions) == 3 and set(actions.values()) == {"computed"}  # every good table
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
    summary = update(raw, out, fetch=True, sources=sources, fetch_timeout=1.0, run_options=FAST)
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
    conf.write_text("[run]\nn_boot = 5\nfigures = false\n", encoding="utf-8")
    _table(raw / "t.csv", 1)
    assert update(raw, out, run_options=FAST).exit_code == 0  # as run.toml says
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
    conf.write_text("[run]\nn_boot = 5\nfigures = false\n", encoding="utf-8")
    _table(raw / "t.csv", 1)
    first = _cli(raw, out, conf, {"IO_CLUSTERS_TEST_PAUSE": "before-run:4"})
    assert _wait_for(lambda: (out / "t" / "runs").exists())
    second = _cli(raw, out, conf)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 75
    assert err.count("another io-clusters update is running") == 1 and "Traceback" not in err
    with pytest.raises(UpdateLockedError):
        update(raw, out, run_options=FAST, wait=0.2)
    assert first.wait(timeout=120) == 0
    # a waiting update gets its turn once the first has finished
    assert update(raw, out, run_options=FAST, wait=5).outcomes[0].action == "unchanged"


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


# ------------------------------------------------------------ issue 18: damage and loss
def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_raw_files_with_one_table_id_keep_their_own_results(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    # an original and a revised copy: both declare table id "chl"
    _table(raw / "chl.csv", 1)
    _table(raw / "chl_revised.csv", 2)
    for name in ("chl.toml", "chl_revised.toml"):
        (raw / name).write_text('table_id = "chl"\n', encoding="utf-8")
    first = update(raw, out, run_options=FAST, keep=1)
    assert [o.action for o in first.outcomes] == ["computed", "computed"]
    assert first.outcomes[1].note and "chl.csv" in first.outcomes[1].note  # reported
    _table(raw / "chl_revised.csv", 3)  # only the revised copy changes
    second = update(raw, out, run_options=FAST, keep=1)
    assert [o.action for o in second.outcomes] == ["unchanged", "computed"]
    m = _manifest(out)["tables"]
    assert m["chl.csv"]["table_dir"] != m["chl_revised.csv"]["table_dir"]
    for key in ("chl.csv", "chl_revised.csv"):
        latest = out / m[key]["latest_run"]
        doc = json.loads((latest / "candidates.json").read_text(encoding="utf-8"))
        assert doc["table"]["sha256"] == _sha(raw / key)  # each keeps its own last good run
        assert m[key]["status"] == "ok"
    assert (out / m["chl.csv"]["table_dir"] / "latest").resolve() == (
        out / m["chl.csv"]["latest_run"]
    ).resolve()


def test_keep_below_one_is_refused(tmp_path):
    from io_clusters.errors import OptionError

    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for bad in (0, -1):
        with pytest.raises(OptionError, match="keep"):
            update(raw, out, run_options=FAST, keep=bad)
    proc = subprocess.run(
        [sys.executable, "-m", "io_clusters.cli", "update", "--raw", str(raw), "--out",
         str(out), "--keep", "-1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "--keep" in proc.stderr and "Traceback" not in proc.stderr


def test_pruning_follows_creation_order_not_the_clock(tmp_path, monkeypatch):
    from datetime import UTC, datetime

    import io_clusters.update as upd

    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    clock = iter(
        datetime(y, 1, 1, tzinfo=UTC) for y in (2026, 2027, 2020, 2021)
    )  # the clock jumps back before the third run

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return current

    monkeypatch.setattr(upd, "datetime", Clock)
    created = []
    for seed in (1, 2, 3, 4):
        current = next(clock)
        _table(raw / "t.csv", seed)
        created.append(Path(update(raw, out, run_options=FAST, keep=2).outcomes[0].run_dir).name)
    left = sorted(p.name for p in (out / "t" / "runs").iterdir())
    assert left == sorted(created[2:])  # the two created last, though named earliest
    assert [Path(r["dir"]).name for r in _manifest(out)["tables"]["t.csv"]["runs"]] == created[2:]


def test_next_update_removes_every_temporary_name(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    _table(raw / "t.csv", 1)
    update(raw, out, run_options=FAST)
    dead = 2**22 + 12345  # above the default pid_max: no such process
    debris = [
        raw / ".fetch-abc123",  # names of earlier versions
        raw / f".fetch.tmp-{dead}-x1y2.xlsx",
        raw / f".t.toml.tmp-{dead}-ab",
        out / ".manifest.json.k2j3.tmp",
        out / f".manifest.json.tmp-{dead}-zz",
        out / "t" / ".LATEST.q1w2.tmp",
        out / "t" / f".latest.tmp-{dead}-link",
        out / f".t.tmp-{dead}-abcd",
    ]
    for p in debris:
        p.write_bytes(b"partial")
    for d in ("..tmp-x.tmp-y", ".tmp-zzz", f".run.tmp-{dead}-q"):
        (out / "t" / "runs" / d).mkdir()
        (out / "t" / "runs" / d / "candidates.json").write_text("{", encoding="utf-8")
    os.symlink("runs/nowhere", out / "t" / ".latest.4242")
    assert update(raw, out, run_options=FAST).outcomes[0].action == "unchanged"
    hidden = [
        p
        for folder in (raw, out, out / "t", out / "t" / "runs")
        for p in folder.iterdir()
        if p.name.startswith(".") and p.name != ".update.lock"
    ]
    assert hidden == []


def test_sigterm_during_update_cleans_up_and_keeps_results(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    conf = tmp_path / "run.toml"
    conf.write_text("[run]\nn_boot = 5\nfigures = false\n", encoding="utf-8")
    _table(raw / "t.csv", 1)
    assert update(raw, out, run_options=FAST).exit_code == 0  # as run.toml says
    good_run = (out / "t" / "latest").resolve()
    _table(raw / "t.csv", 2)
    proc = _cli(raw, out, conf, {"IO_CLUSTERS_TEST_PAUSE": "after-run:60"})
    runs = out / "t" / "runs"
    assert _wait_for(lambda: any((p / "report.html").exists() for p in runs.glob(".run.tmp-*")))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "terminated" in err
    assert [p.name for p in runs.iterdir() if p.name.startswith(".")] == []
    assert (out / "t" / "latest").resolve() == good_run


def test_outputs_honour_the_umask(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    _table(raw / "t.csv", 1)
    old = os.umask(0o022)
    try:
        update(raw, out, run_options=FAST)
    finally:
        os.umask(old)
    latest = (out / "t" / "latest").resolve()
    assert latest.stat().st_mode & 0o777 == 0o755
    assert (latest / "candidates.json").stat().st_mode & 0o777 == 0o644
    assert (latest / "table.csv").stat().st_mode & 0o777 == 0o644
    assert (out / "manifest.json").stat().st_mode & 0o777 == 0o644
    assert (out / "t" / "LATEST").stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------ issue 18: wrong results
def test_editions_compare_as_numbers(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    _table(raw / "a.csv", 1)
    (raw / "a.toml").write_text('series = "s"\nedition = "10"\n', encoding="utf-8")
    update(raw, out, run_options=FAST)
    _table(raw / "b.csv", 2)
    (raw / "b.toml").write_text('series = "s"\nedition = "9"\n', encoding="utf-8")
    update(raw, out, run_options=FAST)
    m = _manifest(out)["tables"]
    assert "changes" not in m["b.csv"]  # 9 is earlier than 10: nothing to compare it with
    update(raw, out, run_options=FAST, force=True)
    assert _manifest(out)["tables"]["a.csv"]["changes"]["previous"] == "b.csv"


def test_manifest_paths_are_relative_to_out(tmp_path, monkeypatch):
    (tmp_path / "raw").mkdir()
    (tmp_path / "elsewhere").mkdir()
    _table(tmp_path / "raw" / "t.csv", 1)
    monkeypatch.chdir(tmp_path)
    assert update("raw", "out", run_options=FAST).outcomes[0].action == "computed"
    entry = _manifest(tmp_path / "out")["tables"]["t.csv"]
    assert not entry["latest_run"].startswith("out") and not Path(entry["latest_run"]).is_absolute()
    monkeypatch.chdir(tmp_path / "elsewhere")
    again = update("../raw", "../out", run_options=FAST)
    assert again.outcomes[0].action == "unchanged"
    assert len(_manifest(tmp_path / "out")["tables"]["t.csv"]["runs"]) == 1


def test_regional_data_and_store_are_inputs(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    _table(raw / "t.csv", 1)
    regions = tmp_path / "emp.csv"
    rows = [f"{y},{r},s{i},{10 + i + (y == 2019) * 5 * i}" for y in (2018, 2019) for r in "NS"
            for i in range(8)]  # fmt: skip
    regions.write_text("year,region,activity,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    opts = {**FAST, "regions": str(regions), "year": 2018}
    update(raw, out, run_options=opts)
    doc = json.loads((out / "t" / "latest" / "candidates.json").read_text(encoding="utf-8"))
    assert doc["regional_data"]["year"] == 2018  # the year is not dropped
    assert update(raw, out, run_options=opts).outcomes[0].action == "unchanged"
    regions.write_text(regions.read_text(encoding="utf-8").replace(",10\n", ",11\n", 1))
    edited = update(raw, out, run_options=opts).outcomes[0]
    assert edited.action == "computed" and "regions" in edited.reason
    store = tmp_path / "store.json"
    store.write_text('{"version": 1, "records": [', encoding="utf-8")  # damaged
    failed = update(raw, out, run_options={**opts, "store": str(store)}).outcomes[0]
    assert failed.action == "failed" and str(store) in failed.error  # the store is used


def test_unknown_or_misplaced_update_options_are_refused(tmp_path):
    from io_clusters.errors import OptionError

    with pytest.raises(OptionError, match="out"):
        update(tmp_path / "raw", tmp_path / "out", run_options={"out": "x"})
    with pytest.raises(OptionError, match="regions"):
        update(tmp_path / "raw", tmp_path / "out", run_options={"year": 2019})


# ------------------------------------------------------------ issue 18: damaged manifest
@pytest.mark.parametrize(
    "damage",
    ["truncate", "bom", "wrong_types", "not_an_object", "binary"],
)
def test_damaged_manifest_is_set_aside_or_repaired(tmp_path, damage):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    _table(raw / "t.csv", 1)
    update(raw, out, run_options=FAST)
    path = out / "manifest.json"
    text = path.read_text(encoding="utf-8")
    if damage == "truncate":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    elif damage == "wrong_types":
        doc = json.loads(text)
        doc["tables"]["t.csv"]["runs"] = "yesterday"
        path.write_text(json.dumps(doc), encoding="utf-8")
    elif damage == "not_an_object":
        path.write_text("[1, 2]", encoding="utf-8")
    else:
        path.write_bytes(b"\xff\xfe\x00garbage")
    damaged = path.read_bytes()
    dry = update(raw, out, run_options=FAST, dry_run=True)
    assert path.read_bytes() == damaged  # a dry run changes nothing, not even that
    assert dry.outcomes[0].action in ("unchanged", "would compute")
    summary = update(raw, out, run_options=FAST)
    assert summary.exit_code == 0
    expected = "unchanged" if damage == "bom" else "computed"
    assert summary.outcomes[0].action == expected
    if damage in ("truncate", "not_an_object", "binary"):
        assert list(out.glob("manifest.json.damaged-*"))  # kept for inspection
        assert any("set aside" in line for line in summary.lines())
    assert _manifest(out)["tables"]["t.csv"]["status"] == "ok"


# ------------------------------------------------------------------- issue 18: fetching
class _Lying(http.server.BaseHTTPRequestHandler):
    good: bytes = b""
    host: str = ""

    def log_message(self, *args):
        pass

    def handle(self):  # the client hangs up on purpose in several cases
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def do_GET(self):
        if self.path == "/bad-length.xlsx":
            self.send_response(200)
            self.send_header("Content-Length", "many")
            self.end_headers()
            self.wfile.write(self.good)
        elif self.path == "/huge.xlsx":
            self.send_response(200)
            self.send_header("Content-Length", str(300 * 2**20))
            self.end_headers()
            self.wfile.write(b"x" * 1000)
        elif self.path == "/endless.xlsx":  # no length, more than the cap
            self.send_response(200)
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"y" * 1000)
        elif self.path == "/trickle.xlsx":
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"z")
                self.wfile.flush()
                time.sleep(0.3)
        elif self.path == "/elsewhere.xlsx":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/g.xlsx")
            self.end_headers()
        elif self.path == "/same.xlsx":
            self.send_response(302)
            self.send_header("Location", "/g.xlsx")
            self.end_headers()
        elif self.path == "/g.xlsx":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(self.good)))
            self.end_headers()
            self.wfile.write(self.good)


@pytest.fixture
def lying(tmp_path):
    _Lying.good = bcch_workbook(tmp_path / "served.xlsx").read_bytes()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Lying)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _sources(path: Path, entries: list[dict]) -> Path:
    blocks = []
    for e in entries:
        body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in e.items())
        blocks.append("[[source]]\n" + body)
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def test_one_bad_source_does_not_stop_the_others(tmp_path, lying):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    sources = _sources(
        tmp_path / "sources.toml",
        [
            {"name": "length", "url": f"{lying}/bad-length.xlsx", "file": "a.xlsx"},
            {"name": "url", "url": "http://[::1/x.xlsx", "file": "b.xlsx"},
            {"name": "typed", "url": 5, "file": "c.xlsx"},
            {"name": "good", "url": f"{lying}/g.xlsx", "file": "g.xlsx", "layout": "bcch-mip"},
        ],
    )
    summary = update(raw, out, fetch=True, sources=sources, fetch_timeout=5, run_options=FAST)
    status = {f["name"]: f for f in summary.fetched}
    assert status["good"]["status"] == "ok"
    assert (
        status["length"]["status"] == "failed" and "Content-Length" in status["length"]["message"]
    )
    assert status["url"]["status"] == "failed" and "URL" in status["url"]["message"]
    assert (
        status["typed"]["status"] == "failed" and "url must be text" in status["typed"]["message"]
    )
    assert summary.exit_code == EXIT_SOME_FAILED
    assert [o.action for o in summary.outcomes] == ["computed"]  # the good table was computed
    assert _manifest(out)["sources"]["good"]["etag"] == '"v1"'  # manifest saved


def test_deleted_raw_file_is_fetched_again_and_force_ignores_etag(tmp_path, lying):
    from io_clusters.fetch import fetch_one

    raw = tmp_path / "raw"
    src = {"name": "g", "url": f"{lying}/g.xlsx", "file": "g.xlsx"}
    state: dict = {}
    assert fetch_one(src, raw, state, timeout=5, dry_run=False)["status"] == "ok"
    assert fetch_one(src, raw, state, timeout=5, dry_run=False)["status"] == "unchanged"
    (raw / "g.xlsx").unlink()  # lost locally: the stored ETag must not hide it
    assert fetch_one(src, raw, state, timeout=5, dry_run=False)["status"] == "ok"
    assert (raw / "g.xlsx").read_bytes() == _Lying.good
    (raw / "g.xlsx").write_bytes(b"damaged")
    assert fetch_one(src, raw, state, timeout=5, dry_run=False)["status"] == "ok"
    assert (raw / "g.xlsx").read_bytes() == _Lying.good
    forced = fetch_one(src, raw, state, timeout=5, dry_run=False, force=True)
    assert "304" not in forced["message"]  # a full download, compared by content


def test_fetch_deadline_size_cap_and_redirects(tmp_path, lying):
    from io_clusters.fetch import fetch_one

    raw = tmp_path / "raw"

    def get(path, **kw):
        src = {"name": path, "url": f"{lying}/{path}", "file": "f.xlsx"}
        return fetch_one(src, raw, {}, timeout=2, dry_run=False, **kw)

    slow = get("trickle.xlsx", deadline=1.0)
    assert slow["status"] == "failed" and "deadline" in slow["message"]
    huge = get("huge.xlsx")
    assert huge["status"] == "failed" and "cap" in huge["message"]
    endless = get("endless.xlsx", max_bytes=5000)
    assert endless["status"] == "failed" and "cap" in endless["message"]
    away = get("elsewhere.xlsx")
    assert away["status"] == "failed" and "localhost" in away["message"]
    assert "refused" in away["message"]
    same = get("same.xlsx")
    assert same["status"] == "ok" and "redirected" in same["message"]
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_fetch_deadline_bounds_the_wall_clock(tmp_path, lying):
    """The whole download stops at the deadline: 40 bytes at 0.3 s each would take 12 s."""
    from io_clusters.fetch import fetch_one

    src = {"name": "t", "url": f"{lying}/trickle.xlsx", "file": "f.xlsx"}
    t0 = time.perf_counter()
    slow = fetch_one(src, tmp_path / "raw", {}, timeout=2, dry_run=False, deadline=1.0)
    assert slow["status"] == "failed" and time.perf_counter() - t0 < 6


def test_damaged_state_files_fuzz(tmp_path):
    """A few cases of the state families of `make fuzz` (tests/fuzzing_state.py)."""
    from .fuzzing_state import make_base, state_case

    base = make_base(tmp_path)
    outcomes = [state_case(base, i, tmp_path) for i in range(20)]
    defects = [o for o in outcomes if o[1].startswith(("other", "hang"))]
    assert defects == []
    assert {o[0].split(":")[0] for o in outcomes} >= {"manifest.json", "store.json"}
