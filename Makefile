# The two commands of the README: `make run` (the sandbox) and `make test` (lint, types, every test).
# Both create .venv and install the project into it first; nothing needs installing by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint types unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reconciler sandbox desired-state

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench

types: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python bench/steady_state.py
	$(BIN)/python bench/steady_state.py --full

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
