"""Embedded data: Peru's CEPAL 2011 table and INEI's departmental value added.

Expected figures are re-derived from the reference files in ../shared (skipping with a
reason where they are absent) or quoted from ../shared/data/io/SOURCES.md §1 and
../shared/data/regional/SOURCES.md §1 (their sanity checks, computed there with pandas
and the csv module, not by this package).
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

from io_clusters import read_table
from io_clusters.cli import main
from io_clusters.datasets import (
    DEFAULT_EXAMPLE,
    DEFAULT_REGIONAL,
    EXAMPLES,
    REGIONAL_EXAMPLES,
    example_metadata,
    example_path,
    load_example,
    load_regional_example,
)
from io_clusters.evidence.concordance import detect_classification, sector_isic
from io_clusters.regional import read_regional

from .conftest import INEI, PERU, ROOT, SHARED_IO, SHARED_REGIONAL

SHARED = SHARED_IO.parent.parent


def _derive_module():
    spec = importlib.util.spec_from_file_location(
        "derive_peru_data", ROOT / "scripts" / "derive_peru_data.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def shared_peru():
    if not (SHARED_IO / PERU).exists():
        pytest.skip(f"CEPAL reference file not available: {SHARED_IO / PERU} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_table(SHARED_IO / PERU, country="PER")


@pytest.fixture(scope="module")
def shared_inei():
    if not (SHARED_REGIONAL / INEI).exists():
        pytest.skip(f"INEI reference file not available: {SHARED_REGIONAL / INEI} is absent")
    return SHARED_REGIONAL / INEI


def test_embedded_peru_reads_exactly_like_the_cepal_file(shared_peru):
    t = load_example("peru_cepal_2011")
    assert t.codes == shared_peru.codes and t.names == shared_peru.names
    np.testing.assert_array_equal(t.Z.to_numpy(), shared_peru.Z.to_numpy())  # bit for bit
    np.testing.assert_array_equal(t.x.to_numpy(), shared_peru.x.to_numpy())
    assert list(t.final_demand.columns) == list(shared_peru.final_demand.columns)
    np.testing.assert_array_equal(t.final_demand.to_numpy(), shared_peru.final_demand.to_numpy())
    assert t.value_added.shape == shared_peru.value_added.shape == (0, 40)
    assert t.imports is None and shared_peru.imports is None
    for field in ("table_id", "country", "year", "units", "domestic", "isic"):
        assert getattr(t.meta, field) == getattr(shared_peru.meta, field), field
    assert t.meta.source == "io_clusters:peru_cepal_2011" and t.meta.layout == "embedded"


def test_embedded_regional_reads_exactly_like_the_inei_file(shared_inei):
    for prices in ("constant", "current"):
        ref = read_regional(shared_inei, prices=prices)  # latest year by default: 2019
        emb = load_regional_example(prices=prices)
        assert emb.values.equals(ref.values), prices
        assert list(emb.values.columns) == list(ref.values.columns)
        assert emb.activity_names == ref.activity_names
        for field in ("classification", "year", "prices", "units", "measure"):
            assert getattr(emb, field) == getattr(ref, field), (prices, field)


def test_derive_script_reproduces_the_package_data_byte_for_byte(tmp_path, shared_inei):
    if not (SHARED_IO / PERU).exists():
        pytest.skip(f"CEPAL reference file not available: {SHARED_IO / PERU} is absent")
    assert _derive_module().main(["--shared", str(SHARED), "--out", str(tmp_path)]) == 0
    for name in (*EXAMPLES[:1], *REGIONAL_EXAMPLES):
        packaged = example_path(name)
        for suffix in (".csv", ".json"):
            fresh = tmp_path / packaged.parent.name / f"{name}{suffix}"
            assert fresh.read_bytes() == packaged.with_suffix(suffix).read_bytes(), fresh.name


def test_derive_script_refuses_without_the_reference_files(tmp_path):
    assert _derive_module().main(["--shared", str(tmp_path), "--out", str(tmp_path / "o")]) == 3
    assert not (tmp_path / "o").exists()


def test_embedded_peru_figures_match_the_sources_checks():
    """SOURCES.md §1: total output 305,776 M USD; Z_PER,PER is 38.0 % of output; the
    largest column sum of A is 0.806; s31 has output 0 and s10 output 4; every row's
    uses add up to Output within 9.6e-7 relative."""
    t = load_example()
    assert DEFAULT_EXAMPLE == "peru_cepal_2011" and t.n == 40
    x = t.x.to_numpy()
    Z = t.Z.to_numpy()
    assert x.sum() == pytest.approx(305_776, abs=0.5)
    assert Z.sum() / x.sum() == pytest.approx(0.380, abs=5e-4)
    keep = x > 0
    assert (Z[:, keep] / x[keep]).sum(axis=0).max() == pytest.approx(0.806, abs=5e-4)
    assert t.x["s31"] == 0 and t.x["s10"] == pytest.approx(4, abs=0.5)
    uses = Z.sum(axis=1) + t.final_demand.to_numpy().sum(axis=1)
    np.testing.assert_allclose(uses, x, rtol=1e-6, atol=0.04)
    assert list(t.final_demand.columns) == [
        "CONS",
        "GFCF",
        "EXP_LAC_intermediate",
        "EXP_LAC_final",
        "EXP_extra_regional",
        "Adjustment",
    ]


def test_embedded_peru_metadata_cites_cepal_and_says_it_is_derived():
    t = load_example("peru_cepal_2011")
    meta = example_metadata("peru_cepal_2011")
    for text in (t.meta.citation, meta["citation"]):
        assert "Matriz Insumo-Producto de América Latina 2011, preliminar" in text
        assert text.startswith("CEPAL")
    assert "dólares corrientes" in t.meta.units and meta["units"] == t.meta.units
    assert any(
        n.startswith("derived by io_clusters scripts/derive_peru_data.py") for n in t.meta.notes
    )
    assert meta["derived"].startswith("derived") and len(meta["source_sha256"]) == 64
    assert list(meta["names_en"]) == list(meta["names_es"]) == list(t.codes)
    assert list(meta["names_en"].values()) == list(t.names)
    assert len(set(meta["names_es"].values())) == 40 and all(meta["names_es"].values())


def test_spanish_names_keep_the_isic_concordance():
    en = load_example("peru_cepal_2011")
    es = load_example("peru_cepal_2011", lang="es")
    assert es.codes == en.codes and es.name_of["s02"] == "Caza y pesca"
    assert es.Z.equals(en.Z) and es.x.equals(en.x)
    assert detect_classification(en) not in (None, "table")  # recognised by CEPAL's names
    assert detect_classification(es) == "table"  # carries the codes itself
    assert sector_isic(es) == sector_isic(en)
    with pytest.raises(ValueError, match="lang"):
        load_example("peru_cepal_2011", lang="fr")


def test_embedded_regional_figures_match_the_sources_checks():
    """regional/SOURCES.md §1, check 4: national VAB 2019 = 496,991 million soles at 2007
    prices and 699,199 million at current prices (sums of the 24 departments); check 7:
    Piura has 24.1 % of fishing (constant prices)."""
    const = load_regional_example(DEFAULT_REGIONAL)
    curr = load_regional_example(DEFAULT_REGIONAL, prices="current")
    assert const.year == curr.year == 2019
    assert const.values.shape == curr.values.shape == (12, 24)
    assert "Lima" in const.regions and "Madre de Dios" in const.regions
    assert const.values.to_numpy().sum() / 1000 == pytest.approx(496_991, abs=0.5)
    assert curr.values.to_numpy().sum() / 1000 == pytest.approx(699_199, abs=0.5)
    fishing = const.values.loc["2"]
    assert fishing["Piura"] / fishing.sum() == pytest.approx(0.241, abs=5e-4)
    assert const.source.startswith("INEI") and "io_clusters:peru_inei_vab_2019" in const.source
    meta = example_metadata(DEFAULT_REGIONAL)
    assert meta["citation"].startswith("INEI") and "derived" in meta["derived"]


def test_package_data_is_compact():
    sizes = {
        p.name: p.stat().st_size
        for name in ("peru_cepal_2011", "peru_inei_vab_2019")
        for p in (example_path(name), example_path(name).with_suffix(".json"))
    }
    assert all(s < 40_000 for s in sizes.values()), sizes
    assert sum(sizes.values()) < 80_000, sizes


def test_examples_command_lists_the_embedded_data(capsys):
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert "example:peru_cepal_2011" in out and "[default]" in out
    assert "peru_inei_vab_2019" in out and "24 regions x 12 activities, 2019" in out
    assert "Matriz Insumo-Producto de América Latina 2011, preliminar" in out
    assert "example:miller_blair_2x2" in out and "example:eurostat_germany_1995" in out
