# greenweb: `make run` serves the site, `make test` runs every check.
# Only python3 is needed on the machine; everything else goes into .venv.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export GREENWEB_HOST ?= $(HOST)
export GREENWEB_PORT ?= $(PORT)

.PHONY: setup run test lint typecheck unit fuzz browser-tools footprint bench bench-quick load profile stress export clean

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

# Two processes (pytest-xdist): on a 2-core machine the suite takes half the time. The
# browser tests run last in each (tests/conftest.py says why). PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= 2
unit: setup browser-tools
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# The property tests (every @given test: Hypothesis marks them `hypothesis`) with random
# seeds and 20 times the examples (tests/conftest.py's "fuzz" profile): for looking, not
# gating. make test runs them derandomized ("ci"); a failure here prints the example and a
# blob for @reproduce_failure.
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -m hypothesis -p no:cacheprovider

# The footprint check runs on a temporary database with the seed bulletin, rendered as on
# 4 September 2021: the seed's deadlines fall in 2021, so that day the pages list open
# calls and coming events, their heaviest real state. The JSON report stays in artifacts/.
footprint: setup
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	GREENWEB_DB="$$tmp/greenweb.db" $(BIN)/greenweb import data/bulletin >/dev/null && \
	GREENWEB_DB="$$tmp/greenweb.db" $(BIN)/greenweb footprint --check --today 2021-09-04 \
		--write-json artifacts/footprint.json

# Benchmarks: pages over the seed and 2,000 generated items with 10,000 board questions
# (benchmarks/generate_data.py, benchmarks/board_data.py),
# then the serving pipeline in-process (benchmarks/serving: cache on and off, page N vs 1).
bench: setup
	@mkdir -p artifacts
	$(BIN)/pytest benchmarks --benchmark-json=artifacts/benchmarks.json \
		--benchmark-columns=min,median,max,rounds --benchmark-sort=name

# One round over the seed: proves the suite runs and keeps its JSON, in seconds.
bench-quick: setup
	@mkdir -p artifacts
	GREENWEB_BENCH_DATA=small GREENWEB_BENCH_ROUNDS=1 $(BIN)/pytest benchmarks -q -rfE \
		--ignore=benchmarks/serving \
		--benchmark-quiet --benchmark-json=artifacts/benchmarks-quick.json

# axe-core and the Nu Html Checker for tests/browser, pinned by tools/browser/package-lock.json.
# Without npm the browser tests that need them skip locally (and fail when CI is set).
BROWSER_TOOLS := tools/browser/node_modules/.package-lock.json
browser-tools: $(BROWSER_TOOLS)

$(BROWSER_TOOLS): tools/browser/package.json tools/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/browser --ignore-scripts --no-audit --no-fund; \
	else \
		echo "npm not found: axe-core and vnu-jar tests will skip (apt-get install npm)"; \
	fi

test: lint typecheck unit footprint bench-quick

# The load and crash tests at full size (make test runs them small).
stress: setup
	$(BIN)/pytest -m stress

# Real servers under wrk: greenweb cached and uncached, the bare-Starlette ceiling, nginx.
load: setup
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
	  echo "installing wrk and nginx (apt)"; apt-get update -qq && \
	  apt-get install -y -qq wrk nginx-light libnginx-mod-http-brotli-static; }
	$(BIN)/python benchmarks/serving/load.py --json artifacts/load.json

# Reads while people vote: wrk on /bollettino and /domande alone and beside 10 "anch'io" a
# second from distinct loopback addresses, greenweb serve with its defaults.
.PHONY: load-mixed
load-mixed: setup
	@command -v wrk >/dev/null || { echo "installing wrk (apt)"; \
	  apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/serving/mixed_load.py

ROUTES ?= /eventi /scadenze /sitemap.xml /calendario.ics
profile: setup
	$(BIN)/python benchmarks/serving/profile_view.py $(ROUTES)

export: setup
	$(BIN)/greenweb export export

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .benchmarks artifacts \
		tools/browser/node_modules
