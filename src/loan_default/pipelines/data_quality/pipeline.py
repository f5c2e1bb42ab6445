"""Data quality: missing-value analysis of the training loans, with the action per column."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import analyse_missing_values, plot_missing_values

TAGS = {"data_quality", "training", "reporting"}


def create_pipeline(**kwargs) -> Pipeline:
    """Build the data-quality stage."""
    return stage(
        [
            Node(
                analyse_missing_values,
                ["training_population", "params:dataset", "params:data_quality"],
                "data_quality.missing_value_report",
                name="analyse_missing_values",
            ),
            Node(
                plot_missing_values,
                ["data_quality.missing_value_report", "params:data_quality"],
                "missing_value_plot",
                name="plot_missing_values",
            ),
        ],
        "data_quality",
        TAGS,
    )
