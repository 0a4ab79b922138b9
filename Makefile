# StockSense: `make run` starts everything, `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
WEB_PORT ?= 8000
WS_PORT ?= 8001
export WEB_PORT WS_PORT

.PHONY: run test install frontend lint typecheck pytest bench services-up services-down messages clean

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed frontend

# Browser libraries from npm (frontend/package-lock.json). node_modules lives in .local/node/,
# outside STATICFILES_DIRS, so collectstatic never walks it; only the built file is copied
# into frontend/vendor/ (git-ignored). Re-runs only when the lock file changes.
NODE_DIR := .local/node
LWC_BUILD := frontend/vendor/lightweight-charts.standalone.production.mjs

frontend: $(LWC_BUILD)

$(LWC_BUILD): frontend/package.json frontend/package-lock.json
	mkdir -p $(NODE_DIR) frontend/vendor
	cp frontend/package.json frontend/package-lock.json $(NODE_DIR)/
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund
	cp $(NODE_DIR)/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs $@
	touch $@

# Starts embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set.
services-up: install
	$(BIN)/python scripts/devstack.py up

services-down:
	$(BIN)/python scripts/devstack.py down

run: services-up
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py install_schedules
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py load_history --provider simulated --symbols ALL --timeframe 1d --days 1825
	$(BIN)/python manage.py load_history --provider simulated --symbols ALL --timeframe 1m --days 7 --no-daily-rollup
	$(BIN)/python manage.py signals_run --timeframe 1d --evidence
	$(BIN)/python manage.py signals_run --timeframe 15m
	@echo ""
	@echo "  StockSense is starting: open http://127.0.0.1:$(WEB_PORT)/"
	@echo "  Demo login: demo@stocksense.local / demo-investor-2026"
	@echo "  Admin:      admin@stocksense.local / demo-admin-2026  (http://127.0.0.1:$(WEB_PORT)/admin/)"
	@echo "  E-mail and SMS are printed below (no SendGrid/Twilio keys set). Ctrl-C stops everything."
	@echo ""
	trap '$(BIN)/python scripts/devstack.py down' EXIT; \
	$(BIN)/honcho start web ws worker beat alerts

lint: install
	$(BIN)/ruff check .

typecheck: services-up  # the django-stubs plugin loads settings, which need the services
	$(BIN)/mypy .

pytest: services-up
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

test: lint typecheck pytest

bench: services-up
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python -m bench.http_servers
	$(BIN)/python -m bench.market
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.alerts
	$(BIN)/python -m bench.rooms
	$(BIN)/python -m bench.portfolios
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt && $(BIN)/python -m bench.signals

messages: install
	$(BIN)/python manage.py makemessages -l en -l hi --ignore=.venv --ignore=.local --ignore=node_modules
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=.local

clean: services-down
	rm -rf $(VENV) .local frontend/vendor staticfiles .pytest_cache .mypy_cache .ruff_cache
