"""Behaviour of the fitted transformations: missing values, encoding, binning and PSI."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from loan_default.preprocessing import (
    LoanPreprocessor,
    MissingValueHandler,
    build_binning,
    build_preprocessor,
    missingness_test,
    plan_missing_values,
)
from loan_default.stability import (
    band,
    population_stability_index,
    psi_from_counts,
    psi_from_labels,
)
from loan_default.validation import ConfigurationError
from tests.params import block

TARGET = "defaulted"
DATASET = block(
    "dataset",
    {
        "target": {"output_column": TARGET, "policy_exceptions": {"flag_column": "exception"}},
        "date_column": "applied_on",
        "sentinel_codes": {"income": [-9], "region": ["??"]},
        "informative_missing": {
            "months_since_delinquency": {"fill": "max", "why": "none on record"}
        },
        "encoders": {"rating": "ordinal", "channel": "one_hot", "region": "target"},
        "categorical_orders": {"rating": ["A", "B", "C"]},
        "monotonic_trends": {"rate": "ascending"},
    },
)
DATA_QUALITY = block("data_quality")  # the schema's defaults
ENCODING = block(
    "features",
    {
        "encoding": {
            "max_one_hot_categories": 15,
            "one_hot_min_frequency": 0.01,
            "unknown_ordinal_value": -1,
            "target_encoder": {"cv": 5, "smooth": "auto"},
            "random_state": 0,
        }
    },
)["encoding"]
BINNING = block(
    "features",
    {
        "binning": {
            "method": "optimal",
            "min_bin_size": 0.05,
            "cat_cutoff": 0.01,
            "quantile_bins": 5,
        }
    },
)["binning"]


def make_loans(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Synthetic loans: risk rises with rate and rating; meta columns included."""
    rng = np.random.default_rng(seed)
    rating = rng.choice(["A", "B", "C"], n, p=[0.4, 0.4, 0.2])
    rate = 0.05 + 0.05 * pd.Series(rating).map({"A": 0, "B": 1, "C": 2}).to_numpy()
    rate = rate + rng.normal(0, 0.01, n)
    income = rng.lognormal(10.5, 0.4, n)
    income[rng.random(n) < 0.05] = -9
    region = rng.choice([f"R{i:02d}" for i in range(40)], n)
    delinquency = np.where(rng.random(n) < 0.6, np.nan, rng.integers(1, 80, n).astype(float))
    risk = -3 + 20 * (rate - 0.08) + 0.8 * np.isnan(delinquency)
    defaulted = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype("int64")
    return pd.DataFrame(
        {
            "rate": rate,
            "rating": pd.Series(rating, dtype="str"),
            "income": income,
            "channel": pd.Series(rng.choice(["web", "branch", "phone"], n), dtype="str"),
            "region": pd.Series(region, dtype="str"),
            "months_since_delinquency": delinquency,
            "applied_on": pd.date_range("2010-01-01", periods=n, freq="h"),
            "exception": np.zeros(n, dtype="int64"),
            TARGET: defaulted,
        }
    )


@pytest.fixture
def loans() -> pd.DataFrame:
    return make_loans()


@pytest.fixture
def preprocessor(loans: pd.DataFrame) -> LoanPreprocessor:
    model = build_preprocessor(DATASET, DATA_QUALITY, ENCODING)
    model.fit_transform(loans, loans[TARGET])
    return model


# ---- missing-value analysis -------------------------------------------------------------


def test_chi_square_matches_hand_computation():
    # 40 missing rows (20 defaults), 160 present rows (20 defaults).
    missing = np.r_[np.ones(40, bool), np.zeros(160, bool)]
    target = np.r_[np.ones(20), np.zeros(20), np.ones(20), np.zeros(140)]
    observed = [[20, 20], [20, 140]]
    rows, cols, n = [40, 160], [40, 160], 200
    chi2 = sum(
        (observed[i][j] - rows[i] * cols[j] / n) ** 2 / (rows[i] * cols[j] / n)
        for i in range(2)
        for j in range(2)
    )
    result = missingness_test(missing, target)
    assert result["test"] == "chi-square"
    assert result["statistic"] == pytest.approx(chi2)
    assert result["p_value"] == pytest.approx(math.erfc(math.sqrt(chi2 / 2)))  # chi2, 1 dof


def test_fisher_is_used_for_small_counts_and_matches_hand_computation():
    # 4 missing rows (3 defaults), 16 present rows (2 defaults): expected counts below 5.
    missing = np.r_[np.ones(4, bool), np.zeros(16, bool)]
    target = np.r_[[1, 1, 1, 0], [1, 1], np.zeros(14)]

    def probability(a: int) -> float:  # hypergeometric: a defaults among the 4 missing rows
        return math.comb(5, a) * math.comb(15, 4 - a) / math.comb(20, 4)

    observed = probability(3)
    p_value = sum(p for a in range(5) if (p := probability(a)) <= observed * (1 + 1e-7))
    result = missingness_test(missing, target)
    assert result["test"] == "fisher"
    assert result["p_value"] == pytest.approx(p_value)


