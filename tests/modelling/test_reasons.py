"""Adverse-action reasons: exact contributions, ranking, wording, and what may never be a reason."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import FixedThresholdClassifier
from xgboost import XGBClassifier

from loan_default.modelling.baselines import make_scorecard
from loan_default.modelling.champion import (
    build_champion,
    default_probability,
    model_of,
    preprocessor_of,
)
from loan_default.modelling.ensemble import AveragedClassifier
from loan_default.modelling.reasons import (
    ReasonExplainer,
    Wording,
    describe_reasons,
    risk_sides,
    scorecard_points_below_maximum,
    top_reasons,
)
from loan_default.modelling.registry import MODELS
from loan_default.preprocessing.binning import OptimalWoEBinning
from loan_default.preprocessing.text import TextFeatures

LABELS = {"utilisation": "Revolving utilisation", "home": "Home ownership"}


class HomeOneHot(TransformerMixin, BaseEstimator):
    """Numeric columns as they are, `home` one-hot: several encoded columns, one input column."""

    def fit(self, X, y=None):
        self.homes_ = sorted(X["home"].unique())
        self.numeric_ = [c for c in X.columns if c not in ("home", "is_default")]
        homes = {f"home_{h}": "home" for h in self.homes_}
        self.source_columns_ = {c: c for c in self.numeric_} | homes
        return self

    def transform(self, X):
        out = X[self.numeric_].astype(float).copy()
        for home in self.homes_:
            out[f"home_{home}"] = (X["home"] == home).astype(float)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(list(self.source_columns_), dtype=object)


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    """Default risk rises with utilisation above 0.5 and for renters; `noise` carries none."""
    rng = np.random.default_rng(3)
    n = 4000
    frame = pd.DataFrame(
        {
            "utilisation": rng.uniform(0, 1, n),
            "income": rng.lognormal(10.5, 0.4, n),
            "noise": rng.normal(size=n),
            "home": rng.choice(["OWN", "RENT"], n),
        }
    )
    log_odds = -2.5 + 2.5 * (frame["utilisation"] > 0.5) + 1.2 * (frame["home"] == "RENT")
    frame["is_default"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-log_odds))).astype(int)
    return frame


def champion(loans: pd.DataFrame, model: BaseEstimator) -> FixedThresholdClassifier:
    preprocess = HomeOneHot().fit(loans)
    model.fit(preprocess.transform(loans), loans["is_default"])
    return build_champion(preprocess, None, model, None, threshold=0.3)


def explainer_for(
    model: FixedThresholdClassifier, loans: pd.DataFrame, **kwargs
) -> ReasonExplainer:
    features = preprocessor_of(model).transform(loans)
    approved = default_probability(model, features) < model.threshold
    typical = (
        loans[approved]
        .iloc[[0]]
        .assign(
            utilisation=loans.loc[approved, "utilisation"].median(),
            income=loans.loc[approved, "income"].median(),
            noise=0.0,
            home="OWN",
        )
    )
    return ReasonExplainer.fit(
        model_of(model), preprocessor_of(model), features[approved], typical, **kwargs
    )


def xgboost() -> XGBClassifier:
    return XGBClassifier(n_estimators=60, max_depth=2, learning_rate=0.3, n_jobs=1, random_state=0)


@pytest.mark.parametrize("exact", [False, True], ids=["per-path", "TreeSHAP"])
def test_xgboost_contributions_add_up_and_are_summed_back_to_the_input_column(loans, exact):
    model = champion(loans, xgboost())
    explainer = explainer_for(model, loans, exact=exact)
    contributions = explainer.contributions(preprocessor_of(model).transform(loans))
    assert list(contributions.columns) == ["utilisation", "income", "noise", "home"]
    # pred_contribs add up to the log-odds: per row, the contributions add up to the change
    # in log-odds from the approved applicants' mean, scaled by the slope p(1 - p).
    features = preprocessor_of(model).transform(loans)
    probability = model_of(model).predict_proba(features)[:, 1]
    log_odds = np.log(probability / (1 - probability))
    approved = default_probability(model, features) < model.threshold
    expected = probability * (1 - probability) * (log_odds - log_odds[approved].mean())
    assert contributions.sum(axis=1).to_numpy() == pytest.approx(expected, abs=1e-4)


def test_reasons_follow_the_direction_of_the_model_and_read_as_a_notice(loans):
    model = champion(loans, xgboost())
    explainer = explainer_for(model, loans)
    applicants = pd.DataFrame(
        {"utilisation": [0.97, 0.2], "income": [36000.0, 36000.0], "noise": 0.0},
    ).assign(home=["RENT", "OWN"], is_default=0)
    contributions = explainer.contributions(preprocessor_of(model).transform(applicants))
    typical = {"utilisation": 0.31, "income": 36000.0, "home": "OWN"}
    wording = Wording(labels=LABELS, percent_columns=frozenset({"utilisation"}), typical=typical)
    reasons = describe_reasons(contributions, applicants, wording, count=4)
    first_two = {reasons.loc[0, "reason_1"], reasons.loc[0, "reason_2"]}
    assert first_two == {
        "Revolving utilisation 97% — higher than typical approved applicants (31%)",
        "Home ownership RENT — typical approved applicants: OWN",
    }
    # Ranked by contribution, each one positive (raising the PD); the rest left blank.
    values = reasons.loc[0, [f"reason_{k}_contribution" for k in range(1, 5)]].to_numpy()
    assert values[0] >= values[1] > 0 and all(values[:2] > 0)
    assert reasons.loc[0, "reason_1_contribution"] == pytest.approx(
        contributions.loc[0].max(), abs=1e-4
    )
    assert reasons.loc[1, "reason_1"] in ("", *[r for r in reasons.loc[1] if "noise" in str(r)])


def test_every_named_reason_raises_the_pd_and_utilisation_reads_higher(loans):
    """Across rejected applicants: a reason is never a column that lowered the PD, and the
    wording of the planted driver always points the way the model does."""
    model = champion(loans, xgboost())
    explainer = explainer_for(model, loans)
    features = preprocessor_of(model).transform(loans)
    rejected = loans[default_probability(model, features) >= model.threshold].reset_index(drop=True)
    contributions = explainer.contributions(preprocessor_of(model).transform(rejected))
    names, values = top_reasons(contributions, 4)
    for row in range(len(rejected)):
        for name, value in zip(names[row], values[row], strict=True):
            if name:
                assert value > 0 and contributions.loc[row, name] == pytest.approx(value)
    approved_median = loans.loc[default_probability(model, features) < 0.3, "utilisation"].median()
    wording = Wording(typical={"utilisation": approved_median})
    reasons = describe_reasons(contributions, rejected, wording, count=4)
    utilisation = reasons["reason_1"].str.startswith("utilisation")
    assert utilisation.sum() > 10
    assert reasons.loc[utilisation, "reason_1"].str.contains("higher than").all()


def test_a_protected_or_excluded_column_is_never_a_reason(loans):
    model = champion(loans, xgboost())
    explainer = explainer_for(model, loans, excluded=["home"])
    contributions = explainer.contributions(preprocessor_of(model).transform(loans.head(200)))
    assert "home" not in contributions.columns
    names, _ = top_reasons(contributions, 4)
    assert "home" not in set(names.ravel())


def test_logistic_regression_and_an_ensemble_are_explained_exactly_too(loans):
    """A linear model's contributions are exact; an ensemble's are its members', averaged."""
    linear = MODELS["logistic_regression"].build({"C": 1.0, "max_iter": 500}, 0, 1)
    for estimator in (linear, AveragedClassifier([linear, xgboost()])):
        model = champion(loans, estimator)
        explainer = explainer_for(model, loans)
        assert explainer.baselines is not None, "additive: no occlusion needed"
        contributions = explainer.contributions(preprocessor_of(model).transform(loans.head(500)))
        top = contributions.mean().sort_values(ascending=False)
        assert set(top.index[:2]) == {"utilisation", "home"}
        assert abs(contributions["noise"]).mean() < abs(contributions["utilisation"]).mean() / 5


