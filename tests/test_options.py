"""Options as one validated object: ClusterOptions, RunOptions, run.toml and CLI flags."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from io_clusters import ClusterOptions, IOTable, RunOptions
from io_clusters.cli import main, run_options
from io_clusters.errors import OptionError

from .conftest import PLANTED_Z


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": -1}, "n_boot"),
        ({"n_boot": 2.5}, "n_boot"),
        ({"seed": True}, "seed"),
        ({"similarity": "cosine"}, "similarity"),
        ({"method": "ward"}, "Euclidean"),
        ({"k": 2, "threshold": 0.3}, "not both"),
        ({"k": 1}, "k must be"),
        ({"min_similarity": 1.0}, "min_similarity"),
        ({"link_threshold": -0.1}, "link_threshold"),
        ({"attach_ratio": float("nan")}, "attach_ratio"),
        ({"isic": {"a": "x1"}}, "isic"),
        ({"supporting": "s34"}, "list of sector codes"),
    ],
)
def test_cluster_options_validate_themselves(kwargs, match):
    with pytest.raises(OptionError, match=match):
        ClusterOptions(**kwargs)


def test_options_round_trip_and_unknown_keys():
    opts = ClusterOptions(seed=4, isic={"b": ["10", "11"], "a": "01"}, supporting=["x"])
    d = opts.to_dict()
    assert d["isic"] == {"a": ["01"], "b": ["10", "11"]} and d["supporting"] == ["x"]
    assert ClusterOptions.from_mapping(d) == opts
    with pytest.raises(OptionError, match="unknown option"):
        ClusterOptions.from_mapping({"seeds": 3})
    run = RunOptions.from_mapping({"lang": "en", "n_boot": 7, "similarity_measure": "flow"})
    assert run.lang == "en" and run.cluster.n_boot == 7 and run.cluster.similarity == "flow"
    assert json.loads(json.dumps(run.to_dict()))["cluster"]["n_boot"] == 7
    with pytest.raises(OptionError, match=r"unknown \[run\] key"):
        RunOptions.from_mapping({"lang": "en", "colour": "red"})
    with pytest.raises(OptionError, match="lang"):
        RunOptions(lang="fr")
    with pytest.raises(OptionError, match="figures"):
        RunOptions(figures="yes")


def test_cli_flags_override_run_toml(tmp_path):
    conf = tmp_path / "run.toml"
    conf.write_text(
        '[run]\nlang = "en"\nseed = 2\nn_boot = 20\nlink_threshold = 0.2\n', encoding="utf-8"
    )
    args = argparse.Namespace(config=str(conf), seed=5, n_boot=None, lang=None)
    opts = run_options(args)
    assert opts.cluster.seed == 5  # the flag wins
    assert opts.cluster.n_boot == 20 and opts.cluster.link_threshold == 0.2  # from run.toml
    assert opts.lang == "en"
    # end to end: the JSON records what was used
    t = IOTable.from_arrays(PLANTED_Z, PLANTED_Z.sum(1) + PLANTED_Z.sum(0) + 20)
    src = tmp_path / "t.csv"
    from io_clusters import write_table

    write_table(t, src)
    code = main(
        ["run", str(src), "--config", str(conf), "--seed", "5", "--out", str(tmp_path / "o")]
    )
    assert code == 0
    doc = json.loads((tmp_path / "o" / "candidates.json").read_text(encoding="utf-8"))
    assert doc["options"]["seed"] == 5 and doc["options"]["n_boot"] == 20
    assert doc["run_options"]["lang"] == "en"


def test_bad_run_toml_is_a_usage_error(tmp_path, capsys):
    conf = tmp_path / "run.toml"
    conf.write_text("[run]\nn_boot = 'many'\n", encoding="utf-8")
    src = tmp_path / "t.csv"
    from io_clusters import write_table

    z = np.array([[1.0, 2], [3, 4]])
    write_table(IOTable.from_arrays(z, [20.0, 20.0]), src)
    assert main(["run", str(src), "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "n_boot" in err and "Traceback" not in err


def test_negligible_negatives_run_end_to_end_with_a_warning(peru_path, tmp_path, capsys):
    """A published table with a rounding negative (one cell of -0.01 in millions of USD)
    runs with a warning naming the cell; ``--negatives error`` refuses it (exit 7)."""
    from io_clusters import read_table, write_table

    t = read_table(peru_path).without(["s31"])
    Z = t.Z.to_numpy().copy()
    x = t.x.to_numpy()
    j = int(np.argmax(x))  # the largest buyer: -0.01 is far below 1e-4 of its output
    i = int(np.argmin(np.where(Z[:, j] > 0, Z[:, j], np.inf)))  # its smallest purchase
    assert Z[i, j] < 1  # millions of USD: replacing it moves no balance visibly
    Z[i, j] = -0.01
    bad = IOTable.from_arrays(
        Z,
        x,
        codes=list(t.codes),
        names=list(t.names),
        final_demand=t.final_demand.to_numpy().sum(axis=1),
    )
    src = tmp_path / "peru_neg.csv"
    write_table(bad, src)
    out = tmp_path / "o"
    assert main(["run", str(src), "--n-boot", "0", "--out", str(out)]) == 0
    report = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    neg = [f for f in report["findings"] if "negative" in f["check"]]
    assert neg and neg[0]["severity"] == "warning"
    assert "-0.01" in json.dumps(neg)  # the cell and its value are named
    capsys.readouterr()
    assert main(["run", str(src), "--n-boot", "0", "--negatives", "error", "--out", str(out)]) == 7


def test_user_labels_rename_candidates_in_every_output_and_survive_reruns(peru_path, tmp_path):
    """run --labels: a [labels] table keyed by core codes (any order) or by id."""
    import openpyxl

    labels = tmp_path / "labels.toml"
    labels.write_text(
        '[labels]\n"s08+s02" = "Cadena pesquera de Chimbote"\n"C-s11-s12" = "Textil-confecciones"\n',
        encoding="utf-8",
    )
    for seed, out in ((0, tmp_path / "a"), (7, tmp_path / "b")):
        args = ["run", str(peru_path), "--n-boot", "5", "--seed", str(seed)]
        assert main([*args, "--labels", str(labels), "--out", str(out)]) == 0
        doc = json.loads((out / "candidates.json").read_text(encoding="utf-8"))
        by_id = {c["id"]: c["label"] for c in doc["candidates"]}
        assert by_id["C-s02-s08"] == "Cadena pesquera de Chimbote"
        assert by_id["C-s11-s12"] == "Textil-confecciones"
        cells = {
            str(c.value)
            for ws in openpyxl.load_workbook(out / "candidates.xlsx").worksheets
            for row in ws.iter_rows()
            for c in row
            if c.value is not None
        }
        assert any("Cadena pesquera de Chimbote" in v for v in cells)
        assert "Cadena pesquera de Chimbote" in (out / "report.html").read_text(encoding="utf-8")
