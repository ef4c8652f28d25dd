"""The io-clusters command: a thin layer over the library, with documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from io_clusters import load_example, run
from io_clusters.cli import main

from .conftest import CHL08


def test_inspect_real_table(shared_io, capsys):
    assert main(["inspect", str(shared_io / CHL08)]) == 0
    out = capsys.readouterr().out
    assert "layout:       bcch-mip" in out and "sectors:      12" in out
    assert "0 error(s)" in out


def test_inspect_json(peru_path, capsys):
    assert main(["inspect", str(peru_path), "--country", "PER", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["n_sectors"] == 40
    assert any(f["check"] == "zero_output" for f in doc["validation"]["findings"])


def test_linkages_to_csv_and_xlsx(tmp_path):
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"lk{suffix}"
        assert main(["linkages", "example:miller_blair_2x2", "--out", str(out)]) == 0
        df = (
            pd.read_csv(out, index_col=0)
            if suffix == ".csv"
            else pd.read_excel(out, index_col=0, engine="openpyxl")
        )
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
    assert "using the embedded default table 'peru_cepal_2011'" in out
    assert "using the embedded 'peru_inei_vab_2019'" in out  # Peru: departments located
    assert (tmp_path / "per-2011-cepal-lac" / "candidates.json").exists()
    doc = json.loads((tmp_path / "per-2011-cepal-lac" / "candidates.json").read_text("utf-8"))
    assert "io_clusters:peru_inei_vab_2019" in doc["regional_data"]["source"]
    assert doc["regional_data"]["year"] == 2019
    assert list((tmp_path / "per-2011-cepal-lac" / "figures").glob("map_*.png"))


def test_demo_on_peru(peru_path, tmp_path, capsys):
    assert main(["demo", "--table", str(peru_path), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Key sectors of per-2011-cepal-lac" in out
    lk = pd.read_csv(tmp_path / "per-2011-cepal-lac" / "linkages.csv", index_col=0)
    assert len(lk) == 39 and "s31" not in lk.index


# ------------------------------------------------------ issue 18: documented exit codes
class _Result:
    def __init__(self, returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def _cli(capsys):
    """Run ``io-clusters`` in this process (as fast as the library); exit code and stderr."""

    def call(*args: str) -> _Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        return _Result(code, capsys.readouterr().err)

    return call


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "example:miller_blair_2x2", "--jobs", "0"], "--jobs"),
        (["run", "example:miller_blair_2x2", "--seed", "-1"], "seed must be"),
        (["clusters", "example:miller_blair_2x2", "--seed", "-1"], "seed must be"),
        (["run", "example:miller_blair_2x2", "--n-boot", "-3"], "n_boot must be"),
        (["linkages", "example:miller_blair_2x2", "--out", "x.txt"], ".csv or .xlsx"),
        (["convert", "example:miller_blair_2x2", "--out", "x.json"], ".csv or .xlsx"),
        (["update", "--keep", "0"], "--keep"),
        (["update", "--timeout", "0"], "--timeout"),
    ],
)
def test_option_errors_are_exit_2(_cli, tmp_path, args, needle):
    proc = _cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[run]\nk = "five"\n', "k must be an integer"),
        ("[run]\nseed = -1\n", "seed must be an integer >= 0"),
        ("[run]\nn_boot = 2.5\n", "n_boot must be an integer"),
        ('[run]\nlang = "fr"\n', "lang 'fr' not allowed"),
        ("[run]\nstore = 3\n", "store must be a text"),
        ("run = 3\n", "[run] must be a table"),
        ("[run\n", "not valid TOML"),
    ],
)
def test_wrong_types_in_config_are_exit_2(_cli, tmp_path, body, needle):
    conf = tmp_path / "run.toml"
    conf.write_text(body, encoding="utf-8")
    for cmd in (["run", "example:miller_blair_2x2"], ["update", "--raw", str(tmp_path)]):
        proc = _cli(*cmd, "--config", str(conf), "--out", str(tmp_path / "o"))
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_evidence_template_on_a_non_json_file(_cli, tmp_path):
    bad = tmp_path / "candidates.json"
    bad.write_bytes(b"PK\x03\x04 this is a workbook")
    proc = _cli("evidence", "template", str(bad), "--out", str(tmp_path / "f.xlsx"))
    assert proc.returncode == 4, proc.stderr
    assert "not a candidates.json" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "content",
    [b'{"version": 1, "records": [', b'{"records": {"a": 1}}', b'{"records": [{"id": 1}]}'],
)
def test_damaged_evidence_store_names_the_file(_cli, tmp_path, content):
    store = tmp_path / "fieldwork.json"
    store.write_bytes(content)
    proc = _cli("run", "example:eurostat_germany_1995", "--n-boot", "5", "--store", str(store),
                "--out", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 11, proc.stderr
    assert str(store) in proc.stderr and "evidence import" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _cli("evidence", "list", "--store", str(store))
    assert proc.returncode == 11 and str(store) in proc.stderr
    assert store.read_bytes() == content  # never overwritten


def test_evidence_store_with_a_bom_is_read(_cli, tmp_path):
    store = tmp_path / "fieldwork.json"
    store.write_bytes(b'\xef\xbb\xbf{"version": 1, "records": []}')
    assert _cli("evidence", "list", "--store", str(store)).returncode == 0


def test_warnings_are_one_line_without_source(tmp_path):
    import numpy as np

    from io_clusters import IOTable, write_table

    Z = np.array([[10.0, 5.0, 0.0], [4.0, 8.0, 0.0], [0.0, 0.0, 0.0]])
    t = IOTable.from_arrays(Z, [100.0, 80.0, 0.0], codes=["a", "b", "z"], table_id="zero")
    path = write_table(t, tmp_path / "zero.csv")
    proc = subprocess.run(
        [sys.executable, "-m", "io_clusters.cli", "linkages", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("WARNING") for line in lines), proc.stderr
    assert ".py:" not in proc.stderr and "warnings.warn" not in proc.stderr


def test_limits_from_the_command_line(_cli, tmp_path):
    path = tmp_path / "t.csv"
    from io_clusters import write_table

    write_table(load_example("eurostat_germany_1995"), path)
    proc = _cli("inspect", str(path), "--max-sectors", "3")
    assert proc.returncode == 4 and "limit of 3" in proc.stderr
    assert "--max-sectors" in proc.stderr  # the message says how to raise it here
    assert _cli("inspect", str(path), "--max-sectors", "6").returncode == 0
    proc = _cli("inspect", str(path), "--max-file-mb", "0.0001")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
