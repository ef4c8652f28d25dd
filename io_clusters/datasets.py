"""Data shipped with the package: Peru's 2011 table, its departments, textbook tables.

Input-output tables (:func:`load_example`):

============================ ============================================================
name                         source
============================ ============================================================
``peru_cepal_2011``          CEPAL, *Matriz Insumo-Producto de América Latina 2011,
                             preliminar* (sheet LAC_IOT_2011), Peru's domestic block:
                             40 sectors, millions of current USD; Z, x, domestic final
                             demand (CONS, GFCF), exports to the rest of Latin America
                             (intermediate, final) and beyond, CEPAL's Adjustment column.
                             Derived from the CEPAL file by ``scripts/derive_peru_data.py``
                             (values unchanged; reads back exactly as
                             ``read_table(file, country="PER")``). Sector names in
                             English (CEPAL's) and Spanish (``lang="es"``). The default.
``miller_blair_2x2``         Miller & Blair (2009), *Input-Output Analysis*, 2nd ed., ch. 2
                             (Tables 2.3/2.4): Z, f and x of the two-sector example.
``eurostat_germany_1995``    Eurostat (2008), *Manual of Supply, Use and Input-Output
                             Tables*, ch. 15 (J. Beutel), Table 15.4: Germany 1995, six
                             sectors, domestic flows, million DEM. Z and x (row P1) are
                             published; final demand and primary inputs are residuals
                             computed here (x − Z·1 and x − 1'Z).
============================ ============================================================

Regional data (:func:`load_regional_example`):

============================ ============================================================
``peru_inei_vab_2019``       INEI, *PBI por departamentos* (base 2007), "Valor Agregado
                             Bruto por Años, según Actividades Económicas": gross value
                             added of 24 departments (Lima includes Callao) × 12
                             activities, 2019, thousands of soles at constant 2007 and at
                             current prices. Derived by ``scripts/derive_peru_data.py``
                             (values unchanged; reads back exactly as ``read_regional``
                             reads INEI's file for 2019).
============================ ============================================================

Each derived file has a JSON companion (:func:`example_metadata`) with its citation,
units, derivation note and the SHA-256 of the file it was derived from.
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .readers import interchange
from .table import IOTable

if TYPE_CHECKING:
    from .regional import RegionalData

EXAMPLES: tuple[str, ...] = ("peru_cepal_2011", "eurostat_germany_1995", "miller_blair_2x2")
#: The embedded table the main job uses when no file is given.
DEFAULT_EXAMPLE = "peru_cepal_2011"
REGIONAL_EXAMPLES: tuple[str, ...] = ("peru_inei_vab_2019",)
#: The embedded regional data of the default table's country (Peru).
DEFAULT_REGIONAL = "peru_inei_vab_2019"


def _data_file(folder: str, name: str) -> Path:
    return Path(str(resources.files("io_clusters") / "data" / folder / name))


def example_path(name: str) -> Path:
    """Path of an embedded file: a table of :data:`EXAMPLES` or :data:`REGIONAL_EXAMPLES`.

    The package is installed unpacked, so the path can be given to any reader
    (``read_table``, ``read_regional``, the CLI).
    """
    if name in EXAMPLES:
        return _data_file("tables", f"{name}.csv")
    if name in REGIONAL_EXAMPLES:
        return _data_file("regional", f"{name}.csv")
    raise KeyError(
        f"unknown example {name!r}; choose one of {', '.join(EXAMPLES + REGIONAL_EXAMPLES)}"
    )


def example_metadata(name: str) -> dict[str, Any]:
    """Citation, units, derivation note and names of a derived embedded dataset.

    Returns an empty dict for the textbook tables, whose citation is in the table itself.
    """
    path = example_path(name).with_suffix(".json")
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def load_example(name: str = DEFAULT_EXAMPLE, *, lang: str = "en") -> IOTable:
    """Return one of the embedded example tables.

    Parameters
    ----------
    name : str
        One of :data:`EXAMPLES`.
    lang : {"en", "es"}, default "en"
        Language of the sector names where the dataset has both (``peru_cepal_2011``:
        CEPAL's English names, or the project's Spanish translation, the one the
        workbook uses). The codes are the same either way.

    Returns
    -------
    IOTable
        ``meta.source`` is ``"io_clusters:<name>"`` and ``meta.layout`` ``"embedded"``.

    Examples
    --------
    >>> from io_clusters import load_example
    >>> load_example("miller_blair_2x2").x.tolist()
    [1000.0, 2000.0]
    >>> load_example("peru_cepal_2011", lang="es").name_of["s02"]
    'Caza y pesca'
    """
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    if lang not in ("en", "es"):
        raise ValueError(f"lang must be 'en' or 'es', got {lang!r}")
    table = interchange.read(example_path(name))
    meta = example_metadata(name)
    new_meta = replace(table.meta, source=f"io_clusters:{name}", layout="embedded")
    if "domestic" in meta:
        new_meta = replace(new_meta, domestic=bool(meta["domestic"]))
    table = replace(table, meta=new_meta)
    if lang == "es" and meta.get("names_es"):
        # the ISIC concordance recognises CEPAL's sectors by their English names: carry
        # the codes in the table so that the Spanish-named table pairs the same way
        from .concordance import sector_isic

        isic = sector_isic(table)
        table = replace(
            table,
            names=tuple(meta["names_es"][c] for c in table.codes),
            meta=replace(table.meta, isic=tuple(isic[c] for c in table.codes)),
        )
    return table


def load_regional_example(
    name: str = DEFAULT_REGIONAL, *, prices: str = "constant"
) -> RegionalData:
    """Return embedded regional data (activity × region values), e.g. for ``run(regions=)``.

    Parameters
    ----------
    name : str
        One of :data:`REGIONAL_EXAMPLES`.
    prices : {"constant", "current"}
        Constant 2007 or current prices (thousands of soles).

    Returns
    -------
    RegionalData
        As :func:`io_clusters.regional.read_regional` reads INEI's file for the same
        year; ``source`` names the embedded dataset (``io_clusters:<name>``) and the
        file it was derived from.
    """
    from .regional import read_regional  # regional imports the evidence package: load lazily

    if name not in REGIONAL_EXAMPLES:
        raise KeyError(
            f"unknown regional example {name!r}; choose one of {', '.join(REGIONAL_EXAMPLES)}"
        )
    data = read_regional(example_path(name), prices=prices)
    origin = Path(example_metadata(name)["source_file"]).name
    publisher = data.source.split(" (")[0]  # the reader's description of INEI's table
    return replace(data, source=f"{publisher} (io_clusters:{name}, derived from {origin})")
