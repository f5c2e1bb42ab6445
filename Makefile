# Task runner. `make run` and `make test` are the two set-up commands in the README.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export MPLBACKEND := Agg

.PHONY: install system-deps run test lint format viz viz-build mlflow-ui benchmark benchmark-spark lock

# Re-install only when the lock file or pyproject changes.
$(VENV)/.install-stamp: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.install-stamp

run: install
	$(BIN)/kedro run --pipeline loan

# Browser checks drive Debian's Chromium; install it when missing (needs root or sudo).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

test: install system-deps
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: install
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

viz: install
	$(BIN)/kedro viz run --host 127.0.0.1 --port 4141

viz-build: install
	$(BIN)/kedro viz build

mlflow-ui: install
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --host 127.0.0.1 --port 5000 \
		--backend-store-uri sqlite:///mlflow.db --workers 1

benchmark: install
	$(BIN)/python scripts/benchmark.py

# The Spark environment at 1x, 10x and 50x beside pandas at 1x and 10x (about an hour here).
benchmark-spark: install
	$(BIN)/python scripts/benchmark_spark.py

# Regenerate the lock from the current environment after changing pins in pyproject.toml.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^loan.default' > requirements.lock
