# The two commands a newcomer needs: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format migrate seed run worker bench clean

$(STAMP): requirements/base.txt requirements/dev.txt requirements/production.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt -r requirements/production.txt
	@touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

demo: seed
	@echo ""
	@echo "Portal: http://127.0.0.1:8000/  (log in with any user above; Ctrl-C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# With DATABASE_URL=postgres://… the run also checks that every statement routes by organisation
# (tests/routing/plugin.py; ROUTING_CHECK=off turns that off, ROUTING_CHECK_REPORT=<file> keeps the list).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Local runs only: keeps the test database between runs (SQLite in a temporary file, PostgreSQL by name), so
# migrations run once (new ones are applied). After a branch that changed or removed migrations:
# `make test-fast PYTEST_ARGS=--create-db`.
# CI runs `make test`, which builds a fresh database every time.
test-fast: $(STAMP)
	$(BIN)/python -m pytest --reuse-db $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks print their figures; they assert nothing. They need PostgreSQL (DATABASE_URL) and make
# a scratch database of their own, like the test runner.
# BENCH_PAGE_ROWS: acme's usage events for the page benchmark (4,000 to 20,000,000), loaded in bulk by SQL
# from a template of up to BENCH_TEMPLATE_ROWS events put through the real ingest (10M: about 20 minutes).
BENCH_ROWS ?= 1000000
BENCH_PAGE_ROWS ?= 100000
BENCH_TEMPLATE_ROWS ?= 100000
bench: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL=postgres://... (see README)"; exit 2; }
	$(BIN)/python manage.py bench_ingest --rows $(BENCH_ROWS)
	$(BIN)/python manage.py bench_allocate --rows $(BENCH_ROWS)
	$(BIN)/python manage.py bench_pages --rows $(BENCH_PAGE_ROWS) --template-rows $(BENCH_TEMPLATE_ROWS)
	$(BIN)/python manage.py bench_dashboard

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
