"""The io-clusters command: a thin layer over the library, with documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from io_clusters import load_example, run
from io_clusters.cli import main

from .conftest import CHL08, PERU


def test_inspect_real_table(shared_io, capsys):
    assert main(["inspect", str(shared_io / CHL08)]) == 0
    out = capsys.readouterr().out
    assert "layout:       bcch-mip" in out and "sectors:      12" in out
    assert "0 error(s)" in out


def test_inspect_json(shared_io, capsys):
    assert main(["inspect", str(shared_io / PERU), "--country", "PER", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["n_sectors"] == 40
    assert any(f["check"] == "zero_output" for f in doc["validation"]["findings"])


def test_linkages_to_csv_and_xlsx(tmp_path):
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"lk{suffix}"
        assert main(["linkages", "example:miller_blair_2x2", "--out", str(out)]) == 0
        df = pd.read_csv(out, index_col=0) if suffix == ".csv" else pd.read_excel(out, index_col=0)
        assert df.loc["S1", "bl_total"] == pytest.approx(1.5181518152, rel=1e-9)  # METHOD.md Case 1
        assert "fl_total_ghosh" in df.columns and "key_sector_class" in df.columns


def test_clusters_command(tmp_path, capsys):
    out = tmp_path / "c.json"
    code = main(["clusters", "example:eurostat_germany_1995", "--n-boot", "20", "--out", str(out)])
    assert code == 0
    assert "candidate cluster" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["options"]["n_boot"] == 20


def test_unknown_example_and_bad_option(capsys):
    assert main(["inspect", "example:nope"]) == 2
    assert "unknown example" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["clusters", "example:miller_blair_2x2", "--method", "ward"])
    assert info.value.code == 2


def test_console_script_runs_and_exits_with_code(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "io_clusters.cli", "inspect", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr and "not an xlsx workbook" in proc.stderr


def test_run_writes_outputs_and_is_reproducible(tmp_path):
    t = load_example("eurostat_germany_1995")
    # six sectors: too aggregated for candidates, but every output is still written
    small = {"min_goods_sectors": 2, "max_core_output_share": 1.0, "supporting": []}
    a = run(t, out=tmp_path / "a", seed=3, n_boot=20, **small)
    run(t, out=tmp_path / "b", seed=3, n_boot=20, **small)
    assert set(a.outputs) == {
        "table",
        "validation",
        "linkages",
        "candidates",
        "workbook",
        "figures",
        "report",
    }
    assert (tmp_path / "a" / "linkages.csv").read_bytes() == (
        tmp_path / "b" / "linkages.csv"
    ).read_bytes()
    ja = json.loads((tmp_path / "a" / "candidates.json").read_text(encoding="utf-8"))
    jb = json.loads((tmp_path / "b" / "candidates.json").read_text(encoding="utf-8"))
    ja.pop("generated"), jb.pop("generated")  # the one timestamp field
    assert ja == jb
    assert ja["candidates"][0]["members"][0]["code"]


def test_demo_falls_back_to_embedded_table(tmp_path, capsys):
    assert main(["demo", "--table", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "using the embedded default table 'eurostat_germany_1995'" in out
    assert (tmp_path / "deu-1995-eurostat-beutel" / "candidates.json").exists()


def test_demo_on_peru(shared_io, tmp_path, capsys):
    assert main(["demo", "--table", str(shared_io / PERU), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Key sectors of per-2011-cepal-lac" in out
    lk = pd.read_csv(tmp_path / "per-2011-cepal-lac" / "linkages.csv", index_col=0)
    assert len(lk) == 39 and "s31" not in lk.index
