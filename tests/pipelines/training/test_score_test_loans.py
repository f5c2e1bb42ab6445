"""score_test_loans scores a fitted object shared by several configurations once, with the
same scores as scoring each configuration on its own."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from loan_default.modelling.calibration import ScoreCalibrator
from loan_default.pipelines.training.nodes import score_test_loans


class CountingModel(LogisticRegression):
    """A logistic regression that counts its predict_proba calls."""

    calls = 0

    def predict_proba(self, X):
        type(self).calls += 1
        return super().predict_proba(X)


class Columns:
    """Stand-in preprocessor: only its output column names are read."""

    def __init__(self, names):
        self.names = names

    def get_feature_names_out(self):
        return np.array(self.names)


def test_a_shared_fit_is_scored_once_with_the_same_scores():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = (X["a"] + rng.normal(size=200) > 0).astype(int).to_numpy()
    shared, other = CountingModel().fit(X, y), CountingModel(C=0.1).fit(X, y)
    models = {"m/none": (None, shared), "m/threshold_tuning": (None, shared), "o/x": (None, other)}
    calibrators = {name: ScoreCalibrator("isotonic") for name in models}
    for name, (_, model) in models.items():
        calibrators[name].fit(LogisticRegression.predict_proba(model, X)[:, 1], y)
    test = X.assign(extra=1.0)
    CountingModel.calls = 0
    scores = score_test_loans(models, calibrators, Columns(["a", "b", "c"]), test)
    assert CountingModel.calls == 2
    for name, (_, model) in models.items():
        expected = calibrators[name].transform(LogisticRegression.predict_proba(model, X)[:, 1])
        got = scores.loc[scores["configuration"] == name, "score"].to_numpy()
        np.testing.assert_array_equal(got, expected)
    assert list(scores["configuration"].unique()) == list(models)
