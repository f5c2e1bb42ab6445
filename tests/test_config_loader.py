"""Per-environment data roots and names, and `--params` merged key by key."""

from __future__ import annotations

from pathlib import Path

import yaml

from loan_default.config_loader import ProjectConfigLoader
from loan_default.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT


def _loader(env: str | None = None, **runtime) -> ProjectConfigLoader:
    return ProjectConfigLoader(
        str(PROJECT_ROOT / "conf"), env=env, runtime_params=runtime or None, **CONFIG_LOADER_ARGS
    )


def test_each_environment_gets_its_own_data_root_experiment_and_model():
    default, taiwan = _loader(), _loader("taiwan")
    assert default["catalog"]["loans"]["filepath"] == "data/03_primary/loans.parquet"
    assert taiwan["catalog"]["loans"]["filepath"] == "data/taiwan/03_primary/loans.parquet"
    assert default["globals"]["mlflow_experiment"] == "loan-default"
    assert taiwan["globals"]["mlflow_experiment"] == "loan-default-taiwan"
    assert taiwan["parameters"]["registry"]["model_name"] == "loan-default-taiwan"
    assert taiwan["catalog"]["scoring_champion"]["model_name"] == "loan-default-taiwan"


def test_a_new_environment_needs_no_catalog_to_stay_apart(tmp_path: Path):
    conf = tmp_path / "conf"
    (conf / "mine").mkdir(parents=True)
    for file in (PROJECT_ROOT / "conf" / "base").glob("*.yml"):
        (conf / "base").mkdir(exist_ok=True)
        (conf / "base" / file.name).write_text(file.read_text())
    (conf / "mine" / "globals.yml").write_text("raw_loans_file: data/01_raw/mine.csv\n")
    loader = ProjectConfigLoader(str(conf), env="mine", **CONFIG_LOADER_ARGS)
    outputs = [
        entry.get("filepath") or entry.get("dataset", {}).get("filepath")
        for entry in loader["catalog"].values()
    ]
    written = [path for path in outputs if path and "01_raw" not in path and "${" not in path]
    assert written and all(path.startswith("data/mine/") for path in written)
    assert loader["parameters"]["registry"]["model_name"] == "loan-default-mine"


def test_runtime_params_merge_key_by_key_even_with_environment_parameters():
    """Kedro alone would replace the whole `registry` block when the env has parameter files."""
    taiwan = yaml.safe_load((PROJECT_ROOT / "conf/taiwan/parameters_dataset.yml").read_text())
    assert "dataset" in taiwan, "the taiwan environment has parameter files of its own"
    registry = _loader("taiwan", registry={"force": True})["parameters"]["registry"]
    assert registry["force"] is True
    assert registry["metric"] == "roc_auc" and registry["model_name"] == "loan-default-taiwan"
    catalog = _loader(scoring_model="latest")["catalog"]
    assert catalog["scoring_champion"]["model_version"] == "latest"
