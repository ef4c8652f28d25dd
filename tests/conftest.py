"""Shared fixtures: paths to ../shared, and builders of small workbooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_IO = ROOT.parent / "shared" / "data" / "io"
EXAMPLE_SPEC = ROOT / "io_clusters" / "data" / "specs" / "example_spec.toml"

PERU = "peru_cepal_lac_iot_2011_per_rows.csv"
CHL08 = "chile_bcch_mip_2008_12x12.xlsx"
CHL13 = "chile_bcch_mip_2013_12x12.xlsx"
CHL111 = "chile_bcch_mip_2008_111x111.xlsx"
SHARED_REGIONAL = ROOT.parent / "shared" / "data" / "regional"
INEI = "peru_inei_vab_departamento_actividad_2007_2019.csv"


@pytest.fixture(scope="session")
def shared_io() -> Path:
    """The real tables in ../shared/data/io (tests skip where it is absent)."""
    if not SHARED_IO.is_dir():
        pytest.skip(
            f"real IO tables not available: {SHARED_IO} is absent (read-only reference data)"
        )
    return SHARED_IO


def peru_file() -> Path:
    """Peru's CEPAL 2011 table: the file in ../shared, or the embedded copy without it.

    Both read to the same table (codes, names, Z, x, final demand, id, units);
    tests/test_datasets.py checks it wherever ../shared is present.
    """
    if (SHARED_IO / PERU).exists():
        return SHARED_IO / PERU
    from io_clusters.datasets import example_path

    return example_path("peru_cepal_2011")


def inei_file() -> Path:
    """INEI's departmental value added: the file in ../shared, or the embedded 2019 extract.

    ``read_regional`` gives the same data for 2019 (the latest year, its default) from
    either; the embedded file has only 2019 and no department totals (activity 0).
    """
    if (SHARED_REGIONAL / INEI).exists():
        return SHARED_REGIONAL / INEI
    from io_clusters.datasets import example_path

    return example_path("peru_inei_vab_2019")


@pytest.fixture(scope="session")
def peru_path() -> Path:
    """Path of Peru's table (see :func:`peru_file`); never skips."""
    return peru_file()


# A balanced four-sector table used by the spec-layout workbooks (numbers made up here).
SPEC_Z = np.array([[10, 20, 5, 0], [15, 5, 30, 10], [5, 10, 5, 20], [0, 5, 10, 5]], float)
SPEC_FD = np.array([[50, 10, 15], [40, 5, 20], [30, 20, 10], [60, 10, 5]], float)
SPEC_X = SPEC_Z.sum(1) + SPEC_FD.sum(1)
SPEC_IMP = 0.1 * SPEC_X
_rest = SPEC_X - SPEC_Z.sum(0) - SPEC_IMP
SPEC_VA = np.vstack([0.6 * _rest, 0.4 * _rest])
SPEC_CODES = ["P01", "P02", "P03", "P04"]
SPEC_NAMES = ["Agricultura", "Minería", "Manufactura", "Servicios"]


