"""Monitoring sample: the last stage of `loan` writes the out-of-time test loans scored by the
registered champion, with their outcomes, for `kedro run --pipeline monitor`."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import log_out_of_time_scores


def create_pipeline(**kwargs) -> Pipeline:
    """Build the monitoring-sample stage (after registration: the champion is the registry's,
    this run's model if promoted, else the incumbent)."""
    return stage(
        [
            Node(
                log_out_of_time_scores,
                [
                    "champion_registration",
                    "champion_package",
                    "incumbent_champion",
                    "test_loans",
                    "raw_test_loans",
                    "params:dataset",
                    "params:monitor",
                ],
                "out_of_time_monitoring_sample",
                name="log_out_of_time_scores",
            )
        ],
        "monitoring_sample",
        {"registration"},
    )
