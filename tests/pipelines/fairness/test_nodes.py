"""Fairness stage nodes on small frames: views, groups, the audit table and its finding."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.baselines import make_scorecard
from loan_default.modelling.champion import (
    build_champion,
    default_probability,
    preprocessor_of,
)
from loan_default.modelling.reasons import ReasonExplainer
from loan_default.modelling.registry import MODELS
from loan_default.pipelines.fairness.nodes import (
    assign_audit_groups,
    audit_champion,
    audit_views,
    compare_reasons,
    compare_without_audited_columns,
    write_fairness_finding,
)
from loan_default.preprocessing.binning import OptimalWoEBinning
from loan_default.profile import typical_row, typical_values
from tests.modelling.test_reasons import HomeOneHot
from tests.params import block

DATASET = block(
    "dataset",
    {
        "target": {"output_column": "is_default"},
        "fairness": {
            "protected_columns": {"age": "a prohibited basis"},
            "audit_columns": {"state": "geography"},
            "groupings": {
                "region": {"column": "state", "groups": {"West": ["CA", "OR"]}},
                "age": {"bands": [30]},
            },
            "min_group_size": 4,
        },
    },
)
FAIRNESS = block("fairness", {"n_boot": 50})


@pytest.fixture
def test_loans() -> pd.DataFrame:
    """Ten Californians approved 8 times in 10, five Texans 2 in 5, one Oregonian."""
    return pd.DataFrame(
        {
            "state": ["CA"] * 10 + ["TX"] * 5 + ["OR"],
            "age": [25, 40] * 8,
            "is_default": [0, 0, 0, 0, 0, 0, 0, 1, 1, 1] + [0, 0, 1, 1, 1] + [0],
        }
    )


@pytest.fixture
def predictions() -> pd.DataFrame:
    scores = [0.1] * 8 + [0.9] * 2 + [0.1] * 2 + [0.9] * 3 + [0.1]
    frame = pd.DataFrame({"configuration": "m/s", "row": range(16), "score": scores})
    other = frame.assign(configuration="other", score=0.5)
    return pd.concat([other, frame.sample(frac=1, random_state=0)], ignore_index=True)


CHAMPION = {"configuration": "m/s", "threshold": 0.5}


def test_views_cover_each_column_by_its_own_values_and_by_every_named_grouping():
    views = audit_views(DATASET)
    assert list(views) == ["age", "region", "state"]
    assert views["region"][0] == "state" and views["age"][1]["bands"] == [30]


def test_every_test_loan_gets_a_group_in_every_view(test_loans):
    groups = assign_audit_groups(test_loans, DATASET)
    assert groups["region"].tolist() == ["West"] * 10 + ["other"] * 5 + ["West"]
    assert set(groups["age"]) == {"under 30", "30 and over"}


def test_the_audit_reads_the_champion_scores_by_row(test_loans, predictions):
    groups = assign_audit_groups(test_loans, DATASET)
    audit, metrics = audit_champion(predictions, CHAMPION, groups, test_loans, DATASET, FAIRNESS)
    state = audit[audit["view"] == "state"].set_index("group")
    assert state.loc["CA", "approval_rate"] == pytest.approx(0.8)
    assert state.loc["TX", "adverse_impact_ratio"] == pytest.approx(0.4 / 0.8)
    assert bool(state.loc["TX", "below_four_fifths"])
    assert state.loc["OR", "verdict"] == "too small to judge"
    assert metrics["fairness.state.worst_adverse_impact_ratio"]["value"] == pytest.approx(0.5)
    assert set(audit["column"]) == {"age", "state"}


def test_the_finding_names_the_worst_group_and_the_trade_off(test_loans, predictions):
    groups = assign_audit_groups(test_loans, DATASET)
    audit, _ = audit_champion(predictions, CHAMPION, groups, test_loans, DATASET, FAIRNESS)
    without = pd.DataFrame({"row": range(16), "score": np.full(16, 0.1)})
    trade_off = compare_without_audited_columns(
        predictions, without, CHAMPION, groups, test_loans, DATASET, FAIRNESS
    )
    assert trade_off.set_index("variant").loc["change", "approval_rate"] == pytest.approx(
        1 - 11 / 16
    )
    proxy = pd.DataFrame(columns=["view"])
    reasons = pd.DataFrame(
        {"scorecard_rejects": [True, True, False], "first_reason_in_scorecard_reasons": [1, 0, 0]}
    )
    finding = write_fairness_finding(audit, proxy, trade_off, reasons, DATASET, FAIRNESS)
    assert "of the 3 test loans the champion rejects, the WoE scorecard rejects 2; for 50%" in (
        finding
    )
    assert "Protected columns, never model inputs: age." in finding
    assert "the lowest adverse impact ratio is 0.50 (TX" in finding
    assert "Below four-fifths: TX." in finding
    assert "Refitted without state" in finding
    assert "does not by itself show discrimination" in finding


def test_reasons_of_the_champion_sit_beside_the_scorecards_where_both_reject():
    rng = np.random.default_rng(5)
    n = 3000
    loans = pd.DataFrame(
        {
            "utilisation": rng.uniform(0, 1, n),
            "noise": rng.normal(size=n),
            "home": rng.choice(["OWN", "RENT"], n),
        }
    )
    log_odds = -2.5 + 2.5 * (loans["utilisation"] > 0.5) + 1.2 * (loans["home"] == "RENT")
    loans["is_default"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-log_odds))).astype(int)
    dataset = block("dataset", {"target": {"output_column": "is_default"}})
    preprocess = HomeOneHot().fit(loans)
    linear = MODELS["logistic_regression"].build({"C": 1.0, "max_iter": 500}, 0, 1)
    linear.fit(preprocess.transform(loans), loans["is_default"])
    model = build_champion(preprocess, None, linear, None, 0.3)
    features = preprocessor_of(model).transform(loans)
    approved = default_probability(model, features) < model.threshold
    typical = typical_values(loans[approved], dataset)
    explainer = ReasonExplainer.fit(
        linear, preprocess, features[approved], typical_row(loans, typical)
    )
    profile = SimpleNamespace(typical_values=typical, explainer=explainer)
    scorecard = make_scorecard(
        OptimalWoEBinning(exclude=("is_default",)),
        block("baselines", {"scorecard": {"model_params": {"max_iter": 1000}}})["scorecard"],
    ).fit(loans.drop(columns="is_default"), loans["is_default"])
    points = {"baseline/woe_scorecard": {"threshold": 0.3}}
    score = block("score")

    predictions = pd.DataFrame(
        {"configuration": "m/s", "row": range(n), "score": default_probability(model, features)}
    )
    inputs = {"utilisation": "numeric", "noise": "numeric", "home": "category"}
    table = compare_reasons(
        features, predictions, {"configuration": "m/s", "threshold": 0.3}, model, profile,
        inputs, scorecard, points, loans, dataset, score,
    )  # fmt: skip
    rejected = np.flatnonzero(default_probability(model, features) >= 0.3)
    assert table["row"].tolist() == rejected.tolist()
    assert (table["reason_1"] != "").all()
    scorecard_rejects = scorecard.predict_proba(loans.iloc[rejected])[:, 1] >= 0.3
    assert table["scorecard_rejects"].tolist() == scorecard_rejects.tolist()
    assert (table.loc[~table["scorecard_rejects"], "scorecard_reason_1"] == "").all()
    both = table[table["scorecard_rejects"]]
    assert both["first_reason_in_scorecard_reasons"].mean() > 0.8, "the same drivers"
    assert not table.loc[~table["scorecard_rejects"], "first_reason_in_scorecard_reasons"].any()
    assert set(table["reason_1_column"]) <= {"utilisation", "home", "noise"}
    assert table["reason_coverage"].between(0, 1).all()
    nobody = compare_reasons(
        features, predictions, {"configuration": "m/s", "threshold": 1.01}, model, profile,
        inputs, scorecard, points, loans, dataset, score,
    )  # fmt: skip
    assert nobody.empty and "scorecard_reason_1" in nobody, "a champion rejecting no one"
    # Home ownership never a reason: neither the champion's nor the scorecard's cite it, and
    # the coverage says how much of each rejection the reasons left carry.
    policy = dataset | {"reasons": {"never_reasons": {"home": "a test"}, "riskier": {}}}
    without = compare_reasons(
        features, predictions, {"configuration": "m/s", "threshold": 0.3}, model, profile,
        inputs, scorecard, points, loans, policy, score,
    )  # fmt: skip
    cited = without.filter(regex=r"^reason_\d_column$").to_numpy()
    assert "home" not in cited and "home" in table[["reason_1_column", "reason_2_column"]].values
    assert "home" not in without.filter(regex=r"^scorecard_reason_\d$").to_numpy()
    assert (without["reason_coverage"] <= table["reason_coverage"] + 1e-9).all()
