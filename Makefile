# proxy-core: `make run` serves conf/gateway.yaml; `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.installed
CONFIG ?= conf/gateway.yaml

.PHONY: install run test lint format demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' $(foreach p,$(PLUGINS),-e $(p))
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/proxy-core serve --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check proxy_core plugins tests
	$(BIN)/ruff format --check proxy_core plugins tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix proxy_core plugins tests
	$(BIN)/ruff format proxy_core plugins tests

test: $(STAMP) lint
	$(BIN)/python -m pytest -q tests $(sort $(wildcard plugins/*/tests))

demo: $(STAMP)
	$(BIN)/python -m proxy_core.devtools.demo

bench: $(STAMP)
	$(BIN)/python -m proxy_core.devtools.bench

clean:
	rm -rf $(VENV)
