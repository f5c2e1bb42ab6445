"""Registration: the last stage of `loan`. The champion is logged as a self-contained MLflow
model, compared with the registry's current champion on this run's test set, and registered."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.run_record import summarise_run
from loan_default.pipelines.stage import stage

from .nodes import (
    build_scoring_profile,
    decide_promotion,
    describe_application_inputs,
    package_champion,
    register_champion,
    request_registration,
    select_raw_test_loans,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the registration stage."""
    # What scoring needs from training has its own namespace: the fairness stage reads it too,
    # and one namespace cannot run both before and after another (Kedro warns it "interrupted").
    scoring_profile = stage(
        [
            Node(
                build_scoring_profile,
                [
                    "train_loans",
                    "champion_model",
                    "features.iv_ranking",
                    "application_inputs",
                    "params:dataset",
                    "params:score",
                ],
                "scoring_profile",
                name="build_scoring_profile",
            ),
            Node(
                describe_application_inputs,
                ["raw_loans", "train_loans", "column_types", "params:dataset"],
                ["application_inputs", "application_example"],
                name="describe_application_inputs",
            ),
        ],
        "scoring_profile",
        {"registration"},
    )
    registration = stage(
        [
            Node(
                package_champion,
                [
                    "champion_model",
                    "scoring_profile",
                    "application_inputs",
                    "application_example",
                    "params:dataset",
                    "params:score",
                    "rating_scale",
                ],
                "champion_package",
                name="package_champion",
            ),
            Node(
                select_raw_test_loans,
                ["raw_loans", "test_loans"],
                "raw_test_loans",
                name="select_raw_test_loans",
            ),
            Node(
                decide_promotion,
                [
                    "champion_package",
                    "incumbent_champion",
                    "test_loans",
                    "raw_test_loans",
                    "params:dataset",
                    "params:registry",
                ],
                ["promotion_decision", "promotion_metrics"],
                name="decide_promotion",
            ),
            Node(
                summarise_run,
                ["champion_metrics", "promotion_decision"],
                ["run_summary", "run_description"],
                name="summarise_run",
            ),
            Node(
                request_registration,
                [
                    "champion_package",
                    "promotion_decision",
                    "champion_metrics",
                    "raw_data_input",
                    "run_summary",
                    "loan_report",
                ],
                "registration_request",
                name="request_registration",
            ),
            Node(
                register_champion,
                ["registration_request", "registry_target"],
                "champion_registration",
                name="register_champion",
            ),
        ],
        "registration",
        {"registration"},
    )
    return scoring_profile + registration
