"""Which sectors are pervasive services, decided from their ISIC Rev.4 activity.

Services sell to almost every industry: if they seeded candidate clusters, or if their
positions stayed in the purchase and sales profiles, every group would look alike
through them. A sector is a *service* when its main ISIC Rev.4 activity (the first code
of its concordance) lies in a section whose ``kind`` is ``"services"`` in the package
data file ``data/isic/sections.toml`` (sections D–U: divisions 35–39 and 45–99).
Construction (section F, divisions 41–43) makes goods.

Where the ISIC codes come from, in order:

1. ``supporting=`` codes given by the user (they are services, whatever their activity);
2. ``isic=`` given by the user (code → ISIC code(s));
3. the table's own ``isic`` codes or a concordance the package carries
   (:func:`io_clusters.concordance.sector_isic`);
4. otherwise a fallback on names, with a warning: a name with a service word is a
   service unless it also says that the sector makes goods (machinery, equipment,
   products, fabricación …).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import AnalysisError, OptionError
from .table import IOTable

#: Name fragments (accent-free, lower case) of services, for tables without ISIC codes.
SERVICE_WORDS: tuple[str, ...] = (
    "comercio",
    "trade",
    "wholesale",
    "retail",
    "transport",
    "almacen",
    "storage",
    "comunicac",
    "telecom",
    "correo",
    "postal",
    "financ",
    "insurance",
    "seguro",
    "servic",
    "service",
    "inmobiliari",
    "real estate",
    "vivienda",
    "dwelling",
    "electricity",
    "electricidad",
    "gas supply",
    "suministro de gas",
    "agua",
    "water",
    "utilities",
    "desecho",
    "waste",
    "administracion publica",
    "public admin",
    "hotel",
    "restaurant",
    "education",
    "educacion",
    "salud",
    "health",
    "alquiler",
    "rental",
    "publicidad",
    "advertising",
    "reparacion",
    "repair",
    "esparcimiento",
    "recreation",
)
#: Name fragments that say a sector makes goods (they win over service words).
GOODS_WORDS: tuple[str, ...] = (
    "machinery",
    "maquinaria",
    "equipment",
    "equipo",
    "manufactur",
    "fabricac",
    "elaborac",
    "product",
    "industria",
    "apparatus",
    "aparatos",
    "vehicle",
    "vehiculo",
    "construction",
    "construccion",
    "mining",
    "mineria",
    "extraccion",
)


@lru_cache(maxsize=1)
def isic_sections() -> dict[str, Any]:
    """Return the ISIC Rev.4 sections of the package data (letter → name, divisions, kind)."""
    ref = resources.files("io_clusters") / "data" / "isic" / "sections.toml"
    return tomllib.loads(ref.read_text(encoding="utf-8"))


def section_of(code: str) -> str | None:
    """ISIC Rev.4 section letter of an ISIC code (division, group or class), or None."""
    try:
        division = int(str(code).strip()[:2])
    except ValueError:
        return None
    for letter, sec in isic_sections()["sections"].items():
        lo, hi = sec["divisions"]
        if lo <= division <= hi:
            return letter
    return None


def is_service_activity(code: str) -> bool:
    """Return True when the ISIC code's section is a services section (D–U)."""
    letter = section_of(code)
    return letter is not None and isic_sections()["sections"][letter]["kind"] == "services"


def manufacturing_divisions(codes: Sequence[str]) -> set[int]:
    """Manufacturing divisions (ISIC 10–33) covered *whole* by ``codes`` (2-digit codes)."""
    lo, hi = isic_sections()["manufacturing"]
    out = set()
    for c in codes:
        c = str(c).strip()
        if len(c) == 2 and c.isdigit() and lo <= int(c) <= hi:
            out.add(int(c))
    return out


def _plain(text: str) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", s)


def name_says_service(name: str) -> bool:
    """Fallback rule on a sector name: a service word and no goods word."""
    low = _plain(name)
    return any(w in low for w in SERVICE_WORDS) and not any(w in low for w in GOODS_WORDS)


@dataclass(frozen=True, slots=True)
class ServiceClassification:
    """Services of a table and why.

    Attributes
    ----------
    services : dict of str to str
        Code of every service sector → the reason (e.g. ``"ISIC 49 (section H)"``).
    isic : dict of str to tuple of str
        ISIC codes used for every sector (empty tuples under the name fallback).
    rule : str
        ``"isic"``, ``"given"`` (``supporting=``) or ``"names"`` (fallback).
    warnings : tuple of str
        E.g. that the name fallback was used.
    """

    services: dict[str, str]
    isic: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule: str = "isic"
    warnings: tuple[str, ...] = ()

    def is_service(self, code: str) -> bool:
        """Return True when ``code`` is a service sector."""
        return code in self.services


