"""Heuristic baselines every model must beat: approve everyone, rules, single-column scores,
and a WoE logistic scorecard. Scores follow the models' convention: higher = riskier."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from loan_default.parameters import ScorecardPoints
from loan_default.preprocessing.binning import OptimalWoEBinning
from loan_default.validation import ConfigurationError

_POINTS = ScorecardPoints()  # the defaults' one home: the schema

APPROVE_EVERYONE = "approve_everyone"
ANY_RULE = "any_rule"
SCORECARD = "woe_scorecard"


def _ordered_values(loans: pd.DataFrame, column: str, dataset: dict[str, Any]) -> pd.Series:
    """The column as numbers: ordered categories become their position in categorical_orders."""
    if column not in loans.columns:
        raise ConfigurationError(f"baseline column '{column}' is not a column of the loans table.")
    order = dataset["categorical_orders"].get(column)
    if order is None:
        return pd.to_numeric(loans[column], errors="coerce").astype(float)
    positions = {category: position for position, category in enumerate(order)}
    return loans[column].map(positions).astype(float)


def _threshold_value(value: Any, column: str, dataset: dict[str, Any]) -> float:
    order = dataset["categorical_orders"].get(column)
    return float(order.index(value)) if order is not None else float(value)


def rule_rejects(loans: pd.DataFrame, rule: dict[str, Any], dataset: dict[str, Any]) -> np.ndarray:
    """True where the rule rejects: column in `in`, above `above` or below `below`."""
    column = rule["column"]
    reject = np.zeros(len(loans), dtype=bool)
    if rule["in"] is not None:
        reject |= loans[column].isin(rule["in"]).to_numpy()
    values = _ordered_values(loans, column, dataset)
    if rule["above"] is not None:
        reject |= (values > _threshold_value(rule["above"], column, dataset)).to_numpy()
    if rule["below"] is not None:
        reject |= (values < _threshold_value(rule["below"], column, dataset)).to_numpy()
    return reject


def fixed_scores(
    fit_loans: pd.DataFrame,
    y_fit: np.ndarray,
    score_loans: pd.DataFrame,
    dataset: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Scores that need no model: the prior, each rule (0/1), their union, single columns."""
    prior = float(np.mean(y_fit))
    scores = {APPROVE_EVERYONE: np.full(len(score_loans), prior)}
    rules = dataset["baseline_rules"]
    rejects = {name: rule_rejects(score_loans, rule, dataset) for name, rule in rules.items()}
    scores |= {name: reject.astype(float) for name, reject in rejects.items()}
    if len(rejects) > 1:
        scores[ANY_RULE] = np.any(list(rejects.values()), axis=0).astype(float)
    for name, column in dataset["score_baselines"].items():
        # Missing values get the training median, i.e. an average risk.
        fill = _ordered_values(fit_loans, column, dataset).median()
        scores[name] = _ordered_values(score_loans, column, dataset).fillna(fill).to_numpy()
    return scores


def baseline_specs(dataset: dict[str, Any], baselines: dict[str, Any]) -> dict[str, dict]:
    """Operating-point spec per baseline: how its threshold is set, whether it is a probability."""

    def spec(name: str, threshold: Any, probabilistic: bool) -> tuple[str, dict]:
        return f"baseline/{name}", {
            "kind": "baseline", "model": "baseline", "strategy": name,
            "threshold": threshold, "probabilistic": probabilistic,
        }  # fmt: skip

    # Approve everyone: the training default rate for every loan, never reaching threshold 1.
    specs = [spec(APPROVE_EVERYONE, 1.0, True)]
    rules = dataset["baseline_rules"]
    specs += [spec(name, 0.5, False) for name in rules]  # a 0/1 score: reject where it is 1
    if len(rules) > 1:
        specs.append(spec(ANY_RULE, 0.5, False))
    specs += [spec(name, "objective", False) for name in dataset["score_baselines"]]
    if baselines["scorecard"]["enabled"]:
        specs.append(spec(SCORECARD, "objective", True))
    return dict(specs)


