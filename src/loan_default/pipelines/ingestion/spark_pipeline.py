"""Ingestion on the Spark engine (`--env spark`): the stage of `pipeline.py`, node for node, with
the Spark functions of `spark_nodes.py`. Same datasets, same meaning: `parsed_loans` ... `loans`
are Spark DataFrames here, pandas DataFrames there."""

from kedro.pipeline import Pipeline

from .pipeline import ingestion_stage
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
    return ingestion_stage(
        parse_raw_loans_on_spark,
        handle_duplicates_on_spark,
        describe_raw_data_on_spark,
        derive_target_on_spark,
        add_derived_features_on_spark,
        select_application_columns_on_spark,
    )
