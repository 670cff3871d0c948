# Developer shortcuts. `make verify` runs what CI runs.
.PHONY: help run test verify lint fmt proto contract deploy-check

help: ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## run every service on 127.0.0.1:50051 with SQLite under ./data
	cargo run --bin assay -- serve

test: ## the test suite (SQLite and PostgreSQL)
	cargo test --workspace

fmt: ## format Rust and protobuf sources
	cargo fmt --all
	.tools/node_modules/.bin/buf format -w

lint: ## clippy and buf lint
	cargo clippy --workspace --all-targets -- -D warnings
	.tools/node_modules/.bin/buf lint

contract: ## after an additive change to proto/: snapshot the contract buf breaking checks against
	.tools/node_modules/.bin/buf breaking --against .ci/contract.binpb
	.tools/node_modules/.bin/buf build --exclude-source-info -o .ci/contract.binpb

deploy-check: ## render, validate and scan the Helm chart and Dockerfile
	ASSAY_BIN=target/debug/assay deploy/check

verify: ## everything CI checks (.ci/run)
	.ci/run
