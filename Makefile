# A new machine needs only Python 3.11+ and make: `make run` and `make test` do the rest.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
AJIRA_DATA_DIR ?= .ajira

BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
LOCK_VENV := .venv-lock

export AJIRA_DATA_DIR

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt bench bench-quick lock clean

help:
	@echo "make run    start the demo on http://$(HOST):$(PORT) (embedded database in $(AJIRA_DATA_DIR)/)"
	@echo "make test   format check, lint, import contracts, mypy, then the test suite"
	@echo "make lint   format check, lint, import contracts, mypy, duplicate code, bandit and pip-audit only"
	@echo "make fmt    format the code and apply safe lint fixes"
	@echo "make bench  run every bench/*.py: one results table in bench/RESULTS.md and README.md"
	@echo "make bench-quick  short versions of the benchmarks in that table (under 5 minutes)"
	@echo "make lock   regenerate constraints.txt from a fresh virtualenv"
	@echo "make clean  remove the virtualenv and caches (the demo database in $(AJIRA_DATA_DIR)/ stays)"
	@echo "PYTHON=$(PYTHON) (override with PYTHON=python3.12 ...)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Ajira needs Python 3.11 or newer: run make with PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps are newer than pyproject.toml and constraints.txt once their install
# succeeded, so a second run installs nothing.
$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@ $(RUN_STAMP)

# An empty DATABASE_URL (which also overrides .env) selects the embedded PostgreSQL.
run: $(RUN_STAMP)
	DATABASE_URL= $(BIN)/ajira demo --host $(HOST) --port $(PORT)

# Two workers, a file each at a time (module fixtures are built once): 5 minutes here
# instead of 10. Schemathesis runs its API operations as one test under xdist, with fewer
# examples, so the contract fuzz runs on its own, in full.
test: lint
	$(BIN)/pytest -q -n 2 --dist loadfile --ignore=tests/test_api_fuzz.py
	$(BIN)/pytest -q tests/test_api_fuzz.py

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pylint --score=n hrcore knowledge tools assistant channels api bench/*.py scripts/*.py
	$(BIN)/python scripts/supply_chain.py

fmt: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One process per benchmark, one after the other; bench/run_all.py gathers their rows.
bench: $(DEV_STAMP)
	$(BIN)/python bench/run_all.py --readme

bench-quick: $(DEV_STAMP)
	$(BIN)/python bench/run_all.py --quick

lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# Pinned versions for every install (make run, make test, Docker). Regenerate with 'make lock'."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)

clean:
	rm -rf $(VENV) $(LOCK_VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
	find . -name __pycache__ -type d -not -path './$(AJIRA_DATA_DIR)/*' -prune -exec rm -rf {} +
