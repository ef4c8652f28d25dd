"""Spanish (default) and English labels of the deliverables."""

from __future__ import annotations

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
    "method_text": (
        "Similitud: máximo entre la correlación de perfiles (Czamanski; Feser y Bergman 2000) y "
        "la intensidad de flujos directos (Hoen 2002); árbol jerárquico de enlace promedio sobre "
        "1 − similitud; servicios generalizados como miembros de apoyo; estabilidad por "
        "remuestreo (Jaccard, Hennig 2007); enfoque de Torres Zorrilla (2003).",
        "Similarity: the larger of profile correlation (Czamanski; Feser & Bergman 2000) and "
        "direct flow strength (Hoen 2002); average-linkage tree on 1 − similarity; pervasive "
        "services as supporting members; bootstrap stability (Jaccard, Hennig 2007); following "
        "Torres Zorrilla (2003).",
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
}


def label(key: str, lang: str) -> str:
    """Return the label ``key`` in ``lang`` (``"es"`` or ``"en"``)."""
    if lang not in LANGS:
        raise OptionError(f"language must be one of {LANGS}, got {lang!r}")
    es, en = _LABELS[key]
    return es if lang == "es" else en
