# The project's commands. `make run` and `make test` work on a fresh machine with the Swift
# toolchain: they install the missing system libraries first.
SWIFT ?= swift
CONFIG ?= plugins.conf

.PHONY: setup build run test test-postgres bench clean

setup:
	@scripts/install-system-packages.sh

build: setup
	$(SWIFT) build

# Serves on http://127.0.0.1:8080 with the five plugins of plugins.conf and SQLite in ./data.
run: build
	.build/debug/stelltron serve --config $(CONFIG)

# Builds host, plugins and tests once, then runs every test against those builds — on SQLite,
# and again on PostgreSQL when STELLTRON_TEST_DATABASE names one (`make test-postgres` starts a
# private cluster for it; CI runs both).
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@if [ -n "$$STELLTRON_TEST_DATABASE" ]; then \
		echo "== the same tests on PostgreSQL ($$STELLTRON_TEST_DATABASE)"; \
		$(SWIFT) test --skip-build; \
	fi

# `make test` with a private PostgreSQL cluster on loopback (Debian's postgresql package).
test-postgres:
	STELLTRON_TEST_DATABASE=$$(scripts/postgres-cluster.sh start) $(MAKE) test

bench: setup
	scripts/bench.sh

clean:
	rm -rf .build
