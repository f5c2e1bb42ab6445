"""Ingestion on the Spark engine (`--env spark`): the stage of `pipeline.py`, node for node, with
the Spark functions of `spark_nodes.py`. Same datasets, same meaning: `parsed_loans` ... `loans`
are Spark DataFrames here, pandas DataFrames there."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.run_record import duplicate_tags
from loan_default.pipelines.stage import stage

from .spark_nodes import (
    add_derived_features_on_spark,
    derive_target_on_spark,
    describe_raw_data_on_spark,
    handle_duplicates_on_spark,
    parse_raw_loans_on_spark,
    select_application_columns_on_spark,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the ingestion stage on Spark."""
    return stage(
        [
            Node(
                parse_raw_loans_on_spark,
                ["raw_loans", "params:dataset"],
                ["parsed_loans", "column_types"],
                name="parse_raw_loans_on_spark",
            ),
            Node(
                handle_duplicates_on_spark,
                ["parsed_loans", "params:dataset"],
                ["unique_loans", "duplicate_summary"],
                name="handle_duplicates_on_spark",
            ),
            Node(
                describe_raw_data_on_spark,
                "raw_loans",
                "raw_data_input",
                name="describe_raw_data_on_spark",
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
                derive_target_on_spark,
                ["unique_loans", "params:dataset"],
                "labelled_loans",
                name="derive_target_on_spark",
            ),
            Node(
                add_derived_features_on_spark,
                ["labelled_loans", "params:dataset"],
                "enriched_loans",
                name="add_derived_features_on_spark",
            ),
            Node(
                select_application_columns_on_spark,
                ["enriched_loans", "params:dataset"],
                ["loans", "data.dropped_columns"],
                name="select_application_columns_on_spark",
            ),
        ],
        "ingestion",
        {"ingestion", "training", "inference"},
    )
