"""Adverse-action reasons: the characteristics that raised an applicant's default risk most.

Contributions are per input column, in probability of default, against typical *approved*
training applicants (what a notice compares with):
- XGBoost: its own per-feature contributions (`pred_contribs`), in log-odds, which add up to
  the model's log-odds exactly. `exact` uses TreeSHAP; the default, `approximate`, the
  per-path attribution (`approx_contribs`, Saabas), about 20 times faster for the tuned model
  (depth 5, ~500 trees): its principal reasons agree closely (see docs/fair-lending.md);
- a scaled logistic regression: coefficient x scaled value, in log-odds (exact for a linear model);
- an ensemble: each member's contributions scaled to probability by its slope p(1 - p) at this
  applicant, averaged as the ensemble averages probabilities (a first-order attribution);
- any other model: occlusion, the PD minus the PD with the column set to the typical approved
  applicant's value.
Additive contributions are taken relative to their mean over approved training applicants.
Encoded columns (one-hot categories, missing indicators, text features) are summed back to the
input column they came from. The WoE scorecard uses the points-below-maximum method instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from loan_default.schema import column_labels

from .baselines import WoEScorecard
from .ensemble import AveragedClassifier
from .registry import additive_explainer

# One member's additive explanation: log-odds contributions (rows x encoded columns), its
# probability per row and its weight in the final probability.
Part = tuple[np.ndarray, np.ndarray, float]


# The slope p(1 - p) of the probability in log-odds is 0 where p rounds to exactly 0 or 1 in
# floating point; floored, such an applicant's reasons keep their log-odds order instead of
# vanishing (a rejection at PD 1.0 still gets its reasons).
MIN_SLOPE = 1e-12


def _slope(probability: np.ndarray) -> np.ndarray:
    return np.maximum(probability * (1 - probability), MIN_SLOPE)


def additive_parts(
    estimator: BaseEstimator, X: pd.DataFrame, exact: bool = False
) -> list[Part] | None:
    """Log-odds contributions of each additive member, or None for any other model (`exact`:
    TreeSHAP for tree ensembles instead of the per-path attribution)."""
    if isinstance(estimator, AveragedClassifier):
        members = [additive_parts(member, X, exact) for member in estimator.estimators_]
        if any(parts is None for parts in members):
            return None
        share = 1.0 / len(members)
        return [(c, p, share * w) for parts in members for c, p, w in parts]
    # The model's registry entry says how (modelling.registry.MODELS, `explainer`).
    explain = additive_explainer(estimator)
    if explain is None:
        return None
    contributions, probability = explain(estimator, X, exact)
    return [(contributions, probability, 1.0)]


@dataclass
class ReasonExplainer:
    """Per-column contributions of one champion, measured against its approved applicants.

    Built once at registration (`fit`) and carried inside the registered model.
    """

    model: BaseEstimator  # the final estimator, fed the preprocessor's output
    feature_names: list[str]
    sources: list[str]  # per encoded column, the input column it came from
    excluded: list[str] = field(default_factory=list)  # never a reason (protected columns)
    exact: bool = False  # trees: TreeSHAP instead of the per-path attribution
    baselines: list[np.ndarray] | None = None  # additive: mean contributions of the approved
    reference: pd.DataFrame | None = None  # occlusion: a typical approved applicant, encoded

    @property
    def columns(self) -> list[str]:
        """Input columns that can be reasons, in feature order."""
        seen = dict.fromkeys(self.sources)
        return [column for column in seen if column not in self.excluded]

    @classmethod
    def fit(
        cls,
        model: BaseEstimator,
        preprocessor: Any,
        approved_features: pd.DataFrame,
        typical_approved: pd.DataFrame,
        excluded: Iterable[str] = (),
        exact: bool = False,
        max_rows: int = 5000,
    ) -> ReasonExplainer:
        """An explainer for `model` after `preprocessor`, given the approved training applicants'
        encoded features (their mean contributions: from up to `max_rows` of them) and one
        typical approved applicant (raw columns)."""
        names = list(preprocessor.get_feature_names_out())
        mapping = getattr(preprocessor, "source_columns_", {})
        sources = [mapping.get(n, n) for n in names]
        explainer = cls(model, names, sources, list(excluded), exact)
        if len(approved_features) > max_rows:  # a mean: a seeded sample estimates it closely
            approved_features = approved_features.sample(n=max_rows, random_state=0)
        parts = additive_parts(model, approved_features[names], exact)
        if parts is not None:
            explainer.baselines = [contributions.mean(axis=0) for contributions, _, _ in parts]
        else:
            explainer.reference = preprocessor.transform(typical_approved)[names]
        return explainer

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Rows x input columns: how much each column raises the PD (negative: lowers it)."""
        X = features[self.feature_names]
        if X.empty:  # e.g. a batch without rejections
            return pd.DataFrame(columns=self.columns, index=X.index, dtype=float)
        parts = additive_parts(self.model, X, self.exact) if self.baselines is not None else None
        if parts is None:
            return self._occlusion(X)
        encoded = sum(
            weight * _slope(probability)[:, None] * (contributions - baseline)
            for (contributions, probability, weight), baseline in zip(
                parts, self.baselines, strict=True
            )
        )
        # Encoded columns -> their input column: one matrix product with a 0/1 membership.
        sources = np.asarray(self.sources, dtype=object)
        membership = (sources[:, None] == np.asarray(self.columns, dtype=object)).astype(float)
        return pd.DataFrame(encoded @ membership, columns=self.columns, index=X.index)

    def _occlusion(self, X: pd.DataFrame) -> pd.DataFrame:
        probability = self.model.predict_proba(X)[:, 1]
        sources = np.asarray(self.sources)
        out = {}
        for column in self.columns:
            encoded = [
                name for name, s in zip(self.feature_names, sources, strict=True) if s == column
            ]
            typical = X.copy()
            typical[encoded] = self.reference[encoded].to_numpy().repeat(len(X), axis=0)
            out[column] = probability - self.model.predict_proba(typical)[:, 1]
        return pd.DataFrame(out, index=X.index)