def test_other_models_fall_back_to_occlusion_against_the_typical_approved_applicant(loans):
    forest = MODELS["random_forest"].build({"n_estimators": 30, "max_depth": 4}, 0, 1)
    model = champion(loans, forest)
    explainer = explainer_for(model, loans)
    assert explainer.baselines is None and explainer.reference is not None
    applicant = loans.head(1).assign(utilisation=0.95, home="RENT")
    contributions = explainer.contributions(preprocessor_of(model).transform(applicant))
    assert contributions.loc[0, "utilisation"] > 0.05
    assert contributions.loc[0, "utilisation"] > abs(contributions.loc[0, "noise"])


@pytest.fixture(scope="module")
def scorecard(loans):
    binning = OptimalWoEBinning(exclude=("is_default",), min_bin_size=0.05)
    points = {"pdo": 20, "base_odds": 50, "base_points": 600}
    card = make_scorecard(binning, {"model_params": {"C": 1.0, "max_iter": 1000}, "points": points})
    return card.fit(loans.drop(columns="is_default"), loans["is_default"])


def test_scorecard_reasons_are_points_below_the_best_attribute(loans, scorecard):
    shortfall = scorecard_points_below_maximum(scorecard, loans.drop(columns="is_default"))
    assert list(shortfall.columns) == ["utilisation", "income", "noise", "home"]
    assert (shortfall >= 0).all().all()
    # The best attribute of each characteristic scores its full points: 0 below maximum.
    assert np.allclose(shortfall.min(), 0.0, atol=1e-9)
    # Points are pdo / ln 2 per unit of log-odds: by hand for one applicant and characteristic,
    # from the same binning fitted on its own and the scorecard's coefficient.
    binning = OptimalWoEBinning(exclude=("is_default",), min_bin_size=0.05)
    binning.fit(loans, loans["is_default"])
    woe = binning.transform(loans.head(1))
    coefficient = scorecard.scorecard_.estimator_.coef_[0][list(woe.columns).index("utilisation")]
    tables = binning.binning_tables()
    best = min(0.0, (tables.loc[tables["feature"] == "utilisation", "woe"] * coefficient).min())
    by_hand = (coefficient * woe.loc[0, "utilisation"] - best) * 20 / np.log(2)
    assert shortfall.loc[0, "utilisation"] == pytest.approx(max(by_hand, 0.0))


