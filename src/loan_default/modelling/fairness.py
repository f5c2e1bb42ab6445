"""Fair-lending audit of a credit model: group rates, adverse impact and proxy strength."""

from __future__ import annotations

import math
import warnings
from functools import partial
from itertools import pairwise
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    mean_prediction,
    selection_rate,
)
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.impute import SimpleImputer
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from loan_default.parameters import FairnessAudit

FOUR_FIFTHS = 0.8  # the EEOC's four-fifths rule of thumb for adverse impact
MISSING = "missing"
TOO_SMALL = "too small to judge"
BELOW_FOUR_FIFTHS = "below four-fifths"

INTERVAL_METRICS = [
    "approval_rate",
    "adverse_impact_ratio",
    "false_rejection_rate",
    "false_approval_rate",
    "roc_auc",
    "calibration_gap",
]
AUDIT_COLUMNS = [
    "group", "size", "defaults", "judged",
    "approval_rate", "approval_rate_low", "approval_rate_high",
    "adverse_impact_ratio", "adverse_impact_ratio_low", "adverse_impact_ratio_high",
    "below_four_fifths",
    "false_rejection_rate", "false_rejection_rate_low", "false_rejection_rate_high",
    "false_approval_rate", "false_approval_rate_low", "false_approval_rate_high",
    "roc_auc", "roc_auc_low", "roc_auc_high",
    "mean_pd", "observed_default_rate",
    "calibration_gap", "calibration_gap_low", "calibration_gap_high",
    "verdict",
]  # fmt: skip
# Per-group sums every rate is made of, in the order of the columns of `_row_values`.
SUMS = ["size", "defaults", "approved", "approved_defaults", "rejected_repaid", "pd"]

_AUDIT = FairnessAudit()  # the defaults' one home: the schema


# ---------------------------------------------------------------- groups ----------------------


def _as_text(value: Any) -> str:
    """A value as text, whole numbers without a decimal point (1.0 -> "1")."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _matching_key(value: Any) -> str:
    """The text a raw value is matched on: numbers read from text or YAML compare as numbers."""
    text = _as_text(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return _as_text(number) if math.isfinite(number) else text


def _band_names(edges: list[float]) -> list[str]:
    inner = [f"{low:g} to under {high:g}" for low, high in pairwise(edges)]
    return [f"under {edges[0]:g}", *inner, f"{edges[-1]:g} and over"]


def group_labels(values: pd.Series, grouping: dict[str, Any]) -> pd.Series:
    """Each value's audit group: its band, its named group or its own text; "missing" if null."""
    bands, groups = grouping.get("bands"), grouping.get("groups")
    missing = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
    codes, uniques = pd.factorize(values[~missing])
    if bands is not None:
        edges = [float(edge) for edge in bands]
        if not edges or edges != sorted(set(edges)):
            raise ValueError(f"{values.name}: bands must be ascending distinct edges ({bands})")
        numeric = pd.to_numeric(pd.Series(uniques), errors="coerce")
        if numeric.isna().any():
            examples = list(uniques[numeric.isna().to_numpy()][:5])
            raise ValueError(
                f"{values.name}: {int(numeric.isna().sum())} distinct values are not numbers "
                f"and cannot be banded, e.g. {examples}"
            )
        names = np.array(_band_names(edges))[np.searchsorted(edges, numeric, side="right")]
    elif groups is not None:
        lookup = {_matching_key(v): name for name, members in groups.items() for v in members}
        other = grouping.get("other", "other")
        names = np.array([lookup.get(_matching_key(u), other) for u in uniques], dtype=object)
    else:
        names = np.array([_as_text(u) for u in uniques], dtype=object)
    labels = np.full(len(values), MISSING, dtype=object)
    labels[~missing] = names[codes] if len(codes) else []
    return pd.Series(labels, index=values.index, name=values.name, dtype="string")


# ---------------------------------------------------------------- audit -----------------------


