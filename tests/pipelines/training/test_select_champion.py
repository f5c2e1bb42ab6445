"""The champion is the best contender; an operating point that catches almost no defaults is not one."""

import pandas as pd

from loan_default.pipelines.training.nodes import select_champion
from tests.modelling.synthetic import training_params


def _cv(recalls: dict[str, float], aucs: dict[str, float]) -> pd.DataFrame:
    rows = [
        {"configuration": name, "fold": fold, "roc_auc": aucs[name] + 0.01 * fold,
         "expected_cost_per_loan": 800.0, "recall": recall}
        for name, recall in recalls.items()
        for fold in range(3)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _points(names) -> dict:
    return {
        name: {"model": name.split("/")[0], "strategy": name.split("/")[1], "threshold": 0.5,
               "threshold_rule": "fixed"}
        for name in names
    }  # fmt: skip


def test_a_configuration_catching_almost_no_defaults_is_never_champion():
    recalls = {"xgboost/none": 0.015, "xgboost/class_weight": 0.6}
    cv = _cv(recalls, {"xgboost/none": 0.75, "xgboost/class_weight": 0.70})
    champion = select_champion(cv, _points(recalls), training_params())
    assert champion["configuration"] == "xgboost/class_weight"


def test_when_every_configuration_catches_too_few_the_best_is_still_chosen():
    recalls = {"xgboost/none": 0.01, "xgboost/class_weight": 0.02}
    cv = _cv(recalls, {"xgboost/none": 0.75, "xgboost/class_weight": 0.70})
    assert select_champion(cv, _points(recalls), training_params())["configuration"] == (
        "xgboost/none"
    )
