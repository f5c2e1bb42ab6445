"""Post-hoc calibration and the champion wrapper."""

import numpy as np
import pytest

from loan_default.modelling.calibration import ScoreCalibrator
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
