"""Features: the fitted model preprocessor and WoE binning, model inputs and binning reports."""

from kedro.pipeline import Node, Pipeline

from loan_default.config.names import EXCLUSIVE
from loan_default.pipelines.stage import stage

from .nodes import (
    fit_binning,
    fit_preprocessor,
    measure_feature_stability,
    measure_text_stability,
    plot_woe,
    rank_features,
    tabulate_bins,
    tabulate_text_fill_rates,
    transform_loans,
    woe_transform,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the features stage."""
    return stage(
        [
            Node(
                fit_preprocessor,
                [
                    "train_loans",
                    "params:dataset",
                    "params:data_quality",
                    "params:features.encoding",
                    "params:features.text",
                ],
                ["fitted_preprocessor", "train_features"],
                name="fit_preprocessor",
                # Alone, with the BLAS threads of a sequential run (loan_default.runner).
                tags={EXCLUSIVE},
            ),
            Node(
                transform_loans,
                ["fitted_preprocessor", "test_loans", "params:dataset"],
                "test_features",
                name="transform_test_loans",
                tags={"inference"},
            ),
            Node(
                fit_binning,
                ["train_loans", "params:dataset", "params:features.binning"],
                "binning_process",
                name="fit_binning",
            ),
            Node(
                woe_transform,
                ["binning_process", "train_loans", "params:dataset"],
                "train_woe",
                name="woe_transform_train_loans",
            ),
            Node(
                woe_transform,
                ["binning_process", "test_loans", "params:dataset"],
                "test_woe",
                name="woe_transform_test_loans",
                tags={"inference"},
            ),
            Node(
                measure_feature_stability,
                ["binning_process", "train_loans", "test_loans", "params:features.reports"],
                "features.feature_stability",
                name="measure_feature_stability",
                tags={"reporting"},
            ),
            Node(
                measure_text_stability,
                [
                    "fitted_preprocessor",
                    "train_features",
                    "test_features",
                    "params:features.reports",
                ],
                "features.text_feature_stability",
                name="measure_text_stability",
                tags={"reporting"},
            ),
            Node(
                tabulate_text_fill_rates,
                ["fitted_preprocessor", "train_loans", "test_loans", "params:dataset"],
                "features.text_fill_rates",
                name="tabulate_text_fill_rates",
                tags={"reporting"},
            ),
            Node(
                rank_features,
                ["binning_process", "features.feature_stability", "params:features.reports"],
                "features.iv_ranking",
                name="rank_features",
                tags={"reporting"},
            ),
            Node(
                tabulate_bins,
                "binning_process",
                "features.binning_tables",
                name="tabulate_bins",
                tags={"reporting"},
            ),
            Node(
                plot_woe,
                ["binning_process", "features.iv_ranking", "params:features.reports"],
                "woe_plot",
                name="plot_woe",
                tags={"reporting"},
            ),
        ],
        "features",
        {"features", "training"},
    )
