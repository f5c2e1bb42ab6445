"""Per-environment data roots and names, and `--params` merged key by key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from loan_default.config_loader import ProjectConfigLoader
from loan_default.settings import CONFIG_LOADER_ARGS
from loan_default.validation import ConfigurationError
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
    assert taiwan["catalog"]["scoring_champion"]["model_name"] == "loan-default-taiwan"
    assert taiwan["catalog"]["incumbent_champion"]["model_name"] == "loan-default-taiwan"
    assert taiwan["catalog"]["registry_target"]["model_name"] == "loan-default-taiwan"


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
    assert loader["catalog"]["registry_target"]["model_name"] == "loan-default-mine"


def test_runtime_params_merge_key_by_key_even_with_environment_parameters():
    """Kedro alone would replace the whole `registry` block when the env has parameter files."""
    taiwan = yaml.safe_load((PROJECT_ROOT / "conf/taiwan/parameters_dataset.yml").read_text())
    assert "dataset" in taiwan, "the taiwan environment has parameter files of its own"
    registry = _loader("taiwan", registry={"force": True})["parameters"]["registry"]
    assert registry["force"] is True
    assert registry["metric"] == "roc_auc" and "model_name" not in registry
    catalog = _loader(scoring_model="latest")["catalog"]
    assert catalog["scoring_champion"]["model_version"] == "latest"


def _env_with(tmp_path: Path, files: dict[str, str]) -> ProjectConfigLoader:
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf" / "base", conf / "base")
    (conf / "renamed").mkdir()
    for name, text in files.items():
        (conf / "renamed" / name).write_text(text)
    return ProjectConfigLoader(str(conf), env="renamed", **CONFIG_LOADER_ARGS)


def test_the_registered_model_name_has_one_home_read_by_every_reader(tmp_path: Path):
    loader = _env_with(
        tmp_path, {"globals.yml": "registered_model: acme-pd\nchampion_alias: live\n"}
    )
    catalog = loader["catalog"]
    for entry in ("scoring_champion", "incumbent_champion", "registry_target"):
        assert catalog[entry]["model_name"] == "acme-pd", entry
    assert catalog["registry_target"]["alias"] == "live"
    assert catalog["incumbent_champion"]["model_version"] == "live"


@pytest.mark.parametrize("key", ["model_name", "alias"])
def test_a_second_home_for_the_model_name_is_an_error(tmp_path: Path, key: str):
    loader = _env_with(tmp_path, {"parameters_registry.yml": f"registry:\n  {key}: other\n"})
    with pytest.raises(ConfigurationError, match=rf"registry.{key}: not a parameter.*globals.yml"):
        loader["parameters"]


def test_an_experiment_variable_naming_another_experiment_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    loader = _env_with(tmp_path, {"globals.yml": "mlflow_experiment: acme\n"})
    loader.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**"]  # as kedro-mlflow adds it
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "acme")
    assert loader["mlflow"]["tracking"]["experiment"]["name"] == "acme"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "elsewhere")
    with pytest.raises(ConfigurationError, match="MLFLOW_EXPERIMENT_NAME='elsewhere'.*globals.yml"):
        loader["mlflow"]