class WoEScorecard(ClassifierMixin, BaseEstimator):
    """optbinning's `Scorecard` on a loans frame: logistic regression on WoE, PDO points.

    `Scorecard` takes a `BinningProcess` whose columns are known before fitting; ours are chosen
    on the training frame (meta and entirely missing columns left out, text normalised), so the
    WoE binning prepares the frame and configures the process, and every call is prepared the
    same way. No PSI is computed on this baseline, so optbinning's `ScorecardMonitoring` has
    nothing to replace: drift is measured on the champion's score and on the features (score and
    features stages), and scoring keeps no training data to compare with.
    """

    def __init__(
        self,
        binning: OptimalWoEBinning,
        model_params: dict[str, Any] | None = None,
        pdo: float = _POINTS.pdo,
        base_odds: float = _POINTS.base_odds,
        base_points: float = _POINTS.base_points,
    ):
        self.binning = binning
        self.model_params = model_params
        self.pdo = pdo
        self.base_odds = base_odds
        self.base_points = base_points

    def fit(self, X: pd.DataFrame, y: Any, binned: bool = False) -> WoEScorecard:
        """Bin the training loans, fit the logistic regression and scale its points.

        `binned=True`: `binning` is already fitted on exactly these loans and labels (the
        features stage's binning of the training loans); its bins are used as they are instead
        of binning the same rows again (optbinning is deterministic: the same bins).
        """
        self.binning_ = clone(self.binning)
        frame, y = self.binning_.prepare(X, y)
        process = self.binning_.configured_process(frame)
        if binned:
            process = _prefitted(self.binning, process, frame)
        scorecard = Scorecard(
            process,
            LogisticRegression(**(self.model_params or {})),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": self.pdo, "odds": self.base_odds, "scorecard_points": self.base_points,
            },
        )  # fmt: skip
        # Missing and Special values take their bin's training WoE, as the binning's own
        # transform does (Scorecard's default gives them WoE 0).
        self.scorecard_ = self.binning_.fit_explained(
            scorecard.fit, frame, y, metric_special="empirical", metric_missing="empirical"
        )
        if binned:  # plain optbinning objects again, as a scorecard fitted from scratch holds
            self.scorecard_.binning_process_.__class__ = BinningProcess
            self.scorecard_.binning_process = self.binning_.configured_process(frame)
        self.classes_ = self.scorecard_.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of repayment and default."""
        check_is_fitted(self, "scorecard_")
        return self.scorecard_.predict_proba(self.binning_.normalise(X))

    def points(self, X: pd.DataFrame) -> np.ndarray:
        """Scorecard points: base_points at base_odds (good:bad), +pdo per doubling of odds."""
        check_is_fitted(self, "scorecard_")
        # optbinning gives an unseen category the Missing bin's points (bin index -1) but WoE 0
        # in predict_proba: the same while that bin is empty, as in every categorical feature
        # of the bundled data.
        return self.scorecard_.score(self.binning_.normalise(X))

    def attribute_points(self, X: pd.DataFrame) -> pd.DataFrame:
        """Rows x characteristics: the points of each row's attribute (bin), adding up to
        `points`."""
        check_is_fitted(self, "scorecard_")
        return self.scorecard_.transform(self.binning_.normalise(X)).set_axis(X.index)

    def maximum_points(self) -> pd.Series:
        """Per characteristic, the points of its best attribute."""
        check_is_fitted(self, "scorecard_")
        return self.scorecard_.table().groupby("Variable", sort=False)["Points"].max()


class _PrefittedProcess(BinningProcess):
    """A fitted `BinningProcess` that optbinning's `Scorecard` clones and `fit`s as its own:
    the clone is a copy with the fitted bins, and `fit` keeps them."""

    def __sklearn_clone__(self) -> _PrefittedProcess:
        return copy.deepcopy(self)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, check_input: bool = False) -> Any:
        """Keep the bins fitted before."""
        return self


def _prefitted(
    binning: OptimalWoEBinning, process: BinningProcess, frame: pd.DataFrame
) -> BinningProcess:
    """`binning`'s fitted process as a `_PrefittedProcess`; it must bin the same features in the
    same way as `process` (the scorecard's own, unfitted), else this is an error."""
    fitted = getattr(binning, "binning_process_", None)
    if (
        fitted is None
        or fitted.get_params() != process.get_params()
        or fitted._n_samples != len(frame)  # noqa: SLF001 - optbinning keeps no public count
    ):
        raise ValueError(
            "WoEScorecard.fit(binned=True) needs the binning fitted on the same loans; "
            "fit without binned=True to bin them here."
        )
    prefitted = _PrefittedProcess.__new__(_PrefittedProcess)
    prefitted.__dict__.update(copy.deepcopy(fitted.__dict__))
    return prefitted


def make_scorecard(binning: OptimalWoEBinning, scorecard: dict[str, Any]) -> WoEScorecard:
    """Unfitted WoE scorecard from the `baselines.scorecard` parameters."""
    points = scorecard["points"]
    return WoEScorecard(
        binning, scorecard["model_params"],
        points["pdo"], points["base_odds"], points["base_points"],
    )  # fmt: skip