def test_no_test_when_a_column_has_no_missing_values():
    result = missingness_test(np.zeros(10, bool), np.r_[np.ones(5), np.zeros(5)])
    assert result["test"] == "not applicable"
    assert np.isnan(result["p_value"])


def test_entirely_missing_column_is_dropped_and_reported(loans):
    loans["never_filled"] = np.nan
    model = build_preprocessor(DATASET, DATA_QUALITY, ENCODING).fit(loans, loans[TARGET])
    plan = model.missing_plan_.set_index("column")
    assert plan.loc["never_filled", "action"] == "drop"
    assert plan.loc["never_filled", "missing_rate"] == 1.0
    assert "entirely missing" in plan.loc["never_filled", "reason"]
    out = model.transform(loans)
    assert "never_filled" not in out.columns
    assert not out.isna().any().any()


def test_sentinel_codes_are_missing_only_where_configured():
    frame = pd.DataFrame(
        {
            "income": [-9.0, 10.0, 20.0, -9.0, 30.0],
            "debts": [-9.0, 1.0, 2.0, -9.0, 3.0],  # same code, not configured: a real value
            "region": pd.Series(["??", "N", "S", "N", ""], dtype="str"),
        }
    )
    plan = plan_missing_values(frame, None, DATASET["sentinel_codes"]).set_index("column")
    assert plan.loc["income", "sentinel_codes"] == 2
    assert plan.loc["income", "missing_count"] == 2
    assert plan.loc["debts", "sentinel_codes"] == 0
    assert plan.loc["debts", "missing_count"] == 0
    assert plan.loc["region", "sentinel_codes"] == 1
    assert plan.loc["region", "empty_strings"] == 1
    handler = MissingValueHandler(sentinel_codes=DATASET["sentinel_codes"]).fit(frame)
    out = handler.transform(frame)
    assert (out["income"] != -9).all()
    assert out["income"].iloc[0] == np.median([10.0, 20.0, 30.0])
    assert out["debts"].tolist() == frame["debts"].tolist()
    assert set(out["region"]) == {"N", "S"}


def test_informative_missing_keeps_an_indicator_and_the_configured_fill(loans, preprocessor):
    out = preprocessor.transform(loans)
    observed_max = loans["months_since_delinquency"].max()
    missing = loans["months_since_delinquency"].isna()
    assert (out.loc[missing, "months_since_delinquency"] == observed_max).all()
    assert out["months_since_delinquency__missing"].tolist() == missing.astype(float).tolist()


def test_a_fill_that_does_not_fit_the_column_type_names_the_column(loans):
    dataset = block("dataset", {**DATASET, "informative_missing": {"channel": {"fill": "max"}}})
    loans.loc[:10, "channel"] = np.nan
    with pytest.raises(ConfigurationError, match="channel"):
        build_preprocessor(dataset, DATA_QUALITY, ENCODING).fit(loans, loans[TARGET])


# ---- encoding ---------------------------------------------------------------------------


def test_output_is_numeric_without_nan_and_ignores_meta_columns(loans, preprocessor):
    out = preprocessor.transform(loans)
    assert all(pd.api.types.is_float_dtype(dtype) for dtype in out.dtypes)
    assert not out.isna().any().any()
    for meta in (TARGET, "applied_on", "exception"):
        assert meta not in out.columns
    without_meta = preprocessor.transform(loans.drop(columns=[TARGET, "applied_on", "exception"]))
    pd.testing.assert_frame_equal(out, without_meta)


def test_column_names_are_stable_across_fits(loans, preprocessor):
    other = build_preprocessor(DATASET, DATA_QUALITY, ENCODING)
    other.fit(make_loans(seed=1), make_loans(seed=1)[TARGET])
    assert list(other.transform(loans).columns) == list(preprocessor.transform(loans).columns)


def test_unseen_categories_do_not_fail(loans, preprocessor):
    new = loans.head(3).copy()
    new["rating"] = pd.Series(["Z", "A", None], dtype="str").to_numpy()
    new["channel"] = pd.Series(["carrier pigeon", "web", "web"], dtype="str").to_numpy()
    new["region"] = pd.Series(["NEVER-SEEN", "R01", "R01"], dtype="str").to_numpy()
    out = preprocessor.transform(new)
    assert not out.isna().any().any()
    assert out["rating"].iloc[0] == ENCODING["unknown_ordinal_value"]
    one_hot = [c for c in out.columns if c.startswith("channel_")]
    assert out.loc[out.index[0], one_hot].sum() <= 1  # infrequent bucket or all zeros


