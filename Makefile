# Keystand: `make run` to use it, `make test` to check it. Nothing else is needed.
PYTHON ?= python3
# Where `make run` serves: `make run PORT=8001`, or `make run HOST=0.0.0.0` to let other
# machines in (add their name to ALLOWED_HOSTS in .env).
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format migrate superuser screenshots bench soak cluster clean help

help:
	@echo "make run     set up and serve Keystand on http://$(HOST):$(PORT) (SQLite; PORT=8001 HOST=0.0.0.0 to change)"
	@echo "make test    set up and run ruff and the whole test suite (honours DATABASE_URL)"

$(STAMP): pyproject.toml constraints.txt
	@echo "==> Setting up $(VENV) (first run takes a minute)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $(STAMP)

.env:
	@echo "==> Creating .env from .env.example (DEBUG=true, for development)"
	@cp .env.example .env

run: $(STAMP) .env
	@echo "==> Applying database migrations"
	@$(BIN)/python manage.py migrate --no-input
	@echo ""
	@echo "    Keystand is starting at http://$(HOST):$(PORT)/"
	@echo "    Create an account at   http://$(HOST):$(PORT)/accounts/signup/"
	@echo "    (an admin account:     $(BIN)/python manage.py createsuperuser)"
	@echo ""
	@$(BIN)/python manage.py runserver $(HOST):$(PORT)

# pytest-xdist workers for `make test`: each has its own test database and its own Chromium.
# One more than the CPU cores: many tests wait on processes they start (gunicorn, Redis, a
# cluster, Chromium), so a worker per core left the cores idle a third of the time. On a
# 2-core machine: 2 workers 226 s, 3 workers 203-218 s; with 3 the CPU is saturated. With the
# browser tests in chromium-headless-shell: 3 workers 2 min 9 s, 4 workers 2 min 17 s. Whole
# files go to a worker, longest first (tests/conftest.py orders them), so module-scoped
# servers start once and no long file is left running alone at the end.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# Bytecode caching stays on for the suite even where the shell turns it off
# (PYTHONDONTWRITEBYTECODE=1, as on this project's machines). Without it every worker compiles
# and rewrites (pytest's asserts) some 400 modules, tests and plugins, before its first test:
# 13 s a worker instead of 5 s. And every server the suite starts compiles Keystand again.

test: $(STAMP)
	@echo "==> ruff check"
	@$(BIN)/ruff check .
	@echo "==> ruff format --check"
	@$(BIN)/ruff format --check .
	@echo "==> pytest on $${DATABASE_URL:-SQLite}, $(TEST_WORKERS) workers (a few minutes)"
	@PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

format: $(STAMP)
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

screenshots: $(STAMP)
	@echo "==> Writing screenshots to docs/screenshots/ (drives Chromium)"
	@$(BIN)/python tests/browser/screenshots.py

bench: $(STAMP)
	@echo "==> Benchmarks (several minutes); results go to docs/performance.md"
	@$(BIN)/python bench/run.py

soak: $(STAMP)
	@echo "==> Soak and fault run against gunicorn on PostgreSQL (about 2 minutes)"
	@$(BIN)/python soak/run.py

cluster: $(STAMP)
	@echo "==> Three gunicorn replicas behind HAProxy, with faults (about 4 minutes); results go to docs/scaling.md"
	@$(BIN)/python -m cluster

superuser: $(STAMP) .env
	@$(BIN)/python manage.py createsuperuser

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
