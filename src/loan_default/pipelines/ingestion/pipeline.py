"""Ingestion: raw loan table -> typed, labelled, application-time-only loans."""

from collections.abc import Callable

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
    return ingestion_stage(
        parse_raw_loans,
        handle_duplicates,
        describe_raw_data,
        derive_target,
        add_derived_features,
        select_application_columns,
    )


def ingestion_stage(
    parse: Callable,
    deduplicate: Callable,
    describe: Callable,
    label: Callable,
    enrich: Callable,
    select: Callable,
) -> Pipeline:
    """The ingestion stage with these node functions, in the order they run: the pandas ones or
    the Spark ones (`spark_pipeline.py`), the same datasets either way, each node named after its
    function."""
    return stage(
        [
            Node(
                parse,
                ["raw_loans", "params:dataset"],
                ["parsed_loans", "column_types"],
                name=parse.__name__,
            ),
            Node(
                deduplicate,
                ["parsed_loans", "params:dataset"],
                ["unique_loans", "duplicate_summary"],
                name=deduplicate.__name__,
            ),
            Node(
                describe,
                "raw_loans",
                "raw_data_input",
                name=describe.__name__,
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
                label,
                ["unique_loans", "params:dataset"],
                "labelled_loans",
                name=label.__name__,
            ),
            Node(
                enrich,
                ["labelled_loans", "params:dataset"],
                "enriched_loans",
                name=enrich.__name__,
            ),
            Node(
                select,
                ["enriched_loans", "params:dataset"],
                ["loans", "data.dropped_columns"],
                name=select.__name__,
            ),
        ],
        "ingestion",
        {"ingestion", "training", "inference"},
    )
