"""Split: training loans (earlier) and out-of-time test loans (later), or a random split."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.run_record import split_tags
from loan_default.pipelines.stage import stage

from .nodes import (
    assign_cv_folds,
    describe_cv_folds,
    describe_modelling_table,
    describe_test_set,
    split_loans,
    summarise_split,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the split stage."""
    return stage(
        [
            Node(
                split_loans,
                ["loans", "params:dataset", "params:split"],
                ["train_loans", "test_loans", "training_population"],
                name="split_loans",
            ),
            Node(
                assign_cv_folds,
                ["train_loans", "params:dataset", "params:training"],
                ["cv_folds", "comparison_cv_folds"],
                name="assign_cv_folds",
            ),
            Node(
                describe_cv_folds,
                ["cv_folds", "comparison_cv_folds", "train_loans", "params:dataset"],
                "cv_scheme",
                name="describe_cv_folds",
                tags={"reporting"},
            ),
            Node(
                describe_modelling_table,
                ["train_loans", "test_loans", "params:dataset"],
                "modelling_table_metrics",
                name="describe_modelling_table",
                tags={"reporting"},
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
                "data.split_summary",
                name="summarise_split",
                tags={"reporting"},
            ),
            Node(
                split_tags,
                "data.split_summary",
                "split_tags",
                name="tag_split",
                tags={"tracking"},
            ),
        ],
        "split",
        {"split", "training"},
    )
