# RecoveryBridge: `make demo` runs the app with demo data, `make test` runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
PG_URL ?= postgres://postgres@127.0.0.1:5432/recoverybridge
DEMO_MEETINGS ?= 5000
export PYTHONDONTWRITEBYTECODE := 1
TEST_ENV := SECRET_KEY=test-only-not-secret DEBUG=0

.PHONY: install demo test lint typecheck test-sqlite test-postgres bench clean browser pdf

install: $(VENV)/.installed

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

demo: install pdf
	DEBUG=1 $(BIN)/python manage.py migrate --no-input -v0
	DEBUG=1 $(BIN)/python manage.py demo_data --meetings $(DEMO_MEETINGS) --shared $(SHARED)
	@echo "RecoveryBridge is at http://127.0.0.1:8000 (Ctrl-C stops it)"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	SECRET_KEY=typecheck-only $(BIN)/mypy src

# The browser tests drive Debian's chromium (Playwright never downloads a browser).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# WeasyPrint (the take-away PDF, the booklets) renders text with Debian's pango; the booklets'
# browser test pictures their pages with pdftoppm (poppler-utils).
PANGO := libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
pdf:
	@dpkg -s $(PANGO) >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(PANGO))

test-sqlite: install browser pdf
	@echo "== SQLite suite"
	$(TEST_ENV) $(BIN)/pytest -q -p no:cacheprovider

# The whole suite again on PostgreSQL, whenever one is reachable.
test-postgres: install browser pdf
	@if $(BIN)/python bench/pg_available.py "$(PG_URL)"; then \
		echo "== PostgreSQL suite"; \
		$(TEST_ENV) DATABASE_URL="$(PG_URL)" $(BIN)/pytest -q -p no:cacheprovider; \
	else \
		echo "== PostgreSQL not reachable at $(PG_URL): PostgreSQL suite skipped"; \
	fi

# The two passes run side by side: each is mostly one core and a browser, and together they keep
# `make test` inside CI's time; each pass's output is printed whole as it ends.
test: lint typecheck
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

bench: install
	$(BIN)/python bench/import.py
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
