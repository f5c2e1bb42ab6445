"""The real ingestion, split, data-quality and features stages on the full bundled data."""

import pandas as pd
import pytest

from loan_default.pipelines.data_quality import create_pipeline as data_quality_pipeline
from loan_default.pipelines.features import create_pipeline as features_pipeline
from loan_default.pipelines.ingestion import create_pipeline as ingestion_pipeline
from loan_default.pipelines.split import create_pipeline as split_pipeline
from tests.conftest import RAW_LOANS
from tests.kedro_helpers import run_in_memory


@pytest.fixture(scope="package")
def real_outputs(project_params: dict) -> dict:
    """Every dataset the four stages produce from the bundled LendingClub file (~5 s)."""
    pipeline = ingestion_pipeline() + split_pipeline() + data_quality_pipeline()
    pipeline += features_pipeline()
    inputs = {
        "raw_loans": pd.read_csv(RAW_LOANS, low_memory=False),
        "params:dataset": project_params["dataset"],
        "params:split": project_params["split"],
        "params:training": project_params["training"],
        "params:data_quality": project_params["data_quality"],
        **{f"params:features.{key}": value for key, value in project_params["features"].items()},
    }
    return run_in_memory(pipeline, inputs)
