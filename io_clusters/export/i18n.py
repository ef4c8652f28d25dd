"""Spanish (default) and English labels, values and messages of the deliverables.

One language per output: every header, enumeration value (roles, key-sector classes,
stability readings, Rosenfeld statuses, severities), candidate warning and validation
message of a workbook, report or figure goes through this catalogue. Machine values stay
in the JSON and CSV. Spanish names of CEPAL's 40-sector classification ship as package
data (``export/data/cepal_lac_40_sectors.csv``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import OptionError

LANGS = ("es", "en")

_LABELS: dict[str, tuple[str, str]] = {
    # sheet names (≤ 31 characters)
    "sheet_summary": ("Resumen", "Summary"),
    "sheet_candidates": ("Candidatos", "Candidates"),
    "sheet_members": ("Miembros", "Members"),
    "sheet_linkages": ("Encadenamientos", "Linkages"),
    "sheet_evidence": ("Evidencia", "Evidence"),
    "sheet_phases": ("Fases", "Phases"),
    "sheet_method": ("Método y validación", "Method and validation"),
    # column headers
    "id": ("ID", "ID"),
    "label": ("Candidato", "Candidate"),
    "members": ("Miembros", "Members"),
    "core": ("Sectores núcleo", "Core sectors"),
    "n_members": ("N.º de miembros", "No. of members"),
    "score": ("Puntaje", "Score"),
    "stability": ("Estabilidad (Jaccard)", "Stability (Jaccard)"),
    "stability_reading": ("Lectura de estabilidad", "Stability reading"),
    "stability_rule": ("Estabilidad de la regla de corte", "Cut-rule stability"),
    "cohesion": ("Cohesión de la cadena", "Chain cohesion"),
    "cohesion_word": ("cohesión", "cohesion"),
    "link_partner": ("Socio más fuerte", "Strongest partner"),
    "link_strength": ("Intensidad del vínculo", "Link strength"),
    "flags": ("Señales", "Flags"),
    "intra_flow_share": ("Flujos internos", "Intra-flow share"),
    "output_share": ("Participación en la producción", "Output share"),
    "export_share": ("Participación exportadora", "Export share"),
    "matched_cases": ("Casos emparejados", "Matched cases"),
    "phase": ("Fase", "Phase"),
    "rosenfeld_status": ("Estado Rosenfeld", "Rosenfeld status"),
    "rosenfeld_sentence": ("Advertencia de Rosenfeld", "Rosenfeld's caveat"),
    "regions": ("Regiones", "Regions"),
    "warnings": ("Advertencias", "Warnings"),
    "code": ("Código", "Code"),
    "name": ("Nombre", "Name"),
    "role": ("Rol", "Role"),
    "mean_similarity": ("Similitud media", "Mean similarity"),
    "key_sector_class": ("Clase de sector clave", "Key-sector class"),
    "case": ("Caso", "Case"),
    "country": ("País", "Country"),
    "region": ("Región", "Region"),
    "citation": ("Fuente", "Source"),
    "coverage": ("Cobertura CIIU", "ISIC coverage"),
    "dimension": ("Dimensión", "Dimension"),
    "severity": ("Severidad", "Severity"),
    "check": ("Control", "Check"),
    "message": ("Mensaje", "Message"),
    "cells": ("Celdas", "Cells"),
    "item": ("Concepto", "Item"),
    "value": ("Valor", "Value"),
    # summary items
    "title": (
        "Candidatos a cluster a partir de la tabla insumo-producto",
        "Candidate clusters from the input-output table",
    ),
    "table": ("Tabla", "Table"),
    "source": ("Archivo fuente", "Source file"),
    "sha256": ("SHA-256 del archivo", "File SHA-256"),
    "layout": ("Formato", "Layout"),
    "units": ("Unidades", "Units"),
    "year": ("Año", "Year"),
    "n_sectors": ("Sectores", "Sectors"),
    "method": ("Método", "Method"),
    "generated": ("Fecha de cálculo (UTC)", "Computed on (UTC)"),
    "version": ("Versión de io_clusters", "io_clusters version"),
    "caveat": (
        "Una tabla insumo-producto muestra transacciones entre industrias; nunca el carácter "
        "de las relaciones entre empresas ni los beneficios de un cluster (Rosenfeld). Cada "
        "candidato es una hipótesis para el trabajo de campo.",
        "An input-output table shows transactions between industries, never the character "
        "of the relations between firms nor the benefits of a cluster (Rosenfeld). Every "
        "candidate is a hypothesis for fieldwork.",
    ),
    # the method text: a template whose every number and choice comes from the run's
    # options (summary.method_text); with the defaults it reads as the study's method
    "method_text": (
        "Servicios {services} fuera de las semillas y de los perfiles. Similitud: "
        "{similarity}; árbol de enlace {linkage} sobre 1 − similitud, {cut}. Cada núcleo "
        "debe estar unido por vínculos directos (flujo ≥ {link} de las ventas del vendedor "
        "o de las compras del comprador); un sector suelto se une por un flujo ≥ {join}; un "
        "núcleo de más del {max_core} de la producción se divide por sus vínculos más "
        "débiles; los servicios se asocian por sus ventas al núcleo. {bootstrap} "
        "Comprobaciones: factores de Feser y Bergman; cadenas más fuertes (flujo ≥ {chain}). "
        "Enfoque de Torres Zorrilla (2003).",
        "Services {services} are left out of the seeds and the profiles. Similarity: "
        "{similarity}; {linkage} tree on 1 − similarity, {cut}. Every core must be connected "
        "by direct links (a flow ≥ {link} of the seller's sales or the buyer's purchases); a "
        "loose sector joins by a flow ≥ {join}; a core above {max_core} of output is split "
        "along its weakest links; services attach by their sales to the core. {bootstrap} "
        "Cross-checks: Feser-Bergman factors; strongest chains (flow ≥ {chain}). Following "
        "Torres Zorrilla (2003).",
    ),
    "method_services_isic": ("(secciones CIIU Rev.4 D–U)", "(ISIC Rev.4 sections D–U)"),
    "method_services_given": (
        "(los sectores indicados como de apoyo)",
        "(the sectors given as supporting)",
    ),
    "method_services_names": ("(reconocidos por su nombre)", "(recognised by their names)"),
    "method_similarity_combined": (
        "máximo entre la correlación de perfiles sobre los sectores de bienes (Czamanski; "
        "Feser y Bergman 2000) y la intensidad de flujos directos (participación en ventas o "
        "compras intermedias; Oosterhaven, Eding y Stelder 2001)",
        "the larger of profile correlation over the goods sectors (Czamanski; Feser & "
        "Bergman 2000) and direct flow strength (share of intermediate sales or purchases; "
        "Oosterhaven, Eding & Stelder 2001)",
    ),
    "method_similarity_correlation": (
        "correlación de perfiles sobre los sectores de bienes (Czamanski; Feser y Bergman 2000)",
        "profile correlation over the goods sectors (Czamanski; Feser & Bergman 2000)",
    ),
    "method_similarity_flow": (
        "intensidad de flujos directos (participación en ventas o compras intermedias; "
        "Oosterhaven, Eding y Stelder 2001)",
        "direct flow strength (share of intermediate sales or purchases; Oosterhaven, Eding "
        "& Stelder 2001)",
    ),
    "method_linkage_average": ("promedio", "average-linkage"),
    "method_linkage_complete": ("completo", "complete-linkage"),
    "method_linkage_single": ("simple", "single-linkage"),
    "method_cut_similarity": ("cortado en similitud {value}", "cut at similarity {value}"),
    "method_cut_threshold": ("cortado a la distancia {value}", "cut at distance {value}"),
    "method_cut_k": ("cortado en {value} grupos", "cut into {value} groups"),
    "method_bootstrap": (
        "Estabilidad por remuestreo (Hennig 2007, {n_boot} que repiten toda la regla): la "
        "cohesión (proporción de réplicas en que el vínculo más débil de la cadena del núcleo "
        "se mantiene dentro de un candidato) da la lectura «estable / dudoso / no confiable»; "
        "el Jaccard con los núcleos de la regla y el Jaccard con los nodos del árbol dicen si "
        "el límite del candidato es estable.",
        "Bootstrap stability (Hennig 2007, {n_boot} re-running the whole rule): cohesion "
        "(share of replicates in which the weakest link of the core's chain stays inside one "
        "candidate) gives the reading 'stable / doubtful / not to be trusted'; the Jaccard "
        "with the rule's cores and the Jaccard with the tree's nodes say whether the "
        "candidate's boundary is stable.",
    ),
    "method_replicates": ("{n} réplicas", "{n} replicates"),
    "method_replicate": ("{n} réplica", "{n} replicate"),
    "method_no_bootstrap": (
        "Sin réplicas de remuestreo (n_boot = 0): la estabilidad no se calculó.",
        "No bootstrap replicates (n_boot = 0): stability was not computed.",
    ),
    "chart_quadrant": ("Sectores clave (Rasmussen-Hirschman)", "Key sectors (Rasmussen-Hirschman)"),
    "chart_sizes": ("Tamaño de los candidatos", "Candidate sizes"),
    "power": ("Poder de dispersión", "Power of dispersion"),
    "sensitivity": ("Sensibilidad de dispersión (Ghosh)", "Sensitivity of dispersion (Ghosh)"),
    "requirements": (
        "Requisitos mínimos de un cluster (§1.2.4)",
        "Minimum requirements of a cluster (§1.2.4)",
    ),
    "unproposed": (
        "Casos documentados que la tabla no propone",
        "Documented cases the table does not propose",
    ),
    "no_candidates": ("La tabla no propone candidatos.", "The table proposes no candidates."),
    "dendrogram": ("Dendrograma", "Dendrogram"),
    "heatmap": ("Similitud entre sectores", "Similarity between sectors"),
    "network": ("Flujos internos", "Internal flows"),
    "geography": (
        "Una tabla nacional no muestra la concentración geográfica, primer requisito del estudio.",
        "A national table cannot show geographic concentration, the study's first requirement.",
    ),
    "unverified": ("Dimensiones sin verificar", "Unverified dimensions"),
    "sheet_regions": ("Regiones", "Regions"),
    "lq": ("Cociente de localización", "Location quotient"),
    "share_national": ("Participación nacional", "Share of the nation"),
    "concentrated": ("Concentrado (LQ > 1)", "Concentrated (LQ > 1)"),
    "regional_activities": ("Actividades regionales", "Regional activities"),
    "verify_in": ("Verificar en", "Verify in"),
    "status_io_only": ("solo IO", "IO only"),
    "status_paired": ("emparejado", "paired"),
    "status_contradicted": ("contradicho", "contradicted"),
    # executive summary (issue 17)
    "sheet_exec": ("Resumen ejecutivo", "Executive summary"),
    "sheet_run": ("Ficha técnica", "Run details"),
    "sheet_chains": ("Cadenas más fuertes", "Strongest chains"),
    "exec_title": (
        "Resumen ejecutivo: candidatos a cluster según la tabla insumo-producto",
        "Executive summary: candidate clusters from the input-output table",
    ),
    "exec_candidates": ("Candidatos propuestos por la tabla", "Candidates the table proposes"),
    "chain": ("Cadena principal", "Main chain"),
    "core_output_share": ("Producción del núcleo", "Core output share"),
    "what_to_verify": ("Qué verificar", "What to verify"),
    "where_to_verify": ("Dónde verificar", "Where to verify"),
    "rank": ("N.º", "No."),
    "confirmed_by": ("Confirmado por", "Confirmed by"),
    "unclustered_title": ("Sectores sin cluster y por qué", "Sectors in no candidate, and why"),
    "reason": ("Motivo", "Reason"),
    "similar_groups_title": (
        "Sectores de estructura parecida (sin flujos fuertes entre ellos)",
        "Sectors with a similar structure (without strong flows between them)",
    ),
    "torres_title": (
        "Comparación con los tres complejos de Torres Zorrilla (2003)",
        "Comparison with Torres Zorrilla's (2003) three complexes",
    ),
    "torres_note": (
        "Torres Zorrilla (2003, Documento de Trabajo 228, PUCP; Economía 26(51-52)) encontró "
        "en la matriz insumo-producto del Perú de 1994 tres complejos exportadores como los más "
        "desarrollados: minería–metalurgia, pesca y textiles. Solo se conoce el resumen de su "
        "trabajo (ver METHOD.md §1.2–1.3): la comparación es cualitativa, no de miembros exactos.",
        "Torres Zorrilla (2003, Working Paper 228, PUCP; Economía 26(51-52)) found three export "
        "complexes to be the most developed in Peru's 1994 input-output matrix: mining–metals, "
        "fishing and textiles. Only the abstract of his work is known (see METHOD.md §1.2–1.3): "
        "the comparison is qualitative, not one of exact membership.",
    ),
    "complex": ("Complejo", "Complex"),
    "expected_sectors": ("Sectores esperados", "Expected sectors"),
    "found_in": ("Encontrado en", "Found in"),
    "tz_mining": ("Minería–metalurgia", "Mining–metals"),
    "tz_textiles": ("Textil–confecciones", "Textiles–apparel"),
    "tz_fishing": ("Pesca–harina de pescado", "Fishing–fishmeal"),
    "tz_together": ("juntos en {id}", "together in {id}"),
    "tz_split": ("separados: {parts}", "split: {parts}"),
    "tz_absent": ("ninguno en un candidato", "in no candidate"),
    "anomalies_title": ("Anomalías de los datos", "Data anomalies"),
    "no_anomalies": ("Ninguna anomalía detectada.", "No anomaly found."),
    "source_citation": ("Fuente de la tabla", "Table source"),
    "too_aggregated_title": ("Tabla demasiado agregada", "Table too aggregated"),
    "none": ("—", "—"),
    "machine_name": ("Nombre en JSON/CSV", "Name in JSON/CSV"),
    "seller": ("Vendedor", "Seller"),
    "buyer": ("Comprador", "Buyer"),
    "strength": ("Intensidad", "Strength"),
    "share_of_seller_sales": (
        "Parte de las ventas intermedias del vendedor",
        "Share of the seller's intermediate sales",
    ),
    "share_of_buyer_purchases": (
        "Parte de las compras intermedias del comprador",
        "Share of the buyer's intermediate purchases",
    ),
    "candidate_of_chain": ("Candidato", "Candidate"),
    "legend_core": ("núcleo", "core"),
    "legend_supporting": ("apoyo", "supporting"),
    "legend_size": ("Área ∝ producción", "Area ∝ output"),
    "legend_width": ("Grosor ∝ flujo", "Width ∝ flow"),
    "legend_arrow": ("Flecha: del vendedor al comprador", "Arrow: from seller to buyer"),
    "unclustered_leaf": ("sin candidato", "in no candidate"),
    "similarity_word": ("similitud", "similarity"),
    "run_date": ("Fecha de la corrida", "Run date"),
    "n_candidates": ("Candidatos", "Candidates"),
    "read_first": (
        "Cada candidato es una hipótesis: la tabla muestra transacciones entre industrias, no "
        "relaciones entre empresas. Verifique en campo lo indicado en «Qué verificar».",
        "Every candidate is a hypothesis: the table shows transactions between industries, not "
        "relations between firms. Verify in the field what «What to verify» lists.",
    ),
    "names_source": (
        "Nombres de sectores en español: traducción del proyecto de la clasificación de 40 "
        "sectores de la MIP de América Latina de CEPAL (io_clusters/export/data).",
        "Sector names: CEPAL's 40-sector Latin America IO classification.",
    ),
    "sensitivity_short": ("Sensibilidad (Ghosh)", "Sensitivity (Ghosh)"),
    "figure_key_notable": ("Sectores destacados", "Notable sectors"),
    # multi-regional tables with a focus region (issue 20); in Spanish "otros países", as
    # "otras regiones" reads in Peru as other departamentos
    "focus_region": ("País de enfoque", "Focus region"),
    "foreign_members": ("Sectores de otros países", "Members in other countries"),
    "cross_border_sales_share": (
        "Ventas intermedias al exterior",
        "Intermediate sales abroad",
    ),
    "cross_border_purchases_share": (
        "Compras intermedias del exterior",
        "Intermediate purchases from abroad",
    ),
    "cross_border_title": ("Comercio con otros países", "Cross-border trade"),
    "cross_border_note": (
        "{foreign}: los sectores-país del candidato fuera de {region}. {sales} ({purchases}): "
        "parte de las ventas (compras) intermedias de todos los miembros de {region} del "
        "candidato —del núcleo y de apoyo (los servicios asociados) por igual— que van a "
        "(vienen de) otros países; sin las entregas de un sector a sí mismo.",
        "{foreign}: the candidate's country-sectors outside {region}. {sales} ({purchases}): "
        "the share of the intermediate sales (purchases) of all the candidate's {region} "
        "members — core and supporting (the attached services) alike — that go to (come "
        "from) other countries; a sector's deliveries to itself are left out.",
    ),
    "output_share_note": (
        "{core} y las demás participaciones en la producción: partes de la producción total "
        "de la tabla (todos los países), no de la de un solo país.",
        "{core} and every other output share: a share of the table's total output (all "
        "regions), not of one country's.",
    ),
    "cross_border_outside": ("Fuera de {region}", "Outside {region}"),
    "cross_border_sentence": (
        "Cruzan la frontera: {sales} de las ventas intermedias de sus miembros de {region} "
        "y {purchases} de sus compras intermedias.",
        "Crossing the border: {sales} of its {region} members' intermediate sales and "
        "{purchases} of their intermediate purchases.",
    ),
}

#: Display values of the machine enumerations (JSON/CSV keep the machine value).
_ENUMS: dict[str, dict[str, tuple[str, str]]] = {
    "role": {"core": ("núcleo", "core"), "supporting": ("apoyo", "supporting")},
    "key_sector_class": {
        "key": ("clave", "key"),
        "backward": ("impulsor (hacia atrás)", "backward"),
        "forward": ("estratégico (hacia adelante)", "forward"),
        "weak": ("independiente", "weak"),
    },
    "stability_reading": {
        "stable": ("estable", "stable"),
        "doubtful": ("dudoso", "doubtful"),
        "not to be trusted": ("no confiable", "not to be trusted"),
        "not computed": ("no calculada", "not computed"),
    },
    "status": {
        "io_only": ("solo tabla IO", "IO table only"),
        "paired": ("emparejado con casos", "paired with cases"),
        "contradicted": ("contradicho por casos", "contradicted by cases"),
    },
    "flag": {
        "local_relations_scarce": (
            "relaciones locales escasas según los casos",
            "local relations scarce in the cases",
        ),
        "weak_linkage": ("encadenamiento débil en la tabla", "weak linkage in the table"),
        "unstable": ("agrupación inestable", "unstable grouping"),
    },
    "severity": {
        "error": ("error", "error"),
        "warning": ("advertencia", "warning"),
        "info": ("información", "info"),
    },
    "unclustered_reason": {
        "singleton": ("ningún sector parecido al nivel de corte", "no similar sector at the cut"),
        "no_flow_link": (
            "sin vínculo directo de flujos con su grupo",
            "no direct flow link to its group",
        ),
        "too_small": (
            "por debajo del tamaño mínimo para formar candidatos",
            "below the size threshold for seeding candidates",
        ),
        "service_not_attached": (
            "servicio no asociado a ningún candidato por sus ventas",
            "service not attached to any candidate by its sales",
        ),
        "zero_output": ("producción nula (excluido del análisis)", "zero output (dropped)"),
        "split_off": (
            "separado de un núcleo demasiado grande (su vínculo más débil)",
            "split off a core above the size limit (its weakest link)",
        ),
        "too_aggregated": (
            "tabla demasiado agregada para proponer candidatos",
            "table too aggregated for candidate clusters",
        ),
    },
    "candidate_flag": {
        "unstable": ("inestable", "unstable"),
        "doubtful": ("pertenencia dudosa", "doubtful membership"),
        "rule_unstable": ("regla de corte inestable", "cut rule unstable"),
        "weak_linkage": ("núcleo poco encadenado", "weak core linkage"),
        "services_attached": ("con servicios de apoyo", "services attached"),
        "small_member": ("miembro muy pequeño", "very small member"),
        "boundary_unstable": ("frontera inestable", "boundary unstable"),
        "weak_member": ("miembro débilmente vinculado", "weakly linked member"),
        "table_imbalance": ("tabla desequilibrada", "table imbalance"),
    },
    "confirmed_by": {
        "feser_bergman": ("perfiles (Feser y Bergman)", "profiles (Feser & Bergman)"),
        "strongest_chains": ("cadenas más fuertes", "strongest chains"),
    },
    "check": {
        "finite": ("valores finitos", "finite values"),
        "negative_flows": ("flujos negativos", "negative flows"),
        "output": ("producción", "output"),
        "zero_output": ("producción nula", "zero output"),
        "coefficients": ("coeficientes técnicos", "technical coefficients"),
        "totals_row": ("filas de totales", "totals rows"),
        "row_balance": ("balance por filas", "row balance"),
        "column_balance": ("balance por columnas", "column balance"),
        "scale": ("unidades", "units"),
        "transposed": ("bloque traspuesto", "transposed block"),
        "isolated": ("sectores aislados", "isolated sectors"),
        "names": ("nombres", "names"),
        "reader": ("lectura del archivo", "file reading"),
        "exports_above_output": ("exportaciones > producción", "exports > output"),
        "negative_adjustment": ("columna de ajuste negativa", "negative adjustment column"),
        "missing_value_added": ("valor agregado ausente", "value added missing"),
        "missing_imports": ("importaciones ausentes", "imports missing"),
    },
}

#: Linkage-table columns: display header (machine name kept in a second header row).
_LINKAGE_HEADERS: dict[str, tuple[str, str]] = {
    "code": ("Código", "Code"),
    "name": ("Nombre", "Name"),
    "output": ("Producción", "Output"),
    "bl_direct": ("Encad. directo hacia atrás", "Direct backward linkage"),
    "fl_direct": ("Encad. directo hacia adelante", "Direct forward linkage"),
    "bl_direct_norm": ("Encad. directo atrás (norm.)", "Direct backward (norm.)"),
    "fl_direct_norm": ("Encad. directo adelante (norm.)", "Direct forward (norm.)"),
    "bl_total": ("Encad. total hacia atrás (Leontief)", "Total backward linkage (Leontief)"),
    "fl_total_ghosh": ("Encad. total hacia adelante (Ghosh)", "Total forward linkage (Ghosh)"),
    "fl_total_leontief": (
        "Encad. total adelante (Leontief, clásico)",
        "Total forward (Leontief, classic)",
    ),
    "power_dispersion": ("Poder de dispersión", "Power of dispersion"),
    "sensitivity_dispersion": ("Sensibilidad de dispersión (Ghosh)", "Sensitivity (Ghosh)"),
    "sensitivity_dispersion_leontief": (
        "Sensibilidad de dispersión (Leontief)",
        "Sensitivity (Leontief)",
    ),
    "cv_backward": ("Coef. de variación atrás", "CV backward"),
    "cv_forward": ("Coef. de variación adelante", "CV forward"),
    "cv_forward_leontief": ("Coef. de variación adelante (Leontief)", "CV forward (Leontief)"),
    "key_sector_class": ("Clase de sector clave", "Key-sector class"),
    "bl_weighted_fd": ("Encad. atrás ponderado (demanda final)", "Backward, final-demand weighted"),
    "bl_weighted_output": ("Encad. atrás ponderado (producción)", "Backward, output weighted"),
    "fl_weighted_output": ("Encad. adelante ponderado (producción)", "Forward, output weighted"),
    "hem_total": ("Extracción hipotética: total", "Hypothetical extraction: total"),
    "hem_backward": ("Extracción hipotética: atrás", "Hypothetical extraction: backward"),
    "hem_forward": ("Extracción hipotética: adelante", "Hypothetical extraction: forward"),
    "hem_total_pct": ("Extracción hipotética: total (%)", "Hypothetical extraction: total (%)"),
    "hem_backward_pct": (
        "Extracción hipotética: atrás (%)",
        "Hypothetical extraction: backward (%)",
    ),
    "hem_forward_pct": (
        "Extracción hipotética: adelante (%)",
        "Hypothetical extraction: forward (%)",
    ),
}


def label(key: str, lang: str) -> str:
    """Return the label ``key`` in ``lang`` (``"es"`` or ``"en"``)."""
    if lang not in LANGS:
        raise OptionError(f"language must be one of {LANGS}, got {lang!r}")
    es, en = _LABELS[key]
    return es if lang == "es" else en


def enum(kind: str, value: Any, lang: str) -> str:
    """Display form of a machine value (``enum("role", "core", "es") == "núcleo"``).

    Unknown values are returned unchanged; ``None`` becomes "—".
    """
    if value is None:
        return "—"
    pair = _ENUMS.get(kind, {}).get(str(value))
    if pair is None:
        return str(value)
    return pair[0] if lang == "es" else pair[1]


def enum_values(kind: str) -> dict[str, tuple[str, str]]:
    """Machine value → (Spanish, English) of one enumeration (for tests and legends)."""
    return dict(_ENUMS[kind])


def linkage_header(column: str, lang: str) -> str:
    """Display header of a linkage-table column (the machine name when unknown)."""
    pair = _LINKAGE_HEADERS.get(column)
    if pair is None:
        return column
    return pair[0] if lang == "es" else pair[1]


# --- free-text messages --------------------------------------------------------------
# English messages of the analysis (candidate warnings, validation findings) are matched
# by pattern and re-worded in Spanish with the same figures. An unknown message becomes a
# short Spanish pointer to validation.json / candidates.json: never English in a Spanish
# output.

_WARNING_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), es)
    for p, es in (
        (
            r"^unstable: bootstrap Jaccard (\S+) < (\S+)$",
            "inestable: Jaccard medio por remuestreo {0} < {1}",
        ),
        (
            r"^doubtful membership: bootstrap Jaccard (\S+) < (\S+)$",
            "pertenencia dudosa: Jaccard medio por remuestreo {0} < {1}",
        ),
        (
            r"^unstable: bootstrap Jaccard \(tree\) (\S+) < (\S+)$",
            "inestable: Jaccard medio por remuestreo (árbol) {0} < {1}",
        ),
        (
            r"^doubtful membership: bootstrap Jaccard \(tree\) (\S+) < (\S+)$",
            "pertenencia dudosa: Jaccard medio por remuestreo (árbol) {0} < {1}",
        ),
        (
            r"^unstable: the chain holds in (\S+)% of replicates$",
            "inestable: la cadena se mantiene en el {0} % de las réplicas",
        ),
        (
            r"^doubtful: the chain holds in (\S+)% of replicates$",
            "dudoso: la cadena se mantiene en el {0} % de las réplicas",
        ),
        (
            r"^its boundary moves between replicates \(tree Jaccard (\S+)\)$",
            "su frontera cambia entre réplicas (Jaccard del árbol {0})",
        ),
        (
            r"^the cut rule regroups it in many replicates \(rule Jaccard (\S+)\)$",
            "la regla de corte lo reagrupa en muchas réplicas (Jaccard de la regla {0})",
        ),
        (
            r"^core member\(s\) whose strongest link inside the core is below (\S+): (.+)$",
            "miembro(s) del núcleo cuyo vínculo más fuerte dentro del núcleo es menor que {0}: {1}",
        ),
        (
            r"^the cut rule regroups it in many replicates \(rule stability (\S+)\)$",
            "la regla de corte lo reagrupa en muchas réplicas (estabilidad de la regla {0})",
        ),
        (
            r"^core members trade little with each other \(core intra-flow (\S+)\)$",
            "los miembros del núcleo comercian poco entre sí (flujos internos del núcleo {0})",
        ),
        (
            r"^supporting service sector\(s\) attached by their sales to the core: (.+)$",
            "servicios de apoyo asociados por sus ventas al núcleo: {0}",
        ),
        (
            r"^member\(s\) below (\S+) of total output: (.+)$",
            "miembro(s) con menos de {0} de la producción total: {1}",
        ),
        (  # multi-regional tables (io_clusters.mrio)
            r"^member\(s\) below (\S+) of their region's output: (.+)$",
            "miembro(s) con menos de {0} de la producción de su región: {1}",
        ),
        (
            r"^contains pervasive service sector\(s\): (.+)$",
            "incluye servicios generalizados: {0}",
        ),
        (
            r"^members trade little with each other \(intra_flow_share (\S+)\)$",
            "los miembros comercian poco entre sí (flujos internos {0})",
        ),
    )
)

_FINDING_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), es)
    for p, es in (
        (
            r"^zero output for (.+); the analysis drops these sectors$",
            "producción nula en {0}; el análisis excluye estos sectores",
        ),
        (r"^max column sum of A = (\S+) < 1$", "suma máxima de columna de A = {0} < 1"),
        (
            r"^column sums of A = Z/x are ≥ 1 for (.+) \(max (\S+)\):.*$",
            "las sumas de columna de A = Z/x son ≥ 1 en {0} (máx. {1}): los insumos "
            "intermedios superan la producción; revise las unidades, una fila de totales "
            "dentro del bloque o un bloque traspuesto",
        ),
        (
            r"^(.+) vs output x: worst sector (\S+) with relative error (\S+) "
            r"\(difference (\S+)\) — balanced$",
            "{0} frente a la producción x: peor sector {1}, error relativo {2} "
            "(diferencia {3}); equilibrada",
        ),
        (
            r"^(.+) vs output x: worst sector (\S+) with relative error (\S+) "
            r"\(difference (\S+)\)$",
            "{0} frente a la producción x: peor sector {1}, error relativo {2} (diferencia {3})",
        ),
        (
            r"^not checked: the table has no final demand$",
            "no verificado: la tabla no tiene demanda final",
        ),
        (
            r"^not checked: the table has no primary inputs$",
            "no verificado: la tabla no tiene insumos primarios",
        ),
        (
            r"^no intermediate purchases from or sales to other sectors: (.+)$",
            "sin compras ni ventas intermedias con otros sectores: {0}",
        ),
        (r"^duplicate sector names: (.+)$", "nombres de sector duplicados: {0}"),
        (r"^negative output for (.+)$", "producción negativa en {0}"),
        (
            r"^domestic block (\S+) of (\d+) country file$",
            "bloque doméstico {0} de un archivo de {1} país(es)",
        ),
        (r"^dropped zero-output sector\(s\): (.+)$", "sectores de producción nula excluidos: {0}"),
        (
            r"^(\d+) negative intermediate flow\(s\), e\.g\. (Z\[[^\]]*\]) = ([^\s;]+)\s*([;—]).*$",
            "{0} flujo(s) intermedio(s) negativo(s), p. ej. {1} = {2}",
        ),
        (
            r"^(\d+) negative intermediate flow\(s\): (.+?) — negligible \(at most (\S+) of "
            r"the buying sector's output.*$",
            "{0} flujo(s) intermedio(s) negativo(s): {1} — despreciable(s) (a lo sumo {2} de la "
            "producción del sector comprador: redondeo)",
        ),
        (
            r"^(\d+) negative intermediate flow\(s\): (.+?); larger than (\S+) of the buyer's "
            r"output, so not rounding: fix them$",
            "{0} flujo(s) intermedio(s) negativo(s): {1}; mayores que {2} de la producción del "
            "comprador, no son redondeo: corríjalos",
        ),
        (
            r"^(\d+) negligible negative intermediate flow\(s\) \(at most (\S+) of the buying "
            r"sector's output\) set to 0 \(negatives='zero'\): (.+)$",
            "{0} flujo(s) intermedio(s) negativo(s) despreciable(s) (a lo sumo {1} de la "
            "producción del comprador) puestos a 0 (negatives='zero'): {2}",
        ),
        (
            r"^sector '(.+)' \((.+)\) is labelled as a total; check it is a real sector$",
            "el sector «{0}» ({1}) se llama como un total; compruebe que es un sector real",
        ),
        (r"^(\d+) empty-string cell\(s\) read as 0$", "{0} celda(s) vacía(s) leída(s) como 0"),
        (
            r"^output row '(.+)' agrees with the output column to (\S+)$",
            "la fila de producción «{0}» coincide con la columna de producción hasta {1}",
        ),
        (
            r"^value-added components sum to the '(.+)' row to (\S+)$",
            "los componentes del valor agregado suman la fila «{0}» con diferencia {1}",
        ),
        (
            r"^exports exceed output in (\d+) sector\(s\), e\.g\. (\S+) \((.+)\): "
            r"exports (\S+) = (\S+) % of output.*$",
            "las exportaciones superan la producción en {0} sector(es), p. ej. {1} ({2}): "
            "exportaciones = {4} % de la producción; la tabla compensa con una columna de "
            "ajuste negativa — revise la fuente",
        ),
        (
            r"^negative final-demand column (.+?): (\d+) negative value\(s\), e\.g\. (\S+) "
            r"= (\S+)$",
            "columna de demanda final negativa «{0}»: {1} valor(es) negativo(s), p. ej. {2} = {3}",
        ),
        (
            r"^the table has no value added: .*$",
            "la tabla no trae valor agregado: el balance por columnas y los indicadores de "
            "valor agregado no pueden verificarse",
        ),
        (
            r"^the table has no imports: .*$",
            "la tabla no trae importaciones: no se distingue insumo doméstico de importado "
            "en el balance por columnas",
        ),
    )
)


def _apply(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str | None:
    for pat, es in patterns:
        m = pat.match(text)
        if m:
            groups = [g.replace("imports", "importaciones") for g in m.groups()]
            return es.format(*groups)
    return None


def translate_finding(finding: Mapping[str, Any], lang: str) -> str:
    """Return the message of a validation finding in ``lang`` (Spanish by pattern)."""
    msg = str(finding.get("message", ""))
    if lang != "es":
        return msg
    es = _apply(_FINDING_PATTERNS, msg)
    if es is not None:
        return es
    sectors = ", ".join(finding.get("sectors") or ())
    check = enum("check", finding.get("check"), "es")
    return f"{check}: ver el detalle en validation.json" + (
        f" (sectores {sectors})" if sectors else ""
    )


def translate_warning(text: str, lang: str) -> str:
    """Return a candidate warning in ``lang`` (Spanish by pattern, else a pointer)."""
    if lang != "es":
        return text
    es = _apply(_WARNING_PATTERNS, text)
    if es is not None:
        return es
    if text.startswith("table imbalance: "):
        inner = text[len("table imbalance: ") :]
        return "desequilibrio de la tabla: " + translate_finding({"message": inner}, "es")
    return "advertencia del análisis: ver el detalle en candidates.json"


# --- sector names ----------------------------------------------------------------------
_CONCORDANCE = "cepal_lac_40_sectors.csv"


@lru_cache(maxsize=1)
def cepal_sector_names() -> dict[str, dict[str, str]]:
    """CEPAL LAC 40-sector classification: code → {name_en, name_es, short_en, short_es}.

    The Spanish names are the project's translation (package data
    ``io_clusters/export/data/cepal_lac_40_sectors.csv``).
    """
    text = (
        resources.files("io_clusters.export")
        .joinpath("data", _CONCORDANCE)
        .read_text(encoding="utf-8")
    )
    return {row["code"]: dict(row) for row in csv.DictReader(io.StringIO(text))}


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s).strip().lower()


def _is_cepal(row: Mapping[str, str], name: str) -> bool:
    """Tell whether ``name`` is the CEPAL sector's English or Spanish name."""
    return _norm(name) in (_norm(row["name_en"]), _norm(row["name_es"]))


