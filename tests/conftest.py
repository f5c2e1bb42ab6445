"""Shared fixtures: the real dataset parameters and real Kedro projects in temporary folders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

try:
    from _pytest.nodeid import NodeId
except ImportError:  # pytest before 9.2
    NodeId = None

from loan_default.config_loader import ProjectConfigLoader
from loan_default.core.ingestion import derive_features, parse_columns
from loan_default.settings import CONFIG_LOADER_ARGS

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RAW_LOANS = PROJECT_ROOT / "data" / "01_raw" / "lending_club_2007_2011_full.csv.gz"


# Session fixtures that are expensive to build once per process: every test that uses one runs on
# the same pytest-xdist worker (`--dist loadgroup`), so the store is trained once, not per worker.
SHARED_FIXTURES = ("trained_project", "tiny_project", "spark")
# The longest groups (`make test --durations`), started first so that neither worker is left
# with one of them at the end; then the other slow groups, then the quick ones.
LONGEST_GROUPS = (
    "tests/test_state_model.py",
    "trained_project",
    "tests/test_one_champion.py",
    "tests/test_mlflow_server.py",
)


def xdist_group(item: pytest.Item) -> str:
    """The worker group of a test: the first shared fixture it uses, else its module (whose
    module-scoped fixtures are then built once)."""
    return next(
        (name for name in SHARED_FIXTURES if name in item.fixturenames), item.nodeid.split("::")[0]
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a `--dist loadgroup` worker: each test's group as the `@group` suffix of its node id,
    which is how xdist's scheduler reads groups; the longest groups first, then the other slow
    ones, and the quick unit tests fill in at the end (with `--no-loadscope-reorder`, which keeps
    this order). A no-op without xdist.

    pytest-xdist 3.8 writes that suffix itself from `xdist_group` marks into `item._nodeid`,
    which pytest 9.2 no longer reads (structured node ids): the marks are silently ignored
    (pytest-dev/pytest-xdist#1386). Hence the suffix is set here, on the structured id."""
    if not config.getoption("loadgroup", False):
        return
    groups = {item: xdist_group(item) for item in items}
    slow = {groups[item] for item in items if item.get_closest_marker("slow")}
    order = {group: rank for rank, group in enumerate(LONGEST_GROUPS)}
    for item, group in groups.items():
        grouped = f"{item.nodeid}@{group}"
        if hasattr(item, "_id"):
            item._id = NodeId.parse(grouped)
        else:  # pytest before 9.2
            item._nodeid = grouped
    items.sort(key=lambda item: order.get(groups[item], len(order) + (groups[item] not in slow)))


