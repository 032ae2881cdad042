# crmkit: `make reports` and `make test` set everything up on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8866
JOBS ?=
SOURCE ?=

.DEFAULT_GOAL := help
.PHONY: help setup reports test lab dashboard sample bench clean

help: ## list the targets
	@grep -hE '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The venv is (re)built when it is missing or pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "crmkit needs Python 3.11 or newer; found $$($(PYTHON) --version 2>&1). Set PYTHON=python3.x"; exit 1; }
	@echo "setting up $(VENV) (first run: a few minutes) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet --editable ".[test,spark]"  # Spark needs Java only when used
	@touch $(STAMP)

setup: $(STAMP) ## create or refresh .venv from pyproject.toml

reports: $(STAMP) ## render every report on data/sample into reports/
	@$(BIN)/crmkit render $(if $(JOBS),--jobs $(JOBS))

test: $(STAMP) ## run the whole test suite
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: $(STAMP) ## JupyterLab on notebooks/, widgets live [SOURCE=data folder]
	@$(if $(SOURCE),CRMKIT_SOURCE="$(if $(findstring ://,$(SOURCE)),$(SOURCE),$(abspath $(SOURCE)))" )$(BIN)/jupyter lab notebooks/

dashboard: $(STAMP) ## the reports as live dashboards (Voilà) on 127.0.0.1:PORT [SOURCE=...]
	@$(BIN)/crmkit dashboard --port $(PORT) $(if $(SOURCE),--source "$(SOURCE)")

sample: $(STAMP) ## regenerate data/sample (retail), data/sample-b2b, data/sample-subscription
	@$(BIN)/crmkit sample --out data/sample --customers 2000 --seed 42
	@$(BIN)/crmkit sample --shape b2b --out data/sample-b2b --customers 150 --seed 42
	@$(BIN)/crmkit sample --shape subscription --out data/sample-subscription --customers 1500 --seed 42

bench: $(STAMP) ## benchmarks: ingest, KPIs, rendering, filter panel (prints figures)
	@$(BIN)/python bench/run.py $(BENCH_ARGS)

clean: ## remove .venv, the warehouse cache and rendered reports
	rm -rf $(VENV) .crmkit reports .pytest_cache