def table_isic(
    table: IOTable, isic: Mapping[str, str | Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]] | None:
    """ISIC codes of every sector: ``isic`` if given, else the table's concordance, else None."""
    if isic is not None:
        missing = sorted(set(table.codes) - set(isic))
        if missing:
            raise OptionError(
                f"isic= gives no ISIC code for sector(s) {', '.join(missing[:8])}"
                + (" …" if len(missing) > 8 else "")
            )
        out: dict[str, tuple[str, ...]] = {}
        for c in table.codes:
            value = isic[c]
            out[c] = (value,) if isinstance(value, str) else tuple(value)
        return out
    from .concordance import sector_isic

    try:
        return sector_isic(table)
    except AnalysisError:
        return None


def _reason(codes: Sequence[str]) -> str:
    """``"ISIC 49 (section H)"``, or the main code and every section a sector spans."""
    main = codes[0]
    sections = sorted({sec for c in codes if (sec := section_of(c)) is not None})
    if len(sections) <= 1:
        return f"ISIC {main} (section {section_of(main)})"
    return f"ISIC {main} first of {len(codes)} codes (sections {', '.join(sections)})"


def classify_services(
    table: IOTable,
    *,
    isic: Mapping[str, Sequence[str]] | None = None,
    supporting: Sequence[str] | None = None,
) -> ServiceClassification:
    """Decide which sectors of ``table`` are pervasive services (see the module docstring).

    Parameters
    ----------
    table : IOTable
    isic : mapping, optional
        Sector code → ISIC Rev.4 code(s), first = main activity.
    supporting : sequence of str, optional
        Codes to treat as services, overriding every rule.

    Returns
    -------
    ServiceClassification

    Raises
    ------
    OptionError
        When ``supporting`` names codes that are not in the table.
    """
    codes = tuple(table.codes)
    concordance = table_isic(table, isic)
    if supporting is not None:
        unknown = sorted(set(supporting) - set(codes))
        if unknown:
            raise OptionError(f"supporting codes not in the table: {', '.join(unknown)}")
        chosen = set(supporting)
        return ServiceClassification(
            services={c: "given (supporting=)" for c in codes if c in chosen},
            isic=concordance or {},
            rule="given",
        )
    if concordance is not None and all(concordance.get(c) for c in codes):
        services = {}
        for c in codes:
            main = concordance[c][0]
            if is_service_activity(main):
                services[c] = _reason(concordance[c])
        return ServiceClassification(services=services, isic=concordance, rule="isic")
    names = dict(zip(codes, table.names, strict=True))
    services = {c: "name fallback (service word)" for c in codes if name_says_service(names[c])}
    warning = (
        "no ISIC concordance for this table: services were recognised from sector names; "
        "give ISIC codes (an [isic] table in the layout spec, or isic= in the API) to decide "
        "from activities"
    )
    return ServiceClassification(
        services=services, isic=concordance or {}, rule="names", warnings=(warning,)
    )


def aggregation_problem(
    table: IOTable, goods: Sequence[str], isic: Mapping[str, Sequence[str]], min_goods: int
) -> dict[str, str] | None:
    """Why the table is too aggregated for cluster analysis (es/en), or None.

    Too aggregated: fewer than ``min_goods`` non-service sectors, or one sector whose ISIC
    codes cover more than half of the manufacturing divisions (10–33) whole.
    """
    if len(goods) < min_goods:
        return {
            "en": (
                f"The table has {len(goods)} goods-producing sectors (fewer than {min_goods}): "
                "it is too aggregated to tell chains of trade apart, so no candidate clusters "
                "are proposed. The linkage indices are still computed."
            ),
            "es": (
                f"La tabla tiene {len(goods)} sectores productores de bienes (menos de "
                f"{min_goods}): está demasiado agregada para distinguir cadenas de comercio, "
                "por lo que no se proponen clústeres candidatos. Los encadenamientos sí se "
                "calculan."
            ),
        }
    lo, hi = isic_sections()["manufacturing"]
    half = (hi - lo + 1) / 2
    for c in goods:
        covered = manufacturing_divisions(isic.get(c, ()))
        if len(covered) > half:
            name = table.name_of[c]
            return {
                "en": (
                    f"Sector {c} ({name}) covers {len(covered)} of the {hi - lo + 1} "
                    "manufacturing divisions (ISIC 10–33): the table is too aggregated to "
                    "tell industrial chains apart, so no candidate clusters are proposed."
                ),
                "es": (
                    f"El sector {c} ({name}) abarca {len(covered)} de las {hi - lo + 1} "
                    "divisiones manufactureras (CIIU 10–33): la tabla está demasiado agregada "
                    "para distinguir cadenas industriales, por lo que no se proponen clústeres "
                    "candidatos."
                ),
            }
    return None
