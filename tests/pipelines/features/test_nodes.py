"""Feature nodes: ranking bands, stability, and their results on the real data."""

import pickle

import numpy as np
import pandas as pd
import pytest

from loan_default.parameters import FeatureReports
from loan_default.pipelines.features.nodes import (
    fit_binning,
    measure_feature_stability,
    measure_text_stability,
    rank_features,
    transform_loans,
    woe_transform,
)
from loan_default.schema import structured_feature_columns, target_column
from loan_default.stability import ReferenceDistribution
from loan_default.validation import DataValidationError
from tests.params import block

pytestmark = pytest.mark.slow  # the real-data fixture runs four stages on 42k loans


def test_iv_ranking_on_real_data_puts_the_known_drivers_on_top(real_outputs):
    ranking = real_outputs["features.iv_ranking"]
    top = ranking["feature"].head(10).tolist()
    for driver in ("int_rate", "grade", "sub_grade", "term"):
        assert driver in top, f"{driver} not among the top 10 by IV: {top}"
    assert ranking["iv"].is_monotonic_decreasing
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))


def test_verdict_and_psi_bands_follow_the_configured_thresholds(real_outputs, project_params):
    ranking = real_outputs["features.iv_ranking"]
    for bound in project_params["features"]["reports"]["iv_bands"]:
        if bound["below"] is not None:
            above = ranking.loc[ranking["iv"] >= bound["below"], "verdict"]
            assert bound["label"] not in set(above)
    stability = real_outputs["features.feature_stability"]
    assert set(stability["feature"]) == set(ranking["feature"])
    major = stability.loc[stability["psi_band"] == "major shift", "psi"]
    assert (major > 0.25).all()
    assert (stability.loc[stability["psi_band"] == "stable", "psi"] < 0.10).all()


def test_model_inputs_are_numeric_complete_and_carry_the_target(real_outputs, dataset_params):
    target = target_column(dataset_params)
    for name, loans in (("train", "train_loans"), ("test", "test_loans")):
        for kind in ("features", "woe"):
            frame = real_outputs[f"{name}_{kind}"]
            assert len(frame) == len(real_outputs[loans])
            assert frame[target].tolist() == real_outputs[loans][target].tolist()
            assert not frame.isna().any().any()
            assert all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes)
    assert list(real_outputs["train_features"].columns) == list(
        real_outputs["test_features"].columns
    )


def test_missing_value_report_matches_the_fitted_preprocessor(real_outputs):
    report = real_outputs["data_quality.missing_value_report"]
    plan = real_outputs["fitted_preprocessor"].missing_plan_
    pd.testing.assert_frame_equal(report, plan)
    actions = report.set_index("column")["action"]
    assert actions["mths_since_last_delinq"] == "indicator_and_fill"
    assert actions["mths_since_last_record"] == "indicator_and_fill"


def test_preprocessing_the_test_set_does_not_change_fitted_objects(real_outputs, dataset_params):
    preprocessor = real_outputs["fitted_preprocessor"]
    binning = real_outputs["binning_process"]
    before = pickle.dumps(preprocessor), pickle.dumps(binning)
    transform_loans(preprocessor, real_outputs["test_loans"], dataset_params)
    woe_transform(binning, real_outputs["test_loans"], dataset_params)
    assert (pickle.dumps(preprocessor), pickle.dumps(binning)) == before


def test_binning_tables_cover_every_feature_with_special_and_missing_bins(real_outputs):
    tables = real_outputs["features.binning_tables"]
    features = set(real_outputs["features.iv_ranking"]["feature"])
    assert set(tables["feature"]) == features
    bins = tables.groupby("feature")["bin"].apply(set)
    assert all({"Special", "Missing"} <= found for found in bins)
    totals = tables.groupby("feature")["count"].sum()
    assert (totals == len(real_outputs["train_loans"])).all()


def test_stability_flags_a_shifted_feature_and_not_a_stable_one():
    rng = np.random.default_rng(0)
    dataset = block("dataset", {"target": {"output_column": "y"}})
    bands = block(
        "features",
        {
            "reports": {
                "psi_bands": [
                    {"below": 0.1, "label": "stable"},
                    {"below": 0.25, "label": "moderate shift"},
                    {"below": None, "label": "major shift"},
                ]
            }
        },
    ).reports

    def sample(n: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "steady": rng.normal(size=n),
                "drifting": rng.normal(loc=shift, size=n),
                "y": (rng.random(n) < 0.3).astype(int),
            }
        )

    train, test = sample(3000, 0.0), sample(3000, 1.5)
    quantile = block("features", {"binning": {"method": "quantile", "quantile_bins": 10}})
    binning = fit_binning(train, dataset, quantile["binning"])
    stability = measure_feature_stability(binning, train, test, bands).set_index("feature")
    assert stability.loc["steady", "psi_band"] == "stable"
    assert stability.loc["drifting", "psi_band"] == "major shift"
    reports = block(
        "features", {"reports": {"iv_bands": [{"below": None, "label": "any"}]}}
    ).reports
    ranking = rank_features(binning, stability.reset_index(), reports)
    assert set(ranking["feature"]) == {"steady", "drifting"}
    assert ranking.columns[-2:].tolist() == ["psi", "psi_band"]


def test_fitting_without_the_target_names_it():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    dataset = {"target": {"output_column": "y"}}
    with pytest.raises(DataValidationError, match="'y'"):
        fit_binning(frame, dataset, {"method": "quantile"})


def test_feature_columns_of_model_inputs_come_from_the_schema(real_outputs, dataset_params):
    woe = real_outputs["train_woe"]
    expected = structured_feature_columns(real_outputs["train_loans"], dataset_params)
    assert list(woe.columns[:-1]) == expected
    assert set(dataset_params["text_columns"]) <= set(real_outputs["train_loans"].columns)
    assert not set(dataset_params["text_columns"]) & set(woe.columns), "free text is not binned"


class _TextOnly:
    """A fitted preprocessor stand-in with one text feature."""

    def text_feature_names(self) -> list[str]:
        return ["desc__text_score"]

    def describe_feature(self, name: str) -> str:
        return f"text score of {name}"


def test_text_stability_bins_the_training_values_as_the_reports_block_says():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"desc__text_score": rng.normal(0, 1, 2000)})
    test = pd.DataFrame({"desc__text_score": rng.normal(0.3, 1.2, 2000)})
    psi = {
        bins: measure_text_stability(
            _TextOnly(), train, test, FeatureReports(text_psi_bins=bins)
        ).loc[0, "psi"]
        for bins in (4, 10)
    }
    for bins, value in psi.items():
        expected = ReferenceDistribution.of(train["desc__text_score"], bins).psi(
            test["desc__text_score"]
        )
        assert value == pytest.approx(expected)
    assert psi[4] != pytest.approx(psi[10])
