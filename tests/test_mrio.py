"""Multi-regional systems: pymrio round trip, country-sector clusters, the focus region."""

from __future__ import annotations

import itertools
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

import io_clusters as ic
from io_clusters import mrio
from io_clusters.cli import main
from io_clusters.clustering import format_candidates
from io_clusters.errors import OptionError

from .conftest import ROOT, planted_blocks

pymrio = pytest.importorskip("pymrio", reason="pymrio is not installed (pip install .[mrio])")

SCHEMA = json.loads((ROOT / "schemas" / "candidates.schema.json").read_text(encoding="utf-8"))

#: The 45 industries of OECD ICIO 2021 (ISIC Rev.4 divisions; D45T47 … D97T98 services).
ICIO45 = (
    "D01T02 D03 D05T06 D07T08 D09 D10T12 D13T15 D16 D17T18 D19 D20 D21 D22 D23 D24 D25 D26 "
    "D27 D28 D29 D30 D31T33 D35 D36T39 D41T43 D45T47 D49 D50 D51 D52 D53 D55T56 D58T60 D61 "
    "D62T63 D64T66 D68 D69T75 D77T82 D84 D85 D86T88 D90T93 D94T96 D97T98"
).split()
#: 20 of them for the small systems: 17 goods (ISIC 01–43), 3 services (45–47, 49, 64–66).
SECTORS20 = (
    "D01T02 D03 D05T06 D07T08 D09 D10T12 D13T15 D16 D17T18 D20 D22 D23 D24 D25 D28 D29 "
    "D41T43 D45T47 D49 D64T66"
).split()
#: Peru's copper ore → Chinese basic metals → US machinery.
CHAIN = ("PER:D07T08", "CHN:D24", "USA:D28")


def planted_mrio(
    regions: list[str],
    sectors: list[str],
    chain: tuple[str, ...] = (),
    *,
    seed: int = 0,
    factor: float = 2.0,
    cross: float = 0.02,
    scale: dict[str, float] | None = None,
) -> ic.IOTable:
    """A balanced multi-regional table with a planted cross-border chain (seeded).

    Background: within a region 30 % of the pairs trade (uniform 0–1), across borders 2 %
    (uniform 0–0.3; ``cross`` sets the 2 %). ``scale`` multiplies a region's flows. Each link a → b of ``chain`` gets ``factor`` times a's background
    sales, so a sells two thirds of its intermediate output to b (flow strength ≥ 0.5:
    a strongest chain). Output is 1.5 × the larger of sales and purchases, plus 1 (times the scale).
    """
    rng = np.random.default_rng(seed)
    n_reg, n_sec = len(regions), len(sectors)
    reg = np.repeat(np.arange(n_reg), n_sec)
    same = reg[:, None] == reg[None, :]
    n = n_reg * n_sec
    Z = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < np.where(same, 0.3, cross))
    Z *= np.where(same, 1.0, 0.3)
    w = np.array([(scale or {}).get(r, 1.0) for r in regions])[reg]
    Z *= np.sqrt(np.outer(w, w))  # shrink (or grow) whole regions: flows and outputs
    codes = [f"{r}:{s}" for r in regions for s in sectors]
    pos = {c: i for i, c in enumerate(codes)}
    for a, b in itertools.pairwise(chain):
        Z[pos[a], pos[b]] = factor * Z[pos[a]].sum()
    x = 1.5 * np.maximum(Z.sum(0), Z.sum(1)) + w
    return ic.IOTable.from_arrays(
        Z,
        x,
        codes=codes,
        final_demand=x - Z.sum(1),
        value_added=x - Z.sum(0),
        units="millions of USD",
        table_id="planted-mrio",
    )


@pytest.fixture(scope="module")
def test_mrio():
    return pymrio.load_test()


