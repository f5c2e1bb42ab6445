"""Score: new applications -> probability of default, decision, reasons, drift report."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.run_record import scoring_model_tags
from loan_default.pipelines.stage import stage

from .nodes import measure_score_drift, score_applications, validate_applications


def create_pipeline(**kwargs) -> Pipeline:
    """Build the scoring stage (not part of `loan`: it uses the registry's champion).

    Everything it needs beyond the applications travels inside the registered model: its
    dataset configuration, threshold, training ranges and categories, reasons and drift references.
    """
    return stage(
        [
            Node(
                validate_applications,
                ["applications", "scoring_champion"],
                ["valid_applications", "application_errors"],
                name="validate_applications",
            ),
            Node(
                score_applications,
                ["valid_applications", "application_errors", "scoring_champion", "params:score"],
                "scored_applications",
                name="score_applications",
            ),
            Node(
                scoring_model_tags,
                "scoring_champion",
                "scoring_model_tags",
                name="tag_scoring_model",
                tags={"tracking"},
            ),
            Node(
                measure_score_drift,
                ["valid_applications", "scored_applications", "scoring_champion", "params:score"],
                ["score_drift", "score_drift_metrics"],
                name="measure_score_drift",
                tags={"reporting"},
            ),
        ],
        "score",
        {"score", "inference"},
    )
