"""Registration on the Spark engine (`--env spark`): the pandas stage, with the raw rows it reads
collected from the Spark table by two hand-off nodes: `raw_test_loans` (the same dataset as on
pandas) and `raw_loan_sample` (the first raw loans, which the input description reads instead of
the whole raw table)."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .pipeline import create_pipeline as create_pandas_pipeline
from .spark_nodes import collect_raw_loan_sample, collect_raw_test_loans


def create_pipeline(**kwargs) -> Pipeline:
    """Build the registration stage on Spark."""
    pandas = create_pandas_pipeline()
    hand_offs = [
        Node(
            collect_raw_test_loans,
            ["raw_loans", "test_loans"],
            "raw_test_loans",
            name="collect_raw_test_loans",
        ),
        Node(
            collect_raw_loan_sample,
            "raw_loans",
            "raw_loan_sample",
            name="collect_raw_loan_sample",
        ),
    ]
    # Each hand-off joins the namespace of the node that reads it (one stretch per namespace).
    sample = stage([hand_offs[1]], "scoring_profile")
    scoring_profile = Pipeline(
        pandas.only_nodes_with_namespaces(["scoring_profile"]),
        inputs={"raw_loans": "raw_loan_sample"},
    )
    registration = pandas.only_nodes_with_namespaces(["registration"])
    registration -= registration.only_nodes("registration.select_raw_test_loans")
    test_rows = stage([hand_offs[0]], "registration")
    return sample + scoring_profile + test_rows + registration
