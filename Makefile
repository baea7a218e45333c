# Herald: the two commands a user needs are `make run` and `make test`.
# Everything they install or keep lives under $(HERALD_HOME) (git-ignored).

SHELL := /bin/bash
HERALD_HOME ?= $(CURDIR)/.herald
export HERALD_HOME
export UV_CACHE_DIR ?= $(HERALD_HOME)/cache/uv
export UV_PROJECT_ENVIRONMENT ?= $(HERALD_HOME)/venv
export UV_PYTHON_DOWNLOADS := never
# The web console's packages come from npm with the committed lockfile; the browser tests
# drive Debian's Chromium. Playwright must never fetch a browser of its own.
export npm_config_cache ?= $(HERALD_HOME)/cache/npm
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export PLAYWRIGHT_BROWSERS_PATH ?= $(HERALD_HOME)/cache/ms-playwright
CHROMIUM := /usr/bin/chromium
NODE_MIN := 20.19
WEB_INSTALLED := web/node_modules/.herald-installed
# pusher-js and Laravel Echo, for the Pusher compatibility tests (tests/pusher).
PUSHER_INSTALLED := tests/pusher/node_modules/.herald-installed
UV_VERSION := 0.13.8
UV := $(HERALD_HOME)/tools/bin/uv
VENV_BIN := $(UV_PROJECT_ENVIRONMENT)/bin

# Tools the deployment tests run. kustomize is built from source by the machine's Go
# (GOTOOLCHAIN=local: never fetch another toolchain); the AsyncAPI CLI comes from npm,
# locked by tests/tools/package-lock.json. Both live under $(HERALD_HOME)/tools.
KUSTOMIZE_VERSION := v5.8.2
TOOLS_BIN := $(HERALD_HOME)/tools/bin
KUSTOMIZE := $(TOOLS_BIN)/kustomize
KUSTOMIZE_STAMP := $(HERALD_HOME)/tools/stamps/kustomize-$(KUSTOMIZE_VERSION)
GO_CACHE := $(HERALD_HOME)/cache/go
# Toxiproxy, the TCP fault proxy of the reliability suite's network faults (tests/reliability/
# network), built from its Go module like kustomize. go install names the binary after its
# package directory (cmd/server), so it gets a directory of its own.
TOXIPROXY_VERSION := v2.12.0
TOXIPROXY_DIR := $(HERALD_HOME)/tools/toxiproxy-$(TOXIPROXY_VERSION)
TOXIPROXY := $(TOXIPROXY_DIR)/toxiproxy-server
ASYNCAPI_DIR := $(HERALD_HOME)/tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_DIR)/installed.stamp

.PHONY: run test install lint unit stop status bench bench-setup tools toxiproxy web web-test chromium pusher-clients

## run: install, build the web console, start Kafka + PostgreSQL + the services with demo data
run: install web
	deploy/local/services.sh start

## test: install, lint and type-check, then every test (web lint and unit tests, real stack, browser)
test: lint tools toxiproxy web web-test chromium pusher-clients
	$(VENV_BIN)/pytest

## stop: stop the services and the local stack
stop:
	-deploy/local/services.sh stop
	deploy/local/stack.sh stop

status:
	deploy/local/stack.sh status; deploy/local/services.sh status

## bench: the benchmark and its baselines on the local stack (see bench/README.md);
## BENCH_ARGS="--scenarios e2e,publish --runs 1" for a shorter run
bench: install
	$(VENV_BIN)/python -m bench $(BENCH_ARGS)

## install: the workspace's packages, then the notifier's hot path compiled in place with
## mypyc (tools/compiled.py; rebuilt only when its sources changed, docs/decisions/0093)
install: $(UV)
	$(UV) sync --frozen --all-packages
	$(VENV_BIN)/python -m tools.compiled

lint: install
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .
	$(VENV_BIN)/mypy libs services bench tools

unit: install
	$(VENV_BIN)/pytest tests/unit

## tools: kustomize and the AsyncAPI CLI, for tests/deploy
tools: $(KUSTOMIZE_STAMP) $(ASYNCAPI_STAMP)

$(KUSTOMIZE_STAMP):
	@command -v go >/dev/null || { echo "Go (1.26 or newer) is needed to build kustomize" >&2; exit 1; }
	GOBIN=$(TOOLS_BIN) GOPATH=$(GO_CACHE) GOCACHE=$(GO_CACHE)/build GOMODCACHE=$(GO_CACHE)/mod \
	  GOFLAGS=-modcacherw GOTOOLCHAIN=local \
	  go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	$(KUSTOMIZE) version
	mkdir -p $(dir $@) && touch $@

## toxiproxy: the TCP fault proxy for tests/reliability/network
toxiproxy: $(TOXIPROXY)

$(TOXIPROXY):
	@command -v go >/dev/null || { echo "Go (1.26 or newer) is needed to build Toxiproxy" >&2; exit 1; }
	mkdir -p $(TOXIPROXY_DIR)
	GOBIN=$(TOXIPROXY_DIR) GOPATH=$(GO_CACHE) GOCACHE=$(GO_CACHE)/build GOMODCACHE=$(GO_CACHE)/mod \
	  GOFLAGS=-modcacherw GOTOOLCHAIN=local \
	  go install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION)
	mv -f $(TOXIPROXY_DIR)/server $(TOXIPROXY)

# `npm install`, not `npm ci`: the lock leaves out optional packages for other operating
# systems, which `npm ci` insists on; install still takes every locked version.
$(ASYNCAPI_STAMP): tests/tools/package.json tests/tools/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 and npm are needed for the AsyncAPI CLI" >&2; exit 1; }
	mkdir -p $(ASYNCAPI_DIR)
	cp tests/tools/package.json tests/tools/package-lock.json $(ASYNCAPI_DIR)/
	cd $(ASYNCAPI_DIR) && npm install --no-audit --no-fund --loglevel=error --cache $(HERALD_HOME)/cache/npm
	touch $@

$(UV):
	python3 -m venv $(HERALD_HOME)/tools
	$(HERALD_HOME)/tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

## pusher-clients: the real pusher-js and Laravel Echo (npm ci, lockfile only)
pusher-clients: $(PUSHER_INSTALLED)

$(PUSHER_INSTALLED): tests/pusher/package.json tests/pusher/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js $(NODE_MIN)+ and npm are needed for the Pusher client tests" >&2; exit 1; }
	cd tests/pusher && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## web: install the web console's packages (npm ci, lockfile only) and build web/dist
web: $(WEB_INSTALLED)
	cd web && npm run build

# ESLint (typescript-eslint, the Rules of React) with no warning allowed, then Vitest.
web-test: $(WEB_INSTALLED)
	cd web && npm run lint && npm test

$(WEB_INSTALLED): web/package.json web/package-lock.json
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); const [x, y] = "$(NODE_MIN)".split(".").map(Number); if (a < x || (a === x && b < y)) { console.error("Node.js $(NODE_MIN) or newer is needed for the web console, found " + process.version); process.exit(1); }' \
		|| { echo "Install Node.js $(NODE_MIN)+ (with npm) to build the web console" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## chromium: Debian's Chromium for the browser tests (installed with apt-get when missing)
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "Install Debian's chromium package (as root: apt-get install chromium)" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
