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

# The demo runs a real Celery worker (with beat inside it, -B) beside the development server, on kombu's
# filesystem transport: messages are files under .celery/ (git-ignored), so no broker service is needed and
# long jobs show real progress. Ctrl-C stops the server and then the worker (the trap). A job queued while no
# worker runs waits in .celery/queue and runs at the next start. DEMO_ADDR picks another address and port.
DEMO_ADDR ?= 127.0.0.1:8000
DEMO_BROKER ?= filesystem://
CELERY_DIR ?= .celery
demo: seed
	@echo ""
	@echo "Portal: http://$(DEMO_ADDR)/  (log in with any user above; Ctrl-C stops it)"
	@echo "Worker and beat: log in $(CELERY_DIR)/worker.log"
	@export CELERY_BROKER_URL="$(DEMO_BROKER)" CELERY_FILESYSTEM_DIR="$(abspath $(CELERY_DIR))"; \
	mkdir -p "$(CELERY_DIR)"; \
	$(BIN)/celery -A config worker -B --concurrency=2 --without-gossip --without-mingle \
		--schedule="$(CELERY_DIR)/beat-schedule" --logfile="$(CELERY_DIR)/worker.log" --loglevel=INFO & \
	worker=$$!; \
	trap 'echo "Stopping the worker: it finishes the task it is running (Ctrl-C again stops it at once)."; \
		kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/python manage.py runserver "$(DEMO_ADDR)"

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

# A worker alone (beside `manage.py runserver` started with the same CELERY_BROKER_URL): on the filesystem
# transport unless CELERY_BROKER_URL names another broker (redis://...).
worker: $(STAMP)
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(DEMO_BROKER)}" CELERY_FILESYSTEM_DIR="$(abspath $(CELERY_DIR))" \
		$(BIN)/celery -A config worker -B --schedule="$(CELERY_DIR)/beat-schedule" --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles $(CELERY_DIR)
