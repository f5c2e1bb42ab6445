"""Scoring on the Spark engine (`--env spark`). The same datasets as `pipeline.py`, with the same
meaning: `valid_applications` the typed rows without errors, `application_errors` every problem,
`scored_applications` the scored table. The drift node reads the saved scores as pandas
(`scored_applications@pandas`), the table the scoring node wrote with Spark
(`scored_applications@spark`): Kedro's transcoding, conf/spark/catalog.yml."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.run_record import scoring_model_tags
from loan_default.pipelines.stage import stage

from .spark_nodes import (
    find_application_errors_on_spark,
    measure_score_drift_on_spark,
    number_applications_on_spark,
    score_applications_on_spark,
    validate_applications_on_spark,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the scoring stage on Spark."""
    return stage(
        [
            Node(
                number_applications_on_spark,
                ["applications", "scoring_champion"],
                "numbered_applications",
                name="number_applications_on_spark",
            ),
            Node(
                find_application_errors_on_spark,
                ["numbered_applications", "scoring_champion"],
                "application_errors",
                name="find_application_errors_on_spark",
            ),
            Node(
                validate_applications_on_spark,
                ["numbered_applications", "scoring_champion"],
                "valid_applications",
                name="validate_applications_on_spark",
            ),
            Node(
                score_applications_on_spark,
                ["numbered_applications", "scoring_champion", "params:score"],
                "scored_applications@spark",
                name="score_applications_on_spark",
            ),
            Node(
                scoring_model_tags,
                "scoring_champion",
                "scoring_model_tags",
                name="tag_scoring_model",
                tags={"tracking"},
            ),
            Node(
                measure_score_drift_on_spark,
                [
                    "valid_applications",
                    "scored_applications@pandas",
                    "scoring_champion",
                    "params:score",
                ],
                ["score_drift", "score_drift_metrics"],
                name="measure_score_drift_on_spark",
                tags={"reporting"},
            ),
        ],
        "score",
        {"score", "inference"},
    )
