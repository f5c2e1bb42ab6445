"""The grid is configuration: names resolve through the registry or fail clearly."""

import numpy as np
import pytest

from loan_default.modelling.registry import build_grid
from loan_default.parameters import validate_parameters
from loan_default.validation import ConfigurationError
from tests.params import REQUIRED_DATASET, block

from .synthetic import training_params


def test_grid_is_every_model_times_every_strategy():
    grid = build_grid(training_params())
    assert len(grid) == 15
    assert {c.name for c in grid} >= {"xgboost/smote", "logistic_regression/threshold_tuning"}


def _validate_training(training: dict) -> None:
    validate_parameters({"dataset": REQUIRED_DATASET, "training": training})


def test_unknown_model_names_the_key_and_the_known_models():
    params = training_params().plain()  # a mapping the test edits
    params["models"]["lightgbm"] = {"params": {}}
    with pytest.raises(ConfigurationError) as error:
        _validate_training(params)
    message = str(error.value)
    assert "training.models.lightgbm" in message
    assert "logistic_regression" in message and "xgboost" in message


def test_unknown_strategy_names_the_key_and_the_known_strategies():
    params = training_params().plain()  # a mapping the test edits
    params["strategies"]["adasyn"] = {}
    with pytest.raises(ConfigurationError) as error:
        _validate_training(params)
    message = str(error.value)
    assert "training.strategies.adasyn" in message
    assert "smote" in message and "undersample" in message


def test_variant_points_at_a_registry_entry():
    params = training_params().plain()  # a mapping the test edits
    params["strategies"] = {
        "smote_half": {"strategy": "smote", "params": {"sampling_strategy": 0.5}}
    }
    (configuration, *_) = build_grid(block("training", params))
    assert configuration.make_sampler(0).sampling_strategy == 0.5


def test_bad_threshold_is_a_configuration_error():
    params = training_params().plain()  # a mapping the test edits
    params["strategies"]["none"] = {"threshold": "half"}
    with pytest.raises(ConfigurationError, match=r"training\.strategies\.none\.threshold"):
        _validate_training(params)


def test_class_weighting_per_model():
    grid = {c.name: c for c in build_grid(training_params())}
    y = np.array([0] * 8 + [1] * 2)
    xgb = grid["xgboost/class_weight"].make_model(y, 0, 1)
    assert xgb.get_params()["scale_pos_weight"] == pytest.approx(4.0)
    forest = grid["random_forest/class_weight"].make_model(y, 0, 1)
    assert forest.get_params()["class_weight"] == "balanced"
    logistic = grid["logistic_regression/class_weight"].make_model(y, 0, 1)
    assert logistic.get_params()["model__class_weight"] == "balanced"
    assert grid["xgboost/none"].make_model(y, 0, 1).get_params()["scale_pos_weight"] is None


def test_none_and_threshold_tuning_share_one_fit():
    grid = {c.name: c for c in build_grid(training_params())}
    assert grid["xgboost/none"].fit_key == grid["xgboost/threshold_tuning"].fit_key
    assert grid["xgboost/none"].fit_key != grid["xgboost/class_weight"].fit_key
