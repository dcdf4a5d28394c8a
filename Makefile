# Inspire Edge. `make dev` and `make test` are all a fresh machine needs; see README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false
# worker-build must not download wasm-bindgen or esbuild: point it at local binaries.
export ESBUILD_BIN := $(CURDIR)/node_modules/.bin/esbuild
WRANGLER := node_modules/.bin/wrangler
PORT ?= 8787
# Parallel end-to-end tests: each starts its own wrangler dev; 2 cores share them.
E2E_THREADS ?= 3

.PHONY: setup build dev test test-native test-e2e check-deploy bench fuzz deploy clean

setup:
	@scripts/setup.sh

## build: the Worker bundle in build/ (release), then its size.
build: setup
	@WASM_BINDGEN_BIN=$$(command -v wasm-bindgen) worker-build --release
	@scripts/size.sh

## dev: serve the agent and its page on http://127.0.0.1:$(PORT), offline by default.
dev: build
	$(WRANGLER) dev --ip 127.0.0.1 --port $(PORT) --persist-to .wrangler/state

## test: every test: native unit tests, data checks, end-to-end tests against wrangler dev
## (API, agent, faults, browser, OpenAPI, schemathesis), and the deploy configuration.
test: build test-native check-deploy test-e2e

test-native:
	python3 scripts/check_lexicon.py
	cargo test --lib --examples

test-e2e:
	INSPIRE_SKIP_BUILD=1 cargo test --test e2e -- --test-threads=$(E2E_THREADS)

## check-deploy: validate the deploy configuration as Cloudflare would, without uploading.
check-deploy:
	$(WRANGLER) deploy --dry-run --outdir target/deploy-dry-run

## bench: the figures in BENCHMARKS.md (native tag index, then the Worker under load).
bench: build
	cargo run --release --example bench_tags | tee target/bench-native.txt
	INSPIRE_SKIP_BUILD=1 cargo test --release --test e2e bench:: -- --ignored --nocapture --test-threads=1

## fuzz: every fuzz target for FUZZ_SECONDS each, the saved regressions, then schemathesis
## (200 examples per operation) against a local Worker.
FUZZ_SECONDS ?= 60
fuzz: setup
	@scripts/fuzz.sh $(FUZZ_SECONDS)

deploy: build
	$(WRANGLER) deploy

clean:
	rm -rf build target .wrangler .venv test-artifacts