def test_ordinal_follows_the_configured_order(loans, preprocessor):
    out = preprocessor.transform(loans)
    codes = out.groupby(loans["rating"].to_numpy())["rating"].first()
    assert codes.to_dict() == {"A": 0.0, "B": 1.0, "C": 2.0}


def test_transforming_never_changes_the_fitted_preprocessor(loans, preprocessor):
    before = pickle.dumps(preprocessor)
    preprocessor.transform(make_loans(n=500, seed=7))
    assert pickle.dumps(preprocessor) == before


def test_target_encoding_of_a_training_row_ignores_its_own_label(loans):
    row = 5
    flipped = loans[TARGET].copy()
    flipped.iloc[row] = 1 - flipped.iloc[row]
    model = build_preprocessor(DATASET, DATA_QUALITY, ENCODING)
    original = model.fit_transform(loans, loans[TARGET])["region"].iloc[row]
    after_flip = clone(model).fit_transform(loans, flipped)["region"].iloc[row]
    assert after_flip == pytest.approx(original, abs=1e-12)
    # Control: without cross-fitting the same row's encoding does move with its label.
    in_sample = clone(model).fit(loans, loans[TARGET]).transform(loans)["region"].iloc[row]
    in_sample_flipped = clone(model).fit(loans, flipped).transform(loans)["region"].iloc[row]
    assert in_sample_flipped != pytest.approx(in_sample, abs=1e-12)


def test_clone_gives_an_unfitted_copy_with_the_same_settings(loans, preprocessor):
    copy = clone(preprocessor)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert repr(copy.get_params(deep=True)) == repr(preprocessor.get_params(deep=True))
    copy.fit_transform(loans, loans[TARGET])
    pd.testing.assert_frame_equal(copy.transform(loans), preprocessor.transform(loans))


def test_preprocessor_fits_inside_cross_validated_resampling_pipelines(loans):
    preprocessor = build_preprocessor(DATASET, DATA_QUALITY, ENCODING)
    model = ImbPipeline(
        [
            ("preprocess", clone(preprocessor)),
            ("resample", SMOTE(random_state=0)),
            ("model", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ]
    )
    scores = cross_val_score(model, loans, loans[TARGET], scoring="roc_auc", cv=3)
    assert (scores > 0.5).all()


def test_ordinal_order_missing_a_training_value_is_a_configuration_error(loans):
    dataset = {**DATASET, "categorical_orders": {"rating": ["A", "B"]}}
    with pytest.raises(ConfigurationError, match="rating"):
        build_preprocessor(dataset, DATA_QUALITY, ENCODING).fit(loans, loans[TARGET])


# ---- binning ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["optimal", "quantile"])
def test_binning_interface(loans, method):
    binning = build_binning(DATASET, {**BINNING, "method": method}).fit(loans, loans[TARGET])
    before = pickle.dumps(binning)
    new = make_loans(n=300, seed=3).drop(columns=[TARGET])
    new.loc[new.index[0], "region"] = "NEVER-SEEN"
    woe = binning.transform(new)
    assert pickle.dumps(binning) == before
    assert list(woe.columns) == ["rate", "rating", "income", "channel", "region",
                                 "months_since_delinquency"]  # fmt: skip
    assert not woe.isna().any().any()
    summary = binning.summary().set_index("feature")
    assert summary.loc["rate", "iv"] > summary.loc["channel", "iv"]
    tables = binning.binning_tables()
    income = tables[tables["feature"] == "income"].set_index("bin")
    assert income.loc["Special", "count"] == (loans["income"] == -9).sum()
    assert income.loc["Missing", "count"] == 0
    delinquency = tables[tables["feature"] == "months_since_delinquency"].set_index("bin")
    assert delinquency.loc["Missing", "count"] == loans["months_since_delinquency"].isna().sum()
    assert delinquency.loc["Special", "count"] == 0


@pytest.mark.parametrize("method", ["optimal", "quantile"])
def test_binning_is_clonable_into_a_scorecard_pipeline(loans, method):
    binning = build_binning(DATASET, {**BINNING, "method": method})
    scorecard = Pipeline([("woe", clone(binning)), ("model", LogisticRegression())])
    scorecard.fit(loans, loans[TARGET])
    scores = scorecard.predict_proba(loans.drop(columns=[TARGET]))[:, 1]
    assert scores.shape == (len(loans),)
    with pytest.raises(NotFittedError):
        check_is_fitted(binning)


def test_quantile_woe_sign_follows_optbinning_convention(loans):
    binning = build_binning(DATASET, {**BINNING, "method": "quantile"}).fit(loans, loans[TARGET])
    table = binning.binning_tables().query("feature == 'rating' and count > 0").set_index("bin")
    # Rating A is the safest: lower event rate, higher WoE = ln(non-event share / event share).
    # (Category bins are labelled as optbinning's lists of categories.)
    assert table.loc["[A]", "event_rate"] < table.loc["[C]", "event_rate"]
    assert table.loc["[A]", "woe"] > 0 > table.loc["[C]", "woe"]


def test_quantile_bins_are_the_training_quantiles_and_each_frequent_category(loans):
    binning = build_binning(DATASET, {**BINNING, "method": "quantile"}).fit(loans, loans[TARGET])
    process = binning.binning_process_
    quintiles = np.quantile(loans["rate"], [0.2, 0.4, 0.6, 0.8])
    assert process.get_binned_variable("rate").splits == pytest.approx(quintiles, rel=1e-12)
    regular_income = loans.loc[loans["income"] != -9, "income"]  # -9: its special code
    income_quintiles = np.quantile(regular_income, [0.2, 0.4, 0.6, 0.8])
    assert process.get_binned_variable("income").splits == pytest.approx(
        income_quintiles, rel=1e-12
    )
    assert sorted(map(list, process.get_binned_variable("rating").splits)) == [["A"], ["B"], ["C"]]


def test_summary_is_optbinnings_with_entirely_missing_columns_last(loans):
    loans["unknown"] = np.nan
    binning = build_binning(DATASET, BINNING).fit(loans, loans[TARGET])
    summary = binning.summary()
    assert summary.iloc[-1].to_dict() | {"gini": 0, "js": 0} == {
        "feature": "unknown", "dtype": "empty", "n_bins": 0, "iv": 0.0, "gini": 0, "js": 0
    }  # fmt: skip
    expected = binning.binning_process_.summary().set_index("name")
    rate = summary.set_index("feature").loc["rate"]
    assert rate["iv"] == pytest.approx(expected.loc["rate", "iv"])
    assert rate["n_bins"] == len(binning.binning_process_.get_binned_variable("rate").splits) + 1


# ---- PSI --------------------------------------------------------------------------------


def test_psi_matches_hand_computation():
    expected, actual = [50, 30, 20], [30, 30, 40]
    by_hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.4 - 0.2) * math.log(0.4 / 0.2)
    assert psi_from_counts(expected, actual) == pytest.approx(by_hand)
    labels_expected = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    labels_actual = ["a"] * 30 + ["b"] * 30 + ["c"] * 40
    assert psi_from_labels(labels_expected, labels_actual) == pytest.approx(by_hand)


