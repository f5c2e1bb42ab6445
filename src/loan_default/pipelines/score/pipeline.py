"""Score: new applications -> probability of default, decision, reasons, drift report."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_scoring_reference,
    measure_score_drift,
    score_applications,
    validate_applications,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the scoring stage (not part of `loan`: it consumes the training run's outputs)."""
    return Pipeline(
        [
            Node(
                validate_applications,
                ["applications", "train_loans", "params:dataset"],
                ["valid_applications", "application_errors"],
                name="validate_applications",
            ),
            Node(
                build_scoring_reference,
                ["train_loans", "params:dataset"],
                "scoring_reference",
                name="build_scoring_reference",
            ),
            Node(
                score_applications,
                ["valid_applications", "scoring_champion", "scoring_reference", "params:score"],
                "scored_applications",
                name="score_applications",
            ),
            Node(
                measure_score_drift,
                [
                    "train_loans",
                    "valid_applications",
                    "scoring_champion",
                    "iv_ranking",
                    "params:score",
                ],
                ["score_drift", "score_drift_metrics"],
                name="measure_score_drift",
                tags={"reporting"},
            ),
        ],
        namespace="score",
        inputs={"applications", "train_loans", "scoring_champion", "iv_ranking"},
        outputs={"scored_applications", "application_errors", "score_drift", "score_drift_metrics"},
        parameters={"params:dataset", "params:score"},
        tags={"score", "inference"},
    )
