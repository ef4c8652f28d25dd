"""Qualitative evidence for candidate clusters (Rosenfeld's caveat).

The study's phase framework and cases, concordances to ISIC, pairing of candidates with
evidence, and the fieldwork loop.
"""

from __future__ import annotations

from ..concordance import detect_classification, sector_isic
from .catalogue import (
    DIMENSIONS,
    PHASES,
    Case,
    heuristic_phase,
    load_cases,
    load_framework,
    phase_check,
)
from .fieldwork import EvidenceStore, FieldworkError, read_fieldwork, write_template
from .pairing import EvidenceResult, Pairing, Rosenfeld, pair_evidence

__all__ = [
    "DIMENSIONS",
    "PHASES",
    "Case",
    "EvidenceResult",
    "EvidenceStore",
    "FieldworkError",
    "Pairing",
    "Rosenfeld",
    "detect_classification",
    "heuristic_phase",
    "load_cases",
    "load_framework",
    "pair_evidence",
    "phase_check",
    "read_fieldwork",
    "sector_isic",
    "write_template",
]
