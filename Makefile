# Everything a fresh machine needs, from Python 3.11+ and make alone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck bench install migrate catalog demo clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

catalog: migrate
	$(BIN)/python manage.py sync_templates

demo: catalog
	$(BIN)/python manage.py create_run --template-id order-system --deterministic-run-id

run: demo
	@echo "Serving on http://$(HOST):$(PORT) with anonymous writes allowed (local use only)."
	FLOWTIME_ALLOW_ANONYMOUS_WRITES=$${FLOWTIME_ALLOW_ANONYMOUS_WRITES:-true} \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
