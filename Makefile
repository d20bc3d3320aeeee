# Synergia. Every target works on a fresh machine with Python 3.11+ and make: uv is installed
# from PyPI when it is missing.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --frozen
MSG ?= change

.PHONY: uv install-dev dev run test test-cov lint format migrate-create migrate-upgrade \
	migrate-downgrade migrate-current migrate-history migrate-reset bench

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet uv

install-dev: uv
	@$(UV) sync --frozen --quiet

dev: install-dev
	@$(RUN) synergia

run: dev

test: install-dev
	$(RUN) pytest -q

test-cov: install-dev
	$(RUN) pytest -q --cov=synergia_tui --cov-report=term-missing

lint: install-dev
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports
	$(RUN) mypy

format: install-dev
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

migrate-create: install-dev
	$(RUN) alembic revision --autogenerate -m "$(MSG)"

migrate-upgrade: install-dev
	$(RUN) synergia db upgrade

migrate-downgrade: install-dev
	$(RUN) synergia db downgrade $(or $(REV),-1)

migrate-current: install-dev
	$(RUN) synergia db current

migrate-history: install-dev
	$(RUN) synergia db history

migrate-reset: install-dev
	$(RUN) synergia db reset --yes

bench: install-dev
	$(RUN) python -m benchmarks
