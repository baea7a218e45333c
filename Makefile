# Herald: the two commands a user needs are `make run` and `make test`.
# Everything they install or keep lives under $(HERALD_HOME) (git-ignored).

SHELL := /bin/bash
HERALD_HOME ?= $(CURDIR)/.herald
export HERALD_HOME
export UV_CACHE_DIR ?= $(HERALD_HOME)/cache/uv
export UV_PROJECT_ENVIRONMENT ?= $(HERALD_HOME)/venv
export UV_PYTHON_DOWNLOADS := never
UV_VERSION := 0.13.8
UV := $(HERALD_HOME)/tools/bin/uv
VENV_BIN := $(UV_PROJECT_ENVIRONMENT)/bin

.PHONY: run test install lint unit stop status bench-setup

## run: install, start Kafka + PostgreSQL + the services with demo data, print the URLs
run: install
	deploy/local/services.sh start

## test: install, lint and type-check, then every test against the real stack
test: lint
	$(VENV_BIN)/pytest

## stop: stop the services and the local stack
stop:
	-deploy/local/services.sh stop
	deploy/local/stack.sh stop

status:
	deploy/local/stack.sh status; deploy/local/services.sh status

install: $(UV)
	$(UV) sync --frozen --all-packages

lint: install
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .
	$(VENV_BIN)/mypy libs services

unit: install
	$(VENV_BIN)/pytest tests/unit

$(UV):
	python3 -m venv $(HERALD_HOME)/tools
	$(HERALD_HOME)/tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