@pytest.fixture(scope="session")
def project_params() -> dict:
    """Parameters of the base environment, loaded by Kedro's own config loader."""
    loader = ProjectConfigLoader(
        str(PROJECT_ROOT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": "base"}
    )
    return loader["parameters"]


@pytest.fixture(scope="session")
def dataset_params(project_params: dict) -> dict:
    """The `dataset` block (LendingClub) from conf/base."""
    return project_params["dataset"]


@pytest.fixture(scope="session")
def raw_loans_sample() -> pd.DataFrame:
    """A deterministic sample of the bundled raw data, stratified by issue year."""
    raw = pd.read_csv(RAW_LOANS, low_memory=False)
    return raw.groupby("issue_year", group_keys=False).sample(frac=0.15, random_state=7)


def make_kedro_project(
    root: Path, raw: pd.DataFrame, local_conf: dict[str, str], env: str = "local"
) -> Path:
    """Copy the project's configuration into `root`, with `raw` as the raw loans file of `env`."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # the package itself is imported from the installed project
    shutil.copytree(PROJECT_ROOT / "conf" / "base", root / "conf" / "base")
    for folder in PROJECT_ROOT.glob("conf/*"):
        if folder.is_dir() and folder.name not in {"base", "local"}:
            shutil.copytree(folder, root / "conf" / folder.name)
    (root / "conf" / "local").mkdir(parents=True)
    raw_file = root / "data" / "01_raw" / "loans_sample.csv.gz"
    raw_file.parent.mkdir(parents=True)
    raw.to_csv(raw_file, index=False)
    for sample in PROJECT_ROOT.glob("data/01_raw/*applications.csv"):
        shutil.copy(sample, raw_file.parent / sample.name)
    (root / "conf" / env).mkdir(parents=True, exist_ok=True)
    env_globals = root / "conf" / env / "globals.yml"
    values = yaml.safe_load(env_globals.read_text()) if env_globals.exists() else {}
    env_globals.write_text(yaml.safe_dump({**(values or {}), "raw_loans_file": str(raw_file)}))
    for name, text in local_conf.items():
        (root / "conf" / env / name).write_text(text)
    return root


def ingest_like_training(raw: pd.DataFrame, dataset: dict) -> pd.DataFrame:
    """Raw rows typed and derived by the ingestion's own nodes (the training path)."""
    return derive_features(parse_columns(raw, dataset, [], "test rows"), dataset)


def run_kedro(project: Path, pipeline: str = "loan", env: str | None = None, **kwargs) -> dict:
    """Run a pipeline in a real KedroSession rooted at `project`."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, **kwargs) as session:
        return session.run(pipeline_names=[pipeline])


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite MLflow store for one test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


# The tiny configuration of the fast tier: one model, one strategy, two folds, no ablation, on a
# few hundred loans. A `loan` run takes seconds; what it checks is the wiring, not the models.
TINY_TRAINING = {
    "random_state": 42,
    "n_jobs": 1,
    "cv": {"n_splits": 2, "n_repeats": 1, "random_state": 42, "compare": False},
    "models": {
        "logistic_regression": {"params": {"C": 1.0, "solver": "lbfgs", "max_iter": 500}},
        "random_forest": None,
        "xgboost": None,
    },
    "strategies": {"class_weight": {}},
    "threshold": {"objective": "min_expected_cost"},
    "calibration": {"method": None},
    "selection": {"primary_metric": "roc_auc", "tie_breaker": "expected_cost_per_loan"},
}
TINY_CONF = {
    "parameters_training.yml": yaml.safe_dump({"training": TINY_TRAINING}),
    "parameters_evaluation.yml": yaml.safe_dump(
        {"evaluation": {"ablation": {"configuration": None}}}
    ),
    # A few hundred out-of-fold PDs cannot separate 8 grades at 5%: fewer, more loosely.
    "parameters_rating.yml": yaml.safe_dump({"rating": {"grades": 4, "distinct_at": 0.5}}),
}


@pytest.fixture(scope="session")
def tiny_loans() -> pd.DataFrame:
    """A few hundred loans of the bundled data, every issue year, deterministic."""
    raw = pd.read_csv(RAW_LOANS, low_memory=False)
    return raw.groupby("issue_year", group_keys=False).sample(frac=0.02, random_state=11)


def _trained(root: Path, raw: pd.DataFrame, conf: dict[str, str]) -> Iterator[tuple[Path, str]]:
    """A project under `root` trained once by `loan`, in its own SQLite store (project, URI)."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        project = make_kedro_project(root / "project", raw, conf)
        run_kedro(project, "loan")
        yield project, uri


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory, tiny_loans: pd.DataFrame):
    """One real `loan` run of the tiny configuration in its own SQLite store (shared by tests)."""
    yield from _trained(tmp_path_factory.mktemp("tiny"), tiny_loans, TINY_CONF)


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, raw_loans_sample: pd.DataFrame):
    """One real `loan` run on the sample, tracked in its own SQLite store (shared by tests)."""
    yield from _trained(tmp_path_factory.mktemp("trained"), raw_loans_sample, {})


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator[str]:
    """A SQLite MLflow store shared by one test module's runs (MLFLOW_TRACKING_URI set)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    # MLflow keeps the active experiment per process: a module run earlier on this xdist worker
    # may have left one of its own store's experiments active. Start each store without one.
    mlflow.tracking.fluent._active_experiment_id = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)  # set by a run in another store
        yield uri
    mlflow.tracking.fluent._active_experiment_id = None


@pytest.fixture(scope="module")
def client(store: str) -> mlflow.MlflowClient:
    """The MLflow client of the module's `store`."""
    return mlflow.MlflowClient(store)
