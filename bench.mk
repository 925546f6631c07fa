# Benchmarks: included from the Makefile, or standalone with `make -f bench.mk ...`.
#
#   make bench           the full run (< 10 min on 2 cores): table on stdout,
#                        bench/results/<UTC timestamp>.json and .png
#   make bench QUICK=1   the short run (< 2 min)
#   make bench-smoke     a few requests per scenario (< 30 s), fails on any error; `make test` runs it

ifeq ($(origin APP_WASM),undefined)
# Standalone: what the root Makefile otherwise defines.
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
APP_WASM := $(shell sed -n 's/.*--release -p \([a-z0-9-]*\)".*/\1/p' spin.toml | sort -u)
BENCH_PREREQ :=
else
BENCH_PREREQ := deps
endif

BENCH := target/release/pizza-bench
BENCH_FLAGS := $(if $(filter 1,$(QUICK)),--quick)

.PHONY: bench bench-build bench-smoke

bench-build: $(BENCH_PREREQ)
	$(CARGO) build --target $(WASM_TARGET) --release $(addprefix -p ,$(APP_WASM))
	$(CARGO) build --release -p spin-host -p pizza-bench

bench: bench-build
	$(BENCH) $(BENCH_FLAGS)

bench-smoke: bench-build
	$(BENCH) --smoke
