"""The split on the Spark engine (`--env spark`): the split of the whole Spark table and the
hand-off to pandas replace `split_loans`; every other node is the pandas stage's own. Same
datasets, same meaning: `training_population` is every training loan on both engines (a Spark
table here), `train_loans` and `test_loans` the pandas modelling table."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .pipeline import create_pipeline as create_pandas_pipeline
from .spark_nodes import sample_modelling_table, split_loans_on_spark


def create_pipeline(**kwargs) -> Pipeline:
    """Build the split stage on Spark."""
    on_spark = stage(
        [
            Node(
                split_loans_on_spark,
                ["loans", "params:dataset", "params:split"],
                ["training_population", "test_population"],
                name="split_loans_on_spark",
            ),
            Node(
                sample_modelling_table,
                ["training_population", "test_population", "params:dataset", "params:split"],
                ["train_loans", "test_loans"],
                name="sample_modelling_table",
            ),
        ],
        "split",
        {"split", "training"},
    )
    pandas = create_pandas_pipeline()
    return on_spark + (pandas - pandas.only_nodes("split.split_loans"))
