"""Sampling weights (a sampled modelling table) count each loan that many times: in the
metrics, in the threshold choice and in the fits. Integer weights equal repeated rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.cross_validation import fit_model
from loan_default.modelling.metrics import score_metrics
from loan_default.modelling.registry import build_grid
from loan_default.modelling.thresholds import OBJECTIVES, choose_threshold
from loan_default.schema import SAMPLE_WEIGHT, sample_weights

from .synthetic import training_params

COSTS = {"amount_column": "amount", "loss_given_default": 0.6, "interest_margin": 0.1}


@pytest.fixture
def sampled() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    n = 600
    y = (rng.uniform(size=n) < 0.2).astype(int)
    score = np.clip(0.15 + 0.3 * y + rng.normal(0, 0.15, n), 0.001, 0.999)
    weights = np.where(y == 1, 1, rng.integers(1, 5, n))  # repaid loans were sampled
    amounts = rng.uniform(1000, 20000, n)
    return {"y": y, "score": score, "weights": weights, "amounts": amounts}


def _repeated(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.repeat(v, data["weights"]) for k, v in data.items() if k != "weights"}


def test_weighted_metrics_equal_the_metrics_of_the_repeated_loans(sampled):
    full = _repeated(sampled)
    weighted = score_metrics(
        sampled["y"], sampled["score"], 0.3, sampled["amounts"], COSTS, weights=sampled["weights"]
    )
    expected = score_metrics(full["y"], full["score"], 0.3, full["amounts"], COSTS)
    assert weighted == pytest.approx(expected, rel=1e-9)
    unweighted = score_metrics(sampled["y"], sampled["score"], 0.3, sampled["amounts"], COSTS)
    assert unweighted["approval_rate"] != pytest.approx(expected["approval_rate"])


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_the_threshold_is_chosen_as_on_the_repeated_loans(sampled, objective):
    full = _repeated(sampled)
    weighted = choose_threshold(
        sampled["y"], sampled["score"], sampled["amounts"], COSTS, objective, sampled["weights"]
    )
    assert weighted == choose_threshold(full["y"], full["score"], full["amounts"], COSTS, objective)


def test_a_weighted_fit_equals_the_fit_on_repeated_loans(sampled):
    X = pd.DataFrame({"score": sampled["score"], "noise": np.sin(np.arange(len(sampled["y"])))})
    configuration = next(c for c in build_grid(training_params()) if c.strategy == "none")
    _, weighted = fit_model(configuration, X, sampled["y"], 0, 1, weights=sampled["weights"])
    repeated = X.loc[X.index.repeat(sampled["weights"])]
    _, expected = fit_model(
        configuration, repeated, np.repeat(sampled["y"], sampled["weights"]), 0, 1
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X)[:, 1], expected.predict_proba(X)[:, 1], atol=1e-4
    )


def test_weights_are_read_only_from_a_sampled_table():
    assert sample_weights(pd.DataFrame({"x": [1, 2]})) is None
    assert sample_weights(pd.DataFrame({SAMPLE_WEIGHT: [1.0, 1.0]})) is None
    assert sample_weights(pd.DataFrame({SAMPLE_WEIGHT: [1.0, 3.0]})).tolist() == [1.0, 3.0]
