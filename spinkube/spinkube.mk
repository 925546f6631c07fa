# SpinKube deployment of the pizza app (docs/deploy.md). Include from the root Makefile
# (`include spinkube/spinkube.mk`) or run directly: make -f spinkube/spinkube.mk render ENV=dev
#
#   make push REGISTRY=ghcr.io/acme [TAG=...]       spin build + spin registry push $(REGISTRY)/pizza:$(TAG)
#   make render ENV=dev|stg|prod [REGISTRY=] [TAG=] print the manifests (kubectl kustomize; writes
#                                                   nothing, needs no package index)
#   make deploy ENV=dev|stg|prod [REGISTRY=] [TAG=] migrations Job first, then the SpinApps
#   make spinkube-check                             the cluster-free CI checks
#   make spinkube-migrations                        rewrite the file list of migrations/kustomization.yaml
#
# render and deploy need kubectl (it carries kustomize) and python3 (standard library only).
# TAG defaults to {branch}-{shortsha} of HEAD (slashes become dashes); releases use SemVer.

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
SK_APPS = login menu order

.PHONY: push render deploy spinkube-check spinkube-migrations spinkube-env-ok spinkube-kubectl

spinkube-env-ok:
	@case "$(ENV)" in dev|stg|prod) ;; *) echo "ENV must be dev, stg or prod (got '$(ENV)')" >&2; exit 2;; esac

spinkube-kubectl:
	@command -v $(SK_KUBECTL) >/dev/null 2>&1 || { echo "kubectl not found: install kubectl (it carries kustomize) — https://kubernetes.io/docs/tasks/tools/" >&2; exit 2; }

spinkube-migrations:
	@$(SK_PYTHON) $(SK_DIR)/tools/sync_migrations.py $(SK_ROOT) >&2

# Shell snippet: sets $dir to the folder to render/apply, the overlay itself, or (when
# REGISTRY/TAG override the overlay's image) a wrapper kustomization in a temporary folder,
# removed on exit. TAG only counts when given on the command line or environment.
SK_TAG_OVERRIDE = $(if $(filter command line environment,$(origin TAG)),$(TAG),)
SK_SET_DIR = $(if $(REGISTRY)$(SK_TAG_OVERRIDE),dir=$$($(SK_PYTHON) $(SK_DIR)/tools/image_override.py $(ENV) "$(REGISTRY)" "$(SK_TAG_OVERRIDE)"); trap 'rm -rf "$$dir"' EXIT,dir=$(SK_DIR)/overlays/$(ENV))

push:
	@test -n "$(REGISTRY)" || { echo "usage: make push REGISTRY=ghcr.io/<org> [TAG=...]" >&2; exit 2; }
	@test -n "$(TAG)" || { echo "TAG unknown (no git HEAD): pass TAG=..." >&2; exit 2; }
	cd $(SK_ROOT) && spin build && spin registry push "$(REGISTRY)/pizza:$(TAG)"
	@echo "pushed $(REGISTRY)/pizza:$(TAG)  (deploy with: make deploy ENV=<env> REGISTRY=$(REGISTRY) TAG=$(TAG))"

# Read-only: renders what is checked out (CI's `migrations` check guards the migrations list).
render: spinkube-env-ok spinkube-kubectl
	@set -e; $(SK_SET_DIR); test -n "$$dir"; $(SK_KUBECTL) kustomize "$$dir"

# Deploys what is checked out: refuses (does not rewrite) a stale migrations list.
deploy: spinkube-env-ok spinkube-kubectl
	@$(SK_PYTHON) $(SK_DIR)/tools/sync_migrations.py --check $(SK_ROOT) || { echo "run: make -f $(SK_DIR)/spinkube.mk spinkube-migrations (and commit migrations/kustomization.yaml)" >&2; exit 2; }
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
	echo "== 3/3 SpinApps, Ingress, autoscaling"; \
	$$k apply -k "$$dir"; \
	if [ "$(ENV)" != dev ]; then for a in $(SK_APPS); do \
	  for i in $$(seq 1 60); do $$k -n $$ns get deployment $$a >/dev/null 2>&1 && break; sleep 2; done; \
	  $$k -n $$ns rollout status deployment/$$a --timeout=5m; \
	done; else echo "dev scales to zero: pods start on the first request"; fi

spinkube-check:
	bash $(SK_DIR)/ci/check.sh
