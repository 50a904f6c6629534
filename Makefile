# remote-cluster-guard: `make run` serves the webhook, `make test` runs every test.
# Each target installs what it needs on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8443
STATE ?=
IMAGE ?= remote-cluster-guard:0.1.0
DEPLOY_CERTS := certs/deploy
NODE_MAJOR_MIN := 20

UNIT_TESTS = $(shell find test/unit -name '*.test.ts' | sort)
E2E_TESTS = $(shell find test/e2e -name '*.test.ts' 2>/dev/null | sort)
CHART_TESTS = $(shell find test/chart -name '*.test.ts' 2>/dev/null | sort)

.PHONY: help deps build run certs typecheck format lint unit kube-bin helm-bin chart e2e test chaos deploy image clean

help:
	@echo "make run    serve the webhook on https://localhost:$(PORT) (certificates in certs/, created on first start)"
	@echo "make test   type-check, lint (prettier, eslint, import direction), unit, Helm chart and end-to-end tests"
	@echo "make format rewrite the tree in the project's format (prettier)"
	@echo "make e2e    only the end-to-end tests"
	@echo "make chart  only the Helm chart tests (helm lint, helm template per certificate mode, schema, README)"
	@echo "make chaos  memory-limit chaos run: serve in a 512 MiB cgroup under 20,000 idle connections and 200 x 4 MiB bodies (root)"
	@echo "make certs  write certs/ and print the caBundle"
	@echo "make deploy install deploy/ into the current kubectl context (IMAGE=...)"

# npm packages, reinstalled when package-lock.json changes.
node_modules/.installed: package.json package-lock.json
	@node -e 'const m=+process.versions.node.split(".")[0]; if (m < $(NODE_MAJOR_MIN)) { console.error("Node.js >= $(NODE_MAJOR_MIN) is required, found " + process.version); process.exit(1) }'
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	npx tsc -p tsconfig.build.json

run: deps
	npx tsx src/cli/bin.ts serve --port $(PORT) $(if $(STATE),$(foreach f,$(STATE),--state $(f)),)

certs: deps
	npx tsx src/cli/bin.ts certs --out-dir certs

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

# prettier (format), eslint (typescript-eslint, promise rules), dependency-cruiser
# (imports point down the layers of src/, no cycles): each configured once at the top level.
lint: deps
	npx prettier --check --log-level warn .
	npx eslint --max-warnings 0 .
	npx depcruise src --config .dependency-cruiser.cjs

format: deps
	npx prettier --write --log-level warn .

unit: deps
	node --import tsx --test --test-reporter=spec $(UNIT_TESTS)

# kube-apiserver and kubectl are built from the Go module proxy (cached in
# ~/.cache/remote-cluster-guard, keyed by version), etcd from Debian's etcd-server.
kube-bin:
	bash test/e2e/kube/build.sh

# helm and helm-docs, built from the Go module proxy and cached the same way.
helm-bin:
	bash test/tools/build-helm.sh

# The chart in deploy/helm: helm lint --strict, helm template per certificate mode,
# values.schema.json, and the helm-docs README (test/chart, no cluster needed).
chart: deps
	RCG_HELM_BIN="$$(bash test/tools/build-helm.sh)" node --import tsx --test --test-reporter=spec $(CHART_TESTS)

e2e: deps
	RCG_KUBE_BIN="$$(bash test/e2e/kube/build.sh)" RCG_HELM_BIN="$$(bash test/tools/build-helm.sh)" node --import tsx --test --test-reporter=spec --test-concurrency=1 $(E2E_TESTS)

test: typecheck lint unit chart e2e

# serve (compiled) in a 512 MiB memory cgroup under 20,000 idle TLS connections and 200
# concurrent 4 MiB bodies: fails on an OOM kill or a normal client's p99 of 1 s or more.
# Needs root (it makes a cgroup) and about a minute of both cores, so it is not part of `make test`.
chaos: deps
	npx tsx bench/chaos/run.ts

# Installs deploy/ into the cluster of the current kubectl context, with a CA and
# serving certificate from `remote-cluster-guard certs` (see the README for cert-manager).
deploy: deps
	npx tsx src/cli/bin.ts certs --out-dir $(DEPLOY_CERTS) --service remote-cluster-guard --namespace remote-cluster-guard > $(DEPLOY_CERTS).cabundle
	kubectl create namespace remote-cluster-guard --dry-run=client -o yaml | kubectl apply -f -
	# ca.crt next to the certificate: what a reloaded certificate must chain to (serve's default --tls-ca).
	kubectl -n remote-cluster-guard create secret generic remote-cluster-guard-tls --type=kubernetes.io/tls --from-file=tls.crt=$(DEPLOY_CERTS)/tls.crt --from-file=tls.key=$(DEPLOY_CERTS)/tls.key --from-file=ca.crt=$(DEPLOY_CERTS)/ca.crt --dry-run=client -o yaml | kubectl apply -f -
	kubectl kustomize deploy | sed -e "s|caBundle: \"\"|caBundle: $$(cat $(DEPLOY_CERTS).cabundle)|" -e "s|image: remote-cluster-guard:0.1.0|image: $(IMAGE)|" | kubectl apply -f -

image:
	docker build -f deploy/Dockerfile -t $(IMAGE) .

clean:
	rm -rf dist node_modules
