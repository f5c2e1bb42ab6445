"""Text features are fitted inside folds and cross-fitted; monotone models move in the configured
direction; ensembles average their members."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from loan_default.modelling.cross_validation import assign_folds, prepare_folds
from loan_default.modelling.ensemble import AveragedClassifier, add_ensemble_predictions
from loan_default.modelling.registry import build_grid
from loan_default.preprocessing import TextFeatures, build_preprocessor
from tests.params import block

from .synthetic import make_loans, training_params


class SpyText(TextFeatures):
    """Records the texts each clone is fitted on (clones share the class-level list)."""

    fitted_on: list[set[str]] = []

    def fit_transform(self, X, y=None, **fit_params):
        SpyText.fitted_on.append(set(self.cleaned(X, "note")))
        return super().fit_transform(X, y, **fit_params)


def _loans_with_notes(n: int, seed: int) -> pd.DataFrame:
    loans = make_loans(n, seed=seed)
    # A token unique to each loan, so a fitted text model reveals which loans it saw.
    return loans.assign(note=[f"loan{i} words" for i in range(n)])


def _dataset():
    return block(
        "dataset",
        {
            "target": {"output_column": "target", "policy_exceptions": {"flag_column": "flag"}},
            "date_column": "issued",
            "text_columns": {"note": {}},
            "costs": {"loss_given_default": 0.7, "interest_margin": 0.12},
        },
    )


def test_each_folds_text_model_never_sees_that_folds_validation_rows():
    loans = _loans_with_notes(600, seed=2)
    y = loans["target"].to_numpy()
    dataset = _dataset()
    preprocessor = build_preprocessor(
        dataset, block("data_quality"), block("features")["encoding"], block("features")["text"]
    )
    preprocessor.set_params(text=SpyText(columns={"note": {}}, cv=3))
    SpyText.fitted_on = []
    folds = assign_folds(y, loans["issued"], training_params()["cv"], "time")
    prepared = prepare_folds(loans, y, preprocessor, folds)
    assert len(SpyText.fitted_on) == len(prepared) == 3
    for seen, fold in zip(SpyText.fitted_on, prepared, strict=True):
        assert seen == set(loans["note"].iloc[fold.fit_rows])
        assert not seen & set(loans["note"].iloc[fold.valid_rows])
        assert "note__text_score" in fold.X_valid.columns


def test_a_training_rows_text_score_comes_from_a_model_that_did_not_see_it():
    rng = np.random.default_rng(0)
    n = 800
    y = rng.integers(0, 2, n)
    # Each text is a token of its own: memorising it is perfect in-sample and useless elsewhere.
    frame = pd.DataFrame({"note": [f"id{i}" for i in range(n)]})
    text = TextFeatures(columns={"note": {}}, indicators=(), cv=5, C=100.0)
    cross_fitted = text.fit_transform(frame, y)["note__text_score"]
    in_sample = text.transform(frame)["note__text_score"]
    assert roc_auc_score(y, in_sample) > 0.95  # the full model memorised every row
    assert abs(roc_auc_score(y, cross_fitted) - 0.5) < 0.1  # the features it hands on did not


def test_an_empty_text_scores_zero_in_training_and_later_alike():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 600)
    words = np.where(y == 1, "late bills", "new savings")
    notes = pd.Series([f"{w} {i % 7}" for i, w in enumerate(words)]).where(rng.random(600) < 0.6)
    text = TextFeatures(columns={"note": {}}, cv=5)
    fitted = text.fit_transform(pd.DataFrame({"note": notes}), y)["note__text_score"]
    later = text.transform(pd.DataFrame({"note": notes}))["note__text_score"]
    empty = notes.isna().to_numpy()
    assert (fitted[empty] == 0).all() and (later[empty] == 0).all()
    assert fitted[~empty & (y == 1)].mean() > 1 > -1 > fitted[~empty & (y == 0)].mean()


def test_missing_text_column_reads_as_empty_and_strip_patterns_apply():
    stamp = r"Added \d\d/\d\d/\d\d >"
    frame = pd.DataFrame(
        {"note": ["Added 01/02/10 > pay bills Added 01/05/10 > thanks, funded 60%", None, "  "]}
    )
    text = TextFeatures(columns={"note": {"keep_first": stamp, "strip": [stamp]}}, score=False)
    assert text.cleaned(frame, "note").tolist() == ["pay bills", "", ""], "later entries dropped"
    features = text.fit_transform(frame, [1, 0, 1])
    assert features["note__present"].tolist() == [1.0, 0.0, 0.0]
    absent = text.transform(frame.drop(columns="note"))
    assert absent["note__present"].eq(0).all() and absent["note__words"].eq(0).all()


@pytest.mark.parametrize("monotone", [True, False])
def test_monotone_xgboost_moves_pd_in_the_configured_direction(monotone):
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame({"rate": rng.uniform(0, 1, n), "other": rng.normal(size=n)})
    # Risk rises with rate overall but dips in the middle: an unconstrained model follows the dip.
    logit = -1.5 + 2.0 * X["rate"] - 3.0 * ((X["rate"] > 0.45) & (X["rate"] < 0.6)) + X["other"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = training_params().plain()  # a mapping the test edits
    params["models"] = {
        "xgboost": {"model": "xgboost", "params": {"n_estimators": 80, "max_depth": 3},
                    "monotone": monotone}
    }  # fmt: skip
    params["strategies"] = {"none": {"strategy": "none", "params": {}, "threshold": None}}
    (configuration,) = build_grid(params, {"rate": "ascending"})
    model = configuration.make_model(y, 0, 1, list(X.columns)).fit(X, y)
    grid = pd.DataFrame({"rate": np.linspace(0, 1, 101), "other": 0.0})
    steps = np.diff(model.predict_proba(grid)[:, 1])
    if monotone:
        assert (steps >= -1e-9).all()
    else:
        assert (steps < -1e-3).any()  # the same data without constraints breaks the direction


def test_an_ensemble_scores_the_mean_of_its_members_in_cv_and_when_fitted():
    predictions = pd.DataFrame(
        {
            "configuration": ["a/x"] * 3 + ["b/x"] * 3,
            "repeat": 0,
            "fold": 0,
            "row": [0, 1, 2] * 2,
            "score": [0.1, 0.2, 0.9, 0.3, 0.4, 0.5],
        }
    )
    combined = add_ensemble_predictions(predictions, {"ensemble/ab": ["a/x", "b/x"]})
    mean = combined[combined["configuration"] == "ensemble/ab"].sort_values("row")["score"]
    np.testing.assert_allclose(mean, [0.2, 0.3, 0.7])
    loans = make_loans(300, seed=5)
    X, y = loans[["amount", "dti"]].fillna(0), loans["target"]
    members = [LogisticRegression().fit(X, y), DecisionTreeClassifier(max_depth=2).fit(X, y)]
    ensemble = AveragedClassifier.of_fitted(members)
    expected = np.mean([m.predict_proba(X) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(X), expected)


def test_text_features_of_a_repeated_batch_are_reused_only_for_the_same_text():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    notes = pd.Series(np.where(y == 1, "late bills", "new savings"))
    frame = pd.DataFrame({"note": notes, "other": rng.normal(size=300)})
    text = TextFeatures(columns={"note": {}}, cv=3)
    text.fit_transform(frame, y)
    first = text.transform(frame)
    again = text.transform(frame.assign(other=0.0))  # another column changed: same text
    pd.testing.assert_frame_equal(first, again)
    changed = text.transform(frame.assign(note=notes[::-1].to_numpy()))
    assert not changed["note__text_score"].equals(first["note__text_score"])
    assert "_last_transform" not in pickle.loads(pickle.dumps(text)).__dict__
