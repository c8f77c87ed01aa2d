# The two commands of the README: `make run` (the sandbox) and `make test` (lint, types, every test).
# Both create .venv and install the project into it first; nothing needs installing by hand.
# Every package comes from the lock (requirements/, written by `make lock`), at the version and with the hashes
# it records: a fresh clone installs on any day what the suite last passed with.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements/dev.txt
# Tools that are not Python packages of the project, outside the venv (which is made anew when the lock changes).
TOOLS  := .tools
UV     := $(TOOLS)/uv/bin/uv
# promtool (Prometheus's rule checker), taken out of Debian bookworm's prometheus package at a pinned version and
# checked against its SHA-256 (downloaded, not installed: no service is started). When Debian replaces that
# version, `apt-get download` fails: take the new Version and SHA256 from `apt-cache show prometheus`.
PROMTOOL := $(TOOLS)/promtool
PROMETHEUS_DEB := prometheus=2.42.0+ds-5+deb12u1
PROMETHEUS_DEB_SHA256_amd64 := 81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55
PROMETHEUS_DEB_SHA256_arm64 := ca131aa102390083398afbc80be9c8dd1dda78f9f92154fc00df8f7f1f4556e9

SCHEMA := desired-state/.schema/reconciler.schema.json

# Debian's packages the tests drive: chromium, which the web UI's browser tests drive headless through Playwright
# (never `playwright install`: no browser is downloaded from elsewhere), and jq, which the pull-request workflow's
# test runs as gh's --jq. Installed with apt-get when missing, through sudo when not root; the package lists are
# updated only if the first install fails.
CHROMIUM := /usr/bin/chromium
JQ := /usr/bin/jq
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium jq

.PHONY: run test lock-check lock lint types deploy-checks unit bench clean schema chromium

# A new lock makes the venv anew: what the lock no longer names does not linger. --no-deps: the lock is the whole
# set, and `pip check` proves it complete.
$(STAMP): $(LOCK) pyproject.toml | lock-check
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Fails, before anything is installed, when pyproject.toml's dependencies changed since the lock was written.
lock-check:
	$(PYTHON) tools/lock.py check

# Resolves the lock anew from pyproject.toml's ranges, keeping each pin that still fits;
# `make lock UPGRADE=1` takes the newest release of everything instead.
lock: $(UV)
	$(PYTHON) tools/lock.py write $(UV) $(if $(UPGRADE),--upgrade)

$(UV): requirements/uv.txt
	rm -rf $(TOOLS)/uv
	$(PYTHON) -m pip install --quiet --require-hashes --no-deps --target $(TOOLS)/uv -r requirements/uv.txt

run: $(STAMP) schema
	$(BIN)/reconciler sandbox desired-state

# The JSON Schema the example files name on their first line (`# yaml-language-server: $$schema=…`).
schema: $(STAMP)
	mkdir -p $(dir $(SCHEMA))
	$(BIN)/reconciler schema > $(SCHEMA)

test: lock-check lint types deploy-checks unit

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench tools
	$(BIN)/ruff format --check reconciler tests bench tools

types: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

$(PROMTOOL): Makefile
	mkdir -p $(TOOLS)
	tmp=$$(mktemp -d) && (cd $$tmp && apt-get download $(PROMETHEUS_DEB)) && \
	  echo "$(PROMETHEUS_DEB_SHA256_$(shell dpkg --print-architecture))  $$(echo $$tmp/prometheus_*.deb)" \
	    | sha256sum --check --strict && \
	  dpkg -x $$tmp/prometheus_*.deb $$tmp/x && cp $$tmp/x/usr/bin/promtool $@ && rm -rf $$tmp

# The artefacts in deploy/ and the Dockerfile, each with the tool its users' CI would run on it.
deploy-checks: $(STAMP) $(PROMTOOL)
	$(BIN)/hadolint Dockerfile
	$(BIN)/cfn-lint deploy/cloudformation/*.yaml
	$(PROMTOOL) check rules deploy/prometheus/alerts.yaml
	$(PROMTOOL) test rules deploy/prometheus/alerts.test.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows deploy/github/*.yml
	$(BIN)/zizmor --offline --persona pedantic deploy/github/*.yml

chromium: $(CHROMIUM)

$(CHROMIUM) $(JQ):
	$(SUDO) sh -c '$(APT_INSTALL) || (apt-get update && $(APT_INSTALL))'

unit: $(STAMP) $(PROMTOOL) $(CHROMIUM) $(JQ)
	PROMTOOL=$(abspath $(PROMTOOL)) $(BIN)/pytest -q -n 5 --durations=10

bench: $(STAMP)
	$(BIN)/python bench/steady_state.py
	$(BIN)/python bench/steady_state.py --full
	$(BIN)/python bench/latency.py --services 100 1000
	$(BIN)/python bench/caches.py --services 1000
	$(BIN)/python bench/ui.py --services 3000
	$(BIN)/python bench/cold_start.py --services 1000
	$(BIN)/python bench/startup.py --services 100

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
