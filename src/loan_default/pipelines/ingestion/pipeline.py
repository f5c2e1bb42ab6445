"""Ingestion: raw loan table -> typed, labelled, application-time-only loans."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.run_record import describe_raw_data, duplicate_tags
from loan_default.pipelines.stage import stage

from .nodes import (
    add_derived_features,
    derive_target,
    handle_duplicates,
    parse_raw_loans,
    select_application_columns,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the ingestion stage."""
    return stage(
        [
            Node(
                parse_raw_loans,
                ["raw_loans", "params:dataset"],
                ["parsed_loans", "column_types"],
                name="parse_raw_loans",
            ),
            Node(
                handle_duplicates,
                ["parsed_loans", "params:dataset"],
                ["unique_loans", "duplicate_summary"],
                name="handle_duplicates",
            ),
            Node(
                describe_raw_data,
                "raw_loans",
                "raw_data_input",
                name="describe_raw_data",
                tags={"tracking"},
            ),
            Node(
                duplicate_tags,
                "duplicate_summary",
                "duplicate_tags",
                name="tag_duplicates",
                tags={"tracking"},
            ),
            Node(
                derive_target,
                ["unique_loans", "params:dataset"],
                "labelled_loans",
                name="derive_target",
            ),
            Node(
                add_derived_features,
                ["labelled_loans", "params:dataset"],
                "enriched_loans",
                name="add_derived_features",
            ),
            Node(
                select_application_columns,
                ["enriched_loans", "params:dataset"],
                ["loans", "data.dropped_columns"],
                name="select_application_columns",
            ),
        ],
        "ingestion",
        {"ingestion", "training", "inference"},
    )
