# meshprobe: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help install build chromium shellcheck test demo try e2e bench

# Every target with a `## ` description; names may hold digits (e2e). test/tooling/make-help.test.ts checks
# that each target of this file is listed.
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## Install the pinned dependencies from the lock file

build: install ## Compile TypeScript to dist/
	npm run build

# The HTML report test renders report.html in Debian's Chromium. Installed here when it is missing and
# apt-get can run (root); otherwise that test fails, naming the install command. It is never skipped.
chromium: ## Install Chromium for the HTML report test, if missing (needs root and apt-get)
	@if [ -x /usr/bin/chromium ] || [ -n "$${MESHPROBE_CHROMIUM:-}" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make: installing chromium for the HTML report test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else \
	  echo "make: Chromium is missing and cannot be installed without root: the HTML report test will fail. Run: sudo apt-get install -y chromium"; \
	fi

# The shell-script test runs Debian's shellcheck on every shell script in the repository. Installed here when
# missing and apt-get can run (root); otherwise that test fails, naming the install command.
shellcheck: ## Install shellcheck for the shell-script test, if missing (needs root and apt-get)
	@if command -v shellcheck >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make: installing shellcheck for the shell-script test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; \
	else \
	  echo "make: shellcheck is missing and cannot be installed without root: the shell-script test will fail. Run: sudo apt-get install -y shellcheck"; \
	fi

test: build chromium shellcheck ## Run lint, format check, type check and the test suite (unit, emulator, end-to-end on the emulated cluster)
	npm run lint
	npm run format:check
	npm run typecheck
	npm test

ISTIO ?= modern legacy
demo: build ## Run every scenario against the built-in emulated cluster (ISTIO="modern legacy")
	npx tsx test/emulator/demo.ts $(ISTIO)

try: build ## Start an emulated cluster with the topology and leave it running to try meshprobe on (prints the KUBECONFIG; Ctrl-C stops it)
	npx tsx test/emulator/try.ts $(firstword $(ISTIO))

e2e: build ## Run every scenario on a kind cluster with a pinned Istio (needs Docker, kind; KEEP_CLUSTER=1)
	test/e2e/kind/e2e.sh

bench: build ## Benchmark meshprobe against the istio.io kubectl loop on N×N matrices (N="3 10 20 30")
	npm run bench -- $(N)
