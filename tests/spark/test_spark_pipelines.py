"""`kedro run --env spark` runs the Spark stages (<stage>/spark_pipeline.py) end to end: `loan` on
the tiny configuration registers a champion, and `score` scores the sample applications with it,
the drift node reading the scores the Spark node wrote (`scored_applications@pandas`)."""

from __future__ import annotations

import pandas as pd

from loan_default.config.engines import selected_engine
from tests.conftest import TINY_CONF, make_kedro_project, run_kedro


def test_loan_then_score_on_the_spark_stages(spark, tmp_path, tiny_loans, tracking_uri):
    project = make_kedro_project(tmp_path / "project", tiny_loans, TINY_CONF, env="spark")
    run_kedro(project, "loan", env="spark")
    assert selected_engine() == "spark"
    outputs = project / "data" / "spark"
    assert (outputs / "03_primary" / "loans").is_dir()  # the Spark table, as Parquet

    run_kedro(project, "score", env="spark")
    versions = sorted((outputs / "07_model_output" / "scored_applications").iterdir())
    scored = pd.read_parquet(versions[-1] / "scored_applications")
    applications = pd.read_csv(project / "data" / "01_raw" / "sample_applications.csv")
    errors = sorted((outputs / "07_model_output" / "application_errors").iterdir())
    problems = pd.read_parquet(errors[-1] / "application_errors")
    rejected = problems.loc[problems["severity"] == "error", "application_row"].nunique()
    assert len(scored) + rejected == len(applications)
    assert scored["probability_of_default"].between(0, 1).all()
    drift = pd.read_csv(outputs / "08_reporting" / "score_drift.csv")
    assert drift["name"].iloc[0] == "score"
    assert (drift["batch_size"] == len(scored)).all()
