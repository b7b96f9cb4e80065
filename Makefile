# `make demo` runs the bank demo; `make test` runs lint, types and tests; `make bench` runs the
# side-by-side benchmark (it also installs the peer library it measures against).
# Each creates or updates the virtual environment in .venv first.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

# The PostgreSQL server of the cluster demo and of the tests (a URL without a query string).
ESACTORS_PG_DSN ?= postgresql://postgres@127.0.0.1:5432/test
NODES ?= 3

.PHONY: demo demo-cluster test lint types pytest bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "esactors needs Python 3.11 or newer on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.bank $(ARGS)

# Erases the demo's own schema (bank_demo) first, so each run starts from an empty log.
demo-cluster: $(STAMP)
	$(BIN)/python -m examples.bank --store '$(ESACTORS_PG_DSN)?schema=bank_demo' --fresh \
		--nodes $(NODES) --clients 100 $(ARGS)

test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache

# Reliability: the crash-safety harness (SIGKILL a busy bank workload 20 times and check nothing
# acknowledged was lost; ARGS="--kills 50 --seed 1 --db /tmp/crash.db" to change it), then the
# fault-injection, overload, stateful and fuzz tests with more examples than `make test` runs,
# with a count of the faults injected and the inputs fuzzed. A few minutes.
.PHONY: reliability
reliability: $(STAMP)
	$(BIN)/python -m tests.reliability.crash $(ARGS)
	ESACTORS_FUZZ_EXAMPLES=1000 ESACTORS_STATEFUL_EXAMPLES=200 $(BIN)/python -m pytest -q \
		-p tests.reliability.tally tests/reliability tests/actors/test_corrupt_rows.py
