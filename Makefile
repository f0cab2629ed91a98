# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A Python >= 3.12 to run uv with: pyenv's newest, else one on the PATH.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3 $(HOME)/.pyenv/versions/3.12*/bin/python3) $(shell command -v python3.13 python3.12 2>/dev/null))
UV_VERSION := 0.13.8
UV := .tools/bin/uv
MANAGE := .venv/bin/python manage.py
CHROMIUM := /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 8000

export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: help install run test chromium lint bench loadtest

help:
	@echo "make run    install, migrate, seed the demo data once, serve on http://$(HOST):$(PORT)/"
	@echo "make test   install what the tests need (Chromium included) and run the whole suite"
	@echo "make lint   ruff check and ruff format --check"
	@echo "make bench  build a SPEC §7 data set (BENCH_SIZE=large|xlarge) in a fresh PostgreSQL database, measure its bars"
	@echo "make loadtest  50 simulated staff users on gunicorn over the large data set (uc_bench)"

$(UV):
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (pyenv install 3.13)"; exit 2; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Installs exactly the versions in uv.lock into .venv.
install: $(UV)
	$(UV) sync --frozen --quiet

run: export DEBUG ?= 1
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --if-empty
	@echo
	@echo "  Unified Contacts: http://$(HOST):$(PORT)/"
	@echo "  Sign in as admin / unified-demo (also: advanced, standard, viewer; same password)"
	@echo
	@$(MANAGE) worker & worker=$$!; \
	$(MANAGE) crontask --no-heartbeat & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT)

# Debian's Chromium drives the browser tests (Playwright cannot download its own here).
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	}

# PYTEST_ARGS narrows a run, e.g. make test PYTEST_ARGS="-m 'not e2e'". The suite runs on every
# core (pytest-xdist, a database per worker); TEST_WORKERS=0 runs it in one process. Tests of
# one xdist_group run on one worker (the streaming replica's: one copy of the cluster).
TEST_WORKERS ?= auto
test: install chromium
	.venv/bin/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# SPEC §7: a fresh PostgreSQL database (BENCH_DB, dropped first), the data set of BENCH_SIZE
# (large, or xlarge: about 20 minutes to seed), production settings (tasks through the database
# queue, as the worker runs them), then every measure against that size's bars, written to
# bench-results-$(BENCH_SIZE).json. Each size has its own database: uc_bench for large (the load
# test reads it), uc_bench_xlarge for xlarge. BENCH_ARGS passes options to `manage.py bench` (see
# --help); the database is the bench's own, so it never needs --force.
BENCH_SIZE ?= large
BENCH_DB ?= $(if $(filter large,$(BENCH_SIZE)),uc_bench,uc_bench_$(BENCH_SIZE))
PGHOST ?= 127.0.0.1
PGUSER ?= postgres
bench: export DATABASE_URL = postgres://$(PGUSER)@$(PGHOST):5432/$(BENCH_DB)
bench: export SECRET_KEY ?= bench-only-not-a-secret
bench: export DEBUG = 0
bench: export ALLOWED_HOSTS = 127.0.0.1
bench: export SECURE_SSL_REDIRECT = 0
# The SPEC §7 machine has two cores: parallel workers cost more than they save there.
bench: export PG_OPTIONS ?= -c max_parallel_workers_per_gather=0
bench: install
	@case "$(BENCH_SIZE)" in large|xlarge) ;; \
	  *) echo "BENCH_SIZE is large or xlarge, not $(BENCH_SIZE)."; exit 2;; esac
	dropdb --if-exists -h $(PGHOST) -U $(PGUSER) $(BENCH_DB)
	createdb -h $(PGHOST) -U $(PGUSER) $(BENCH_DB)
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) seed_demo --size $(BENCH_SIZE)
	$(MANAGE) collectstatic --noinput -v0
	$(MANAGE) bench --size $(BENCH_SIZE) $(BENCH_ARGS)

# Issue 16's load test: gunicorn with production settings on the large data set (LOADTEST_DB,
# which `make bench` builds; it is not seeded here), a task worker, and locust's simulated
# customer-success team (integrations/bench/run_loadtest.sh: LOADTEST_USERS, LOADTEST_TIME …).
# Prints a table per step and PASS/FAIL per bar; exits 1 on a FAIL. It removes what it wrote.
LOADTEST_DB ?= uc_bench
loadtest: export DATABASE_URL = postgres://$(PGUSER)@$(PGHOST):5432/$(LOADTEST_DB)
loadtest: export SECRET_KEY ?= loadtest-only-not-a-secret
loadtest: export DEBUG = 0
loadtest: export ALLOWED_HOSTS = 127.0.0.1
loadtest: export SECURE_SSL_REDIRECT = 0
loadtest: export PG_OPTIONS ?= -c max_parallel_workers_per_gather=0
loadtest: install
	@psql -h $(PGHOST) -U $(PGUSER) -d $(LOADTEST_DB) -qAtc "select 1" >/dev/null 2>&1 || { \
	  echo "No database $(LOADTEST_DB) on $(PGHOST): build the large data set first (make bench)."; \
	  exit 2; }
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) collectstatic --noinput -v0
	integrations/bench/run_loadtest.sh
