"""Small tables shipped with the package, whose figures are published in the literature.

============================ ============================================================
name                         source
============================ ============================================================
``miller_blair_2x2``         Miller & Blair (2009), *Input-Output Analysis*, 2nd ed., ch. 2
                             (Tables 2.3/2.4): Z, f and x of the two-sector example.
``eurostat_germany_1995``    Eurostat (2008), *Manual of Supply, Use and Input-Output
                             Tables*, ch. 15 (J. Beutel), Table 15.4: Germany 1995, six
                             sectors, domestic flows, million DEM. Z and x (row P1) are
                             published; final demand and primary inputs are residuals
                             computed here (x − Z·1 and x − 1'Z).
============================ ============================================================
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources

from .readers import interchange
from .table import IOTable

EXAMPLES: tuple[str, ...] = ("eurostat_germany_1995", "miller_blair_2x2")
#: The embedded table the main job uses when no file is given.
DEFAULT_EXAMPLE = "eurostat_germany_1995"


def load_example(name: str = DEFAULT_EXAMPLE) -> IOTable:
    """Return one of the embedded example tables.

    Parameters
    ----------
    name : str
        One of :data:`EXAMPLES`.

    Returns
    -------
    IOTable

    Examples
    --------
    >>> from io_clusters import load_example
    >>> load_example("miller_blair_2x2").x.tolist()
    [1000.0, 2000.0]
    """
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    ref = resources.files("io_clusters") / "data" / "tables" / f"{name}.csv"
    with resources.as_file(ref) as path:
        table = interchange.read(path)
    return replace(table, meta=replace(table.meta, source=f"io_clusters:{name}", layout="embedded"))
