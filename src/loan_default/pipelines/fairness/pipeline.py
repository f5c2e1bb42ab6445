"""Fairness: audit the champion by group (dataset.fairness), measure proxies, refit without
the audited columns and write the finding."""

from kedro.pipeline import Node, Pipeline

from loan_default.pipelines.stage import stage

from .nodes import (
    assign_audit_groups,
    audit_champion,
    compare_application_only,
    compare_reasons,
    compare_without_audited_columns,
    measure_proxy_strength,
    plot_fairness,
    score_application_only,
    score_without_audited_columns,
    write_fairness_finding,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the fairness stage."""
    return stage(
        [
            Node(
                assign_audit_groups,
                ["test_loans", "params:dataset"],
                "audit_groups",
                name="assign_audit_groups",
            ),
            Node(
                audit_champion,
                [
                    "test_predictions",
                    "champion",
                    "audit_groups",
                    "test_loans",
                    "params:dataset",
                    "params:fairness",
                ],
                ["fairness.fairness_audit", "fairness_metrics"],
                name="audit_champion",
            ),
            Node(
                measure_proxy_strength,
                [
                    "train_features",
                    "train_loans",
                    "fitted_preprocessor",
                    "params:dataset",
                    "params:fairness",
                ],
                "fairness.proxy_strength",
                name="measure_proxy_strength",
            ),
            Node(
                score_without_audited_columns,
                [
                    "train_features",
                    "test_features",
                    "fitted_preprocessor",
                    "champion",
                    "params:dataset",
                    "params:training",
                    "params:fairness",
                ],
                "scores_without_audited_columns",
                name="score_without_audited_columns",
            ),
            Node(
                compare_without_audited_columns,
                [
                    "test_predictions",
                    "scores_without_audited_columns",
                    "champion",
                    "audit_groups",
                    "test_loans",
                    "params:dataset",
                    "params:fairness",
                ],
                "fairness.fairness_trade_off",
                name="compare_without_audited_columns",
            ),
            Node(
                score_application_only,
                [
                    "train_features",
                    "test_features",
                    "fitted_preprocessor",
                    "champion",
                    "params:dataset",
                    "params:training",
                    "params:fairness",
                ],
                "scores_application_only",
                name="score_application_only",
            ),
            Node(
                compare_application_only,
                [
                    "test_predictions",
                    "scores_application_only",
                    "champion",
                    "test_loans",
                    "params:dataset",
                ],
                "fairness.application_only_comparison",
                name="compare_application_only",
            ),
            Node(
                compare_reasons,
                [
                    "test_features",
                    "test_predictions",
                    "champion",
                    "champion_model",
                    "scoring_profile",
                    "application_inputs",
                    "scorecard_model",
                    "baseline_operating_points",
                    "test_loans",
                    "params:dataset",
                    "params:score",
                ],
                "fairness.adverse_action_reasons",
                name="compare_reasons",
            ),
            Node(
                plot_fairness,
                ["fairness.fairness_audit", "params:fairness"],
                "fairness_by_group_plot",
                name="plot_fairness",
                tags={"reporting"},
            ),
            Node(
                write_fairness_finding,
                [
                    "fairness.fairness_audit",
                    "fairness.proxy_strength",
                    "fairness.fairness_trade_off",
                    "fairness.adverse_action_reasons",
                    "params:dataset",
                    "params:fairness",
                ],
                "fairness_finding",
                name="write_fairness_finding",
                tags={"reporting"},
            ),
        ],
        "fairness",
        {"fairness", "evaluation"},
    )