def scorecard_points_below_maximum(scorecard: WoEScorecard, loans: pd.DataFrame) -> pd.DataFrame:
    """Rows x characteristics: points the applicant falls short of the characteristic's best
    attribute in the scorecard's points table (the classic adverse-action method; 0 = best)."""
    points = scorecard.attribute_points(loans)
    best = scorecard.maximum_points()[points.columns]
    return (best - points).clip(lower=0.0)


def top_reasons(
    contributions: pd.DataFrame, count: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the `count` columns with the largest positive contributions (names, values),
    among the `allowed` ones (rows x columns; default all); a slot without one has name ''
    and value 0."""
    values = contributions.to_numpy(dtype=float)
    if allowed is not None:
        values = np.where(allowed, values, -np.inf)
    count = min(count, values.shape[1])
    order = np.argsort(-values, axis=1, kind="stable")[:, :count]
    chosen = np.take_along_axis(values, order, axis=1)
    names = contributions.columns.to_numpy(dtype=object)[order]
    positive = chosen > 0
    return np.where(positive, names, ""), np.where(positive, chosen, 0.0)


# Phrases named per text reason: "Loan description mentions 'medical', 'bills', 'surgery'".
PHRASES = 3


@dataclass(frozen=True)
class Wording:
    """How reasons name columns and show values, and which values can be cited at all."""

    labels: dict[str, str] = field(default_factory=dict)
    percent_columns: frozenset[str] = frozenset()
    text_columns: frozenset[str] = frozenset()
    typical: dict[str, Any] = field(default_factory=dict)  # typical approved applicant
    # column -> the side a risky value is on: "higher" or "lower" (unset: either)
    riskier: dict[str, str] = field(default_factory=dict)
    # the champion's fitted text step (TextFeatures): the phrases of a text reason
    text_model: Any = None

    @classmethod
    def of(
        cls,
        dataset: dict[str, Any],
        typical_values: pd.DataFrame,
        input_types: dict[str, str],
        preprocessor: Any = None,
    ) -> Wording:
        """Labels and risk directions from the dataset parameters, percent and text columns from
        the champion's input parsers, the typical approved applicant of its profile and the
        text model of its preprocessor (None: text is never a reason)."""
        return cls(
            labels=column_labels(dataset),
            percent_columns=frozenset(c for c, kind in input_types.items() if kind == "percent"),
            text_columns=frozenset(c for c, kind in input_types.items() if kind == "text"),
            typical=dict(
                zip(typical_values["feature"], typical_values["typical_value"], strict=True)
            ),
            riskier=risk_sides(dataset),
            text_model=getattr(preprocessor, "text_features", None),
        )

    def label(self, column: str) -> str:
        """The column's label from conf, or its name."""
        return self.labels.get(column) or column

    def _opening(self, column: str) -> str:
        """The label as a notice line starts it (a configured label capitalised)."""
        label = self.labels.get(column)
        return label[:1].upper() + label[1:] if label else column

    def show(self, column: str, value: Any) -> str:
        """A value as an applicant would recognise it."""
        if _is_number(value):
            if column in self.percent_columns:  # as written ("17.5%"), not as parsed (0.175)
                return f"{100 * value:.4g}%"
            return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        return str(value)

    def citable(self, column: str, values: pd.Series) -> np.ndarray:
        """Per value of a structured column: whether a notice can cite it. Never a value the
        typical approved applicant has too (shown alike), nor a number on the safe side of it
        for a column whose risk has a configured direction."""
        if column not in self.typical:
            return np.ones(len(values), dtype=bool)
        typical = self.typical[column]
        missing = values.isna().to_numpy()
        if _is_missing(typical):
            return ~missing
        if not _is_number(typical):
            shown = values.astype("object").map(lambda v: self.show(column, v)).to_numpy()
            return missing | (shown != self.show(column, typical))
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        sides = {"higher": numbers > typical, "lower": numbers < typical}
        differs = sides.get(self.riskier.get(column), numbers != typical)
        # A value that differs only beyond the digits shown reads as the typical one.
        close = np.flatnonzero(differs & np.isclose(numbers, typical, rtol=0.01, atol=1e-9))
        typical_shown = self.show(column, typical)
        differs[close] = [self.show(column, numbers[r]) != typical_shown for r in close]
        return missing | differs

    def phrases(self, column: str, applications: pd.DataFrame) -> list[list[str]]:
        """Per application, the phrases of its `column` text that raised its risk most (none
        when its text lowered the risk or there is no text model)."""
        if self.text_model is None:
            return [[] for _ in range(len(applications))]
        return self.text_model.riskiest_phrases(applications, column, PHRASES)

    def sentence(self, column: str, value: Any, phrases: list[str] | None = None) -> str:
        """e.g. "Revolving utilisation 97% — higher than typical approved applicants (54%)", or
        "Loan description mentions 'medical', 'bills'"."""
        label = self._opening(column)
        if column in self.text_columns:
            said = ", ".join(f"'{phrase}'" for phrase in phrases or [])
            return f"{label} mentions {said}"
        if _is_missing(value):
            typical = self.typical.get(column)
            if _is_missing(typical):
                return f"{label}: none on record"
            shown = self.show(column, typical)
            return f"{label}: none on record — typical approved applicants: {shown}"
        return f"{label} {self.show(column, value)}{self._compared(column, value)}"

    def _compared(self, column: str, value: Any) -> str:
        """How the value compares with the typical approved applicant's."""
        if column not in self.typical:
            return ""
        typical = self.typical[column]
        if _is_missing(typical):
            return " — most approved applicants have none on record"
        shown = self.show(column, typical)
        if not (_is_number(value) and _is_number(typical)):
            return f" — typical approved applicants: {shown}"
        return f" — {'higher' if value > typical else 'lower'} than typical approved applicants ({shown})"


def risk_sides(dataset: dict[str, Any]) -> dict[str, str]:
    """Column -> "higher" or "lower": where a risky value lies, from dataset.monotonic_trends
    (ascending / descending) and dataset.reasons.riskier (which wins)."""
    trends = {"ascending": "higher", "descending": "lower"}
    sides = {
        column: trends[trend]
        for column, trend in (dataset.get("monotonic_trends") or {}).items()
        if trend in trends
    }
    return sides | dict((dataset.get("reasons") or {}).get("riskier") or {})


def _is_number(value: Any) -> bool:
    return isinstance(value, float | int | np.floating | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def describe_reasons(
    contributions: pd.DataFrame,
    applications: pd.DataFrame,
    wording: Wording,
    count: int,
    never: Iterable[str] = (),
    with_columns: bool = False,
) -> pd.DataFrame:
    """`reason_1..count` sentences and `reason_k_contribution` (PD points) per application, and
    `reason_coverage`: the share of its risk-raising contributions the given reasons carry
    (`with_columns`: also `reason_k_column`, the input column each reason is about).

    A reason is a column that raised the PD, is not in `never` (it may still have raised the PD:
    the coverage says how much), and whose value can be cited: it differs from the typical
    approved applicant's, or, for a text, its own phrases raised the risk.
    """
    never = set(never)
    values = contributions.to_numpy(dtype=float)
    allowed = np.zeros(values.shape, dtype=bool)
    texts = [c for c in contributions.columns if c in wording.text_columns and c not in never]
    for k, column in enumerate(contributions.columns):
        if column not in never and column not in texts and column in applications:
            allowed[:, k] = wording.citable(column, applications[column])
    # A text is cited only with its own phrases that raised the risk, worked out for the rows
    # it would be a reason of; a text without them makes room for the next reason (which may
    # be another text: then its phrases are worked out for those rows too).
    found: dict[str, dict[int, list[str]]] = {column: {} for column in texts}
    for column in texts:
        allowed[:, contributions.columns.get_loc(column)] = True
    while texts:
        names, _ = top_reasons(contributions, count, allowed)
        new = False
        for column in texts:
            k = contributions.columns.get_loc(column)
            rows = np.setdiff1d(np.flatnonzero((names == column).any(axis=1)), list(found[column]))
            if not len(rows):
                continue
            new = True
            phrases = wording.phrases(column, applications.iloc[rows])
            found[column] |= dict(zip(rows.tolist(), phrases, strict=True))
            allowed[rows, k] = [bool(p) for p in phrases]
        if not new:
            break
    names, chosen = top_reasons(contributions, count, allowed)
    columns = {
        name: applications[name].to_numpy(dtype=object) for name in set(names.ravel()) - {""}
    }
    said: dict[tuple[str, Any], str] = {}  # the same value of a column reads the same

    def sentence(name: str, row: int) -> str:
        if name in found:
            return wording.sentence(name, None, found[name][row])
        value = columns[name][row]
        try:
            if (name, value) not in said:
                said[name, value] = wording.sentence(name, value)
            return said[name, value]
        except TypeError:  # an unhashable value
            return wording.sentence(name, value)

    out = {}
    for rank in range(names.shape[1]):
        sentences = [sentence(name, row) if name else "" for row, name in enumerate(names[:, rank])]
        out[f"reason_{rank + 1}"] = sentences
        out[f"reason_{rank + 1}_contribution"] = chosen[:, rank].round(4)
        if with_columns:
            out[f"reason_{rank + 1}_column"] = names[:, rank]
    raised = np.clip(values, 0.0, None).sum(axis=1) if values.size else np.zeros(len(values))
    coverage = np.divide(chosen.sum(axis=1), raised, out=np.zeros(len(values)), where=raised > 0)
    out["reason_coverage"] = coverage.round(4)
    return pd.DataFrame(out, index=contributions.index)


COVERAGE_QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9]


def reason_shares(reasons: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """From a table with `reason_k_column` per rejection: per column, the share of rejections
    citing it at all and as the first reason, most cited first."""
    ranks = sorted(c for c in reasons if c.startswith("reason_") and c.endswith("_column"))
    if reasons.empty or not ranks:
        return pd.DataFrame(columns=["reason", "column", "share_citing", "share_first"])
    given = reasons[ranks].astype(object).fillna("")
    columns = sorted({c for c in given.to_numpy().ravel() if c})
    citing = {c: float((given == c).any(axis=1).mean()) for c in columns}
    first = given[ranks[0]].value_counts(normalize=True)
    table = pd.DataFrame(
        {
            "reason": [labels.get(c) or c for c in columns],
            "column": columns,
            "share_citing": [citing[c] for c in columns],
            "share_first": [float(first.get(c, 0.0)) for c in columns],
        }
    )
    return table.sort_values(["share_citing", "column"], ascending=[False, True], ignore_index=True)


def coverage_summary(reasons: pd.DataFrame) -> dict[str, float]:
    """Rejections, the share with at least one reason, and quantiles of `reason_coverage`."""
    if reasons.empty:
        return {"rejections": 0}
    coverage = reasons["reason_coverage"].to_numpy(dtype=float)
    summary = {
        "rejections": len(reasons),
        "with_a_reason": float((reasons["reason_1"].fillna("").astype(str) != "").mean()),
        "mean": float(coverage.mean()),
    }
    for q in COVERAGE_QUANTILES:
        summary[f"p{int(100 * q)}"] = float(np.quantile(coverage, q))
    return summary