def sector_names(names: Mapping[str, str], lang: str) -> dict[str, str]:
    """Display names of sectors: CEPAL's classification in Spanish when recognised.

    A sector is recognised when its code and English name are those of the CEPAL LAC
    classification; any other name (e.g. a Chilean table's Spanish names) is kept.
    """
    if lang != "es":
        return dict(names)
    conc = cepal_sector_names()
    out = {}
    for code, name in names.items():
        out[code] = row["name_es"] if (row := conc.get(code)) and _is_cepal(row, name) else name
    return out


_LEADING = re.compile(
    r"^(fabricaci[oó]n|elaboraci[oó]n|producci[oó]n|manufacture|manufacturing) (de |of )"
    r"(productos |products )?(de |of )?",
    re.I,
)


def short_names(names: Mapping[str, str], lang: str, width: int = 22) -> dict[str, str]:
    """Short display names (for crowded figures): CEPAL's short names, else the first words."""
    conc = cepal_sector_names()
    out = {}
    for code, name in names.items():
        row = conc.get(code)
        if row and _is_cepal(row, name):
            out[code] = row["short_es" if lang == "es" else "short_en"]
            continue
        short = _LEADING.sub("", name)
        short = short[:1].upper() + short[1:]
        if len(short) > width:
            cut = short[:width].rsplit(" ", 1)[0].rstrip(",;:(")
            short = (cut or short[:width]) + "…"
        out[code] = short
    return out


