"""Candidate clusters: planted structure, published-method regressions, real tables.

Expected values: the planted two-chain table and the Germany 1995 merge heights and
cophenetic correlation are from ../shared/METHOD.md (§4 and §2.5, computed there with
scipy); the max-correlation matrix is recomputed independently here with numpy.corrcoef.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.cluster.hierarchy import cophenet
from sklearn.metrics import adjusted_rand_score

from io_clusters import IOTable, detect_clusters, load_example, read_table
from io_clusters.clustering import intra_flow_share
from io_clusters.errors import OptionError
from io_clusters.services import classify_services
from io_clusters.similarity import flow_strength, max_correlation

from .conftest import CHL111, PLANTED_Z

PLANTED = PLANTED_Z
#: The planted tables have 6-8 sectors: the guards meant for real tables (too few goods
#: sectors to propose candidates; a core above 20 % of output split) are switched off.
SMALL = {"min_goods_sectors": 2, "max_core_output_share": 1.0}


def planted_table() -> IOTable:
    x = PLANTED.sum(1) + PLANTED.sum(0) + 100
    return IOTable.from_arrays(PLANTED, x, codes=[f"p{i}" for i in range(6)])


def _labels(res, codes):
    lab = {c: -1 - i for i, c in enumerate(codes)}  # unclustered: own singleton label
    for k, cand in enumerate(res.candidates):
        for m in cand.members:
            lab[m.code] = k
    return [lab[c] for c in codes]


def test_planted_blocks_recovered_exactly_by_default():
    t = planted_table()
    res = detect_clusters(t, n_boot=50, seed=1, **SMALL)
    assert adjusted_rand_score([0, 0, 0, 1, 1, 1], _labels(res, t.codes)) == 1.0
    for c in res.candidates:
        assert c.intra_flow_share == pytest.approx(0.945946, abs=1e-6)  # METHOD.md §6
        assert c.stability_reading == "stable"


def test_planted_merge_heights_with_correlation():
    res = detect_clusters(planted_table(), similarity_measure="correlation", n_boot=0, k=2, **SMALL)
    np.testing.assert_allclose(
        sorted(res.tree[:, 2]), [0.008109, 0.008355, 0.091113, 0.091370, 1.292815], atol=1e-6
    )
    assert res.diagnostics["cophenetic_correlation"] == pytest.approx(0.999728, abs=1e-6)


def test_planted_resource_chain_is_linked_by_default():
    """c0 sells 60 of its 67 of intermediate sales to c1; their profiles are unlike."""
    rng = np.random.default_rng(3)
    n = 8
    Z = rng.uniform(1, 5, (n, n))
    Z[0, :] = 1
    Z[:, 1] = rng.uniform(1, 5, n)
    Z[0, 1] = 60
    t = IOTable.from_arrays(Z, Z.sum(1) + Z.sum(0) + 50, codes=[f"c{i}" for i in range(n)])
    assert max_correlation(Z)[0, 1] < 0  # profile similarity alone does not see the chain
    assert flow_strength(Z)[0, 1] == pytest.approx(60 / (Z[0].sum() - Z[0, 0]))
    default = detect_clusters(t, n_boot=0, **SMALL)
    assert any({"c0", "c1"} <= set(c.codes) for c in default.candidates)
    corr = detect_clusters(t, similarity_measure="correlation", n_boot=0, **SMALL)
    assert not any({"c0", "c1"} <= set(c.codes) for c in corr.candidates)


def _four_correlations(Z):
    X = Z / Z.sum(0)  # columns: input profiles
    Y = Z / Z.sum(1)[:, None]  # rows: output profiles
    n = len(Z)
    M = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            M[i, j] = max(
                np.corrcoef(X[:, i], X[:, j])[0, 1],
                np.corrcoef(Y[i], Y[j])[0, 1],
                np.corrcoef(X[:, i], Y[j])[0, 1],
                np.corrcoef(Y[i], X[:, j])[0, 1],
            )
    return M


def test_germany_1995_feser_bergman():
    t = load_example("eurostat_germany_1995")
    Z = t.Z.to_numpy()
    M = max_correlation(Z)
    np.testing.assert_allclose(M, _four_correlations(Z), atol=1e-12)
    assert M[0, 1] == pytest.approx(0.977007, abs=1e-6) and M[2, 4] == pytest.approx(
        0.940382, abs=1e-6
    )
    res = detect_clusters(
        t, similarity_measure="correlation", supporting=[], n_boot=0, k=2, **SMALL
    )
    np.testing.assert_allclose(
        res.tree[:, 2], [0.022993, 0.030322, 0.152454, 0.267227, 0.332984], atol=1e-6
    )
    D = 1 - M
    np.fill_diagonal(D, 0)
    from scipy.spatial.distance import squareform

    leaf = [list(t.codes).index(c) for c in res.tree_codes]  # the tree's leaf order
    D = D[np.ix_(leaf, leaf)]

    assert cophenet(res.tree, squareform(D, checks=False))[0] == pytest.approx(0.738826, abs=1e-6)
    assert res.diagnostics["cophenetic_correlation"] == pytest.approx(0.738826, abs=1e-6)
    groups = sorted(sorted(c.codes) for c in res.candidates)
    assert groups == [["AGR", "CON", "MAN"], ["BUS", "OTH", "TRD"]]
    assert intra_flow_share(Z, np.array([0, 1, 2])) == pytest.approx(0.695723, abs=1e-6)
    assert intra_flow_share(Z, np.array([3, 4, 5])) == pytest.approx(0.711595, abs=1e-6)


def test_options_are_checked():
    t = planted_table()
    with pytest.raises(OptionError, match="Euclidean"):
        detect_clusters(t, method="ward")
    with pytest.raises(OptionError, match="not both"):
        detect_clusters(t, k=2, threshold=0.3)
    with pytest.raises(OptionError, match="similarity"):
        detect_clusters(t, similarity_measure="cosine")
    res = detect_clusters(t, k=3, n_boot=0, **SMALL)
    assert res.diagnostics["k"] == 3 and res.options["k"] == 3


def test_deterministic_for_a_seed_and_serialisable():
    t = planted_table()
    a = json.dumps(detect_clusters(t, seed=5, n_boot=30, **SMALL).to_dict(), sort_keys=True)
    b = json.dumps(detect_clusters(t, seed=5, n_boot=30, **SMALL).to_dict(), sort_keys=True)
    assert a == b
    doc = json.loads(a)
    assert {"code", "name", "role"} <= set(doc["candidates"][0]["members"][0])


def test_services_support_but_do_not_seed():
    t = read_table_or_skip_peru()
    services = set(classify_services(t).services)
    # ISIC sections D-U are services; machinery, electrical machinery, motor vehicles,
    # other transport equipment (manufacturing, section C) and construction (F) are not
    assert services == {"s34", "s36", "s37", "s38", "s39", "s40"}
    assert not services & {"s01", "s04", "s11", "s23", "s25", "s27", "s30", "s32", "s35"}
    res = detect_clusters(t, n_boot=0)
    for c in res.candidates:
        assert all(m.role == "supporting" for m in c.members if m.code in services)
        assert c.core and not set(c.core) & services


def read_table_or_skip_peru():
    from .conftest import peru_file  # ../shared's file, or the embedded copy without it

    return read_table(peru_file()).without(["s31"])  # s31 has zero output


def _together(res, *codes):
    return any(set(codes) <= set(c.codes) for c in res.candidates)


def test_peru_torres_zorrilla_complexes(peru_path):
    """Torres Zorrilla (2003): Minería–Metalurgia, Pesca and Textiles are Peru's most
    developed clusters; on CEPAL's 2011 table each appears within one candidate."""
    t = read_table(peru_path)
    with pytest.warns(Warning, match="s31"):
        res = detect_clusters(t, seed=0)
    assert _together(res, "s04", "s23")  # mining (non-energy) + non-ferrous metals
    assert _together(res, "s02", "s08")  # fishing + processed food (fishmeal, canning)
    assert _together(res, "s11", "s12")  # textiles + apparel
    assert all(len(c.members) <= (t.n - 1) / 3 for c in res.candidates)


