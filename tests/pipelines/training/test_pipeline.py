"""Baselines, training and evaluation wired together on synthetic loans (in-memory catalog)."""

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from loan_default.pipelines.baselines import create_pipeline as baselines_pipeline
from loan_default.pipelines.evaluation import create_pipeline as evaluation_pipeline
from loan_default.pipelines.split.nodes import assign_cv_folds, describe_test_set
from loan_default.pipelines.training import create_pipeline as training_pipeline
from tests.modelling.synthetic import (
    baselines_params,
    dataset_params,
    evaluation_params,
    fitted_standins,
    make_loans,
    training_params,
)
from tests.params import block


class KeptDataset(MemoryDataset):
    """In-memory dataset the runner cannot release, so intermediates can be inspected."""

    def _release(self) -> None:
        pass


def _run(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    preprocessor, binning = fitted_standins(train)
    train_features = preprocessor.fit_transform(train, train["target"]).assign(
        target=train["target"].to_numpy()
    )
    folds, comparison_folds = assign_cv_folds(train, dataset_params(), training_params())
    catalog = DataCatalog(
        {
            "cv_folds": MemoryDataset(folds),
            "comparison_cv_folds": MemoryDataset(comparison_folds),
            "train_loans": MemoryDataset(train),
            "test_loans": MemoryDataset(test),
            "test_set": MemoryDataset(describe_test_set(dataset_params(), block("split"))),
            "train_features": MemoryDataset(train_features),
            "test_features": MemoryDataset(preprocessor.transform(test)),
            "fitted_preprocessor": MemoryDataset(preprocessor, copy_mode="assign"),
            "binning_process": MemoryDataset(binning, copy_mode="assign"),
            "params:dataset": MemoryDataset(dataset_params()),
            "params:training": MemoryDataset(training_params()),
            "params:baselines": MemoryDataset(baselines_params()),
            "params:evaluation": MemoryDataset(evaluation_params()),
        }
    )
    pipeline = baselines_pipeline() + training_pipeline() + evaluation_pipeline()
    for name in pipeline.datasets() - set(catalog.keys()):
        catalog[name] = KeptDataset(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog[name].load() for name in catalog.keys() if not name.startswith("params")}


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return make_loans(450, seed=11)


@pytest.fixture(scope="module")
def outputs(train) -> dict:
    return _run(train, make_loans(300, seed=12, start="2011-01-01"))


@pytest.fixture(scope="module")
def outputs_other_test(train) -> dict:
    return _run(train, make_loans(250, seed=13, start="2011-01-01"))


def test_comparison_has_every_configuration_and_baseline_ranked(outputs):
    comparison = outputs["evaluation.strategy_comparison"]
    assert (comparison["kind"] == "model").sum() == 15
    assert {"baseline/approve_everyone", "baseline/woe_scorecard", "baseline/any_rule"} <= set(
        comparison["configuration"]
    )
    ranked = comparison[comparison["rank"].notna()]
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["cv_roc_auc_mean"].is_monotonic_decreasing
    flagged = comparison.iloc[len(ranked) :]
    assert flagged["rank"].isna().all(), "flagged rows come last, without a rank"
    assert "baseline/approve_everyone" in set(flagged["configuration"])
    assert flagged["flag"].str.startswith("catches").all()
    champion = outputs["champion"]["configuration"]
    assert comparison.iloc[0]["configuration"] == champion


def test_threshold_and_champion_do_not_depend_on_the_test_set(outputs, outputs_other_test):
    assert outputs["operating_points"] == outputs_other_test["operating_points"]
    assert outputs["baseline_operating_points"] == outputs_other_test["baseline_operating_points"]
    assert outputs["champion"] == outputs_other_test["champion"]
    pd.testing.assert_frame_equal(outputs["cv_results"], outputs_other_test["cv_results"])


def test_champion_model_scores_a_loans_frame_like_its_test_predictions(outputs):
    test, name = outputs["test_loans"], outputs["champion"]["configuration"]
    model = outputs["champion_model"]
    predictions = outputs["test_predictions"]
    expected = predictions[predictions["configuration"] == name].sort_values("row")
    np.testing.assert_allclose(model.predict_proba(test)[:, 1], expected["score"].to_numpy())
    assert model.threshold == pytest.approx(outputs["champion"]["threshold"])
    rejects = expected["score"].to_numpy() >= model.threshold
    np.testing.assert_array_equal(model.predict(test), rejects.astype(int))


def test_approve_everyone_catches_no_default(outputs):
    metrics = outputs["test_metrics"].set_index("configuration").loc["baseline/approve_everyone"]
    assert metrics["recall"] == 0.0 and metrics["approval_rate"] == 1.0
    assert metrics["accuracy"] == pytest.approx(1 - outputs["test_loans"]["target"].mean())


def test_tidy_results_and_flat_champion_metrics(outputs):
    cv_results = outputs["cv_results"]
    assert len(cv_results) == 15 * 3
    assert {"configuration", "model", "strategy", "repeat", "fold", "roc_auc"} <= set(cv_results)
    champion_metrics = outputs["champion_metrics"]
    assert all(isinstance(value, int | float | str) for value in champion_metrics.values())
    assert {"threshold", "cv_roc_auc_mean", "cv_roc_auc_std", "test_roc_auc"} <= set(
        champion_metrics
    )


def test_reports_are_written_from_the_numbers(outputs):
    for name in (
        "roc_curves_plot",
        "pr_curves_plot",
        "calibration_curves_plot",
        "metric_by_strategy_plot",
    ):
        assert isinstance(outputs[name], Figure)
    assert isinstance(outputs["champion_confusion_matrix_plot"], Figure)
    finding = outputs["model_finding"]
    assert outputs["champion"]["configuration"] in finding
    assert "baseline/grade_score" in finding
    assert "smote" in finding
    assert outputs["strategy_comparison_md"].count("\n|") >= 15
