# Set-up on a fresh machine (Python 3.11+): `make run` or `make test`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "feedhub needs Python 3.11 or newer" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml setup.py $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/feedhub init
	$(BIN)/feedhub serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	scripts/ensure-services.sh
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test,bench]'
	@echo "run the scripts in benchmarks/ one by one; see BENCHMARKS.md"

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
