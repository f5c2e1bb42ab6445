"""Encoded feature names are valid for every estimator and translate back to the original labels."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression

from loan_default.preprocessing import LoanPreprocessor, build_preprocessor
from tests.params import block

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TARGET = "defaulted"
# What XGBoost, LightGBM and formula-style tools all accept: ASCII word characters, bounded.
SAFE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
LONG_LABEL = "very long label " * 18 + "x" * 12  # 300 characters
EMPLOYMENT = [
    "< 1 year",
    "1 <= x < 4 years",
    "[20, 30)",
    "a,b",
    "a b",  # sanitises to the same text as "a,b"
    "with space",
    "ünïcödé",
    LONG_LABEL,
]
INCOME = "monthly income (€) < cap"
REGION = "région [code]"
GRADE = "grade ü"
DATASET = {
    "target": {"output_column": TARGET, "policy_exceptions": {"flag_column": "exception"}},
    "date_column": "applied_on",
    "sentinel_codes": {},
    "informative_missing": {INCOME: {"fill": "median", "why": "not declared"}},
    "encoders": {"employment_length": "one_hot", "channel": "one_hot", GRADE: "ordinal"},
    "categorical_orders": {GRADE: ["A", "B", "C"]},
}
DATA_QUALITY = block("data_quality")  # the schema's defaults
ENCODING = {
    "max_one_hot_categories": 15,
    "one_hot_min_frequency": 0.01,
    "unknown_ordinal_value": -1,
    "target_encoder": {"cv": 3, "smooth": "auto"},
    "random_state": 0,
}


def make_loans(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Loans whose labels and column names are everything estimators refuse."""
    rng = np.random.default_rng(seed)
    employment = np.resize(EMPLOYMENT, n)
    rng.shuffle(employment)
    income = rng.lognormal(8, 0.3, n)
    income[rng.random(n) < 0.2] = np.nan
    risk = -1 + 0.8 * (employment == "< 1 year") + 0.5 * np.isnan(income)
    return pd.DataFrame(
        {
            "amount": rng.normal(10_000, 2_000, n),
            "employment_length": pd.Series(employment, dtype="str"),
            "channel": pd.Series(rng.choice(["web", "branch"], n), dtype="str"),
            INCOME: income,
            REGION: pd.Series(rng.choice([f"R<{i}>" for i in range(30)], n), dtype="str"),
            GRADE: pd.Series(rng.choice(["A", "B", "C"], n), dtype="str"),
            "applied_on": pd.date_range("2015-01-01", periods=n, freq="D"),
            "exception": np.zeros(n, dtype="int64"),
            TARGET: (rng.random(n) < 1 / (1 + np.exp(-risk))).astype("int64"),
        }
    )


def fit(loans: pd.DataFrame) -> tuple[LoanPreprocessor, pd.DataFrame]:
    preprocessor = build_preprocessor(DATASET, DATA_QUALITY, ENCODING)
    return preprocessor, preprocessor.fit_transform(loans, loans[TARGET])


def fitted_names() -> list[str]:
    """Output names of a fit on the standard frame (also called from a subprocess)."""
    return list(fit(make_loans())[1].columns)


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return make_loans()


@pytest.fixture(scope="module")
def fitted(loans: pd.DataFrame) -> tuple[LoanPreprocessor, pd.DataFrame]:
    return fit(loans)


def one_hot_name(preprocessor: LoanPreprocessor, column: str, label: str) -> str:
    wanted = f"{column} = {label}"
    names = [name for name, text in preprocessor.feature_labels_.items() if text == wanted]
    assert len(names) == 1, f"{wanted!r} is described by {names}"
    return names[0]


def test_every_output_name_is_safe_unique_and_matches_the_frame(fitted):
    preprocessor, out = fitted
    names = list(out.columns)
    assert [name for name in names if not SAFE.match(name)] == []
    assert len(set(names)) == len(names)
    assert list(preprocessor.get_feature_names_out()) == names
    assert set(preprocessor.feature_labels_) == set(names)