def test_scorecard_ranks_a_high_utilisation_renter_by_those_two(loans, scorecard):
    applicant = pd.DataFrame(
        {"utilisation": [0.97], "income": [36000.0], "noise": [0.0], "home": ["RENT"]}
    )
    shortfall = scorecard_points_below_maximum(scorecard, applicant)
    reasons = describe_reasons(shortfall, applicant, Wording(labels=LABELS), count=4)
    assert {reasons.loc[0, "reason_1"], reasons.loc[0, "reason_2"]} == {
        "Revolving utilisation 0.97",
        "Home ownership RENT",
    }
    assert reasons.loc[0, "reason_1_contribution"] > 10, "tens of points, not fractions"


def test_a_batch_without_rejections_has_no_contributions_to_compute(loans):
    for estimator in (xgboost(), MODELS["random_forest"].build({"n_estimators": 5}, 0, 1)):
        model = champion(loans, estimator)
        contributions = explainer_for(model, loans).contributions(
            preprocessor_of(model).transform(loans.head(0))
        )
        assert contributions.shape == (0, 4)
        reasons = describe_reasons(contributions, loans.head(0), Wording(), count=4)
        assert list(reasons.columns)[:2] == ["reason_1", "reason_1_contribution"]


def test_a_rejection_at_a_probability_of_exactly_one_still_gets_its_reasons(loans):
    """p(1 - p) is 0 at PD 1.0 in floating point: the reasons keep their log-odds order."""
    linear = MODELS["logistic_regression"].build({"C": 1.0, "max_iter": 500}, 0, 1)
    model = champion(loans, linear)
    explainer = explainer_for(model, loans)
    absurd = loans.head(3).assign(utilisation=1e6, home="RENT")  # log-odds in the millions
    features = preprocessor_of(model).transform(absurd)
    assert (default_probability(model, features) == 1.0).all()
    contributions = explainer.contributions(features)
    names, _ = top_reasons(contributions, 2)
    assert (names[:, 0] == "utilisation").all()
    assert (names != "").all(axis=1).any()


