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
    features_to_drop_for_application_only,
    features_to_drop_for_audit,
    measure_proxy_strength,
    plot_fairness,
    refit_champion_without,
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
                features_to_drop_for_audit,
                ["fitted_preprocessor", "params:dataset", "params:fairness"],
                "audit_dropped_features",
                name="features_to_drop_for_audit",
            ),
            Node(
                refit_champion_without,
                [
                    "audit_dropped_features",
                    "train_features",
                    "test_features",
                    "fitted_preprocessor",
                    "champion",
                    "params:dataset",
                    "params:training",
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
                features_to_drop_for_application_only,
                ["fitted_preprocessor", "params:dataset", "params:fairness"],
                "application_only_dropped_features",
                name="features_to_drop_for_application_only",
            ),
            Node(
                refit_champion_without,
                [
                    "application_only_dropped_features",
                    "train_features",
                    "test_features",
                    "fitted_preprocessor",
                    "champion",
                    "params:dataset",
                    "params:training",
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
