# rekor-backfill: common tasks. `make demo` and `make test` are the two
# commands a newcomer needs (see README.md).

CARGO ?= cargo
BIN := target/release/rekor-backfill

.PHONY: all build release image test lint demo parity harness bench services-up services-down deps clean-harness fuzz bench-keys

all: build

## build: the developer build, target/release/rekor-backfill (dynamically
## linked, line tables kept; `make release` for the binary operators run),
## and the backfill-redis link: the Redis-only name of the operator's image
build:
	$(CARGO) build --release
	ln -sf rekor-backfill target/release/backfill-redis

## release: what operators copy onto any x86-64 Linux host: a statically
## linked, stripped binary, its debug information and SHA256SUMS, in
## target/dist/ (harness/release/build.sh; README, "Release binary")
release:
	bash harness/release/build.sh

## image: OCI images around the release binary, pulled from no registry:
## a static one (no shell, no libc) and an operator-compatible one (Debian,
## /bin/sh, curl, sed), in target/image/oci (harness/image/build.sh; README,
## "Container images"); needs root
image: release
	bash harness/image/build.sh

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

## demo: set up everything and backfill a local replay of real log entries,
## checking every step (FAILED: <step> and a non-zero status when one fails)
demo: deps
	bash harness/demo.sh

## parity: per-kind key comparison with Rekor v1.5.4's Go code, over the
## corpus and over the generated set (harness/gen, into .harness/gen)
parity: build
	@status=0; \
	bash harness/parity.sh $(BIN) || status=1; \
	{ bash harness/gen/run.sh .harness/gen && \
	  bash harness/parity.sh $(BIN) .harness/gen/generated.jsonl; } || status=1; \
	exit $$status

## harness: a real Rekor stack (rekor-server, Trillian, MariaDB, Redis on
## loopback), populated with every kind, then the scenarios on Redis and MySQL
## (ground truth, upstream, checkpoint, faults, Go side by side; the API and
## the Trillian source; a log sharded into two trees); one line per
## scenario, report in .harness/report.md (harness/README.md, "Real Rekor stack")
harness: build
	bash harness/stack/build.sh
	bash harness/stack/scenarios.sh

## bench: Go backfill-index against rekor-backfill; writes BENCHMARKS.md
## (about an hour; BENCH_MODE=quick make bench for a few minutes, report
## under .harness/bench/). Knobs: see harness/bench/bench.sh.
bench:
	bash harness/bench/bench.sh

## fuzz: each fuzz target (fuzz/README.md) for FUZZ_TIME seconds (default
## 60) from fuzz/corpus, with the memory and time limits; needs cargo-fuzz
## (`cargo install cargo-fuzz`); runs on stable through RUSTC_BOOTSTRAP
FUZZ_TIME ?= 60
FUZZ_TARGETS ?= index_keys keys_for_line pki
fuzz:
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -rss_limit_mb=512 \
	    -malloc_limit_mb=256 -timeout=10 -max_total_time=$(FUZZ_TIME) || exit 1; \
	done

## bench-keys: entries/s per core of the key computation, rekor-backfill
## against Rekor's Go code over the same input (harness/bench-keys.sh)
bench-keys:
	bash harness/bench-keys.sh

## services-up / services-down: private Redis and MariaDB for manual runs
services-up:
	bash harness/services.sh start
	@echo 'eval "$$(harness/services.sh env)"   # to use them from this shell'

services-down:
	bash harness/services.sh stop

clean-harness: services-down
	rm -rf .harness
