"""Peru's departments: INEI codes and names, exact matching of place names, boundaries.

The table of the 25 first-level units (24 departments and the Provincia Constitucional
del Callao) uses INEI's two-digit ubigeo codes, as do the boundaries shipped with the
package (``io_clusters/data/geo/``, MIT licence, see its ``SOURCES.md``). Names are
compared *exactly* after folding accents, case and spacing ("ÁNCASH" = "ancash"); a
place description such as "Chimbote, provincia del Santa, Áncash" is cut at commas,
parentheses and conjunctions and every piece is compared exactly — never by substring,
so "Centroamérica" does not contain Ica.

INEI's departmental accounts (value added by department) have 24 regions: their Lima
includes Callao. :func:`in_data` maps a department to the region that holds it in a
given data set (Callao → Lima when the data have no Callao).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "DEPARTMENTS",
    "Department",
    "boundaries",
    "department",
    "departments_in",
    "fold",
    "in_data",
]


@dataclass(frozen=True, slots=True)
class Department:
    """A first-level unit of Peru: INEI ubigeo code and official name."""

    code: str
    name: str


#: The 25 units of INEI's ubigeo (codes 01–25), official names with accents.
DEPARTMENTS: tuple[Department, ...] = tuple(
    Department(f"{i:02d}", n)
    for i, n in enumerate(
        (
            "Amazonas",
            "Áncash",
            "Apurímac",
            "Arequipa",
            "Ayacucho",
            "Cajamarca",
            "Callao",
            "Cusco",
            "Huancavelica",
            "Huánuco",
            "Ica",
            "Junín",
            "La Libertad",
            "Lambayeque",
            "Lima",
            "Loreto",
            "Madre de Dios",
            "Moquegua",
            "Pasco",
            "Piura",
            "Puno",
            "San Martín",
            "Tacna",
            "Tumbes",
            "Ucayali",
        ),
        start=1,
    )
)
CALLAO, LIMA = "07", "15"

#: Other exact spellings of the same units (folded), e.g. in INEI and regional-government
#: publications.
_ALIASES = {
    "cuzco": "08",
    "provincia constitucional del callao": "07",
    "region callao": "07",
    "lima metropolitana": "15",
    "lima provincias": "15",
    "lima region": "15",
    "region lima": "15",
    "departamento de lima": "15",
}


def fold(text: str) -> str:
    """Fold a name for exact comparison: no accents, lower case, single spaces."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", s.casefold()).strip()


@cache
def _by_folded() -> dict[str, Department]:
    out = {fold(d.name): d for d in DEPARTMENTS}
    by_code = {d.code: d for d in DEPARTMENTS}
    out.update({alias: by_code[code] for alias, code in _ALIASES.items()})
    return out


def department(name_or_code: str) -> Department | None:
    """Return the department whose name (folded) or two-digit code is exactly the input.

    Examples
    --------
    >>> department("ÁNCASH").name
    'Áncash'
    >>> department("15").name
    'Lima'
    >>> department("Centroamérica") is None
    True
    """
    s = str(name_or_code).strip()
    if re.fullmatch(r"\d{1,2}", s):
        return next((d for d in DEPARTMENTS if d.code == f"{int(s):02d}"), None)
    return _by_folded().get(fold(s))


_SPLIT = re.compile(r"[,;:()\[\]/]|\s+-\s+|\s+(?:y|e|and)\s+")


def departments_in(text: str) -> tuple[Department, ...]:
    """Departments named in a place description, in order of appearance.

    The text is cut at commas, semicolons, parentheses, slashes and the conjunctions
    "y", "e", "and"; each piece is compared exactly (after :func:`fold`) with the names,
    and so is what remains after a leading "departamento de", "región", "provincia de"…

    Examples
    --------
    >>> [d.name for d in departments_in("Puno, Cusco y Arequipa")]
    ['Puno', 'Cusco', 'Arequipa']
    >>> departments_in("Centroamérica (Guatemala, Honduras, El Salvador, Nicaragua)")
    ()
    """
    out: dict[str, Department] = {}
    for piece in _SPLIT.split(str(text)):
        p = fold(piece)
        p2 = re.sub(r"^(?:departamento|region|provincia|dpto\.?)\s+(?:de\s+|del\s+)?", "", p)
        d = _by_folded().get(p) or _by_folded().get(p2)
        if d is not None:
            out.setdefault(d.code, d)
    return tuple(out.values())


def in_data(dep: Department, regions: tuple[str, ...] | list[str]) -> str | None:
    """Return the region of a data set that holds ``dep``, or None.

    Regions are matched exactly (folded names or codes); Callao falls to Lima when the
    data have no Callao of their own (INEI's departmental accounts).
    """
    by = {}
    for r in regions:
        d = department(r)
        if d is not None:
            by[d.code] = r
    if dep.code in by:
        return by[dep.code]
    if dep.code == CALLAO:
        return by.get(LIMA)
    return None


@cache
def boundaries() -> dict[str, list[np.ndarray]]:
    """Outer and inner rings of every department, by INEI code (package data).

    Returns
    -------
    dict of str to list of ndarray
        Code → rings, each an array of shape (k, 2) of (longitude, latitude), WGS84;
        holes come after their polygon's exterior (draw with the even-odd rule).
    """
    path = resources.files("io_clusters") / "data" / "geo" / "peru_departamentos.geojson"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[np.ndarray]] = {}
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        out[f["properties"]["CCDD"]] = [np.asarray(r, dtype="float64") for p in polys for r in p]
    return out
