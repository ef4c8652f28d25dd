"""io_clusters: candidate industrial clusters from input-output tables.

Public API (flat): :func:`read_table`, :func:`write_table`, :func:`validate`,
:func:`linkages`, :func:`detect_clusters`, :func:`run`, :class:`IOTable`,
:func:`load_example`; multi-regional systems: :func:`from_pymrio`, :func:`to_pymrio`.
"""

from __future__ import annotations

from ._version import __version__
from .clustering import Candidate, ClusterResult, detect_clusters
from .datasets import EXAMPLES, load_example
from .errors import DataWarning, IoClustersError
from .linkages import linkages
from .mrio import from_pymrio, to_pymrio
from .options import ClusterOptions, RunOptions
from .pipeline import RunResult, run
from .readers import LAYOUTS, detect_layout, read_table, write_table
from .sut import SupplyUseTable, to_symmetric, validate_sut
from .table import IOTable, TableMeta
from .validate import Finding, ValidationReport, validate

__all__ = [
    "EXAMPLES",
    "LAYOUTS",
    "Candidate",
    "ClusterOptions",
    "ClusterResult",
    "DataWarning",
    "Finding",
    "IOTable",
    "IoClustersError",
    "RunOptions",
    "RunResult",
    "SupplyUseTable",
    "TableMeta",
    "ValidationReport",
    "__version__",
    "detect_clusters",
    "detect_layout",
    "from_pymrio",
    "linkages",
    "load_example",
    "read_table",
    "run",
    "to_pymrio",
    "to_symmetric",
    "validate",
    "validate_sut",
    "write_table",
]
