"""Publishing a run (issue 18): whole sets, inputs never overwritten, modes, signals, disks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from io_clusters import load_example, run, write_table
from io_clusters.errors import OutputError

EXAMPLE = "example:eurostat_germany_1995"
NAMES = {"table.csv", "validation.json", "linkages.csv", "candidates.json", "candidates.xlsx"}
DIFFER = ("candidates.json", "candidates.xlsx", "report.html")  # differ between two runs


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "io_clusters.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        **kw,
    )


def _generated(out: Path) -> str:
    return json.loads((out / "candidates.json").read_text(encoding="utf-8"))["generated"]


def _one_set(out: Path, before: dict[str, bytes]) -> str:
    """Return "old" or "new" when every output is of one run; fail on a mix."""
    same = {name: (out / name).read_bytes() == data for name, data in before.items()}
    assert len(set(same.values())) == 1, f"a mix of two runs: {same}"
    return "old" if all(same.values()) else "new"


def test_a_crash_mid_publish_never_leaves_a_mix(tmp_path, monkeypatch):
    t = load_example("eurostat_germany_1995")
    out = tmp_path / "out"
    run(t, out=out, seed=1, n_boot=10, lang="en")
    before = {n: (out / n).read_bytes() for n in DIFFER}
    figures_before = sorted(p.name for p in (out / "figures").iterdir())
    real_replace, real_rename = os.replace, os.rename
    moved = []

    def crashing(move):
        def wrapper(src, dst, *a, **kw):
            result = move(src, dst, *a, **kw)
            if Path(dst).resolve().parent == out.resolve() or Path(dst) == out:
                moved.append(dst)
                if len(moved) == 4:  # the machine dies after the fourth move into --out
                    raise SystemExit("killed")
            return result

        return wrapper

    monkeypatch.setattr(os, "replace", crashing(real_replace))
    monkeypatch.setattr(os, "rename", crashing(real_rename))
    try:
        run(t, out=out, seed=2, n_boot=10, lang="es")  # different language: every file differs
    except SystemExit:
        pass
    monkeypatch.undo()
    _one_set(out, before)
    assert sorted(p.name for p in (out / "figures").iterdir()) == figures_before


def test_replacing_keeps_foreign_files_and_drops_stale_outputs(tmp_path):
    t = load_example("eurostat_germany_1995")
    out = tmp_path / "out"
    run(t, out=out, seed=1, n_boot=10)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "changes.json").write_text("{}", encoding="utf-8")  # an output of an older run
    run(t, out=out, seed=1, n_boot=10, figures=False)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "changes.json").exists() and not (out / "figures").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_killed_between_two_renames_restores_the_old_set(tmp_path):
    """Without renameat2 the old set is renamed aside first; a kill there is repaired."""
    t = load_example("eurostat_germany_1995")
    out = tmp_path / "out"
    run(t, out=out, seed=1, n_boot=10)
    before = {n: (out / n).read_bytes() for n in DIFFER}
    script = textwrap.dedent(
        f"""
        import os
        import io_clusters.publish as pub
        from io_clusters import load_example, run
        pub._exchange = lambda a, b: False  # a system without renameat2
        real = os.rename
        def rename(src, dst):
            real(src, dst)
            if ".old-" in str(dst):
                os._exit(9)  # SIGKILL-like: no cleanup at all
        os.rename = rename
        run(load_example("eurostat_germany_1995"), out={str(out)!r}, seed=2, n_boot=10)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False, timeout=300)
    assert proc.returncode == 9
    assert not out.exists()  # the dangerous moment: the old set is aside
    from io_clusters.publish import clean_stale

    clean_stale(tmp_path)  # what the next run in this directory does first
    assert _one_set(out, before) == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_output_that_is_an_input_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    table = write_table(load_example("eurostat_germany_1995"), out / "table.csv")
    before = table.read_bytes()
    proc = _cli("run", str(table), "--out", str(out), "--n-boot", "5")
    assert proc.returncode == 10, proc.stderr
    assert "would be overwritten" in proc.stderr and "Traceback" not in proc.stderr
    assert table.read_bytes() == before
    with pytest.raises(OutputError, match="overwritten"):
        run(out / "table.csv", out=out, n_boot=5)
    assert table.read_bytes() == before


