"""Scoring a Spark DataFrame with the registered model (spark_udf) gives the pandas scorer's
rows, decisions, reasons, warnings and errors."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow
import numpy as np
import pandas as pd
import pytest

from loan_default import tracking
from loan_default.applications import ROW
from loan_default.modelling.rating import MasterScale
from loan_default.parameters import Score
from loan_default.pipelines.score.nodes import (
    measure_score_drift,
    score_applications,
    validate_applications,
)
from loan_default.pipelines.score.spark_nodes import (
    find_application_errors_on_spark,
    measure_score_drift_on_spark,
    number_applications_on_spark,
    score_applications_on_spark,
    validate_applications_on_spark,
)
from loan_default.serving import ChampionHandle
from tests.pipelines.score.test_nodes import SCORE, champion_for

REASONS = {"count": 2, "for_approved": False}


@pytest.fixture(scope="module")
def registered(tmp_path_factory) -> Iterator[ChampionHandle]:
    """A small champion logged to a real SQLite tracking store, as registration logs it."""
    rng = np.random.default_rng(5)
    train = pd.DataFrame(
        {
            "rate": rng.choice([0.05, 0.1, 0.12, 0.2], 60),
            "home": rng.choice(["RENT", "OWN"], 60),
            "is_default": 0,
        }
    )
    package = champion_for(train).model
    package.input_example = pd.DataFrame({"rate": ["10%"], "home": ["RENT"]})
    package.rating_scale = MasterScale(
        bounds=(0.05, 0.1, 0.2, 0.4), grade_pd=(0.03, 0.07, 0.15, 0.3, 0.5),
        loans=(10, 10, 10, 10, 10), defaults=(0, 1, 2, 3, 5),
    )  # fmt: skip
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db")
    # Its own experiment: an earlier test may have left another store's experiment active.
    experiment = mlflow.set_experiment("spark-scoring")
    with mlflow.start_run(experiment_id=experiment.experiment_id) as run:
        info = tracking.log_champion_model(package)
    yield ChampionHandle(package, info.model_uri, run.info.run_id, "loan-default", "1")
    mlflow.set_tracking_uri(previous)


def _applications(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rates = [f"{r:.1f}%" for r in rng.uniform(3, 30, n)]
    rates[3], rates[8] = "lots", None  # an unparsable rate and a missing one
    homes = list(rng.choice(["RENT", "OWN", "MORTGAGE"], n))  # MORTGAGE: unseen, a warning
    return pd.DataFrame({"rate": rates, "home": homes})


def _pandas_path(raw: pd.DataFrame, champion: ChampionHandle, score: Score):
    valid, problems = validate_applications(raw, champion)
    return score_applications(valid, problems, champion, score), problems


def test_spark_scoring_gives_the_pandas_scores_reasons_warnings_and_errors(spark, registered):
    raw = _applications(120)
    score = SCORE | {"reasons": REASONS, "spark": {"reasons_up_to_rows": 1000}}
    expected, expected_problems = _pandas_path(raw, registered, score)
    numbered = number_applications_on_spark(spark.createDataFrame(raw), registered)
    problems = find_application_errors_on_spark(numbered, registered)
    scored = score_applications_on_spark(numbered, registered, score).toPandas()
    assert list(scored.columns) == list(expected.columns)
    scored = scored.sort_values(ROW).reset_index(drop=True)
    pd.testing.assert_frame_equal(scored, expected, check_dtype=False)
    assert {"reject", "approve"} <= set(scored["decision"])
    assert scored["rating_grade"].between(1, 5).all(), "every scored row has its grade"
    assert scored["warnings"].str.contains("MORTGAGE").any()
    got = problems.toPandas().sort_values([ROW, "severity", "column"]).reset_index(drop=True)
    want = expected_problems.sort_values([ROW, "severity", "column"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)

    # `valid_applications` means the typed rows without errors on both engines.
    valid = validate_applications_on_spark(numbered, registered).toPandas()
    expected_valid = validate_applications(raw, registered)[0]
    valid = valid.sort_values(ROW).reset_index(drop=True)
    assert list(valid.columns) == list(expected_valid.columns)
    pd.testing.assert_frame_equal(valid, expected_valid, check_dtype=False)

    scores = scored[["probability_of_default"]]  # as the drift node reads them (@pandas)
    table, _ = measure_score_drift_on_spark(
        validate_applications_on_spark(numbered, registered), scores, registered, score
    )
    pandas_table, _ = measure_score_drift(expected_valid, expected, registered, score)
    pd.testing.assert_frame_equal(table, pandas_table)


def test_above_the_reasons_limit_reasons_are_blank(spark, registered):
    score = SCORE | {"reasons": REASONS, "spark": {"reasons_up_to_rows": 10}}
    raw = _applications(40)
    numbered = number_applications_on_spark(spark.createDataFrame(raw), registered)
    scored = score_applications_on_spark(numbered, registered, score).toPandas()
    assert (scored["reason_1"] == "").all() and (scored["reason_1_contribution"] == 0).all()
    expected, _ = _pandas_path(raw, registered, score)
    assert sorted(scored[ROW]) == expected[ROW].tolist()  # the unparsable rate is an error
    assert (expected["reason_1"] != "").any()


def test_a_batch_without_problems_is_typed_and_has_no_errors(spark, registered):
    """Every row valid and every category known: the problems table of each partition is
    empty (a table-wide bulk such as the 1,000,000 applications of make benchmark-spark)."""
    raw = pd.DataFrame({"rate": ["10.0%", "12.5%", "20.0%", "5.0%"], "home": ["RENT", "OWN"] * 2})
    numbered = number_applications_on_spark(spark.createDataFrame(raw), registered)
    assert find_application_errors_on_spark(numbered, registered).count() == 0
    valid = validate_applications_on_spark(numbered, registered).toPandas()
    expected = validate_applications(raw, registered)[0]
    pd.testing.assert_frame_equal(
        valid.sort_values(ROW).reset_index(drop=True), expected, check_dtype=False
    )