def test_a_value_the_typical_approved_applicant_has_is_never_a_reason_the_next_one_is():
    """State CA raised this applicant's PD, but CA is the typical approved applicant's state: a
    notice cannot cite it, so the next driver takes its place; coverage says what is left out."""
    contributions = pd.DataFrame(
        {"state": [0.05, 0.05], "utilisation": [0.03, 0.03], "income": [0.02, -0.01]}
    )
    applicants = pd.DataFrame(
        {"state": ["CA", "NY"], "utilisation": [0.9, 0.9], "income": [30000.0, 30000.0]}
    )
    wording = Wording(
        labels={"state": "State", "utilisation": "Utilisation"},
        percent_columns=frozenset({"utilisation"}),
        typical={"state": "CA", "utilisation": 0.4, "income": 60000.0},
    )
    reasons = describe_reasons(contributions, applicants, wording, count=4)
    assert (
        reasons.loc[0, "reason_1"]
        == "Utilisation 90% — higher than typical approved applicants (40%)"
    )
    assert reasons.loc[0, "reason_2"].startswith("income 30,000 — lower than typical")
    assert reasons.loc[0, "reason_3"] == ""
    assert reasons.loc[0, "reason_coverage"] == pytest.approx(0.05 / 0.10)
    assert reasons.loc[1, "reason_1"] == "State NY — typical approved applicants: CA"
    assert reasons.loc[1, "reason_coverage"] == pytest.approx(1.0)


def test_never_reasons_are_left_out_and_a_value_on_the_safe_side_is_never_cited():
    contributions = pd.DataFrame({"rate": [0.2], "history": [0.05], "inquiries": [0.01]})
    applicants = pd.DataFrame({"rate": [0.25], "history": [300.0], "inquiries": [4.0]})
    dataset = {"reasons": {"riskier": {"history": "lower"}}, "monotonic_trends": {}}
    wording = Wording(
        typical={"rate": 0.1, "history": 150.0, "inquiries": 0.0}, riskier=risk_sides(dataset)
    )
    reasons = describe_reasons(contributions, applicants, wording, count=4, never=["rate"])
    assert reasons.loc[0, "reason_1"].startswith("inquiries 4 — higher")
    assert reasons.loc[0, "reason_2"] == "", "a credit history longer than typical is no reason"
    assert reasons.loc[0, "reason_coverage"] == pytest.approx(0.01 / 0.26, abs=1e-4)
    assert risk_sides({"monotonic_trends": {"a": "ascending", "b": "peak"}}) == {"a": "higher"}


@pytest.fixture(scope="module")
def text_model() -> TextFeatures:
    """Descriptions: 'medical' and 'gambling' come with defaults, 'wedding' and 'savings' with
    repayment, 'loan' with both."""
    rng = np.random.default_rng(0)
    risky, safe = ["medical bills", "gambling debt"], ["wedding", "savings plan"]
    texts, labels = [], []
    for _ in range(600):
        bad = rng.uniform() < 0.3
        words = rng.choice(risky if bad else safe, 2)
        texts.append(f"my loan for {' and '.join(words)}")
        labels.append(int(bad))
    frame = pd.DataFrame({"desc": texts})
    return TextFeatures(columns={"desc": {}}, C=10.0).fit(frame, np.array(labels))


def test_a_text_reason_names_the_applicants_own_words_that_raised_the_risk(text_model):
    applicants = pd.DataFrame(
        {"desc": ["loan for medical bills and gambling", "loan for a wedding", None]}
    )
    phrases = text_model.riskiest_phrases(applicants, "desc", 3)
    assert set(phrases[0]) <= {"medical", "bills", "gambling", "debt"} and phrases[0]
    assert "loan" not in phrases[0] and "and" not in phrases[0], "no neutral or stop words"
    assert phrases[1] == [], "a text whose words lowered the risk is never a reason"
    assert phrases[2] == [], "no text, no phrases"
    contributions = pd.DataFrame({"desc": [0.04, 0.04], "utilisation": [0.01, 0.01]})
    wording = Wording(
        labels={"desc": "loan description"}, text_columns=frozenset({"desc"}),
        typical={"desc": "", "utilisation": 0.3}, text_model=text_model,
    )  # fmt: skip
    applicants = applicants.head(2).assign(utilisation=[0.8, 0.8])
    reasons = describe_reasons(contributions, applicants, wording, count=4)
    first = reasons.loc[0, "reason_1"]
    assert first.startswith("Loan description mentions '") and "its wording" not in first
    assert reasons.loc[1, "reason_1"].startswith("utilisation 0.8"), "the wedding text is no reason"
    assert reasons.loc[1, "reason_2"] == ""
