"""Data quality on the Spark engine (`--env spark`): the missing-value analysis of every training
loan (`training_population`, a Spark table) by Spark aggregates; the plot is the pandas stage's."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .pipeline import TAGS
from .pipeline import create_pipeline as create_pandas_pipeline
from .spark_nodes import analyse_missing_values_on_spark


def create_pipeline(**kwargs) -> Pipeline:
    """Build the data-quality stage on Spark."""
    on_spark = stage(
        [
            Node(
                analyse_missing_values_on_spark,
                ["training_population", "params:dataset", "params:data_quality"],
                "data_quality.missing_value_report",
                name="analyse_missing_values_on_spark",
            ),
        ],
        "data_quality",
        TAGS,
    )
    pandas = create_pandas_pipeline()
    return on_spark + (pandas - pandas.only_nodes("data_quality.analyse_missing_values"))
