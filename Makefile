# The two commands of the README: `make run` (the sandbox) and `make test` (lint, types, every test).
# Both create .venv and install the project into it first; nothing needs installing by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# promtool (Prometheus's rule checker): the machine's if it has one, else taken out of Debian's prometheus package
# (downloaded, not installed: no service is started, no root needed).
PROMTOOL := $(VENV)/tools/promtool

SCHEMA := desired-state/.schema/reconciler.schema.json

.PHONY: run test lint types deploy-checks unit bench clean schema

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) schema
	$(BIN)/reconciler sandbox desired-state

# The JSON Schema the example files name on their first line (`# yaml-language-server: $$schema=…`).
schema: $(STAMP)
	mkdir -p $(dir $(SCHEMA))
	$(BIN)/reconciler schema > $(SCHEMA)

test: lint types deploy-checks unit

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench

types: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

$(PROMTOOL):
	mkdir -p $(VENV)/tools
	if command -v promtool >/dev/null; then ln -sf "$$(command -v promtool)" $@; else \
	  tmp=$$(mktemp -d) && (cd $$tmp && apt-get download prometheus) && \
	  dpkg -x $$tmp/prometheus_*.deb $$tmp/x && cp $$tmp/x/usr/bin/promtool $@ && rm -rf $$tmp; fi

# The artefacts in deploy/ and the Dockerfile, each with the tool its users' CI would run on it.
deploy-checks: $(STAMP) $(PROMTOOL)
	$(BIN)/hadolint Dockerfile
	$(BIN)/cfn-lint deploy/cloudformation/*.yaml
	$(PROMTOOL) check rules deploy/prometheus/alerts.yaml
	$(PROMTOOL) test rules deploy/prometheus/alerts.test.yaml

unit: $(STAMP)
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python bench/steady_state.py
	$(BIN)/python bench/steady_state.py --full
	$(BIN)/python bench/latency.py --services 100 1000

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
