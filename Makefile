# Two commands do everything on a fresh machine with Python >= 3.11 and make:
#   make demo   -> creates .venv, installs the package, runs the main job on Peru's table
#                  (../shared when present, else the embedded CEPAL 2011 + INEI 2019 data)
#   make test   -> creates .venv, installs the package with test extras, runs the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_TABLE ?= ../shared/data/io/peru_cepal_lac_iot_2011_per_rows.csv
DEMO_REGIONS ?= ../shared/data/regional/peru_inei_vab_departamento_actividad_2007_2019.csv

.PHONY: demo test test-slow bench fuzz lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/io-clusters demo --table "$(DEMO_TABLE)" --regions "$(DEMO_REGIONS)" --out data/processed

test: $(VENV)/.installed
	-@bash scripts/ensure_office.sh
	-@bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

test-slow: $(VENV)/.installed
	$(BIN)/python -m pytest -m slow

bench: $(VENV)/.installed
	$(BIN)/python scripts/bench.py --out data/processed/bench
	$(BIN)/python scripts/bench_mrio.py --out data/processed/bench

fuzz: $(VENV)/.installed
	$(BIN)/python scripts/fuzz.py --cases 5000 --jobs 2 --out data/processed/fuzz.json

lint: $(VENV)/.installed
	$(BIN)/ruff check io_clusters tests scripts
	$(BIN)/ruff format --check io_clusters tests scripts
	$(BIN)/mypy io_clusters

format: $(VENV)/.installed
	$(BIN)/ruff format io_clusters tests scripts

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
