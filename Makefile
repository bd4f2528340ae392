# rekor-backfill: common tasks. `make demo` and `make test` are the two
# commands a newcomer needs (see README.md).

CARGO ?= cargo
BIN := target/release/rekor-backfill

.PHONY: all build test lint demo parity bench services-up services-down deps clean-harness

all: build

## build: the release binary, target/release/rekor-backfill
build:
	$(CARGO) build --release

## deps: system packages (Redis, MariaDB, openssl, gpg, minisign); needs root
deps:
	bash harness/install-deps.sh

## test: the whole suite against private Redis/MariaDB and Rekor's Go code
test:
	bash harness/test.sh

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## demo: set up everything and backfill a local replay of real log entries
demo: deps
	bash harness/demo.sh

## parity: per-kind key comparison with Rekor v1.5.4's Go code
parity: build
	bash harness/parity.sh $(BIN)

## bench: Go backfill-index against rekor-backfill; writes BENCHMARKS.md
## (about an hour; BENCH_MODE=quick make bench for a few minutes, report
## under .harness/bench/). Knobs: see harness/bench/bench.sh.
bench:
	bash harness/bench/bench.sh

## services-up / services-down: private Redis and MariaDB for manual runs
services-up:
	bash harness/services.sh start
	@echo 'eval "$$(harness/services.sh env)"   # to use them from this shell'

services-down:
	bash harness/services.sh stop

clean-harness: services-down
	rm -rf .harness