def test_run_outputs_honour_the_umask_and_keep_modes(tmp_path):
    t = load_example("eurostat_germany_1995")
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        run(t, out=out, seed=1, n_boot=5)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755
    assert (out / "figures").stat().st_mode & 0o777 == 0o755
    for name in NAMES:
        assert (out / name).stat().st_mode & 0o777 == 0o644, name
    figures = list((out / "figures").iterdir())
    assert figures and all(f.stat().st_mode & 0o777 == 0o644 for f in figures)
    old = os.umask(0o077)  # a stricter umask does not take readable files away
    try:
        run(t, out=out, seed=2, n_boot=5)
    finally:
        os.umask(old)
    assert (out / "candidates.json").stat().st_mode & 0o777 == 0o644
    assert out.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])  # fmt: skip
def test_signals_during_run_give_one_line_and_no_debris(tmp_path, sig, code, word):
    from .conftest import planted_blocks

    table = write_table(planted_blocks(40), tmp_path / "planted.csv")  # ~5 s per 100 replicates
    out = tmp_path / "res" / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "io_clusters.cli", "run", str(table), "--out", str(out),
         "--n-boot", "5000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    parent = out.parent
    t0 = time.time()
    while time.time() - t0 < 120:
        if parent.exists() and any(p.name.startswith(".out.tmp-") for p in parent.iterdir()):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the run never started writing")
    time.sleep(1.0)  # well inside the bootstrap
    assert proc.poll() is None, "the run ended before the signal"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and word in err
    assert len([line for line in err.splitlines() if line.startswith("io-clusters:")]) == 1
    assert list(parent.iterdir()) == []  # no hidden work directory, no half output


# ------------------------------------------------------------------ disks and file systems
@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs mounted for the test (root only); skipped where mounting is refused."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()

    def mount(*options: str) -> Path:
        opts = ",".join(options)
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mnt)],
            capture_output=True,
            check=False,
        )
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
        return mnt

    yield mount
    subprocess.run(["umount", str(mnt)], capture_output=True, check=False)


def test_read_only_output_is_exit_10(tmpfs):
    mnt = tmpfs("size=1m")
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    proc = _cli("run", EXAMPLE, "--out", str(mnt / "res"), "--n-boot", "5")
    assert proc.returncode == 10, proc.stderr
    assert "read-only" in proc.stderr.lower() and "Traceback" not in proc.stderr


def test_full_disk_is_exit_10_and_leaves_nothing(tmpfs):
    mnt = tmpfs("size=64k")
    proc = _cli("run", EXAMPLE, "--out", str(mnt / "res"), "--n-boot", "5")
    assert proc.returncode == 10, proc.stderr
    assert "disk is full" in proc.stderr and "Traceback" not in proc.stderr
    assert list(mnt.iterdir()) == []


def test_out_that_is_a_file_or_too_long(tmp_path, capsys):
    from io_clusters.cli import main

    f = tmp_path / "results"
    f.write_text("x", encoding="utf-8")
    for out, needle in (
        (f, "is a file"),
        (tmp_path / ("x" * 300), "shorter"),
        (f / "sub", "not a directory"),
    ):
        assert main(["run", EXAMPLE, "--out", str(out), "--n-boot", "5"]) == 10
        assert needle in capsys.readouterr().err
    assert f.read_text(encoding="utf-8") == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_out_that_holds_the_working_directory_is_refused(tmp_path, monkeypatch, capsys):
    from io_clusters.cli import main

    (tmp_path / "mine.txt").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for out in (".", str(tmp_path.parent)):
        assert main(["run", EXAMPLE, "--out", out, "--n-boot", "5"]) == 10
        assert "working directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


@pytest.mark.filterwarnings("ignore:dropped zero-output")
def test_temporary_names_of_another_machine_are_left_alone(tmp_path):
    """On a network share a pid says nothing of another machine: only this host's debris goes."""
    from io_clusters import publish

    dead = 2**22 + 12345  # above the default pid_max: no such process here
    here = publish._host_tag()
    mine = tmp_path / f".out.tmp-{dead}h{here}-ab12"
    other_host = "0" * 8 if here != "0" * 8 else "1" * 8
    theirs = tmp_path / f".out.tmp-{dead}h{other_host}-cd34"
    legacy = tmp_path / f".out.tmp-{dead}-ef56"  # names written before the host tag
    for p in (mine, theirs, legacy):
        p.mkdir()
    removed = publish.clean_stale(tmp_path)
    assert sorted(removed) == sorted([mine, legacy])
    assert theirs.is_dir()
    tag = publish.process_tag()
    assert tag == f"{os.getpid()}h{here}" and publish._TMP_RE.match(f".x.tmp-{tag}-q1w2")
    out = run(load_example("peru_cepal_2011"), out=tmp_path / "run", n_boot=0)
    assert out.outputs["workbook"].exists() and theirs.is_dir()  # a run leaves it too
