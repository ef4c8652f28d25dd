"""Compatibility alias: the concordance service now lives in :mod:`io_clusters.concordance`.

Kept so that ``io_clusters.evidence.concordance`` stays importable; new code imports
:mod:`io_clusters.concordance`.
"""

from __future__ import annotations

from ..concordance import (
    codes_match,
    coverage,
    detect_classification,
    load_concordances,
    oecd_codes,
    sector_isic,
)

__all__ = [
    "codes_match",
    "coverage",
    "detect_classification",
    "load_concordances",
    "oecd_codes",
    "sector_isic",
]
