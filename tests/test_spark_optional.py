"""Spark is an optional extra: without pyspark, `--env spark` stops first, in plain words, naming
the command that installs it; every other environment never looks for it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from kedro.config import MissingConfigException

import loan_default.spark as spark_pkg
from loan_default.hooks import SparkHook
from loan_default.spark import SparkNotInstalledError, require_pyspark
from tests.conftest import RAW_LOANS, make_kedro_project

INSTALL_COMMAND = "make install-spark"
# `kedro run` in a process where `import pyspark` fails as if it were not installed.
KEDRO_WITHOUT_PYSPARK = (
    "import sys; sys.modules['pyspark'] = None; from kedro.framework.cli import main; main()"
)


class _Loader(dict):
    """A config loader whose `spark` key is the environment's spark.yml, or missing."""

    def __getitem__(self, key: str):
        if key not in self:
            raise MissingConfigException(f"No files of type '{key}'")
        return super().__getitem__(key)


def _context(spark_conf: dict | None) -> SimpleNamespace:
    loader = _Loader() if spark_conf is None else _Loader(spark=spark_conf)
    return SimpleNamespace(config_loader=loader, env="spark")


def _hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make `names` look uninstalled, as a venv from `make install` has them."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_extra_is_named_with_its_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "pyspark")
    with pytest.raises(SparkNotInstalledError) as raised:
        require_pyspark()
    message = str(raised.value)
    assert INSTALL_COMMAND in message
    assert 'pip install -c requirements.lock -e ".[spark]"' in message
    assert "Missing: pyspark" in message
    assert isinstance(raised.value, RuntimeError)


def test_joblibspark_alone_missing_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"pyspark": object(), "joblibspark": None}
    monkeypatch.setattr(spark_pkg.importlib.util, "find_spec", lambda name: found[name])
    with pytest.raises(SparkNotInstalledError, match="Missing: joblibspark"):
        require_pyspark()


def test_installed_extra_passes_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []

    def find_spec(name: str) -> object:
        looked_up.append(name)
        return object()

    monkeypatch.setattr(spark_pkg.importlib.util, "find_spec", find_spec)
    require_pyspark()
    assert looked_up == ["pyspark", "joblibspark"]


def test_hook_stops_before_the_other_hooks_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook wraps every other after_context_created: without the extra it raises before
    handing over to them (kedro-mlflow, the tracking-store check), in well under a second."""
    _hide(monkeypatch, "pyspark", "joblibspark")
    calls = SparkHook().after_context_created(_context({"spark.master": "local[1]"}))
    start = time.perf_counter()
    with pytest.raises(SparkNotInstalledError, match=INSTALL_COMMAND):
        next(calls)
    assert time.perf_counter() - start < 1.0


def test_environments_without_spark_yml_never_look_for_spark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _hide(monkeypatch, "pyspark", "joblibspark")
    calls = SparkHook().after_context_created(_context(None))
    next(calls)  # hands over to the other hooks: no check, no session
    with pytest.raises(StopIteration):
        calls.send(None)


def test_kedro_run_env_spark_without_pyspark_fails_fast(tmp_path: Path) -> None:
    """A real `kedro run --pipeline loan --env spark` in a temporary project, pyspark made
    unimportable: one plain error line naming the install command, exit status 1, and nothing
    touched (no MLflow store created, no output written)."""
    raw = pd.read_csv(RAW_LOANS, nrows=50, low_memory=False)
    project = make_kedro_project(tmp_path / "project", raw, {}, env="spark")
    store = tmp_path / "mlflow.db"
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}",
        "COLUMNS": "200",  # one line per message in rich's log output
    }
    result = subprocess.run(
        [sys.executable, "-c", KEDRO_WITHOUT_PYSPARK, "run", "--pipeline", "loan"]
        + ["--env", "spark"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Error: The `spark` environment needs the optional Spark packages" in output
    assert INSTALL_COMMAND in output
    assert "Traceback" not in output
    assert "Missing: pyspark" in output
    assert not store.exists()
    written = [path for path in (project / "data").rglob("*") if path.is_file()]
    assert all(path.parent.name == "01_raw" for path in written), written
