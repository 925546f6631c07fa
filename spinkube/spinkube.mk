# SpinKube deployment of the pizza app (docs/deploy.md). Include from the root Makefile
# (`include spinkube/spinkube.mk`) or run directly: make -f spinkube/spinkube.mk render ENV=dev
#
#   make push REGISTRY=ghcr.io/acme [TAG=...]       spin build + spin registry push $(REGISTRY)/pizza:$(TAG),
#                                                   and the migrator image $(REGISTRY)/pizza-db:$(TAG)
#   make render ENV=dev|stg|prod [REGISTRY=] [TAG=] print the manifests (kubectl kustomize; writes
#                                                   nothing, needs no package index)
#   make deploy ENV=dev|stg|prod [REGISTRY=] [TAG=] migrations Job first, then the SpinApps and routes
#   make spinkube-check                             the cluster-free CI checks
#
# render and deploy need kubectl (it carries kustomize) and python3 (standard library only).
# TAG defaults to {branch}-{shortsha} of HEAD (slashes become dashes): the tag `make push` pushes.
# dev and stg render and deploy that tag unless TAG= says otherwise, so `make push` followed by
# `make deploy ENV=dev` runs the build just pushed (never the overlay's placeholder tag); prod
# runs its overlay's SemVer release unless TAG= names another. Releases use SemVer.

SK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SK_ROOT := $(patsubst %/,%,$(dir $(abspath $(SK_DIR))))
ENV ?= dev
REGISTRY ?=
SK_BRANCH := $(shell git -C $(SK_ROOT) rev-parse --abbrev-ref HEAD 2>/dev/null | tr '/_' '--' | tr 'A-Z' 'a-z')
SK_SHA := $(shell git -C $(SK_ROOT) rev-parse --short=7 HEAD 2>/dev/null)
TAG ?= $(if $(SK_SHA),$(SK_BRANCH)-$(SK_SHA),)
SK_NS = pizza-$(ENV)
SK_PYTHON ?= python3
SK_KUBECTL ?= kubectl
SK_DOCKER ?= docker
SK_APPS = login menu order admin

.PHONY: push render deploy spinkube-check spinkube-env-ok spinkube-kubectl spinkube-dev-secrets

spinkube-env-ok:
	@case "$(ENV)" in dev|stg|prod) ;; *) echo "ENV must be dev, stg or prod (got '$(ENV)')" >&2; exit 2;; esac
	@if [ -n "$(filter $(ENV),$(SK_HEAD_ENVS))" ] && [ -z "$(SK_TAG_OVERRIDE)" ]; then echo "ENV=$(ENV) runs the {branch}-{shortsha} build make push tags, but there is no git HEAD here: pass TAG=<the pushed tag>" >&2; exit 2; fi

spinkube-kubectl:
	@command -v $(SK_KUBECTL) >/dev/null 2>&1 || { echo "kubectl not found: install kubectl (it carries kustomize) — https://kubernetes.io/docs/tasks/tools/" >&2; exit 2; }

# dev's credentials are generated, not committed: written once into the git-ignored
# overlays/dev/secrets/ that the overlay's secretGenerator reads (no-op for stg/prod).
spinkube-dev-secrets:
	@if [ "$(ENV)" = dev ]; then bash $(SK_DIR)/scripts/create-secrets.sh dev >&2; fi

# Shell snippet: sets $dir to the folder to render/apply, the overlay itself, or (when
# REGISTRY/TAG override the overlay's image) a wrapper kustomization in a temporary folder,
# removed on exit. TAG counts when given on the command line or environment, and for the
# environments that run HEAD's build (SK_HEAD_ENVS) also as its default.
SK_HEAD_ENVS = dev stg
SK_TAG_OVERRIDE = $(if $(filter command line environment,$(origin TAG)),$(TAG),$(if $(filter $(ENV),$(SK_HEAD_ENVS)),$(TAG),))
SK_SET_DIR = $(if $(REGISTRY)$(SK_TAG_OVERRIDE),dir=$$($(SK_PYTHON) $(SK_DIR)/tools/image_override.py $(ENV) "$(REGISTRY)" "$(SK_TAG_OVERRIDE)"); trap 'rm -rf "$$dir"' EXIT,dir=$(SK_DIR)/overlays/$(ENV))

