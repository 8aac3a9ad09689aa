# Everything a fresh machine needs, from Python 3.11+ and make alone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Which interpreter built .venv (its base prefix and version): a .venv made by another one is rebuilt.
VENV_ID := $(VENV)/.interpreter
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres lint bench install migrate catalog demo clean distclean

# A phony step, so that it checks the interpreter every time: a first try with an unsupported
# Python (PY=python3.10) or a half-finished install must not leave a .venv that later runs reuse.
install:
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: '$(PY)' is missing or older than Python 3.11; run with PY=python3.11 (or newer)." >&2; \
	  exit 1; }
	@want="$$($(PY) -c 'import sys; print(sys.base_prefix, sys.version.split()[0])')"; \
	have="$$(cat $(VENV_ID) 2>/dev/null)"; \
	if [ "$$want" != "$$have" ] || ! $(BIN)/python -c '' 2>/dev/null; then \
	  echo "Creating $(VENV) with $(PY) ($$want)"; \
	  rm -rf $(VENV) && $(PY) -m venv $(VENV) && \
	  $(BIN)/pip install --quiet --upgrade pip && \
	  $(BIN)/pip install --quiet -e ".[dev]" && \
	  echo "$$want" > $(VENV_ID); \
	elif [ pyproject.toml -nt $(VENV_ID) ]; then \
	  echo "pyproject.toml changed: updating $(VENV)"; \
	  $(BIN)/pip install --quiet -e ".[dev]" && touch $(VENV_ID); \
	fi

migrate: install
	$(BIN)/python manage.py migrate --noinput

catalog: migrate
	$(BIN)/python manage.py sync_templates

# The demo run is not the README's first POST, so that POST really answers 201 on a fresh checkout.
demo: catalog
	$(BIN)/python manage.py create_run --template-id it-system-microservices --deterministic-run-id

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

# The whole suite on a throw-away PostgreSQL 15 cluster (or on DATABASE_URL when it names one).
test-postgres: install
	bash scripts/with-postgres.sh $(BIN)/pytest

# The benchmarks compare against peers (MLflow) that only the bench extra installs.
bench: install
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench

# Tools and caches only: run data, the index database and the secret key under var/ stay.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info var/screens var/test-*.sqlite3*

distclean: clean
	@echo "Deleting var/: every run and capture (var/data), the index database and the secret key."
	rm -rf var
