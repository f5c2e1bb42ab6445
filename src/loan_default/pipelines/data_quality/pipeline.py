"""Data quality: missing-value analysis of the training loans, with the action per column."""

from kedro.pipeline import Node, Pipeline

from .nodes import analyse_missing_values, plot_missing_values


def create_pipeline(**kwargs) -> Pipeline:
    """Build the data-quality stage."""
    return Pipeline(
        [
            Node(
                analyse_missing_values,
                ["train_loans", "params:dataset", "params:data_quality"],
                "missing_value_report",
                name="analyse_missing_values",
            ),
            Node(
                plot_missing_values,
                ["missing_value_report", "params:data_quality"],
                "missing_value_plot",
                name="plot_missing_values",
            ),
        ],
        namespace="data_quality",
        inputs={"train_loans"},
        outputs={"missing_value_report", "missing_value_plot"},
        parameters={"params:dataset", "params:data_quality"},
        tags={"data_quality", "training", "reporting"},
    )