def test_each_awkward_label_translates_back_and_marks_its_own_rows(loans, fitted):
    preprocessor, out = fitted
    for label in EMPLOYMENT:
        name = one_hot_name(preprocessor, "employment_length", label)
        assert preprocessor.describe_feature(name) == f"employment_length = {label}"
        expected = (loans["employment_length"] == label).astype(float)
        assert out[name].tolist() == expected.tolist(), label
    assert preprocessor.describe_feature("employment_length_1_year") == (
        "employment_length = < 1 year"
    )


def test_awkward_column_names_translate_back_to_the_original(fitted):
    preprocessor, out = fitted
    labels = preprocessor.feature_labels_
    originals = {labels[name] for name in out.columns}
    assert {INCOME, REGION, GRADE} <= originals
    assert f"{INCOME} = missing" in originals
    indicator = next(name for name, text in labels.items() if text == f"{INCOME} = missing")
    assert indicator.endswith("__missing")


def test_ordinary_names_are_left_as_sklearn_names_them(fitted):
    _, out = fitted
    assert {"amount", "channel_web", "channel_branch"} <= set(out.columns)


def test_clashing_and_long_labels_get_distinct_bounded_hashed_names(fitted):
    preprocessor, _ = fitted
    comma = one_hot_name(preprocessor, "employment_length", "a,b")
    space = one_hot_name(preprocessor, "employment_length", "a b")
    long = one_hot_name(preprocessor, "employment_length", LONG_LABEL)
    assert comma != space
    for name in (comma, space, long):
        assert re.search(r"_[0-9a-f]{8}$", name), name
    assert len(long) <= 64
    assert long.startswith("employment_length_very_long_label")


def test_names_are_identical_across_fits_and_other_data(fitted):
    _, out = fitted
    assert list(fit(make_loans())[1].columns) == list(out.columns)
    assert list(fit(make_loans(seed=5))[1].columns) == list(out.columns)


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_names_do_not_depend_on_the_python_hash_seed(fitted, hash_seed):
    _, out = fitted
    code = "import json; from tests.test_safe_feature_names import fitted_names as f; "
    code += "print(json.dumps(f()))"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "KEDRO_DISABLE_TELEMETRY": "1"}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == list(out.columns)


def test_unseen_labels_transform_to_the_same_safe_columns(fitted):
    preprocessor, out = fitted
    new = make_loans(n=20, seed=9)
    new["employment_length"] = "]] never seen <<"
    new[REGION] = "R<999>"
    encoded = preprocessor.transform(new)
    assert list(encoded.columns) == list(out.columns)
    assert not encoded.isna().any().any()


def test_describe_feature_rejects_unknown_names(fitted):
    preprocessor, _ = fitted
    with pytest.raises(KeyError, match="not an output column"):
        preprocessor.describe_feature("employment_length = < 1 year")


def test_xgboost_fits_on_the_encoded_frame_and_keeps_the_names(loans, fitted):
    _, out = fitted
    model = xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1, tree_method="hist")
    model.fit(out, loans[TARGET])
    assert model.get_booster().feature_names == list(out.columns)
    assert model.predict_proba(out).shape == (len(out), 2)


def test_xgboost_refuses_the_raw_labels_this_frame_holds(loans, fitted):
    preprocessor, out = fitted
    raw = out.rename(columns=preprocessor.feature_labels_)
    with pytest.raises(ValueError, match="feature_names"):
        xgboost.XGBClassifier(n_estimators=1, n_jobs=1).fit(raw, loans[TARGET])


def test_logistic_regression_fits_on_the_encoded_frame(loans, fitted):
    _, out = fitted
    model = LogisticRegression(max_iter=2000).fit(out, loans[TARGET])
    assert list(model.feature_names_in_) == list(out.columns)
    assert model.predict_proba(out).shape == (len(out), 2)
