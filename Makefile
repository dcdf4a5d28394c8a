# Inspire Edge. `make dev` and `make test` are all a fresh machine needs; see README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false
# worker-build must not download wasm-bindgen or esbuild: point it at local binaries.
export ESBUILD_BIN := $(CURDIR)/node_modules/.bin/esbuild
WRANGLER := node_modules/.bin/wrangler
PORT ?= 8787

.PHONY: setup build dev test test-native test-e2e check-deploy bench deploy fuzz clean

setup:
	@scripts/setup.sh

## build: the Worker bundle in build/ (release), then its size.
build: setup
	@WASM_BINDGEN_BIN=$$(command -v wasm-bindgen) worker-build --release
	@scripts/size.sh

## dev: serve the agent and its page on http://127.0.0.1:$(PORT), offline by default.
dev: build
	$(WRANGLER) dev --ip 127.0.0.1 --port $(PORT) --persist-to .wrangler/state

## test: every test: native unit tests, end-to-end tests against wrangler dev, deploy check.
test: build test-native test-e2e check-deploy

test-native:
	cargo test --lib --bins

test-e2e:
	cargo test --test '*' -- --test-threads=4

## check-deploy: validate the deploy configuration as Cloudflare would, without uploading.
check-deploy:
	$(WRANGLER) deploy --dry-run --outdir target/deploy-dry-run

bench: build
	cargo run --release --example bench_tags
	cargo test --release --test bench -- --ignored --nocapture --test-threads=1

deploy: build
	$(WRANGLER) deploy

clean:
	rm -rf build target .wrangler
