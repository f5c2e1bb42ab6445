"""The small dense network is one registry entry plus configuration: it joins the grid under
every strategy, weights its classes, explains its scores, is tuned, and ships its requirements."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import pandas as pd
import pytest
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight

from loan_default.config.names import MODEL_NAMES
from loan_default.modelling.champion import preprocessor_of
from loan_default.modelling.findings import write_strategy_effects
from loan_default.modelling.registry import (
    MODELS,
    BalancedFit,
    build_grid,
    model_libraries,
    search_space,
)
from loan_default.parameters import validate_parameters
from loan_default.tracking import distribution, pip_requirements
from tests.modelling.test_reasons import champion, explainer_for

SMALL = {"hidden_layer_sizes": [8], "max_iter": 300, "early_stopping": True}


@pytest.fixture(scope="module")
def imbalanced() -> tuple[pd.DataFrame, np.ndarray]:
    """About 12% defaults, driven by two of four columns."""
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(3000, 4)) * [1, 10, 100, 1], columns=list("abcd"))
    log_odds = -2.6 + 1.0 * X["a"] + 0.08 * X["b"]
    y = (rng.uniform(size=len(X)) < 1 / (1 + np.exp(-log_odds))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    """Default risk rises with utilisation above 0.5 and for renters; `noise` carries none."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "utilisation": rng.uniform(0, 1, 4000),
            "income": rng.lognormal(10.5, 0.4, 4000),
            "noise": rng.normal(size=4000),
            "home": rng.choice(["OWN", "RENT"], 4000),
        }
    )
    log_odds = -2.5 + 2.5 * (frame["utilisation"] > 0.5) + 1.2 * (frame["home"] == "RENT")
    frame["is_default"] = (rng.uniform(size=4000) < 1 / (1 + np.exp(-log_odds))).astype(int)
    return frame


def _caught(model, X: pd.DataFrame, y: np.ndarray) -> float:
    return float((model.predict_proba(X)[:, 1] >= 0.5)[y == 1].mean())


def test_the_configured_network_joins_the_grid_under_every_strategy(project_params):
    checked = validate_parameters(
        {"dataset": project_params["dataset"], "training": project_params["training"]}
    )
    training = checked["training"]
    network = training["models"]["neural_network"]
    assert network["params"]["early_stopping"] is True
    assert len(network["params"]["hidden_layer_sizes"]) == 1  # small: one hidden layer
    grid = {c.name for c in build_grid(training) if c.model == "neural_network"}
    assert grid == {f"neural_network/{strategy}" for strategy in training["strategies"]}
    assert "neural_network" in MODEL_NAMES


def test_the_network_scales_its_inputs_and_is_seeded(imbalanced):
    X, y = imbalanced
    first = MODELS["neural_network"].build(dict(SMALL), 7, 1).fit(X, y)
    again = MODELS["neural_network"].build(dict(SMALL), 7, 1).fit(X, y)
    other = MODELS["neural_network"].build(dict(SMALL), 8, 1).fit(X, y)
    assert first.named_steps["scale"].scale_[2] > 50  # column c is standardised first
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_class_weight_fits_with_balanced_sample_weights(imbalanced):
    X, y = imbalanced
    entry = MODELS["neural_network"]
    weighted = entry.reweight(entry.build(dict(SMALL), 0, 1), y)
    assert isinstance(weighted.named_steps["model"], BalancedFit)
    weighted.fit(X, y)
    by_hand = MODELS["neural_network"].build(dict(SMALL), 0, 1)
    by_hand.fit(X, y, model__sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(weighted.predict_proba(X), by_hand.predict_proba(X))


def test_unweighted_it_approves_almost_everyone_and_class_weights_catch_defaults(imbalanced):
    X, y = imbalanced
    entry = MODELS["neural_network"]
    plain = entry.build(dict(SMALL), 0, 1).fit(X, y)
    weighted = entry.reweight(entry.build(dict(SMALL), 0, 1), y).fit(X, y)
    assert _caught(plain, X, y) < 0.3
    assert _caught(weighted, X, y) > 0.6


def test_the_network_is_explained_by_occlusion(loans):
    network = MODELS["neural_network"].build({"hidden_layer_sizes": [8], "max_iter": 500}, 0, 1)
    model = champion(loans, network)
    explainer = explainer_for(model, loans)
    assert MODELS["neural_network"].explainer is None
    assert explainer.baselines is None and explainer.reference is not None
    applicant = loans.head(1).assign(utilisation=0.95, home="RENT")
    contributions = explainer.contributions(preprocessor_of(model).transform(applicant))
    assert contributions.loc[0, "utilisation"] > 0.05
    assert contributions.loc[0, "utilisation"] > abs(contributions.loc[0, "noise"])


def test_requirements_pin_every_registered_model_library_at_its_installed_version():
    assert {"sklearn", "xgboost"} <= model_libraries()
    pins = pip_requirements()
    for module in model_libraries() | {"mlflow", "pandas"}:
        name = distribution(module)
        assert f"{name}=={version(name)}" in pins
    assert len(pins) == len(set(pins))
    assert isinstance(MODELS["neural_network"].build({}, 0, 1)[-1], MLPClassifier)


def test_tuning_searches_the_entry_space_unless_the_configuration_gives_spaces():
    training = {
        "models": {"net": {"model": "neural_network"}, "forest": {"model": "random_forest"}}
    }
    assert search_space(training, {"search_spaces": None}, "net") == (
        MODELS["neural_network"].search_space
    )
    assert search_space(training, {"search_spaces": None}, "forest") == {}
    given = {"search_spaces": {"forest": {"max_depth": {"low": 2, "high": 4}}}}
    assert search_space(training, given, "net") == {}
    assert search_space(training, given, "forest") == {"max_depth": {"low": 2, "high": 4}}


def test_the_report_says_how_many_defaults_each_strategy_catches():
    row = {"kind": "model", "model": "neural_network", "cv_roc_auc_mean": 0.70}
    comparison = pd.DataFrame(
        [
            row | {"configuration": "neural_network/none", "strategy": "none", "threshold": 0.5,
                   "threshold_rule": "fixed", "test_recall": 0.02, "cv_recall_mean": 0.03,
                   "test_approval_rate": 0.99, "test_expected_cost_per_loan": 1390.0},
            row | {"configuration": "neural_network/class_weight", "strategy": "class_weight",
                   "threshold": 0.52, "threshold_rule": "min_expected_cost", "test_recall": 0.61,
                   "cv_recall_mean": 0.6, "test_approval_rate": 0.62, "cv_roc_auc_mean": 0.71,
                   "test_expected_cost_per_loan": 900.0},
        ]
    )  # fmt: skip
    test_set = {"name": "out-of-time test set", "loans": "out-of-time test loans"}
    text = write_strategy_effects(comparison, ["neural_network", "gone"], 1000, test_set, "roc_auc")
    assert "catches 20 of 1,000 defaults of the out-of-time test loans" in text
    assert "approves 99.0% of applicants" in text
    assert "- class_weight: catches 610 of 1,000 defaults" in text
    assert "(+0.0100 against unweighted)" in text
    assert "gone is not a model of this run's grid" in text
