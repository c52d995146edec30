# Trackhouse: the two set-up commands are `make demo` and `make test` (see README.md).
DATA ?= ./data
PORT ?= 8080
SWIFT ?= swift

.PHONY: demo test build release dist bench-ingest clean lint sanitize
FUZZ_SECONDS ?= 60

# The release product, built one way everywhere (scripts/swift-release.sh: static Swift runtime,
# static zstd and zlib, the commit for --version): `make test` runs the binary `make demo` and
# `make dist` ship.
release:
	scripts/ensure-system-packages.sh
	SWIFT=$(SWIFT) scripts/swift-release.sh build

# dist/trackhouse-<version>-linux-<arch>.tar.gz: the release binary, README, the systemd unit,
# an example config (packaging only: the binary is `make release`'s).
dist: release
	SWIFT=$(SWIFT) scripts/dist.sh

build:
	scripts/ensure-system-packages.sh
	$(SWIFT) build

# Runs the product on an embedded default: a demo project in ./data, then the server.
demo: release
	scripts/demo.sh "$(DATA)" "$(PORT)"

# Everything CI runs: system packages, the oracle venv, the lint, the whole test suite.
# Every test that starts the executable runs the release build that `make demo` ships.
test:
	scripts/ensure-system-packages.sh chromium default-jre-headless systemd
	scripts/ensure-venv.sh
	python3 scripts/lint.py Sources
	SWIFT=$(SWIFT) scripts/swift-release.sh build
	SWIFT=$(SWIFT) scripts/dist.sh
	TRACKHOUSE_BIN=$$(SWIFT=$(SWIFT) scripts/swift-release.sh bin-path)/trackhouse TRACKHOUSE_DIST=$$(SWIFT=$(SWIFT) scripts/dist.sh --path) \
	  TRACKHOUSE_PYTHON=$$(pwd)/.venv/bin/python $(SWIFT) test
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench-ingest: release
	scripts/ensure-system-packages.sh wrk
	Benchmarks/ingest/run.sh

clean:
	rm -rf .build dist/*.tar.gz dist/stage

lint:
	python3 scripts/lint.py Sources

# libFuzzer + ASan targets for every parser of outside input (Fuzz/README.md): builds them
# into .build-fuzz/ and runs each for FUZZ_SECONDS; fails if any target crashes.
.PHONY: fuzz
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The unit tests under AddressSanitizer, and the concurrency-heavy ones under ThreadSanitizer
# (each a full build of the package and its dependencies with the sanitizer: README.md says
# why `make test` does not run them).
TSAN_TESTS ?= RawLogWriterTests|IngestFrontDoorTests|RollupChartQueriesTests|SitesIndexTests|EngineTests|CompactionTests|WarehouseLogTests|LogThrottleTests
sanitize:
	$(SWIFT) build --build-tests --scratch-path .build-asan --sanitize=address
	$(SWIFT) test --skip-build --scratch-path .build-asan --filter 'CoreTests|IngestTests|ColumnStoreTests|QueryTests|ServerTests'
	$(SWIFT) build --build-tests --scratch-path .build-tsan --sanitize=thread
	$(SWIFT) test --skip-build --scratch-path .build-tsan --filter '$(TSAN_TESTS)'
