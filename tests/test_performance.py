"""Performance guards (timing: ``slow`` marker only) and the parallel bootstrap's reproducibility."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest
import scipy.linalg

from io_clusters import detect_clusters, linkages

from .conftest import planted_blocks

planted = planted_blocks


def _median(fn, k=7):
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


@pytest.mark.slow
def test_linkages_regression_guard_n500():
    """Fails if the whole linkage table at n = 500 costs more than 3x one bare LU
    factorisation + solve of the identity (forming L), measured side by side."""
    t = planted(500)
    A = t.Z.to_numpy() / t.x.to_numpy()
    eye = np.eye(500)
    bare = _median(lambda: scipy.linalg.lu_solve(scipy.linalg.lu_factor(eye - A), eye))
    ours = _median(lambda: linkages(t))
    assert ours < 3 * bare + 0.01, (ours, bare)


@pytest.fixture(scope="module")
def table120():
    return planted(120, seed=3)


def test_parallel_bootstrap_is_identical_to_serial(table120):
    serial = detect_clusters(table120, n_boot=12, seed=5)
    local = detect_clusters(table120, n_boot=12, seed=5, n_jobs=2)
    s = [c.stability for c in serial.candidates]
    assert s == [c.stability for c in local.candidates]
    assert local.options["backend"] == "loky"


def test_dask_local_cluster_gives_the_same_stability(table120):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    serial = detect_clusters(table120, n_boot=8, seed=7)
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = detect_clusters(table120, n_boot=8, seed=7, backend="dask")
    assert [c.stability for c in remote.candidates] == [c.stability for c in serial.candidates]
    assert remote.options["backend"] == "dask"
