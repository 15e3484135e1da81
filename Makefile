# opconform — conformance harness and fake operator for the mirrord client ↔ operator header contract.

SHELL := /usr/bin/env bash
GO ?= go
ARTIFACTS ?= _artifacts
GO_TEST_FLAGS ?= -race -count=1
MATRIX ?= matrix.yaml
TIER ?= fake
CLIENTS ?=
OPERATORS ?=
KUBERNETES ?=
GINKGO_LABEL_FILTER ?=
GINKGO_FOCUS ?=
GINKGO_NODES ?= 2
GINKGO_TIMEOUT ?= 20m
GINKGO_RACE ?=
KIND_REQUIRED ?= 1

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Test

.PHONY: test
test: ## Unit tests, then the conformance run (fake tier; kind cells skip where kind cannot run), all with -race.
	$(GO) test $(GO_TEST_FLAGS) $$($(GO) list ./... | grep -v /suites)
	$(MAKE) conformance GINKGO_RACE=1 TIER=fake,kind KIND_REQUIRED=0

.PHONY: conformance
conformance: ## Run the matrix (TIER, CLIENTS, OPERATORS, KUBERNETES, GINKGO_LABEL_FILTER, GINKGO_FOCUS, GINKGO_NODES); reports in $(ARTIFACTS).
	MATRIX='$(MATRIX)' TIER='$(TIER)' CLIENTS='$(CLIENTS)' OPERATORS='$(OPERATORS)' KUBERNETES='$(KUBERNETES)' ARTIFACTS='$(ARTIFACTS)' \
	GINKGO_LABEL_FILTER='$(GINKGO_LABEL_FILTER)' GINKGO_FOCUS='$(GINKGO_FOCUS)' GINKGO_NODES=$(GINKGO_NODES) GINKGO_TIMEOUT=$(GINKGO_TIMEOUT) GINKGO_RACE=$(GINKGO_RACE) KIND_REQUIRED=$(KIND_REQUIRED) \
	scripts/conformance.sh

.PHONY: verify
verify: ## gofmt, go vet and go mod tidy checks.
	scripts/verify-all.sh

.PHONY: ci-local
ci-local: ## Run .github/workflows/conformance.yml here with act (CI_LOCAL_TIERS=fake by default, or all; CI_LOCAL_SHARDS=names: only those jobs); everything under $(ARTIFACTS)/ci-local.
	ARTIFACTS=$(ARTIFACTS) scripts/ci-local.sh

.PHONY: bench
bench: ## Benchmarks with allocation counts.
	$(GO) test -run '^$$' -bench . -benchmem ./...

##@ Build

.PHONY: docker-up
docker-up: ## Make a Docker engine answer for the kind tier: reuses one that runs; else installs Debian's docker.io and starts dockerd as this machine needs it.
	scripts/docker-up.sh

.PHONY: kind-down
kind-down: ## Delete every kind cluster and docker network this project made (KEEP_CLUSTER=1 leaves them), nothing else.
	$(GO) run ./cmd/opconform kind-down

.PHONY: docker-down
docker-down: ## Stop the dockerd that make docker-up started (nothing else).
	scripts/docker-up.sh stop

.PHONY: node-image
node-image: ## Build the kind node image here, with no registry: make node-image KUBERNETES=v1.37.0 (cached).
	scripts/build-node-image.sh $(or $(KUBERNETES),$(error KUBERNETES is required, e.g. make node-image KUBERNETES=v1.37.0))

.PHONY: client
client: ## Build the reference client into bin/: make client VERSION=3.250.0 [DEFECT=no-refresh].
	scripts/build-client.sh $(or $(VERSION),$(error VERSION is required, e.g. make client VERSION=3.250.0)) $(DEFECT)

##@ Matrix

.PHONY: add-client
add-client: ## Add a client release: make add-client VERSION=3.251.0 [RELEASED=1] (matrix line, golden journal, diff; RELEASED=1: the released CLI too).
	$(GO) run ./cmd/opconform add-client --version $(or $(VERSION),$(error VERSION is required, e.g. make add-client VERSION=3.251.0)) $(if $(RELEASED),--released)

.PHONY: add-operator
add-operator: ## Add an operator release: make add-operator VERSION=3.251.0 (matrix line, diff).
	$(GO) run ./cmd/opconform add-operator --version $(or $(VERSION),$(error VERSION is required, e.g. make add-operator VERSION=3.251.0))

.PHONY: golden
golden: ## Re-record every golden journal in fixtures/clients (after an intended change).
	$(GO) run ./cmd/opconform golden

##@ Run

.PHONY: fakeoperator
fakeoperator: ## Run the fake operator on 127.0.0.1:18443 (OPERATOR_VERSION, PROFILE).
	$(GO) run ./cmd/fakeoperator --listen 127.0.0.1:18443 --operator-version $(or $(OPERATOR_VERSION),3.250.0) $(if $(PROFILE),--profile $(PROFILE))
