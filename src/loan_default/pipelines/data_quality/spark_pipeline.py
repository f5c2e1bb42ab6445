"""Data quality on the Spark engine (`--env spark`): the missing-value analysis of every training
loan (`training_population`, a Spark table) by Spark aggregates; the plot is the pandas stage's."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import plot_missing_values
from .spark_nodes import analyse_missing_values_on_spark


def create_pipeline(**kwargs) -> Pipeline:
    """Build the data-quality stage on Spark."""
    return stage(
        [
            Node(
                analyse_missing_values_on_spark,
                ["training_population", "params:dataset", "params:data_quality"],
                "data_quality.missing_value_report",
                name="analyse_missing_values_on_spark",
            ),
            Node(
                plot_missing_values,
                ["data_quality.missing_value_report", "params:data_quality"],
                "missing_value_plot",
                name="plot_missing_values",
            ),
        ],
        "data_quality",
        {"data_quality", "training", "reporting"},
    )