def test_psi_of_a_continuous_variable_is_zero_for_identical_samples_and_grows_with_shift():
    rng = np.random.default_rng(0)
    sample = rng.normal(size=5000)
    assert population_stability_index(sample, sample) == pytest.approx(0.0)
    small = population_stability_index(sample, sample + 0.1)
    large = population_stability_index(sample, sample + 1.0)
    assert 0 < small < large


def test_bands_use_lower_inclusive_bounds():
    bands = [{"below": 0.1, "label": "stable"}, {"below": None, "label": "shift"}]
    assert band(0.0999, bands) == "stable"
    assert band(0.1, bands) == "shift"
    with pytest.raises(ConfigurationError):
        band(0.5, [{"below": 0.1, "label": "stable"}])


def test_binning_names_a_column_whose_categories_are_all_rare(loans):
    loans["note"] = [f"free text {i}" for i in range(len(loans))]
    binning = build_binning(DATASET, BINNING)
    with pytest.raises(ConfigurationError, match=r"\['note'\].*cat_cutoff.*excluded_columns"):
        binning.fit(loans, loans[TARGET])


def test_hashed_texts_are_the_hasher_s_rows_however_often_and_in_whatever_order():
    """Texts hashed once per process (_HashedTexts) give exactly the hasher's matrix: repeats,
    subsets, reordering, empty texts, no texts, and after the store fills and starts again."""
    from loan_default.preprocessing.text import TextFeatures, _HashedTexts  # noqa: PLC0415

    vectorizer = TextFeatures(n_features=2**10).vectorizer()
    texts = pd.Series(
        ["debt consolidation", "", "car loan for my car", "debt consolidation", "Paying off cards"]
    )
    store = _HashedTexts(max_texts=6)
    for rows in ([0, 1, 2, 3, 4], [4, 0], [2, 2, 1], [3], [0, 1, 2, 3, 4]):
        part = texts.iloc[rows]
        expected, got = vectorizer.transform(part), store.transform(vectorizer, part)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert (got != expected).nnz == 0
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
    assert len(store._rows[next(iter(store._rows))]) <= 6
    assert store.transform(vectorizer, texts.iloc[[]]).shape == (0, 2**10)
