# seatcore's commands. The README's two: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
# The database: DATABASE_URL when set, else the project's private cluster (.pgdata/).
DB_URL = $${DATABASE_URL:-$$(scripts/pg.sh start)}

.PHONY: help run test lint test-rust test-python test-c test-hostile test-chaos test-ha bench db db-stop clean

help:
	@echo "make run    set up what is missing, start the private PostgreSQL, serve http://127.0.0.1:5000"
	@echo "make test   run every test (Rust, Python, C) against a real PostgreSQL"
	@echo "make bench  run the benchmark harness"
	@echo "make db     start the private PostgreSQL and print its URL; make db-stop stops it"

run:
	@scripts/setup.sh
	@url=$(DB_URL) && echo "database: $$url" >&2 && \
	  DATABASE_URL="$$url" $(CARGO) run --release -q -p seatcore-server -- $(ARGS)

test:
	@scripts/setup.sh python c browser ha
	@$(MAKE) --no-print-directory lint
	@url=$(DB_URL) && export DATABASE_URL="$$url" && \
	  $(MAKE) --no-print-directory test-rust test-python test-c test-hostile test-chaos
	@$(MAKE) --no-print-directory test-ha

# Gates: formatting and lints of the Rust code (the Python door's test.sh runs ruff).
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace --all-targets --no-fail-fast
	# the vendored tiny_http (a member as the server's path dependency) keeps upstream's
	# doc examples, which need upstream's dev-dependencies
	$(CARGO) test --workspace --doc --exclude tiny_http

test-python:
	bindings/python/test.sh

test-c:
	bindings/c/test.sh

test-hostile:
	bindings/http/hostile/run.sh

# after test-python: the many-instances round drives the Python module it installed
test-chaos:
	scripts/chaos.sh

# the failover round on a pg_auto_failover formation of its own (scripts/ha.sh, docs/ha.md);
# needs the Python module, which it builds when missing
test-ha:
	scripts/ha-test.sh

bench:
	bench/run.sh

db:
	@scripts/pg.sh start

db-stop:
	@scripts/pg.sh stop

clean:
	$(CARGO) clean
