"""Every `kedro` command imports the project settings: they load no model library, and the names
the configuration checks without those libraries are the modelling registries' own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from loan_default.config import names
from loan_default.modelling.metrics import score_metrics
from loan_default.modelling.registry import MODELS, STRATEGIES
from loan_default.modelling.thresholds import OBJECTIVES
from tests.conftest import PROJECT_ROOT

# Libraries (and project modules that load them) that `kedro --help` must not import.
HEAVY = [
    "xgboost",
    "sklearn",
    "mlflow",
    "optbinning",
    "imblearn",
    "pyspark",
    "fairlearn",
    "scipy",
    "sqlalchemy",
    "matplotlib",
    "plotly",
    "ortools",
    "cvxpy",
    "loan_default.modelling",
    "loan_default.preprocessing",
    "loan_default.serving",
    "loan_default.tracking",
    "loan_default.pipelines",
]


def test_the_settings_import_no_model_library() -> None:
    code = (
        "import json, sys\n"
        "import loan_default.settings\n"
        f"print(json.dumps(sorted(set({HEAVY!r}) & set(sys.modules))))\n"
    )
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`import loan_default.settings` loads {loaded}"


def test_building_every_pipeline_loads_no_model_library() -> None:
    """`kedro registry list`, `kedro viz` and the start of every run build all the pipelines: the
    node modules bind the model libraries lazily (loan_default.lazy), a node's first call loads
    what it needs."""
    heavy = [name for name in HEAVY if not name.startswith("loan_default.pipelines")]
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from kedro.framework.startup import bootstrap_project\n"
        "bootstrap_project(Path.cwd())\n"
        "from kedro.framework.project import pipelines\n"
        "names = sorted(pipelines)\n"
        "assert len(pipelines['loan'].nodes) > 40, names\n"
        f"print(json.dumps(sorted(set({heavy!r}) & set(sys.modules))))\n"
    )
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
        cwd=PROJECT_ROOT,
    )  # fmt: skip
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"building the pipelines loads {loaded}"


def test_model_and_strategy_names_are_the_registry() -> None:
    assert set(names.MODEL_NAMES) == set(MODELS)
    assert set(names.MONOTONE_MODELS) == {name for name, e in MODELS.items() if e.monotone}
    assert set(names.STRATEGY_NAMES) == set(STRATEGIES)


def test_objective_names_are_the_thresholds_objectives() -> None:
    assert set(names.THRESHOLD_OBJECTIVES) == set(OBJECTIVES)


def test_metric_names_are_the_metrics_computed() -> None:
    y, score = np.array([0, 1, 0, 1]), np.array([0.1, 0.8, 0.4, 0.3])
    costs = {"loss_given_default": 0.6, "interest_margin": 0.1}
    computed = score_metrics(y, score, 0.5, np.ones(4), costs)
    assert set(names.GREATER_IS_BETTER) == set(computed)


def test_a_name_on_one_side_only_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"only named there \['mlp'\], only registered \[\]"):
        names.check_registry("model", [*names.MODEL_NAMES, "mlp"], MODELS)
