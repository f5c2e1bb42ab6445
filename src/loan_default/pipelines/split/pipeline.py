"""Split: training loans (earlier) and out-of-time test loans (later), or a random split."""

from kedro.pipeline import Node, Pipeline

from .nodes import describe_test_set, split_loans, summarise_split


def create_pipeline(**kwargs) -> Pipeline:
    """Build the split stage."""
    return Pipeline(
        [
            Node(
                split_loans,
                ["loans", "params:dataset", "params:split"],
                ["train_loans", "test_loans"],
                name="split_loans",
            ),
            Node(
                describe_test_set,
                ["params:dataset", "params:split"],
                "test_set",
                name="describe_test_set",
                tags={"reporting"},
            ),
            Node(
                summarise_split,
                ["train_loans", "test_loans", "params:dataset"],
                "split_summary",
                name="summarise_split",
                tags={"reporting"},
            ),
        ],
        namespace="split",
        inputs={"loans"},
        outputs={"train_loans", "test_loans", "split_summary", "test_set"},
        parameters={"params:dataset", "params:split"},
        tags={"split", "training"},
    )
