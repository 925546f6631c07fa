# The pizza backend: one Spin app, one wasm component per endpoint.
#
#   make up      build, start a private PostgreSQL (installed if missing), migrate, seed,
#                and serve on http://$(LISTEN) with `spin up`, or the project's spin-host,
#                with the payment relay's ticker (scripts/relay-ticker.sh); OTEL=1 also starts
#                a local trace viewer (scripts/trace-viewer.sh) and exports traces to it;
#                HISTORY=1 also loads the data set's year of orders (pizza-db seed --history)
#   make test    lints (fmt, clippy native and wasm), unit, host fixture, end-to-end
#                (the web console in headless Chromium too) and deployment checks
#   make console the web console's bundle (console/dist), which `make build` compiles in
#   make bench   benchmarks (QUICK=1 for the short run)
#   make fuzz    schemathesis with 2,000 examples per operation
#   make render ENV=dev|stg|prod, make deploy ENV=..., make push REGISTRY=...  (spinkube/)

SHELL := /bin/bash
LISTEN ?= 127.0.0.1:3000
CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
# Every component package spin.toml builds (with the `component` profile: Cargo.toml), plus
# the test-only wasm (with `release`).
APP_WASM := $(shell sed -n 's/.*--profile component -p \([a-z0-9-]*\)".*/\1/p' spin.toml | sort -u)
TEST_WASM := e2e-chain-proxy $(shell sed -n 's/^name = "\(.*\)"/\1/p' crates/spin-host/fixtures/*/Cargo.toml)
BUILD_APP_WASM = $(CARGO) build --target $(WASM_TARGET) --profile component $(addprefix -p ,$(APP_WASM))
BUILD_TEST_WASM = $(CARGO) build --target $(WASM_TARGET) --release $(addprefix -p ,$(TEST_WASM))
HOST := target/release/spin-host

.PHONY: up db down deps first-build-notice build build-wasm build-native console console-test-deps lint fuzz-deps fuzz pgbouncer nginx test unit-test e2e-test clean

## Toolchain and system packages the project needs (idempotent).
deps:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@$(CARGO) fmt --version >/dev/null 2>&1 && $(CARGO) clippy --version >/dev/null 2>&1 || \
	  { echo "make: rustfmt and clippy are needed: rustup component add rustfmt clippy" >&2; exit 1; }
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v psql >/dev/null; then \
	  echo "installing PostgreSQL (apt-get)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq postgresql postgresql-contrib postgresql-client >/dev/null; \
	fi

## The web console (console/): its npm packages, pinned by package-lock.json, then the
## TypeScript checked and bundled into console/dist, which the `console` component compiles in.
CONSOLE_SRC := $(shell find console/src console/index.html console/build.mjs console/tsconfig.json -type f 2>/dev/null)
console/node_modules/.package-lock.json: console/package-lock.json
	@command -v npm >/dev/null || { echo "make: node and npm are needed for the web console: apt-get install nodejs npm" >&2; exit 1; }
	npm --prefix console ci --no-audit --no-fund
console/dist/index.html: console/node_modules/.package-lock.json $(CONSOLE_SRC)
	npm --prefix console run build
console: console/dist/index.html

## Debian's Chromium, which the console's browser test drives (playwright-core), and a
## Korean font for the branch names in its screenshots.
console-test-deps: console
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-nanum >/dev/null 2>&1; then \
	  echo "installing Chromium and fonts-nanum (apt-get)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq chromium fonts-nanum >/dev/null; \
	fi

## The first build compiles about 500 crates (wasmtime among them): say so before it starts.
first-build-notice:
	@[[ -x $(HOST) ]] || echo "make: first build: about 40 minutes on 2 cores (later builds take seconds); cargo shows each crate as it compiles" >&2

build-wasm: deps first-build-notice console
	$(BUILD_APP_WASM)

build-native: deps first-build-notice
	$(CARGO) build --release -p spin-host -p pizza-db

build: build-wasm build-native

## The private database (or $$DATABASE_URL), migrated and seeded (HISTORY=1: with the data
## set's 21,350 orders too); writes .dev/env.
db: build-native
	HISTORY="$(HISTORY)" bash scripts/dev-env.sh

up: build db
	@source .dev/env; \
	bash scripts/relay-ticker.sh "http://$(LISTEN)" $$$$ & \
	if [[ "$(OTEL)" == 1 ]]; then \
	  traces=$$(bash scripts/trace-viewer.sh $$$$); \
	  [[ -n $$traces ]] && export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=$$traces OTEL_SERVICE_NAME=pizza; \
	fi; \
	[[ -n "$${OTEL_EXPORTER_OTLP_ENDPOINT:-}$${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-}" ]] && \
	  echo "exporting OpenTelemetry: $${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-$$OTEL_EXPORTER_OTLP_ENDPOINT}"; \
	if command -v spin >/dev/null 2>&1; then \
	  echo "serving with spin up on http://$(LISTEN)"; exec spin up --listen $(LISTEN); \
	else \
	  echo "spin not installed: serving with the project's spin-host on http://$(LISTEN)"; \
	  exec $(HOST) up -f spin.toml --listen $(LISTEN); \
	fi

down:
	bash scripts/dev-env.sh stop

## Formatting and lints, native and wasm, warnings as errors.
lint: deps console
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) clippy --release --target $(WASM_TARGET) --all-targets $(addprefix -p ,$(APP_WASM) $(TEST_WASM)) -- -D warnings

## schemathesis from PyPI, pinned, into target/fuzz-venv (the fuzz test runs it).
FUZZ_VENV := target/fuzz-venv
SCHEMATHESIS := schemathesis==4.32.5
fuzz-deps:
	@[[ -x $(FUZZ_VENV)/bin/st ]] || { \
	  command -v python3 >/dev/null || { echo "make: python3 is needed for schemathesis: apt-get install python3-venv" >&2; exit 1; }; \
	  python3 -m venv $(FUZZ_VENV) && $(FUZZ_VENV)/bin/pip install -q '$(SCHEMATHESIS)'; }

## schemathesis with 2,000 examples per operation (make test runs 200).
fuzz: deps fuzz-deps
	$(BUILD_APP_WASM)
	$(BUILD_TEST_WASM)
	$(CARGO) build --release -p spin-host
	FUZZ_EXAMPLES=2000 $(CARGO) test --release -p pizza-e2e --test fuzz -- --nocapture

## PgBouncer, built from Debian's pinned source into target/tools (crates/e2e/tests/pooler.rs).
pgbouncer:
	@bash scripts/pgbouncer.sh >/dev/null

## Debian's nginx into target/tools: the gateway of SpinKube in a box (crates/spinkube-box).
nginx:
	@bash scripts/nginx.sh >/dev/null

## The e2e suites that also run through SpinKube in a box: the dev overlay rendered by
## kubectl, one spin-host per SpinApp as the operator would start it, nginx from its routes.
BOX_SUITES := menu order login hostile contract

## Everything CI runs.
test: deps lint fuzz-deps pgbouncer nginx console-test-deps
	$(BUILD_APP_WASM)
	$(BUILD_TEST_WASM)
	$(CARGO) build --release -p spin-host -p pizza-db -p pizza-bench
	$(CARGO) test --release -p pizza -p pizza-db -p testkit -p spin-host -p spinkube-box -p pizza-bench -p pizza-e2e
	bash spinkube/scripts/create-secrets.sh dev >/dev/null
	PIZZA_E2E_SPINKUBE=spinkube/overlays/dev $(CARGO) test --release -p pizza-e2e $(addprefix --test ,$(BOX_SUITES))
	bash spinkube/ci/check.sh
	$(MAKE) --no-print-directory bench-smoke

clean:
	$(CARGO) clean

include bench.mk
include spinkube/spinkube.mk
