# The project's commands. `make run` and `make test` work on a fresh machine with the Swift
# toolchain: they install the missing system libraries first.
SWIFT ?= swift
CONFIG ?= plugins.conf

.PHONY: setup build run test bench clean

setup:
	@scripts/install-system-packages.sh

build: setup
	$(SWIFT) build

# Serves on http://127.0.0.1:8080 with the five plugins of plugins.conf and SQLite in ./data.
run: build
	.build/debug/stelltron serve --config $(CONFIG)

# Builds host, plugins and tests once, then runs every test against those builds.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: setup
	scripts/bench.sh

clean:
	rm -rf .build
