"""Monitor: the champion's scored applications and their later outcomes, backtested per review
period (`kedro run --pipeline monitor`; docs/monitoring.md).

Every input is checked first (stage `monitor.inputs`); nothing is written, logged to MLflow or
tagged in the registry unless all checks pass.
"""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import (
    assess_discrimination,
    assess_periods,
    attach_outcomes,
    backtest_grades,
    check_review_periods,
    check_scoring_log,
    describe_monitoring_run,
    measure_stability,
    read_initial_validation,
    render_monitoring_report,
    tag_champion_version,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the monitoring pipeline: inputs -> backtest, stability -> reporting -> tracking,
    each stage nested as `monitor.<stage>` for kedro viz."""
    inputs = stage(
        [
            Node(
                check_scoring_log,
                ["scoring_log", "monitored_champion", "params:monitor", "params:dataset"],
                "scoring_log_periods",
                name="check_scoring_log",
            ),
            Node(
                attach_outcomes,
                ["scoring_log_periods", "loan_outcomes", "monitored_champion", "params:monitor"],
                "monitoring_sample",
                name="attach_outcomes",
            ),
            Node(
                check_review_periods,
                ["monitoring_sample", "params:monitor"],
                "review_periods",
                name="check_review_periods",
            ),
            Node(
                read_initial_validation,
                ["monitored_champion", "monitored_version", "params:monitor"],
                "initial_validation",
                name="read_initial_validation",
            ),
        ],
        "inputs",
    )
    backtest = stage(
        [
            Node(
                assess_discrimination,
                ["monitoring_sample", "review_periods", "initial_validation", "params:monitor"],
                "monitor_discrimination",
                name="assess_discrimination",
            ),
            Node(
                backtest_grades,
                ["monitoring_sample", "params:rating"],
                "grade_backtest",
                name="backtest_grades",
            ),
            Node(
                measure_stability,
                ["scoring_log_periods", "monitored_champion", "params:monitor"],
                "population_stability",
                name="measure_stability",
            ),
        ],
        "backtest",
    )
    reporting = stage(
        [
            Node(
                assess_periods,
                [
                    "review_periods",
                    "monitor_discrimination",
                    "grade_backtest",
                    "population_stability",
                    "monitoring_sample",
                    "params:rating",
                ],
                ["monitor_summary", "monitor_metrics", "monitor_backtest", "monitor_stability"],
                name="assess_periods",
            ),
            Node(
                render_monitoring_report,
                [
                    "monitor_summary",
                    "monitor_backtest",
                    "monitor_stability",
                    "initial_validation",
                    "params:monitor",
                    "params:rating",
                ],
                "monitoring_report",
                name="render_monitoring_report",
            ),
        ],
        "reporting",
    )
    tracking = stage(
        [
            Node(
                describe_monitoring_run,
                [
                    "monitor_summary",
                    "monitor_metrics",
                    "monitor_backtest",
                    "monitor_stability",
                    "monitoring_report",
                    "initial_validation",
                    "params:monitor",
                ],
                "monitoring_run",
                name="describe_monitoring_run",
            ),
            Node(
                tag_champion_version,
                ["monitoring_run", "initial_validation", "monitor_summary"],
                "champion_monitoring_tags",
                name="tag_champion_version",
            ),
        ],
        "tracking",
    )
    return stage(inputs + backtest + reporting + tracking, "monitor", {"monitor"})