push:
	@test -n "$(REGISTRY)" || { echo "usage: make push REGISTRY=ghcr.io/<org> [TAG=...]" >&2; exit 2; }
	@test -n "$(TAG)" || { echo "TAG unknown (no git HEAD): pass TAG=..." >&2; exit 2; }
	@command -v $(SK_DOCKER) >/dev/null 2>&1 || { echo "$(SK_DOCKER) not found: make push also builds the pizza-db image (crates/pizza-db/Dockerfile); install Docker or pass SK_DOCKER=podman" >&2; exit 2; }
	cd $(SK_ROOT) && spin build && spin registry push "$(REGISTRY)/pizza:$(TAG)"
	cd $(SK_ROOT) && $(SK_DOCKER) build -f crates/pizza-db/Dockerfile -t "$(REGISTRY)/pizza-db:$(TAG)" . && $(SK_DOCKER) push "$(REGISTRY)/pizza-db:$(TAG)"
	@echo "pushed $(REGISTRY)/pizza:$(TAG) and $(REGISTRY)/pizza-db:$(TAG)  (deploy with: make deploy ENV=<env> REGISTRY=$(REGISTRY) TAG=$(TAG))"

# Renders what is checked out; for dev, writes its git-ignored credentials first if missing.
render: spinkube-env-ok spinkube-kubectl spinkube-dev-secrets
	@set -e; $(SK_SET_DIR); test -n "$$dir"; $(SK_KUBECTL) kustomize "$$dir"

# Deploys what is checked out (dev: after writing its credentials once).
deploy: spinkube-env-ok spinkube-kubectl spinkube-dev-secrets
	@set -e; $(SK_SET_DIR); test -n "$$dir"; k="$(SK_KUBECTL)"; ns="$(SK_NS)"; \
	echo "== 1/3 namespace, SpinAppExecutor, config, secrets, policies, database, migration Job (everything but the SpinApps)"; \
	$$k -n $$ns delete job pizza-migrate --ignore-not-found --wait=true; \
	$$k apply -k "$$dir" -l 'pizza.shop/rollout!=app'; \
	if $$k -n $$ns get clusters.postgresql.cnpg.io pizza-db >/dev/null 2>&1; then \
	  echo "== waiting for the CloudNativePG cluster pizza-db (minutes on the first deploy)"; \
	  $$k -n $$ns wait clusters.postgresql.cnpg.io/pizza-db --for=condition=Ready --timeout=15m; \
	fi; \
	echo "== 2/3 waiting for the migration Job"; \
	for i in $$(seq 1 180); do \
	  s=$$($$k -n $$ns get job pizza-migrate -o jsonpath='{.status.succeeded}/{.status.conditions[?(@.type=="Failed")].status}' 2>/dev/null || true); \
	  case "$$s" in 1/*) echo "migrations applied"; break;; */True) $$k -n $$ns logs job/pizza-migrate --tail=50 || true; echo "migration Job failed" >&2; exit 1;; esac; \
	  if [ "$$i" = 180 ]; then $$k -n $$ns logs job/pizza-migrate --tail=50 || true; echo "migration Job timed out" >&2; exit 1; fi; \
	  sleep 5; \
	done; \
	echo "== 3/3 SpinApps, HTTPRoutes, autoscaling (image $$($$k kustomize "$$dir" | sed -n 's/^  image: //p' | sort -u | head -1))"; \
	$$k apply -k "$$dir"; \
	if [ "$(ENV)" != dev ]; then for a in $(SK_APPS); do \
	  for i in $$(seq 1 60); do $$k -n $$ns get deployment $$a >/dev/null 2>&1 && break; sleep 2; done; \
	  $$k -n $$ns rollout status deployment/$$a --timeout=5m; \
	done; else echo "dev scales to zero: pods start on the first request"; fi

spinkube-check:
	bash $(SK_DIR)/ci/check.sh
