"""Property-based and mutation fuzzing (a few hundred cases here; `make fuzz` runs thousands)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from io_clusters import IOTable, write_table

from .conftest import CHL08, CHL13, PERU, bcch_workbook, spec_workbook
from .fuzzing import check_file, check_sut_file, run_case, sut_seeds

SEEDS_SYNTHETIC = ("spec", "bcch", "interchange_csv", "interchange_xlsx")


def _seed(kind: str, tmp, n: int, rng: np.random.Generator):
    if kind == "spec":
        return spec_workbook(tmp / "seed.xlsx")
    if kind == "bcch":
        return bcch_workbook(tmp / "seed.xlsx")
    Z = rng.uniform(0, 50, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
    t = IOTable.from_arrays(
        Z,
        Z.sum(0) + Z.sum(1) + rng.uniform(1, 100, n),
        final_demand=rng.uniform(1, 100, n),
        value_added=rng.uniform(1, 50, n),
    )
    return write_table(t, tmp / ("seed.csv" if kind == "interchange_csv" else "seed.xlsx"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(SEEDS_SYNTHETIC),
    n=st.integers(2, 12),
    case=st.integers(0, 10**6),
    seed=st.integers(0, 2**32 - 1),
)
def test_generated_and_damaged_tables_obey_the_invariant(tmp_path_factory, kind, n, case, seed):
    tmp = tmp_path_factory.mktemp("fz")
    path = _seed(kind, tmp, n, np.random.default_rng(seed))
    kind_, outcome = run_case(path, case, tmp)
    assert outcome == "table" or outcome.startswith("error:"), (kind, kind_, outcome)


@pytest.mark.parametrize("name", [CHL08, CHL13, PERU])
def test_mutated_real_files(shared_io, tmp_path, name):
    outcomes = [run_case(shared_io / name, case, tmp_path, full_run=False)[1] for case in range(40)]
    bad = [o for o in outcomes if not (o == "table" or o.startswith("error:"))]
    assert not bad, bad
    assert any(o.startswith("error:") for o in outcomes)  # the damage is noticed


def test_unchanged_file_is_a_table(tmp_path):
    path = spec_workbook(tmp_path / "s.xlsx")
    from io_clusters.readers import read_table

    assert (
        read_table(path, layout=str(__import__("tests.conftest", fromlist=["x"]).EXAMPLE_SPEC)).n
        == 4
    )
    assert check_file(bcch_workbook(tmp_path / "b.xlsx"), tmp_path / "o") == "table"
    random.seed(0)


@pytest.mark.parametrize("command", ["inspect", "linkages", "run", "clusters"])
def test_cli_never_shows_a_traceback_on_damaged_files(tmp_path, capsys, command):
    from io_clusters.cli import main

    from .fuzzing import mutate

    rng = random.Random(command)
    seeds = [spec_workbook(tmp_path / "s.xlsx"), bcch_workbook(tmp_path / "b.xlsx")]
    for case in range(12):
        seed = seeds[case % 2]
        data, _ = mutate(seed.read_bytes(), ".xlsx", rng)
        path = tmp_path / f"c{case}.xlsx"
        path.write_bytes(data)
        args = [command, str(path)]
        if command == "run":
            args += ["--out", str(tmp_path / f"o{case}"), "--n-boot", "0"]
        if command == "clusters":
            args += ["--n-boot", "0"]
        code = main(args)
        err = capsys.readouterr().err
        assert code != 70 and "Traceback" not in err, (case, err)


# ------------------------------------------------------------------ supply-use files
SUT_CASES = 200  # per seed; about 3 s in all (`make fuzz` runs 1,000 by scripts/fuzz.py --sut)


@pytest.fixture(scope="module")
def sut_seed_files(tmp_path_factory):
    return sut_seeds(tmp_path_factory.mktemp("sut-seeds"))


def test_sut_seeds_are_valid_tables(sut_seed_files, tmp_path):
    """Unchanged, every seed reads and transforms (model A refuses the 3 × 5 one)."""
    outcomes = [check_sut_file(s, tmp_path / "o", model="D") for s in sut_seed_files]
    assert outcomes == ["table"] * 4
    a = [check_sut_file(s, tmp_path / "o", model="A") for s in sut_seed_files]
    assert a == ["table", "table", "error:AnalysisError", "table"]


@pytest.mark.parametrize(
    "k", [0, 1, 2, 3], ids=["csv-4x4", "xlsx-4x4", "csv-3x5-imports", "csv-3x3-bare"]
)
def test_damaged_supply_use_files_obey_the_invariant(sut_seed_files, tmp_path, k):
    seed = sut_seed_files[k]
    results = [run_case(seed, case, tmp_path, sut=True) for case in range(SUT_CASES)]
    bad = [(case, kind, o) for case, (kind, o) in enumerate(results) if o != "table"]
    bad = [b for b in bad if not b[2].startswith("error:")]
    assert not bad, bad
    outcomes = {o for _, o in results}
    assert "table" in outcomes and any(o.startswith("error:") for o in outcomes)


def test_cli_symmetric_never_shows_a_traceback_on_damaged_files(sut_seed_files, tmp_path, capsys):
    from io_clusters.cli import main

    from .fuzzing import mutate

    rng = random.Random("symmetric")
    for case in range(16):
        seed = sut_seed_files[case % 2]
        data, _ = mutate(seed.read_bytes(), seed.suffix, rng)
        path = tmp_path / f"c{case}{seed.suffix}"
        path.write_bytes(data)
        out = tmp_path / f"o{case}.csv"
        code = main(["symmetric", str(path), "--out", str(out)])
        err = capsys.readouterr().err
        assert code != 70 and "Traceback" not in err, (case, err)
        assert code == 0 or not out.exists(), (case, code)
