# Task runner. `make run` and `make test` are the two set-up commands in the README.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The installer: uv, pinned, put into the venv by the venv's own pip (nothing to preinstall).
# Every install takes its versions from requirements.lock (constraints: only what is asked for is
# installed, at the locked version; the lock pins runtime, dev and spark, never the project).
# Each install is tried offline first, from uv's cache (~/.cache/uv) alone, then from PyPI when
# something is not cached yet: offline skips re-checking the index pages, and it reuses the
# pyspark wheel built earlier (the registry here serves files without validators, so uv online
# would download and build pyspark's 0.5 GB source package again every time).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# --compile-bytecode: the .pyc files are written at install time (as pip does), so the first
# `kedro` command does not compile every module, and an environment with PYTHONDONTWRITEBYTECODE
# (no .pyc written at run time) does not compile them at every start (4.3 s against 1.7 s).
UV_INSTALL := $(UV) pip install --python $(BIN)/python --quiet --compile-bytecode -c requirements.lock
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export MPLBACKEND := Agg

.PHONY: install install-spark install-dev system-deps run test test-fast lint format viz viz-build notebook mlflow-ui serve benchmark benchmark-scaling benchmark-spark lock

# Re-install only when the lock file or pyproject changes. `make install` (and so `make run`):
# the runtime only, no Spark and no test tools.
$(VENV)/.install-stamp: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV_INSTALL) --offline -e . 2>/dev/null || $(UV_INSTALL) -e .
	touch $@

# The optional `spark` extra (pyspark, joblibspark) that `--env spark` needs. PyPI has pyspark
# as a source package only: the first install builds it (about a minute), later ones reuse it.
$(VENV)/.spark-stamp: $(VENV)/.install-stamp
	$(UV_INSTALL) --offline -e ".[spark]" 2>/dev/null || $(UV_INSTALL) -e ".[spark]"
	touch $@

# What `make test` (CI) needs: the dev tools and the spark extra, on top of `make install`.
$(VENV)/.dev-stamp: $(VENV)/.install-stamp
	$(UV_INSTALL) --offline -e ".[dev,spark]" 2>/dev/null || $(UV_INSTALL) -e ".[dev,spark]"
	touch $@ $(VENV)/.spark-stamp

install: $(VENV)/.install-stamp

install-spark: $(VENV)/.spark-stamp

install-dev: $(VENV)/.dev-stamp

run: install
	$(BIN)/kedro run --pipelines loan

# Browser checks drive Debian's Chromium; install it when missing (needs root or sudo).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# Both tiers run on TEST_WORKERS pytest-xdist workers; `--dist loadgroup` keeps the tests that
# share an expensive fixture (a trained store, a Spark session, a module's project) on one worker
# (tests/conftest.py: pytest_collection_modifyitems, which also starts the longest groups first;
# --no-loadscope-reorder keeps that order). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# The whole suite, both tiers: what CI runs (.ci/run). The slowest tests are listed at the end.
test: install-dev system-deps
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports
	$(PYTEST) --durations=15

# The fast tier (a few minutes): unit and pipeline tests, the Spark tests, and one real `loan`
# then `score` on the tiny configuration (tests/test_tiny_run.py); no real-data training runs,
# servers or browsers (the tests marked `slow`).
test-fast: install-dev
	$(BIN)/ruff check src tests
	$(PYTEST) -m "not slow" --durations=10

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

viz: install
	$(BIN)/kedro viz run --host 127.0.0.1 --port 4141

viz-build: install
	$(BIN)/kedro viz build

# JupyterLab (dev extra) on 127.0.0.1 with a `kedro_loan_default` kernel: in a notebook,
# `%load_ext kedro.ipython` gives `catalog`, `context`, `pipelines` and `session`. Jupyter
# refuses to start as root (containers, CI) unless told.
notebook: install-dev
	$(BIN)/kedro jupyter lab --ip 127.0.0.1 --port 8888 $(if $(filter 0,$(shell id -u)),--allow-root)

mlflow-ui: install
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --host 127.0.0.1 --port 5000 \
		--backend-store-uri sqlite:///mlflow.db --workers 1

# The registry's champion over REST on 127.0.0.1:5001 (docs/serving.md); PORT=8080, ENV=spark,
# VERSION=7 to change what is served.
serve: install
	$(BIN)/python scripts/serve.py --port $(or $(PORT),5001) $(if $(ENV),--env $(ENV)) $(if $(VERSION),--version $(VERSION))

# Feedback figures on a fresh clone of HEAD (install, CLI start, test-fast, the full suite) and
# `loan` on the bundled data (about 35 minutes on 2 cores). `make benchmark VS=<commit>` adds
# `loan` side by side with that commit; `make benchmark ARGS=--no-suite` skips the full suite.
benchmark: install
	$(BIN)/python scripts/benchmark.py $(if $(VS),--vs $(VS)) $(ARGS)

# `loan` on the bundled data and a 10x bootstrap copy: the scaling figure.
benchmark-scaling: install
	$(BIN)/python scripts/benchmark.py --only loan --scales 1,10

# The Spark environment at 1x, 10x and 50x beside pandas at 1x and 10x (about an hour here).
benchmark-spark: install-spark
	$(BIN)/python scripts/benchmark_spark.py

# Regenerate the lock after changing pins in pyproject.toml: install every extra without the old
# lock (what is installed and still fits stays), then freeze that environment, less the project
# and the installer.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) pip install --python $(BIN)/python --quiet -e ".[dev,spark]"
	$(BIN)/python -m pip freeze --exclude-editable | grep -vE '^(loan[-_.]default|uv)(==| @)' > requirements.lock