# ------------------------------------------------------------------ pymrio interop
def test_round_trip_reproduces_z_x_y_of_the_pymrio_test_system(test_mrio):
    back = ic.to_pymrio(ic.from_pymrio(test_mrio))
    pd.testing.assert_frame_equal(back.Z, test_mrio.Z, check_names=False, check_dtype=False)
    pd.testing.assert_frame_equal(back.Y, test_mrio.Y, check_names=False, check_dtype=False)
    x_ref = pymrio.load_test().calc_all().x  # pymrio's own x = Z·1 + Y·1
    pd.testing.assert_frame_equal(back.x, x_ref, check_names=False)
    assert back.get_regions().tolist() == test_mrio.get_regions().tolist()


def test_codes_names_final_demand_and_value_added(test_mrio):
    t = ic.from_pymrio(test_mrio)
    regions, sectors = test_mrio.get_regions().tolist(), test_mrio.get_sectors().tolist()
    expected = [f"{r}:{s}" for r in regions for s in sectors]
    assert list(t.codes) == expected and list(t.names) == expected
    assert t.meta.layout == "pymrio" and t.meta.units == "Mill USD"
    # output computed as Z·1 + Y·1 (the test system carries no x)
    x = test_mrio.Z.sum(axis=1).to_numpy() + test_mrio.Y.sum(axis=1).to_numpy()
    np.testing.assert_allclose(t.x.to_numpy(), x)
    assert "reg2:Export" in t.final_demand.columns
    np.testing.assert_allclose(
        t.final_demand["reg2:Export"].to_numpy(), test_mrio.Y[("reg2", "Export")].to_numpy()
    )
    np.testing.assert_allclose(
        t.value_added.loc["Value Added"].to_numpy(),
        test_mrio.factor_inputs.F.loc["Value Added"].to_numpy(),
    )
    # the row balance Z·1 + f = x holds, as in pymrio
    assert ic.validate(t).by_check("row_balance")[0].severity == "info"


def test_subset_stays_balanced_with_rest_of_world_columns(test_mrio):
    t = ic.from_pymrio(test_mrio, regions=["reg1", "reg2"], sectors=["food", "mining", "trade"])
    assert t.n == 6 and t.codes[0] == "reg1:food"
    Z = test_mrio.Z.to_numpy()
    reg = test_mrio.Z.index.get_level_values(0)
    sec = test_mrio.Z.index.get_level_values(1)
    keep = np.isin(reg, ["reg1", "reg2"]) & np.isin(sec, ["food", "mining", "trade"])
    # purchases from the country-sectors left out are imports
    np.testing.assert_allclose(t.imports.to_numpy(), Z[np.ix_(~keep, keep)].sum(axis=0))
    # sales to them are final demand: every row still balances
    row = t.Z.to_numpy().sum(1) + t.final_demand.to_numpy().sum(1)
    np.testing.assert_allclose(row, t.x.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        t.final_demand[mrio.REST_INTERMEDIATE].to_numpy(), Z[np.ix_(keep, ~keep)].sum(axis=1)
    )
    assert not any(c.startswith("reg3:") for c in t.final_demand.columns)


def test_unknown_region_or_sector_is_refused(test_mrio):
    with pytest.raises(OptionError, match=r"region.*PER"):
        ic.from_pymrio(test_mrio, regions=["PER"])
    with pytest.raises(OptionError, match=r"sector.*copper"):
        ic.from_pymrio(test_mrio, sectors=["copper"])


def test_national_table_to_one_region_system():
    t = ic.load_example("miller_blair_2x2")
    m = ic.to_pymrio(t)
    assert m.get_regions().tolist() == [t.meta.country or "region"]
    np.testing.assert_allclose(m.Z.to_numpy(), t.Z.to_numpy())
    assert ic.from_pymrio(m).n == t.n


# ------------------------------------------------------------ country-sector clusters
def test_detect_clusters_on_the_pymrio_test_system(test_mrio):
    res = ic.detect_clusters(ic.from_pymrio(pymrio.load_test().calc_all()), seed=0)
    regions = set(test_mrio.get_regions())
    sectors = set(test_mrio.get_sectors())
    assert res.candidates
    for cand in res.candidates:
        for code in cand.codes:
            region, sector = code.split(":", 1)
            assert region in regions and sector in sectors
    # services are decided per sector, the same in every region (name rule: electricity,
    # trade, transport carry service words; manufactoring and construction say goods)
    assert set(res.services) == {
        f"{r}:{s}" for r in regions for s in ("electricity", "trade", "transport")
    }


