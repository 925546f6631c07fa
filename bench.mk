# Benchmarks: included from the Makefile, or standalone with `make -f bench.mk ...`.
#
#   make bench           the full run (< 10 min on 2 cores): table on stdout,
#                        bench/results/<UTC timestamp>.json and .png
#   make bench QUICK=1   the short run (about 3 min)
#   make bench SPIN=/path/to/spin
#                        the same scenarios against `spin up` too, after spin-host (a `spin`
#                        on PATH is used unless SPIN= is given empty); one table compares them
#   make bench OTEL=1    the same scenarios against spin-host exporting OpenTelemetry too
#                        (`spin-host+otlp`, to an OTLP sink in pizza-bench), next to spin-host
#   make bench-smoke     a few requests per scenario (< 30 s), fails on any error; `make test` runs it
#   make profile         perf under the order rush and the menu browse (needs linux-perf):
#                        bench/results/<UTC timestamp>-profile-orders.svg, -menu.svg and
#                        -profile.json with the top self-time frames; CALL_GRAPH=fp follows
#                        the wasm call chains instead of spin-host's (default dwarf,16384)
#   make chaos           fault injection (< 8 min): PostgreSQL killed, a table locked, the pool
#                        exhausted, the host stopped; twice, the second time with PgBouncer
#                        between the app and PostgreSQL (as the stg/prod Pooler); reports in
#                        target/chaos/<UTC timestamp>.json, fails if any scenario misses its
#                        criteria (not part of `make test`)

ifeq ($(origin APP_WASM),undefined)
# Standalone: what the root Makefile otherwise defines.
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
APP_WASM := $(shell sed -n 's/.*--profile component -p \([a-z0-9-]*\)".*/\1/p' spin.toml | sort -u)
TEST_WASM := e2e-chain-proxy $(shell sed -n 's/^name = "\(.*\)"/\1/p' crates/spin-host/fixtures/*/Cargo.toml)
BUILD_APP_WASM = $(CARGO) build --target $(WASM_TARGET) --profile component $(addprefix -p ,$(APP_WASM))
BUILD_TEST_WASM = $(CARGO) build --target $(WASM_TARGET) --release $(addprefix -p ,$(TEST_WASM))
BENCH_PREREQ :=
else
BENCH_PREREQ := deps console
endif

BENCH := target/release/pizza-bench
# The Spin to compare spin-host with: SPIN=/path/to/spin, else a `spin` on PATH, else none.
SPIN ?= $(shell command -v spin 2>/dev/null)
BENCH_FLAGS := $(if $(filter 1,$(QUICK)),--quick) $(if $(SPIN),--spin $(SPIN)) $(if $(filter 1,$(OTEL)),--otel)
# Flame graphs: inferno's binaries, pinned, installed into target/tools by `make profile`.
INFERNO_VERSION := 0.12.8
BENCH_TOOLS := target/tools
INFERNO_STAMP := $(BENCH_TOOLS)/.inferno-$(INFERNO_VERSION)

.PHONY: bench bench-build bench-smoke chaos profile profile-perf

bench-build: $(BENCH_PREREQ)
	$(BUILD_APP_WASM)
	$(CARGO) build --release -p spin-host -p pizza-bench

bench: bench-build
	$(BENCH) $(BENCH_FLAGS)

bench-smoke: bench-build
	$(BENCH) --smoke

profile: profile-perf bench-build $(INFERNO_STAMP)
	$(BENCH) --profile --inferno-dir $(BENCH_TOOLS)/bin $(if $(CALL_GRAPH),--call-graph $(CALL_GRAPH))

profile-perf:
	@command -v perf >/dev/null 2>&1 || { echo "perf not found: sudo apt-get install linux-perf"; exit 1; }

$(INFERNO_STAMP):
	$(CARGO) install inferno --version $(INFERNO_VERSION) --locked --root $(BENCH_TOOLS)
	@touch $@

## The chaos run serves through pizza-e2e's harness, whose manifest adds the test-only wasm.
chaos: $(BENCH_PREREQ)
	$(BUILD_APP_WASM)
	$(BUILD_TEST_WASM)
	$(CARGO) build --release -p spin-host -p pizza-chaos
	@bash scripts/pgbouncer.sh >/dev/null
	target/release/pizza-chaos
	target/release/pizza-chaos --pooler
