# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install run test lint typecheck unit bench bench-quick schemas clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Start the service on an embedded PostgreSQL (or DATABASE_URL), with the demo network.
run: install
	$(BIN)/bloodtrace serve --demo

## The whole suite against real PostgreSQL (DATABASE_URL, or the embedded server).
test: install lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

bench: install
	$(BIN)/python -m bench.run --full

bench-quick: install
	$(BIN)/python -m bench.run --quick

schemas: install
	$(BIN)/python -m app.events.schemas_gen

clean:
	rm -rf $(VENV) .data
