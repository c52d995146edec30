# Trackhouse: the two set-up commands are `make demo` and `make test` (see README.md).
DATA ?= ./data
PORT ?= 8080
SWIFT ?= swift

.PHONY: demo test build release bench-ingest clean

release:
	scripts/ensure-system-packages.sh
	$(SWIFT) build -c release --product trackhouse

build:
	scripts/ensure-system-packages.sh
	$(SWIFT) build

# Runs the product on an embedded default: a demo project in ./data, then the server.
demo: release
	scripts/demo.sh "$(DATA)" "$(PORT)"

# Everything CI runs: system packages, the oracle venv, the whole test suite.
test:
	scripts/ensure-system-packages.sh chromium default-jre-headless
	scripts/ensure-venv.sh
	$(SWIFT) build
	TRACKHOUSE_BIN=$$(swift build --show-bin-path)/trackhouse TRACKHOUSE_PYTHON=$$(pwd)/.venv/bin/python $(SWIFT) test

bench-ingest: release
	scripts/ensure-system-packages.sh wrk
	Benchmarks/ingest/run.sh

clean:
	rm -rf .build