def test_services_per_sector_from_icio_codes_and_sector_keyed_options():
    t = planted_mrio(["PER", "CHN"], SECTORS20)
    svc = mrio.classify_country_sectors(t)
    assert svc.rule == "isic"
    # ISIC sections G, H, K are services (io_clusters/data/isic/sections.toml)
    assert set(svc.services) == {f"{r}:{s}" for r in ("PER", "CHN") for s in SECTORS20[-3:]}
    given = mrio.classify_country_sectors(t, supporting=["D41T43", "PER:D24"])
    assert set(given.services) == {"PER:D41T43", "CHN:D41T43", "PER:D24"}
    isic = {s: ("10",) for s in SECTORS20} | {"D01T02": ("49",)}
    by_isic = mrio.classify_country_sectors(t, isic=isic)
    assert set(by_isic.services) == {"PER:D01T02", "CHN:D01T02"}


def test_focus_needs_a_region_of_a_multiregional_table():
    with pytest.raises(OptionError, match="focus"):
        ic.ClusterOptions(focus="")
    with pytest.raises(OptionError, match="multi-regional"):
        ic.detect_clusters(ic.load_example("miller_blair_2x2"), n_boot=0, focus="PER")
    t = planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN)
    with pytest.raises(OptionError, match=r"BRA.*regions: PER, CHN, USA"):
        ic.detect_clusters(t, n_boot=0, focus="BRA")


