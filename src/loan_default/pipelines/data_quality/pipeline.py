"""Data quality: missing-value analysis of the training loans, with the action per column."""

from kedro.pipeline import Node, Pipeline

from .nodes import analyse_missing_values, plot_missing_values


def create_pipeline(**kwargs) -> Pipeline:
    """Build the data-quality stage."""
    return Pipeline(
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
        namespace="data_quality",
        prefix_datasets_with_namespace=False,
        tags={"data_quality", "training", "reporting"},
    )
