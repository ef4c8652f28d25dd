"""Derive the embedded Peru data (package data) from the reference files in ../shared.

Usage: python scripts/derive_peru_data.py [--shared ../shared] [--out io_clusters/data]

Writes, with the package's own readers and writers (so that the embedded data read
back exactly as the reference files do):

* ``tables/peru_cepal_2011.csv`` — Peru's domestic table from CEPAL's *Matriz
  Insumo-Producto de América Latina 2011, preliminar* (``data/io/
  peru_cepal_lac_iot_2011_per_rows.csv``) as ``read_table(..., country="PER")`` reads
  it: the 40×40 domestic block Z, output x, domestic final demand (CONS, GFCF), exports
  (intermediate and final to the other 17 LAC countries, extra-regional) and the
  Adjustment column, in the interchange format;
* ``tables/peru_cepal_2011.json`` — citation, units, the derivation note, the source
  file's SHA-256, and the sector names in English (CEPAL's) and Spanish (CEPAL's file
  has English names only; the Spanish ones are the project's translation, kept once in
  ``io_clusters/export/data/cepal_lac_40_sectors.csv`` and shared with the workbook);
* ``regional/peru_inei_vab_2019.csv`` — INEI's gross value added by department and
  activity (24 departments, Lima including Callao, × 12 activities) for the latest
  year of ``data/regional/peru_inei_vab_departamento_actividad_2007_2019.csv``, at
  constant 2007 and current prices, as ``read_regional`` reads it, in the same long
  layout (department totals left out);
* ``regional/peru_inei_vab_2019.json`` — its citation, units and derivation note.

Nothing is written unless every input is present. The output is deterministic (no
timestamps), so re-deriving reproduces the packaged files byte for byte
(tests/test_datasets.py checks it when ../shared is present).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from io_clusters import read_table, write_table  # noqa: E402
from io_clusters.export.i18n import cepal_sector_names  # noqa: E402
from io_clusters.regional import read_regional  # noqa: E402

PERU_FILE = "data/io/peru_cepal_lac_iot_2011_per_rows.csv"
INEI_FILE = "data/regional/peru_inei_vab_departamento_actividad_2007_2019.csv"
TABLE_NAME = "peru_cepal_2011"

CEPAL_CITATION = (
    "CEPAL (Comisión Económica para América Latina y el Caribe), Matriz Insumo-Producto de "
    "América Latina 2011, preliminar (hoja LAC_IOT_2011): filas de Perú, bloque doméstico"
)
INEI_CITATION = (
    "INEI (Instituto Nacional de Estadística e Informática), Dirección Nacional de Cuentas "
    "Nacionales: PBI por departamentos, base 2007, cuadro 'Valor Agregado Bruto por Años, "
    "según Actividades Económicas' (valores a precios constantes de 2007 y a precios "
    "corrientes, miles de soles)"
)


def sha256(path: Path) -> str:
    """SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json_text(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def derive_table(shared: Path, out: Path) -> list[Path]:
    """Write the CEPAL Peru table and its metadata under ``out/tables``."""
    src = shared / PERU_FILE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reader's data warnings belong to the analysis
        t = read_table(src, country="PER")
    # one Spanish translation for the whole package: the workbook's (export/data/)
    cepal = cepal_sector_names()
    if set(t.codes) != set(cepal):
        raise SystemExit(f"{src}: sector codes {t.codes[:5]}… are not CEPAL's 40 LAC sectors")
    names_es = {c: cepal[c]["name_es"] for c in t.codes}
    digest = sha256(src)
    derived = (
        f"derived by io_clusters scripts/derive_peru_data.py from {src.name} (Peru's 40 rows "
        f"of CEPAL's sheet LAC_IOT_2011, sha256 {digest}) with read_table(country='PER'); "
        "values unchanged; exports and final demand of the other LAC countries are summed "
        "into EXP_LAC_intermediate, EXP_LAC_final and EXP_extra_regional"
    )
    table = replace(
        t,
        meta=replace(
            t.meta,
            source=src.name,
            sha256=digest,
            citation=CEPAL_CITATION,
            notes=(*t.meta.notes, derived),
        ),
    )
    tables = out / "tables"
    csv_path = write_table(table, tables / f"{TABLE_NAME}.csv")
    meta = {
        "name": TABLE_NAME,
        "title_en": "Peru, domestic input-output table 2011 (CEPAL LAC IOT, 40 sectors)",
        "title_es": "Perú, matriz insumo-producto doméstica 2011 (MIP de América Latina, 40 "
        "sectores)",
        "publisher": "CEPAL / ECLAC",
        "citation": CEPAL_CITATION,
        "year": t.meta.year,
        "country": t.meta.country,
        "units": t.meta.units,
        "domestic": bool(t.meta.domestic),
        "derived": derived,
        "source_file": f"shared/{PERU_FILE}",
        "source_sha256": digest,
        "final_demand": {
            "CONS": "household and government consumption in Peru (CONS_PER)",
            "GFCF": "gross fixed capital formation in Peru (GFCF_PER; some values negative)",
            "EXP_LAC_intermediate": "sales to the other 17 LAC countries' sectors",
            "EXP_LAC_final": "sales to final demand of the other 17 LAC countries",
            "EXP_extra_regional": "exports outside the region (EXP_*)",
            "Adjustment": "CEPAL's statistical discrepancy (can be negative)",
        },
        "names_en": dict(zip(t.codes, t.names, strict=True)),
        "names_es": names_es,
    }
    json_path = tables / f"{TABLE_NAME}.json"
    json_path.write_text(_json_text(meta), encoding="utf-8")
    return [csv_path, json_path]


def derive_regional(shared: Path, out: Path) -> list[Path]:
    """Write INEI's departmental VAB, latest year, both price bases, under ``out/regional``."""
    src = shared / INEI_FILE
    by_prices = {p: read_regional(src, prices=p) for p in ("constant", "current")}
    year = by_prices["constant"].year
    if by_prices["current"].year != year:
        raise SystemExit(f"{src}: the two price bases end in different years")
    name = f"peru_inei_vab_{year}"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["prices", "departamento", "year", "activity_no", "activity", "vab_miles_soles"])
    for prices, data in by_prices.items():
        basis = "constant_2007" if prices == "constant" else "current"
        for region in data.regions:
            for act in data.values.index:
                v = float(data.values.loc[act, region])
                text = str(int(v)) if v.is_integer() else repr(v)
                # lower case as in INEI's file; read_regional title-cases it back
                w.writerow([basis, region.lower(), year, act, data.activity_names[act], text])
    reg = out / "regional"
    reg.mkdir(parents=True, exist_ok=True)
    csv_path = reg / f"{name}.csv"
    csv_path.write_text(buf.getvalue(), encoding="utf-8")
    digest = sha256(src)
    meta = {
        "name": name,
        "title_en": f"Peru, gross value added by department and activity, {year}",
        "title_es": f"Perú, valor agregado bruto por departamento y actividad, {year}",
        "publisher": "INEI",
        "citation": INEI_CITATION,
        "year": year,
        "units": {p: d.units for p, d in by_prices.items()},
        "regions": len(by_prices["constant"].regions),
        "activities": len(by_prices["constant"].values.index),
        "derived": (
            f"derived by io_clusters scripts/derive_peru_data.py from {src.name} (sha256 "
            f"{digest}; INEI's table as served by GitHub ricardocotillo/easy_peru_api) with "
            f"read_regional(prices='constant'|'current') for {year}, the latest year; values "
            "unchanged, department totals (activity 0) left out"
        ),
        "caveats": [
            "Lima includes the Provincia Constitucional del Callao (24 departments, not 25)",
            "INEI marks the last years of this vintage as provisional or estimated",
        ],
        "source_file": f"shared/{INEI_FILE}",
        "source_sha256": digest,
    }
    json_path = reg / f"{name}.json"
    json_path.write_text(_json_text(meta), encoding="utf-8")
    return [csv_path, json_path]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"), help="reference data root")
    ap.add_argument("--out", default=str(ROOT / "io_clusters" / "data"), help="package data dir")
    args = ap.parse_args(argv)
    shared, out = Path(args.shared), Path(args.out)
    missing = [f for f in (PERU_FILE, INEI_FILE) if not (shared / f).exists()]
    if missing:
        print(f"missing reference file(s) under {shared}: {', '.join(missing)}", file=sys.stderr)
        return 3
    for path in [*derive_table(shared, out), *derive_regional(shared, out)]:
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