def test_chile_111_study_cases(shared_io):
    """The study's Chilean cases (seed text §2.1.1 Bío Bío jurel, §2.1.3 Antofagasta
    copper, §2.3.3 Los Lagos salmon) come out as candidates on the BCCh 111 table, and
    the full default run (200 bootstrap replicates) takes under 10 s."""
    t = read_table(shared_io / CHL111)
    res = detect_clusters(t, seed=0)
    assert _together(res, "15", "57")  # copper mining + basic non-ferrous metals
    assert _together(res, "11", "21")  # aquaculture + fish processing (salmon)
    assert _together(res, "12", "21")  # fishing + fish processing
    assert _together(res, "3", "31")  # grapes + wine
    assert all(len(c.members) <= t.n / 3 for c in res.candidates)
    assert res.options["n_boot"] == 200


def test_imbalanced_table_warns_on_every_candidate():
    x = PLANTED.sum(1) + 100
    fd = x - PLANTED.sum(1)
    fd[0] *= 0.97  # row balance off by a few per cent for p0
    t = IOTable.from_arrays(PLANTED, x, codes=[f"p{i}" for i in range(6)], final_demand=fd)
    res = detect_clusters(t, n_boot=0, **SMALL)
    assert res.candidates
    assert all(any(w.startswith("table imbalance") for w in c.warnings) for c in res.candidates)