def _row_values(y: np.ndarray, reject: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per loan, its contribution to each of `SUMS`."""
    approved = ~reject
    return np.column_stack(
        [np.ones(len(y)), y, approved, approved & (y == 1), reject & (y == 0), score]
    ).astype(float)


def _rates(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rates from per-group sums (one group per column; works on bootstrap replicates too)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {
            "approval_rate": sums["approved"] / sums["size"],
            "false_rejection_rate": sums["rejected_repaid"] / (sums["size"] - sums["defaults"]),
            "false_approval_rate": sums["approved_defaults"] / sums["defaults"],
            "mean_pd": sums["pd"] / sums["size"],
            "observed_default_rate": sums["defaults"] / sums["size"],
        }
    rates["calibration_gap"] = rates["mean_pd"] - rates["observed_default_rate"]
    return rates


def _grouped_roc_auc(codes: np.ndarray, y: np.ndarray, score: np.ndarray, n: int) -> np.ndarray:
    """ROC AUC of every group at once (Mann-Whitney with mid-ranks); NaN with one outcome."""
    order = np.lexsort((score, codes))
    group, value, outcome = codes[order], score[order], y[order]
    position = np.arange(len(order))
    new_group = np.r_[True, group[1:] != group[:-1]]
    new_tie = new_group | np.r_[True, value[1:] != value[:-1]]
    tie_start = np.flatnonzero(new_tie)
    tie_end = np.r_[tie_start[1:], len(order)] - 1
    tie = np.cumsum(new_tie) - 1
    group_start = np.maximum.accumulate(np.where(new_group, position, 0))
    rank = (tie_start[tie] + tie_end[tie]) / 2 - group_start + 1
    rank_sum = np.bincount(group, weights=rank * outcome, minlength=n)
    defaults = np.bincount(group, weights=outcome, minlength=n)
    repaid = np.bincount(group, minlength=n) - defaults
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - defaults * (defaults + 1) / 2) / (defaults * repaid)
    return np.where(defaults * repaid > 0, auc, np.nan)


def _roc_auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """ROC AUC of the PD; NaN when the group has one outcome."""
    if len(np.unique(y_true)) < 2:
        return np.nan
    return float(roc_auc_score(y_true, y_pred))


def _observed_default_rate(
    y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray
) -> float:
    """Share of loans that defaulted."""
    return float(np.average(y_true, weights=sample_weight))


def _metric_frame_rates(
    y: np.ndarray, reject: np.ndarray, score: np.ndarray, labels: np.ndarray
) -> pd.DataFrame:
    """Group rates from fairlearn's MetricFrame (positive = default; predicted = rejected)."""
    # MetricFrame's cost grows with rows, and outcome x decision takes four values per group:
    # the decision rates are computed on those cells, weighted by their counts.
    cells = pd.DataFrame({"group": labels, "y": y, "reject": reject.astype(int)}).value_counts()
    weights = {"sample_weight": cells.to_numpy()}
    cells = cells.index.to_frame(index=False)
    decisions = MetricFrame(
        metrics={
            "approval_rate": partial(selection_rate, pos_label=0),
            "false_rejection_rate": false_positive_rate,
            "false_approval_rate": false_negative_rate,
            "observed_default_rate": _observed_default_rate,
        },
        y_true=cells["y"].to_numpy(),
        y_pred=cells["reject"].to_numpy(),
        sensitive_features=cells["group"],
        sample_params=dict.fromkeys(
            [
                "approval_rate",
                "false_rejection_rate",
                "false_approval_rate",
                "observed_default_rate",
            ],
            weights,
        ),
    )
    scores = MetricFrame(
        metrics={"roc_auc": _roc_auc, "mean_pd": mean_prediction},
        y_true=y,
        y_pred=score,
        sensitive_features=pd.Series(labels, name="group"),
    )
    return pd.concat([decisions.by_group, scores.by_group], axis=1).astype(float)


def _percentiles(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, ignoring replicates where the rate is undefined."""
    tail = 100 * (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
    return low, high


def _bootstrap_intervals(
    codes: np.ndarray,
    values: np.ndarray,
    n_groups: int,
    n_boot: int,
    confidence: float,
    seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Percentile intervals of every rate and of the adverse impact ratio, groups 0..n_groups-1
    only (rows with a larger code are resampled but not summed)."""
    rng = np.random.default_rng(seed)
    n = len(codes)
    # Multinomial row counts per replicate; counting uniform draws is faster than
    # rng.multinomial over n cells (0.13 s against 0.30 s for 200 x 21,000).
    weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)])
    rows = np.flatnonzero(codes < n_groups)
    rows = rows[np.argsort(codes[rows], kind="stable")]
    starts = np.searchsorted(codes[rows], np.arange(n_groups))
    weights = weights[:, rows].astype(float)
    # Replicate x group sums of each quantity, all replicates in one pass per quantity.
    sums = {
        name: np.add.reduceat(weights * values[rows, i], starts, axis=1)
        for i, name in enumerate(SUMS)
    }
    rates = _rates(sums)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = np.nanmax(rates["approval_rate"], axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates["adverse_impact_ratio"] = rates["approval_rate"] / reference
    return {
        metric: _percentiles(rates[metric], confidence)
        for metric in INTERVAL_METRICS
        if metric != "roc_auc"
    }


def _roc_auc_interval(
    auc: np.ndarray, defaults: np.ndarray, repaid: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Normal interval with Hanley & McNeil's (1982) standard error, clipped to [0, 1]."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    spread = auc * (1 - auc) + (defaults - 1) * (q1 - auc**2) + (repaid - 1) * (q2 - auc**2)
    variance = spread / (defaults * repaid)
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * np.sqrt(np.maximum(variance, 0))
    return np.clip(auc - half, 0, 1), np.clip(auc + half, 0, 1)


def audit_groups(
    y_true: np.ndarray,
    default_probability: np.ndarray,
    threshold: float,
    groups: pd.Series,
    min_group_size: int,
    n_boot: int = _AUDIT.n_boot,
    confidence: float = _AUDIT.confidence,
    seed: int = 0,
) -> pd.DataFrame:
    """Per group (largest first): approval, false rejection and false approval rates, ROC AUC
    and calibration with intervals, and the adverse impact ratio to the most-approved judged
    group; only groups with `min_group_size` loans and both outcomes are judged."""
    y = np.asarray(y_true, dtype=int)
    score = np.asarray(default_probability, dtype=float)
    labels = pd.Series(groups).astype("string").fillna(MISSING).to_numpy(dtype=object)
    if not len(y) == len(score) == len(labels):
        raise ValueError(
            f"audit_groups: {len(y)} outcomes, {len(score)} probabilities and {len(labels)} "
            "group labels; they must be the same loans"
        )
    if len(y) == 0:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    codes, names = pd.factorize(labels, sort=True)
    reject = score >= threshold
    values = _row_values(y, reject, score)
    sums = {name: np.bincount(codes, values[:, i], len(names)) for i, name in enumerate(SUMS)}
    size, defaults = sums["size"].astype(int), sums["defaults"].astype(int)
    judged = (size >= min_group_size) & (defaults > 0) & (defaults < size)

    # MetricFrame spends ~1 ms per group and metric (4 s for 800 groups): the judged groups
    # (the findings) get their rates from fairlearn, the many tiny ones the same from the sums.
    rates = _rates(sums) | {"roc_auc": _grouped_roc_auc(codes, y, score, len(names))}
    if judged.any():
        rows = judged[codes]
        frame = _metric_frame_rates(y[rows], reject[rows], score[rows], labels[rows])
        for metric in frame.columns:
            rates[metric][judged] = frame[metric].reindex(names[judged]).to_numpy()
        rates["calibration_gap"] = rates["mean_pd"] - rates["observed_default_rate"]
    reference = np.max(rates["approval_rate"][judged]) if judged.any() else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        rates["adverse_impact_ratio"] = rates["approval_rate"] / reference
    below = judged & (rates["adverse_impact_ratio"] < FOUR_FIFTHS)

    unknown = np.full(len(names), np.nan)
    intervals = {metric: (unknown.copy(), unknown.copy()) for metric in INTERVAL_METRICS}
    if judged.any() and n_boot > 0:  # n_boot=0: point estimates only (and the AUC interval)
        # Judged groups numbered first, so the bootstrap sums only those.
        judged_codes = np.where(judged, np.cumsum(judged) - 1, judged.sum())[codes]
        boot = _bootstrap_intervals(
            judged_codes, values, int(judged.sum()), n_boot, confidence, seed
        )
        for metric, (low, high) in boot.items():
            intervals[metric][0][judged], intervals[metric][1][judged] = low, high
    if judged.any():
        # ROC AUC from Hanley & McNeil's standard error, not the bootstrap: resampled AUCs
        # would need a sort per replicate and group.
        repaid = size - defaults
        low, high = _roc_auc_interval(
            rates["roc_auc"][judged], defaults[judged], repaid[judged], confidence
        )
        intervals["roc_auc"][0][judged], intervals["roc_auc"][1][judged] = low, high

    table = pd.DataFrame(
        {"group": names, "size": size, "defaults": defaults, "judged": judged}
        | rates
        | {"below_four_fifths": below}
    )
    for metric, (low, high) in intervals.items():
        table[f"{metric}_low"], table[f"{metric}_high"] = low, high
    table["verdict"] = np.where(judged, np.where(below, BELOW_FOUR_FIFTHS, ""), TOO_SMALL)
    table = table.sort_values("size", ascending=False, kind="stable").reset_index(drop=True)
    return table[AUDIT_COLUMNS]


def audit_summary(table: pd.DataFrame) -> dict[str, float]:
    """Judged groups only: worst adverse impact ratio, groups below four-fifths, equalised odds
    and approval rate differences, largest calibration gap; NaN where there is nothing to compare."""
    judged = table[table["judged"].astype(bool)]
    compared = len(judged) >= 2

    def spread(metric: str) -> float:
        return float(judged[metric].max() - judged[metric].min()) if compared else np.nan

    return {
        "worst_adverse_impact_ratio": (
            float(judged["adverse_impact_ratio"].min()) if compared else np.nan
        ),
        "groups_below_four_fifths": int(judged["below_four_fifths"].sum()),
        # fairlearn's equalized_odds_difference: the larger of the FPR and TPR (= FNR) spreads.
        "equalised_odds_difference": max(
            spread("false_rejection_rate"), spread("false_approval_rate")
        ),
        "approval_rate_difference": spread("approval_rate"),
        "max_abs_calibration_gap": (
            float(judged["calibration_gap"].abs().max()) if len(judged) else np.nan
        ),
        "groups_judged": len(judged),
        "groups_too_small": len(table) - len(judged),
    }


# ---------------------------------------------------------------- proxies ---------------------


def proxy_strength(
    features: pd.DataFrame,
    groups: pd.Series,
    min_group_size: int,
    seed: int,
    cv: int = _AUDIT.proxy_cv,
    top_n: int = _AUDIT.proxy_top_features,
) -> dict[str, Any]:
    """How well the features predict the group: out-of-fold balanced accuracy and macro
    one-vs-rest AUC of a linear discriminant with equal priors, against chance; top features
    by mean absolute standardised discriminant coefficient over groups and folds (mutual
    information took ~9 s on 5,000 rows x 150 features)."""
    labels = pd.Series(groups).astype("string").fillna(MISSING).to_numpy(dtype=object)
    if len(labels) != len(features):
        raise ValueError(
            f"proxy_strength: {len(features)} feature rows but {len(labels)} group labels"
        )
    counts = pd.Series(labels).value_counts()
    # A pooled class of tiny groups would be meaningless; cross-validation needs `cv` per group.
    kept = counts[counts >= max(min_group_size, cv)]
    result: dict[str, Any] = {
        "n_rows": int(kept.sum()),
        "n_groups": len(kept),
        "balanced_accuracy": np.nan,
        "chance_balanced_accuracy": np.nan,
        "majority_share": np.nan,
        "roc_auc": np.nan,
        "lift": np.nan,
        "top_features": [],
        "reason": "",
    }
    if len(kept) < 2:
        result["reason"] = (
            f"{len(kept)} group(s) with at least {max(min_group_size, cv)} rows: "
            "nothing to tell apart"
        )
        return result
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if text:
        raise ValueError(
            f"proxy_strength: {len(text)} non-numeric feature columns, e.g. {text[:5]}; "
            "pass the encoded features"
        )
    rows = np.isin(labels, kept.index.to_numpy())
    X = features.to_numpy(dtype=float)[rows]
    y, _ = pd.factorize(labels[rows], sort=True)
    n_groups = len(kept)
    # A linear discriminant is closed-form: ~0.1 s a fit here, where multinomial logistic
    # regression needed ~80 lbfgs iterations of ~25 ms each for 50 groups. The least-squares
    # solver works on the 150 x 150 covariance (the SVD solver on the data: ~5x slower).
    # Mean imputation: the median's masked arrays took 0.3 s a fit.
    model = make_pipeline(
        SimpleImputer(keep_empty_features=True),
        StandardScaler(),
        LinearDiscriminantAnalysis(solver="lsqr"),
    )
    proba = np.zeros((len(y), n_groups))
    importance = np.zeros(X.shape[1])
    # One BLAS thread: these products are too small to gain from more, and spinning threads ran
    # 3-5x slower whenever another process held one of the two cores (measured).
    with threadpool_limits(limits=1, user_api="blas"):
        for train, test in StratifiedKFold(cv, shuffle=True, random_state=seed).split(X, y):
            model.fit(X[train], y[train])
            # Dividing out the fitted priors makes them equal: a balanced decision, as
            # class_weight="balanced" gives (equal priors passed to the solver would also
            # weight the pooled covariance equally per group, however small).
            balanced = model.predict_proba(X[test]) / model[-1].priors_
            proba[test] = balanced / balanced.sum(axis=1, keepdims=True)
            importance += np.abs(model[-1].coef_).mean(axis=0) / cv
    if n_groups == 2:
        auc = roc_auc_score(y, proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=range(n_groups))
    accuracy = balanced_accuracy_score(y, proba.argmax(axis=1))
    top = np.argsort(-importance, kind="stable")[:top_n]
    return result | {
        "balanced_accuracy": float(accuracy),
        "chance_balanced_accuracy": 1 / n_groups,
        "majority_share": float(kept.iloc[0] / kept.sum()),
        "roc_auc": float(auc),
        "lift": float(accuracy * n_groups),
        "top_features": [(str(features.columns[i]), float(importance[i])) for i in top],
    }
