"""The ingestion and split stages wired together, on a small fixture and on the real data."""

import fnmatch

import numpy as np
import pandas as pd
import pytest

from loan_default.pipelines.ingestion import create_pipeline as ingestion_pipeline
from loan_default.pipelines.split import create_pipeline as split_pipeline
from loan_default.preprocessing import build_text_features
from loan_default.schema import feature_columns
from tests.kedro_helpers import run_in_memory


def _run(raw: pd.DataFrame, params: dict) -> dict:
    inputs = {
        "raw_loans": raw,
        "params:dataset": params["dataset"],
        "params:split": params["split"],
        "params:training": params["training"],
    }
    return run_in_memory(ingestion_pipeline() + split_pipeline(), inputs)


@pytest.fixture(scope="module")
def outputs(raw_loans_sample, project_params) -> dict:
    return _run(raw_loans_sample, project_params)


def test_split_is_out_of_time_at_the_configured_cutoff(outputs, project_params):
    cutoff = pd.Timestamp(project_params["dataset"]["split_cutoff"])
    assert outputs["train_loans"]["issue_d"].max() < cutoff
    assert outputs["test_loans"]["issue_d"].min() >= cutoff


def test_no_leakage_column_reaches_the_model_input(outputs, dataset_params):
    """Fails if a post-outcome column, or any column not known at application time, survives."""
    features = feature_columns(outputs["train_loans"], dataset_params)
    for pattern in dataset_params["leakage_columns"]:
        assert not fnmatch.filter(features, pattern), f"leakage column {pattern} is a feature"
    known_at_application = (
        (set(dataset_params["column_types"]) - set(dataset_params["excluded_columns"]))
        | set(dataset_params["derived_features"])
        | set(dataset_params["text_columns"])
    )
    assert set(features) <= known_at_application, set(features) - known_at_application


def test_raw_download_format_gives_the_same_features(raw_loans_sample, project_params, outputs):
    """LendingClub's own download ('11.22%', '36 months', 'Dec-2011', ...) parses identically."""
    raw = raw_loans_sample.copy()
    for column in ("int_rate", "revol_util"):
        raw[column] = (
            (raw[column] * 100).round(6).map(lambda value: "" if pd.isna(value) else f"{value:g}%")
        )
    raw["term"] = " " + raw["term"].astype(str) + " months"
    for column in ("issue_d", "earliest_cr_line"):
        raw[column] = pd.to_datetime(raw[column]).dt.strftime("%b-%Y")
    from_download = _run(raw, project_params)["train_loans"]
    expected = outputs["train_loans"]
    pd.testing.assert_frame_equal(from_download, expected, check_exact=False, rtol=1e-9)


def test_text_and_derived_features_use_no_post_outcome_information(
    raw_loans_sample, project_params, outputs
):
    """Scrambling every post-outcome column changes no model input: not the derived features,
    not the text columns, not the text features computed from them."""
    dataset = project_params["dataset"]
    scrambled, rng = raw_loans_sample.copy(), np.random.default_rng(0)
    touched = 0
    for pattern in dataset["leakage_columns"]:
        for column in fnmatch.filter(scrambled.columns, pattern):
            scrambled[column] = rng.permutation(scrambled[column].to_numpy())
            touched += 1
    assert touched >= 10
    again = _run(scrambled, project_params)
    pd.testing.assert_frame_equal(again["train_loans"], outputs["train_loans"])
    pd.testing.assert_frame_equal(again["test_loans"], outputs["test_loans"])
    text = build_text_features(dataset, project_params["features"]["text"])
    train = outputs["train_loans"]
    features = text.fit_transform(train, train["is_default"])
    derived = list(dataset["derived_features"])
    assert set(dataset["text_columns"]) <= set(train.columns) and set(derived) <= set(train.columns)
    assert features["desc__text_score"].std() > 0
    # LendingClub stamps later additions to a description with their date: never read
    for column in dataset["text_columns"]:
        cleaned = text.cleaned(train, column)
        assert not cleaned.str.contains(r"added on \d\d/\d\d/\d\d", case=False).any()