def relabel(text: str, names_en: Mapping[str, str], names_display: Mapping[str, str]) -> str:
    """Replace the source-language sector names inside ``text`` by their display names."""
    for code in sorted(names_en, key=lambda c: -len(names_en[c])):
        a, b = names_en[code], names_display.get(code, names_en[code])
        if a and a != b and a in text:
            text = text.replace(a, b)
    return text


def code_name(code: str, name: str | None, sep: str = " ") -> str:
    """Return ``"code name"``, or the code alone when the name is empty or the code itself.

    Tables built by :func:`io_clusters.from_pymrio` name each country-sector by its code
    ("PER:D07T08"): printing both would repeat it.

    >>> code_name("s01", "Agriculture")
    's01 Agriculture'
    >>> code_name("PER:D07T08", "PER:D07T08")
    'PER:D07T08'
    """
    return code if name in (None, "", code) else f"{code}{sep}{name}"


_CHAIN_LABEL = re.compile(r"^(?P<seller>.+?) → (?P<buyer>.+?)(?P<more> \(\+\d+\))?$")


def display_label(text: str, names_en: Mapping[str, str], names_display: Mapping[str, str]) -> str:
    """Return a candidate's ``label`` in display names: the one name of a candidate.

    A chain label "seller → buyer (+k)" whose two ends are whole source-language sector
    names is rebuilt from their display names; any other label (a user's, say) has the
    names it holds replaced (:func:`relabel`). Every output prints this, never a name
    rebuilt from the candidate's other fields.
    """
    m = _CHAIN_LABEL.match(text)
    if m:
        shown: dict[str, str] = {}
        for code, name in names_en.items():
            shown.setdefault(name, names_display.get(code, name))
        seller, buyer = shown.get(m["seller"]), shown.get(m["buyer"])
        if seller is not None and buyer is not None:
            return f"{seller} → {buyer}{m['more'] or ''}"
    return relabel(text, names_en, names_display)