def test_run_focus_finds_the_planted_cross_border_chain(tmp_path, capsys):
    t = planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN)
    path = ic.write_table(t, tmp_path / "three.csv")
    out = tmp_path / "out"
    argv = ["run", str(path), "--focus", "PER", "--n-boot", "0", "--out", str(out), "--lang", "en"]
    assert main(argv) == 0
    assert "outside PER: CHN:D24, USA:D28" in capsys.readouterr().out
    doc = json.loads((out / "candidates.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    chain = [c for c in doc["candidates"] if set(CHAIN) <= {m["code"] for m in c["members"]}]
    assert len(chain) == 1
    cand = chain[0]
    assert set(CHAIN) <= {m["code"] for m in cand["members"] if m["role"] == "core"}
    assert cand["focus_region"] == "PER"
    assert cand["foreign_members"] == [
        m["code"] for m in cand["members"] if not m["code"].startswith("PER:")
    ]
    # shares computed here from Z: focus members' sales/purchases abroad, self excluded
    Z = pd.DataFrame(t.Z.to_numpy() * (1 - np.eye(t.n)), index=t.codes, columns=t.codes)
    home = [m["code"] for m in cand["members"] if m["code"].startswith("PER:")]
    abroad = [c for c in t.codes if not c.startswith("PER:")]
    sales = Z.loc[home, abroad].to_numpy().sum() / Z.loc[home].to_numpy().sum()
    purchases = Z.loc[abroad, home].to_numpy().sum() / Z[home].to_numpy().sum()
    assert cand["cross_border_sales_share"] == pytest.approx(sales, abs=1e-6)
    assert cand["cross_border_purchases_share"] == pytest.approx(purchases, abs=1e-6)
    # named from Peru: the strongest link of the core with a Peruvian sector at one end
    # (its strongest link overall is CHN:D24 → USA:D28, which says nothing to Peru)
    core = [m["code"] for m in cand["members"] if m["role"] == "core"]
    links = [(Z.loc[a, b], a, b) for a in core for b in core if "PER:" in a + b and a != b]
    _, seller, buyer = max(links)
    assert cand["label"].startswith(f"{t.name_of[seller]} → {t.name_of[buyer]}")
    assert len(core) >= len(CHAIN) == 3 and cand["label"].endswith(f"(+{len(core) - 2})")
    assert cand["chain"] == [seller, buyer] and cand["anchor"].startswith("PER:")
    # every kept candidate holds a Peruvian sector in its core …
    assert all(
        any(m["code"].startswith("PER:") and m["role"] == "core" for m in c["members"])
        for c in doc["candidates"]
    )
    assert [c["rank"] for c in doc["candidates"]] == list(range(1, len(doc["candidates"]) + 1))
    # … and the focus did filter: without it, some candidates hold none
    everything = ic.detect_clusters(t, n_boot=0)
    assert any(not any(c.startswith("PER:") for c in k.codes) for k in everything.candidates)
    # no ":" in file names (country-sector ids become file names of the network figures)
    assert not [p.name for p in (out / "figures").iterdir() if ":" in p.name]


def test_clusters_command_takes_focus(tmp_path, capsys):
    t = planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN)
    path = ic.write_table(t, tmp_path / "three.csv")
    assert main(["clusters", str(path), "--focus", "USA", "--n-boot", "0"]) == 0
    text = capsys.readouterr().out
    assert "outside USA: " in text and "PER:D07T08" in text


def test_no_focus_leaves_single_region_json_unchanged():
    res = ic.detect_clusters(planted_mrio(["PER", "CHN"], SECTORS20), n_boot=0)
    for cand in res.to_dict()["candidates"]:
        assert "focus_region" not in cand and "foreign_members" not in cand


def test_focus_view_keeps_the_neighbourhood_and_redraws_the_tree():
    t = planted_mrio(["PER", "CHN", "USA", "BRA"], SECTORS20, CHAIN)
    res = ic.detect_clusters(t, n_boot=0, focus="PER")
    view = mrio.focus_view(t, res, max_leaves=40)
    per_seeds = [c for c in res.tree_codes if c.startswith("PER:")]
    members = {c for cand in res.candidates for c in cand.codes}
    assert len(view.tree_codes) <= 40 < len(res.tree_codes)
    assert set(per_seeds) <= set(view.tree_codes)
    assert members & set(res.tree_codes) <= set(view.tree_codes)
    assert view.tree.shape == (len(view.tree_codes) - 1, 4)
    assert set(view.similarity.index) == set(view.tree_codes) | (members - set(res.tree_codes))
    unfocused = ic.detect_clusters(t, n_boot=0)
    assert mrio.focus_view(t, unfocused) is unfocused


def test_split_codes_needs_two_regions():
    assert mrio.split_codes(["PER:a", "PER:b"]) is None
    assert mrio.split_codes(["PER:a:b", "CHN:a"]) == (["PER", "CHN"], ["a:b", "a"])


def test_seeds_are_sized_within_their_region():
    # PER is 1/10,000 of the system: every Peruvian sector is below 0.05 % of total output
    codes = ["PER:a", "PER:b", "CHN:a", "CHN:b", "CHN:c"]
    x = np.array([1.0, 3.0, 10_000.0, 20_000.0, 5.0])
    national, _ = ic.clustering.seed_sectors(codes, x, {}, 0.0005)
    regional, small = mrio.seed_country_sectors(codes, x, {}, 0.0005)
    assert national.tolist() == [2, 3]
    # within regions: PER 1/4 and 3/4; CHN:c is 5/30,005 = 0.017 % of China's output
    assert regional.tolist() == [0, 1, 2, 3] and small == ["CHN:c"]


def test_feser_bergman_keeps_the_largest_components_above_the_cap():
    # 40 blocks of 3 variables, within-block correlation rho_b: eigenvalues 1 + 2 rho_b > 1
    rho = np.linspace(0.2, 0.9, 40)
    C = np.zeros((120, 120))
    for b, r in enumerate(rho):
        C[3 * b : 3 * b + 3, 3 * b : 3 * b + 3] = r
    np.fill_diagonal(C, 1.0)
    factors = ic.clustering.feser_bergman_factors(C, 0.35, max_factors=5)
    # the five strongest blocks (the last five), one factor each
    assert sorted(sorted(f.tolist()) for f in factors) == [
        [3 * b, 3 * b + 1, 3 * b + 2] for b in range(35, 40)
    ]
    assert len(ic.clustering.feser_bergman_factors(C, 0.35)) == 40  # below the default cap


def test_a_small_economy_still_seeds_attaches_services_and_lists_its_chains():
    # Peru at 1/10,000 of China's flows, no trade between them: every Peruvian sector is
    # far below 0.05 % of the system's output, but not of Peru's
    t = planted_mrio(["PER", "CHN"], SECTORS20, cross=0.0, scale={"PER": 1e-4})
    per = [c for c in t.codes if c.startswith("PER:")]
    assert (t.x.loc[per] / t.x.sum() < 0.0005).all()
    res = ic.detect_clusters(t, n_boot=0, focus="PER")
    goods = [c for c in per if c.split(":")[1] not in SECTORS20[-3:]]
    assert set(goods) <= set(res.tree_codes)  # every Peruvian goods sector seeds
    assert res.candidates
    assert any(m.role == "supporting" for c in res.candidates for m in c.members)
    # flow strength is scale-free and the blocks do not trade: Peru's strongest chains
    # are those of Peru's block on its own
    alone = ic.IOTable.from_arrays(t.Z.loc[per, per], t.x.loc[per], codes=per)
    chains = ic.clustering.strongest_chains(
        alone.Z.to_numpy(), per, per, 0.5, x=alone.x.to_numpy(), min_output_share=0.0005
    )
    assert {(c.seller, c.buyer) for c in res.strongest_chains if c.seller in per} == {
        (c.seller, c.buyer) for c in chains
    }
    assert chains


def test_focus_keeps_cores_of_the_focus_region_not_chains_it_only_serves():
    """Peru at 1 % of the system (an IO economist's review): two US chains held a Peruvian
    sector only as a supporting member (trade, transport) and were ranked first for Peru."""
    t = planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN, scale={"PER": 0.01})
    everything = ic.detect_clusters(t, n_boot=0)
    served = [
        c.id
        for c in everything.candidates
        if any(m.startswith("PER:") for m in c.codes) and not any("PER:" in m for m in c.core)
    ]
    assert served  # the situation the rule is for
    focus = ic.detect_clusters(t, n_boot=0, focus="PER")
    assert focus.candidates and not {c.id for c in focus.candidates} & set(served)
    left_out = len(everything.candidates) - len(focus.candidates)
    assert focus.diagnostics["focus_left_out"] == left_out > 0
    assert f"{left_out} other linked core(s) left out" in format_candidates(focus)
    for c in focus.candidates:
        assert any(m.startswith("PER:") for m in c.core)
        assert c.anchor.startswith("PER:") and any(m.startswith("PER:") for m in c.chain)
        assert c.label.startswith(f"{t.name_of[c.chain[0]]} → {t.name_of[c.chain[1]]}")


def test_a_multiregional_table_is_not_warned_of_missing_imports():
    """Its imports between regions are flows of Z (the national warning was wrong there)."""
    t = planted_mrio(["PER", "CHN", "USA"], SECTORS20, CHAIN)
    assert t.imports is None
    assert "missing_imports" not in {f.check for f in ic.validate(t).findings}
    national = ic.IOTable.from_arrays(t.Z.to_numpy()[:20, :20], t.x.to_numpy()[:20])
    assert "missing_imports" in {f.check for f in ic.validate(national).findings}


def test_column_balance_error_of_a_multiregional_table_says_what_to_check():
    """pymrio's test system: its factor inputs cover a fraction of output (review)."""
    pymrio = pytest.importorskip("pymrio")
    t = ic.from_pymrio(pymrio.load_test().calc_all())
    (err,) = [f for f in ic.validate(t).errors if f.check == "column_balance"]
    assert "factor_inputs" in err.message and "outside Z" in err.message
    national = planted_blocks(40)
    assert all("factor_inputs" not in f.message for f in ic.validate(national).findings)
