"""The champion as scikit-learn's FixedThresholdClassifier: parts, calibration, older models."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.preprocessing import StandardScaler

from loan_default.modelling.calibration import ScoreCalibrator
from loan_default.modelling.champion import (
    as_threshold_classifier,
    build_champion,
    default_probability,
    model_of,
    preprocessor_of,
)
from loan_default.modelling.scoring_model import ScoringModel
from loan_default.serving import LoanDefaultModel


@pytest.fixture
def fitted() -> tuple[pd.DataFrame, np.ndarray, StandardScaler, LogisticRegression]:
    rng = np.random.default_rng(3)
    loans = pd.DataFrame({"rate": rng.uniform(0.05, 0.25, 400), "income": rng.normal(5, 1, 400)})
    y = (rng.uniform(size=400) < loans["rate"] * 2).astype(int).to_numpy()
    scaler = StandardScaler().set_output(transform="pandas").fit(loans)
    model = LogisticRegression().fit(scaler.transform(loans), y)
    return loans, y, scaler, model


def test_predicts_reject_at_or_above_the_threshold(fitted):
    loans, _, scaler, model = fitted
    champion = build_champion(scaler, RandomOverSampler(), model, None, 0.3)
    probability = model.predict_proba(scaler.transform(loans))[:, 1]
    np.testing.assert_allclose(champion.predict_proba(loans)[:, 1], probability)
    np.testing.assert_array_equal(champion.predict(loans), (probability >= 0.3).astype(int))
    assert champion.threshold == 0.3 and list(champion.classes_) == [0, 1]


def test_encoding_once_gives_the_end_to_end_probability(fitted):
    loans, y, scaler, model = fitted
    calibrator = ScoreCalibrator("isotonic").fit(
        model.predict_proba(scaler.transform(loans))[:, 1], y
    )
    champion = build_champion(scaler, None, model, calibrator, 0.3)
    features = preprocessor_of(champion).transform(loans)
    probability = default_probability(champion, features)
    np.testing.assert_allclose(probability, champion.predict_proba(loans)[:, 1])
    raw = model.predict_proba(features)[:, 1]
    np.testing.assert_allclose(probability, calibrator.transform(raw))
    assert not np.allclose(probability, raw)  # the calibrator is applied
    assert model_of(champion) is model  # reasons read the model before calibration


def older_champion(pipeline: Pipeline, threshold: float, calibrator: ScoreCalibrator) -> Any:
    """What releases before the FixedThresholdClassifier pickled: a ScoringModel's state."""
    older = ScoringModel()
    older.pipeline, older.threshold, older.calibrator, older.name = (
        pipeline,
        threshold,
        calibrator,
        "m/s",
    )
    return older


def test_an_older_registered_champion_unpickles_as_a_threshold_classifier(fitted):
    loans, y, scaler, model = fitted
    raw = model.predict_proba(scaler.transform(loans))[:, 1]
    calibrator = ScoreCalibrator("sigmoid").fit(raw, y)
    pipeline = Pipeline(
        [("preprocess", scaler), ("resample", RandomOverSampler()), ("model", model)]
    )
    package = LoanDefaultModel(older_champion(pipeline, 0.25, calibrator), {})
    loaded = pickle.loads(pickle.dumps(package))
    assert isinstance(loaded.champion, FixedThresholdClassifier)
    expected = calibrator.transform(raw)
    np.testing.assert_allclose(loaded.champion.predict_proba(loans)[:, 1], expected)
    assert loaded.threshold == 0.25
    assert as_threshold_classifier(loaded.champion) is loaded.champion
