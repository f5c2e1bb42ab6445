"""What a credit committee reads first: gains by decile, score stability, the summary, and
tables that show n/a (with why) instead of NaN under human headers."""

import numpy as np
import pandas as pd
import pytest

from loan_default import report
from loan_default.pipelines.reporting.nodes import (
    measure_score_stability,
    summarise_for_committee,
    tabulate_gains,
)
from loan_default.stability import ReferenceDistribution
from tests.modelling.synthetic import dataset_params, make_loans
from tests.params import block


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return make_loans(1000, seed=3, start="2011-01-01")


def _predictions(loans: pd.DataFrame, name: str, informative: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    target = loans["target"].to_numpy(dtype=float)
    score = np.clip(
        0.1 + (0.4 * target if informative else 0) + rng.normal(0, 0.1, len(loans)), 0, 1
    )
    return pd.DataFrame({"configuration": name, "row": np.arange(len(loans)), "score": score})


def test_gains_put_the_riskiest_tenth_first_and_add_up(loans):
    gains = tabulate_gains(_predictions(loans, "m/x"), {"configuration": "m/x"}, loans,
                           dataset_params())  # fmt: skip
    assert gains["decile"].tolist() == list(range(1, 11))
    assert gains["loans"].sum() == len(loans)
    assert gains["defaults"].sum() == int(loans["target"].sum())
    assert gains["mean_pd"].is_monotonic_decreasing
    assert gains["lift"].iloc[0] > 1.5 > gains["lift"].iloc[-1]
    assert gains["cumulative_share_of_defaults"].iloc[-1] == pytest.approx(1.0)


def test_score_stability_is_one_row_per_quarter_with_a_band(loans):
    train = make_loans(600, seed=4, start="2010-01-01")
    cv = _predictions(train, "m/x").assign(repeat=0, fold=0)
    test = _predictions(loans, "m/x")
    profile = type("Profile", (), {"score_reference": ReferenceDistribution.of(cv["score"])})()
    reports = block("features")["reports"]
    table = measure_score_stability(cv, test, {"configuration": "m/x"}, profile, train, loans,
                                    dataset_params(), reports)  # fmt: skip
    assert set(table["sample"]) == {"training (out of fold)", "test"}
    assert table.groupby("sample")["loans"].sum().to_dict() == {
        "training (out of fold)": len(train), "test": len(loans)
    }  # fmt: skip
    assert table["quarter"].str.match(r"^\d{4}Q[1-4]$").all()
    assert set(table["psi_band"]) <= {band["label"] for band in reports["psi_bands"]}


def test_summary_names_the_lift_over_the_best_ranked_baseline_and_the_limitations(loans):
    comparison = pd.DataFrame(
        {
            "configuration": ["m/x", "baseline/grade", "baseline/approve_everyone"],
            "rank": pd.array([1, 2, None], dtype="Int64"),
            "kind": ["model", "baseline", "baseline"],
            "threshold": [0.2, 0.5, 1.0],
            "test_roc_auc": [0.71, 0.66, 0.5],
            "test_pr_auc": [0.3, 0.25, 0.15],
            "test_approval_rate": [0.6, 0.7, 1.0],
            "test_recall": [0.6, 0.4, 0.0],
            "test_expected_cost_per_loan": [870.0, 960.0, 1400.0],
        }
    )
    gains = tabulate_gains(_predictions(loans, "m/x"), {"configuration": "m/x"}, loans,
                           dataset_params())  # fmt: skip
    split = pd.DataFrame({"split": ["train", "test"], "loans": [600, 400],
                          "first_date": ["2010-01-01", "2011-01-01"],
                          "last_date": ["2010-12-01", "2011-12-01"]})  # fmt: skip
    test_set = {"name": "out-of-time test set", "loans": "out-of-time test loans"}
    dataset = dataset_params() | {"population": "Accepted loans only"}
    summary = summarise_for_committee(comparison, {"configuration": "m/x"}, gains, split,
                                      test_set, dataset)  # fmt: skip
    assert summary["best_baseline"] == "baseline/grade"
    assert summary["approve_everyone_cost_per_loan"] == 1400.0
    assert summary["limitations"][0] == "Sample: Accepted loans only."
    assert "issued 2011-01-01 to 2011-12-01" in summary["limitations"][1]


def test_a_table_shows_n_a_with_why_under_human_headers():
    frame = pd.DataFrame({"cv_roc_auc_mean": [0.71, np.nan], "configuration": ["a", None]})
    html = report.table(frame, why_missing={"cv_roc_auc_mean": "a baseline has no folds"})
    assert "<th>CV ROC AUC mean</th>" in html and "cv_roc_auc_mean" not in html
    assert "nan" not in html.lower().replace("n/a", "") and "None" not in html
    assert html.count(">n/a<") == 2
    assert "CV ROC AUC mean: a baseline has no folds" in html
    assert html.startswith('<div class="scroll">')


def test_an_embedded_finding_loses_its_own_title_and_nests_its_headings():
    html = report.markdown("# Model finding\n\n## Against the baselines\n\ntext\n", drop_title=True)
    assert "Model finding" not in html
    assert "<h3>Against the baselines</h3>" in html