def spec_workbook(path: Path, mutate: Callable[[openpyxl.Workbook], None] | None = None) -> Path:
    """Write a workbook matching io_clusters/data/specs/example_spec.toml."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "MIP"
    ws["A2"] = "Tabla insumo-producto simétrica (ejemplo)"
    ws["A3"] = "(millones de soles de 2007)"
    for j, code in enumerate(SPEC_CODES):
        ws.cell(row=6, column=3 + j, value=code)
    for k, label in enumerate(["Consumo final", "FBK", "Exportaciones", "Producción"]):
        ws.cell(row=6, column=7 + k, value=label)
    for i, code in enumerate(SPEC_CODES):
        r = 8 + i
        ws.cell(row=r, column=1, value=code)
        ws.cell(row=r, column=2, value=SPEC_NAMES[i])
        for j in range(4):
            ws.cell(row=r, column=3 + j, value=float(SPEC_Z[i, j]))
        for k in range(3):
            ws.cell(row=r, column=7 + k, value=float(SPEC_FD[i, k]))
        ws.cell(row=r, column=10, value=float(SPEC_X[i]))
    ws.cell(row=13, column=2, value="Importaciones")
    ws.cell(row=14, column=2, value="Remuneraciones")
    ws.cell(row=15, column=2, value="Excedente")
    for j in range(4):
        ws.cell(row=13, column=3 + j, value=float(SPEC_IMP[j]))
        ws.cell(row=14, column=3 + j, value=float(SPEC_VA[0, j]))
        ws.cell(row=15, column=3 + j, value=float(SPEC_VA[1, j]))
    if mutate is not None:
        mutate(wb)
    wb.save(path)
    return path


def bcch_workbook(path: Path, mutate: Callable[[openpyxl.Workbook], None] | None = None) -> Path:
    """Write a small workbook in the Banco Central de Chile MIP layout (4 activities)."""
    wb = openpyxl.Workbook()
    gl = wb.active
    gl.title = "Glosas"
    gl["B4"] = "Listado a 4 actividades"
    for i, name in enumerate(SPEC_NAMES):
        gl.cell(row=10 + i, column=2, value=i + 1)
        gl.cell(row=10 + i, column=3, value=name)
    ws = wb.create_sheet("4x4_2020")
    ws["B2"] = "Matriz de insumo-producto"
    ws["B5"] = "(millones de pesos de 2020)"
    ws["B8"] = "Actividad"
    for j in range(4):
        ws.cell(row=9, column=3 + j, value=j + 1)
    ws.cell(row=9, column=7, value="Total")
    labels = [
        "Consumo de hogares",
        "Formación bruta de",
        "Exportaciones",
        "Producción precio básico",
    ]
    for k, label in enumerate(labels):
        ws.cell(row=8, column=9 + 2 * k, value=label)
    ws.cell(row=9, column=11, value="capital fijo")
    for i in range(4):
        r = 12 + i
        ws.cell(row=r, column=2, value=str(i + 1))
        for j in range(4):
            ws.cell(row=r, column=3 + j, value=float(SPEC_Z[i, j]) if SPEC_Z[i, j] else "")
        ws.cell(row=r, column=7, value=float(SPEC_Z[i].sum()))
        for k in range(3):
            ws.cell(row=r, column=9 + 2 * k, value=float(SPEC_FD[i, k]))
        ws.cell(row=r, column=15, value=float(SPEC_X[i]))
    ws.cell(row=17, column=2, value="Total")
    ws.cell(row=20, column=2, value="Importaciones precios cif ")
    ws.cell(row=22, column=2, value="Valor agregado ")
    ws.cell(row=24, column=2, value="Remuneraciones de asalariados")
    ws.cell(row=25, column=2, value="Excedente bruto de explotación")
    ws.cell(row=27, column=2, value="Producción precios básicos")
    for j in range(4):
        ws.cell(row=17, column=3 + j, value=float(SPEC_Z[:, j].sum()))
        ws.cell(row=20, column=3 + j, value=float(SPEC_IMP[j]))
        ws.cell(row=22, column=3 + j, value=float(SPEC_VA[:, j].sum()))
        ws.cell(row=24, column=3 + j, value=float(SPEC_VA[0, j]))
        ws.cell(row=25, column=3 + j, value=float(SPEC_VA[1, j]))
        ws.cell(row=27, column=3 + j, value=float(SPEC_X[j]))
    if mutate is not None:
        mutate(wb)
    wb.save(path)
    return path


# Two planted chains of three sectors (../shared/METHOD.md §4): any correct F&B +
# average-linkage implementation recovers the blocks {0,1,2} and {3,4,5}.
PLANTED_Z = np.array(
    [
        [10, 60, 5, 1, 1, 1],
        [2, 10, 70, 1, 1, 1],
        [5, 3, 10, 1, 1, 2],
        [1, 1, 1, 10, 60, 5],
        [1, 1, 1, 2, 10, 70],
        [2, 1, 1, 5, 3, 10],
    ],
    float,
)


def planted_blocks(n: int, seed: int = 0):
    """A productive n-sector table with planted blocks of about ten sectors (seeded)."""
    from io_clusters import IOTable

    rng = np.random.default_rng(seed)
    lab = rng.integers(0, max(2, n // 10), n)
    Z = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.05)
    Z += (lab[:, None] == lab[None, :]) * rng.uniform(5, 20, (n, n))
    x = Z.sum(0) * rng.uniform(1.3, 2.0, n) + Z.sum(1) * 0.2 + 1
    return IOTable.from_arrays(Z, x, codes=[f"s{i}" for i in range(n)], final_demand=x - Z.sum(1))
