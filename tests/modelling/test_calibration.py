"""Post-hoc calibration and the champion wrapper."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.calibration import ScoreCalibrator, choose_calibrator, validation_losses
from loan_default.validation import ConfigurationError


def test_calibration_maps_inflated_scores_towards_observed_rates():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 0.3, 4000)
    y = (rng.uniform(size=4000) < truth).astype(int)
    inflated = np.sqrt(truth)  # what resampling does: same ranking, probabilities too high
    for method in ("sigmoid", "isotonic"):
        calibrated = ScoreCalibrator(method).fit(inflated, y).transform(inflated)
        assert abs(calibrated.mean() - y.mean()) < 0.01
        assert np.corrcoef(calibrated, inflated)[0, 1] > 0.9
    np.testing.assert_array_equal(
        ScoreCalibrator(None).fit(inflated, y).transform(inflated), inflated
    )


def test_unknown_calibration_method_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="isotonic"):
        ScoreCalibrator("platt")


def _folds(score, y, folds=4):
    n = len(score)
    return pd.DataFrame(
        {"repeat": 0, "fold": np.arange(n) * folds // n, "row": np.arange(n), "score": score}
    ), y


def test_choose_calibrator_prefers_a_calibrator_when_scores_are_inflated():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 0.3, 6000)
    y = (rng.uniform(size=6000) < truth).astype(int)
    predictions, y = _folds(np.sqrt(truth), y)
    chosen = choose_calibrator(predictions, y)
    assert chosen.method in ("sigmoid", "isotonic")
    assert set(chosen.validation_losses_) == {"none", "sigmoid", "isotonic"}
    assert chosen.validation_losses_["none"] > chosen.validation_losses_[chosen.method]
    assert abs(chosen.transform(np.sqrt(truth)).mean() - y.mean()) < 0.01


def test_choose_calibrator_keeps_calibrated_scores_and_never_looks_ahead(monkeypatch):
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.02, 0.4, 6000)
    y = (rng.uniform(size=6000) < truth).astype(int)
    predictions, y = _folds(truth, y)
    chosen = choose_calibrator(predictions, y, scoring_rule="brier")
    assert chosen.scoring_rule_ == "brier"
    assert chosen.validation_losses_["none"] <= chosen.validation_losses_["isotonic"]
    fitted_on = []
    original = ScoreCalibrator.fit

    def spy(self, score, y_fit):
        fitted_on.append(len(score))
        return original(self, score, y_fit)

    monkeypatch.setattr(ScoreCalibrator, "fit", spy)
    validation_losses(predictions, y, [None], "log_loss", time_ordered=True)
    # folds 1, 2, 3 are predicted from folds before them only: 1, 2 and 3 folds of rows
    assert fitted_on == [1500, 3000, 4500]


def test_choose_calibrator_rejects_unknown_rules_and_candidates():
    predictions, y = _folds(np.full(8, 0.5), np.array([0, 1] * 4))
    with pytest.raises(ConfigurationError, match="scoring_rule"):
        choose_calibrator(predictions, y, scoring_rule="auc")
    with pytest.raises(ConfigurationError, match="platt"):
        choose_calibrator(predictions, y, candidates=[None, "platt"])
