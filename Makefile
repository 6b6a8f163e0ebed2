# greenweb: `make run` serves the site, `make test` runs every check.
# Only python3 is needed on the machine; everything else goes into .venv.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export GREENWEB_HOST ?= $(HOST)
export GREENWEB_PORT ?= $(PORT)

.PHONY: setup run test lint typecheck unit footprint bench load profile stress export clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "python3 cannot create a virtual environment: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: setup
	$(BIN)/greenweb migrate
	$(BIN)/greenweb import data/bulletin
	$(BIN)/greenweb serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint typecheck unit

# Benchmarks (not part of `make test`): in-process timings, then real servers under wrk.
bench: setup
	$(BIN)/pytest benchmarks -p no:cacheprovider --benchmark-columns=median,iqr,rounds --benchmark-sort=name

load: setup
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
	  echo "installing wrk and nginx (apt)"; apt-get update -qq && \
	  apt-get install -y -qq wrk nginx-light libnginx-mod-http-brotli-static; }
	$(BIN)/python benchmarks/load.py --json artifacts/load.json

ROUTES ?= /eventi /scadenze /sitemap.xml /calendario.ics
profile: setup
	$(BIN)/python benchmarks/profile_view.py $(ROUTES)

export: setup
	$(BIN)/greenweb export export

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .benchmarks artifacts
