# meshprobe: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help install build test demo e2e

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## Install the pinned dependencies from the lock file

build: install ## Compile TypeScript to dist/
	npm run build

test: build ## Run the test suite (unit, emulator and end-to-end on the emulated cluster)
	npm test

ISTIO ?= modern legacy
demo: build ## Run every scenario against the built-in emulated cluster (ISTIO="modern legacy")
	npx tsx test/emulator/demo.ts $(ISTIO)

e2e: build ## Run every scenario on a kind cluster with a pinned Istio (needs Docker, kind; KEEP_CLUSTER=1)
	test/e2e/kind/e2e.sh
