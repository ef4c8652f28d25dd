"""Sector concordances from table classifications to ISIC Rev.4.

Supported: CEPAL's 40 LAC sectors, the Banco Central de Chile's 12 (2008, 2013) and
111 (2008) activities (package data, ``data/isic/concordances.toml``), OECD IOT industry
codes (``01T03``, ``D35`` …, parsed as ISIC Rev.4 division ranges), and any table that
carries its own codes (the ``isic`` range of a layout spec or the ``isic`` column of
the interchange format, stored in ``TableMeta.isic``).

Codes are ISIC Rev.4 divisions (2 digits), groups (3) or classes (4); two codes
*match* when one is a prefix of the other ("03" matches "0311").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import AnalysisError
from .table import IOTable

_OECD = re.compile(r"^D?(\d{2})(?:T(\d{2}))?$")


@lru_cache(maxsize=1)
def load_concordances() -> dict[str, Any]:
    """Return the tabulated concordances (classification → code → name, isic)."""
    ref = resources.files("io_clusters") / "data" / "isic" / "concordances.toml"
    return tomllib.loads(ref.read_text(encoding="utf-8"))["classifications"]


def _norm(text: str) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def oecd_codes(code: str) -> tuple[str, ...] | None:
    """ISIC divisions of an OECD IOT industry code (``"05T09"`` → 05…09), else None."""
    m = _OECD.match(code.strip().upper())
    if not m:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    if hi < lo:
        return None
    return tuple(f"{d:02d}" for d in range(lo, hi + 1))


def detect_classification(table: IOTable) -> str | None:
    """Name of the classification whose codes and names the table uses, or None."""
    if table.meta.isic is not None:
        return "table"
    best, best_score = None, 0.0
    for name, cls in load_concordances().items():
        sectors = cls["sectors"]
        hits = sum(
            1
            for c, n in zip(table.codes, table.names, strict=True)
            if c in sectors and _norm(sectors[c]["name"]) == _norm(n)
        )
        score = hits / max(len(table.codes), len(sectors))
        if score > best_score:
            best, best_score = name, score
    if best is not None and best_score >= 0.9:
        return best
    if all(oecd_codes(c) for c in table.codes):
        return "oecd-isic4"
    return None


def sector_isic(table: IOTable) -> dict[str, tuple[str, ...]]:
    """ISIC Rev.4 codes of every sector of ``table``.

    Raises
    ------
    AnalysisError
        When the table's classification is not known; give the codes in the spec
        (``isic = "C8:C47"``) or in an ``isic`` column of the interchange format.
    """
    cls = detect_classification(table)
    if cls == "table" and table.meta.isic is not None:  # "table": the file gives its own codes
        return dict(zip(table.codes, table.meta.isic, strict=True))
    if cls == "oecd-isic4":
        return {c: oecd_codes(c) or () for c in table.codes}
    if cls is None:
        raise AnalysisError(
            f"{table.meta.table_id}: no ISIC concordance for this table's sectors; add an "
            "'isic' range to the layout spec or an 'isic' column to the interchange file"
        )
    sectors = load_concordances()[cls]["sectors"]
    return {c: tuple(sectors[c]["isic"]) if c in sectors else () for c in table.codes}


def codes_match(a: str, b: str) -> bool:
    """Return True when one ISIC code is a prefix of the other."""
    return a.startswith(b) or b.startswith(a)


def coverage(case_codes: tuple[str, ...], codes: set[str]) -> float:
    """Share of ``case_codes`` matched by at least one of ``codes``."""
    if not case_codes:
        return 0.0
    hit = sum(1 for c in case_codes if any(codes_match(c, k) for k in codes))
    return hit / len(case_codes)
