"""Fair-lending audit against hand computation on tiny groups, and proxies that are planted."""

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling.fairness import (
    AUDIT_COLUMNS,
    INTERVAL_METRICS,
    audit_groups,
    audit_summary,
    group_labels,
    proxy_strength,
)

# Reject at PD >= 0.5. With at least 4 loans and both outcomes needed, A and B are judged;
# D has 4 loans but no default, C (the most approved) and E (none approved) have 2.
HAND = pd.DataFrame(
    [
        ("A", 0, 0.1), ("A", 0, 0.2), ("A", 0, 0.5), ("A", 1, 0.7), ("A", 1, 0.3),
        ("B", 0, 0.1), ("B", 0, 0.6), ("B", 0, 0.7), ("B", 0, 0.8), ("B", 1, 0.9),
        ("C", 0, 0.1), ("C", 1, 0.2),
        ("D", 0, 0.1), ("D", 0, 0.1), ("D", 0, 0.9), ("D", 0, 0.2),
        ("E", 1, 0.9), ("E", 0, 0.8),
    ],
    columns=["group", "default", "pd"],
)  # fmt: skip


def _hand_audit(**kwargs) -> pd.DataFrame:
    return audit_groups(
        HAND["default"], HAND["pd"], 0.5, HAND["group"], min_group_size=4, **kwargs
    ).set_index("group")


def _synthetic(sizes: dict[str, int], seed: int) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Outcomes drawn from the PD, the same risk in every group."""
    rng = np.random.default_rng(seed)
    groups = pd.Series(np.repeat(list(sizes), list(sizes.values())))
    pd_ = rng.beta(2, 6, len(groups))
    return (rng.uniform(size=len(groups)) < pd_).astype(int), pd_, groups


def test_group_rates_match_hand_computation():
    table = _hand_audit(n_boot=50)
    a, b = table.loc["A"], table.loc["B"]
    # A approves 0.1, 0.2, 0.3 (0.5 is rejected: PD >= threshold): 3 of 5; rejects 1 of 3
    # repaid loans; approves 1 of 2 defaults.
    assert a["approval_rate"] == pytest.approx(3 / 5)
    assert a["false_rejection_rate"] == pytest.approx(1 / 3)
    assert a["false_approval_rate"] == pytest.approx(1 / 2)
    assert a["mean_pd"] == pytest.approx(1.8 / 5)
    assert a["observed_default_rate"] == pytest.approx(2 / 5)
    assert a["calibration_gap"] == pytest.approx(1.8 / 5 - 2 / 5)
    assert a["roc_auc"] == pytest.approx(5 / 6)  # 0.7 beats 3 repaid loans, 0.3 beats 2
    # B approves only 0.1: 1 of 5; rejects 3 of 4 repaid; its one default is rejected.
    assert b["approval_rate"] == pytest.approx(1 / 5)
    assert b["false_rejection_rate"] == pytest.approx(3 / 4)
    assert b["false_approval_rate"] == pytest.approx(0.0)
    assert b["calibration_gap"] == pytest.approx(3.1 / 5 - 1 / 5)
    assert b["roc_auc"] == pytest.approx(1.0)
    # Ratios against A, the most-approved judged group; only B is below four-fifths.
    assert a["adverse_impact_ratio"] == pytest.approx(1.0)
    assert b["adverse_impact_ratio"] == pytest.approx((1 / 5) / (3 / 5))
    assert table["below_four_fifths"].to_dict() == {
        "A": False, "B": True, "D": False, "C": False, "E": False
    }  # fmt: skip
    assert table.loc[["A", "B"], "verdict"].tolist() == ["", "below four-fifths"]
    assert list(table.columns) == [c for c in AUDIT_COLUMNS if c != "group"]


def test_small_groups_are_reported_but_not_judged():
    table = _hand_audit(n_boot=50)
    assert table.index.tolist() == ["A", "B", "D", "C", "E"]  # largest first
    assert table["size"].tolist() == [5, 5, 4, 2, 2]
    assert table["defaults"].tolist() == [2, 1, 0, 1, 1]
    assert table["judged"].tolist() == [True, True, False, False, False]
    small = table.loc[["C", "D", "E"]]
    assert (small["verdict"] == "too small to judge").all()
    # C approves everyone, yet the reference stays A: C's ratio is 1 / 0.6, above 1.
    assert small.loc["C", "approval_rate"] == pytest.approx(1.0)
    assert small.loc["C", "adverse_impact_ratio"] == pytest.approx(1 / 0.6)
    # E approves no one and is still not flagged; D (one outcome) has no AUC.
    assert small.loc["E", "adverse_impact_ratio"] == pytest.approx(0.0)
    assert not small["below_four_fifths"].any()
    assert np.isnan(small.loc["D", "roc_auc"])
    assert small.loc["D", "approval_rate"] == pytest.approx(3 / 4)
    bounds = [f"{m}_{side}" for m in INTERVAL_METRICS for side in ("low", "high")]
    assert small[bounds].isna().all().all()
    assert table.loc[["A", "B"], "approval_rate_low"].notna().all()


def test_summary_matches_hand_computation():
    table = _hand_audit(n_boot=0)
    assert table["approval_rate_low"].isna().all()  # no bootstrap asked for
    summary = audit_summary(table.reset_index())
    assert summary["worst_adverse_impact_ratio"] == pytest.approx(1 / 3)
    assert summary["groups_below_four_fifths"] == 1
    # False rejection spread 3/4 - 1/3 = 5/12; false approval spread 1/2: the larger.
    assert summary["equalised_odds_difference"] == pytest.approx(1 / 2)
    assert summary["approval_rate_difference"] == pytest.approx(3 / 5 - 1 / 5)
    assert summary["max_abs_calibration_gap"] == pytest.approx(3.1 / 5 - 1 / 5)
    assert summary["groups_judged"] == 2
    assert summary["groups_too_small"] == 3


def test_no_judged_group_gives_nan_ratios_and_summary():
    table = audit_groups(HAND["default"], HAND["pd"], 0.5, HAND["group"], min_group_size=100)
    assert not table["judged"].any()
    assert table["adverse_impact_ratio"].isna().all()
    assert (table["verdict"] == "too small to judge").all()
    assert table["approval_rate"].notna().all()
    summary = audit_summary(table)
    assert np.isnan(summary["worst_adverse_impact_ratio"])
    assert np.isnan(summary["equalised_odds_difference"])
    assert np.isnan(summary["max_abs_calibration_gap"])
    assert summary["groups_judged"] == 0
    assert summary["groups_too_small"] == 5


def test_empty_input_gives_empty_table():
    table = audit_groups(np.array([]), np.array([]), 0.5, pd.Series([], dtype="string"), 10)
    assert table.empty
    assert list(table.columns) == AUDIT_COLUMNS


def test_fairlearn_and_group_sums_agree():
    # Judged groups get their rates from MetricFrame, the others from group sums.
    y, pd_, groups = _synthetic({f"g{i}": 20 + 7 * i for i in range(12)}, seed=5)
    pd_ = pd_.round(1)  # ties, which ROC AUC counts as half
    from_frame = audit_groups(y, pd_, 0.3, groups, min_group_size=1, n_boot=0)
    from_sums = audit_groups(y, pd_, 0.3, groups, min_group_size=10**6, n_boot=0)
    assert from_frame["judged"].all() and not from_sums["judged"].any()
    for metric in ("approval_rate", "false_rejection_rate", "false_approval_rate", "roc_auc",
                   "mean_pd", "observed_default_rate", "calibration_gap"):  # fmt: skip
        np.testing.assert_allclose(from_frame[metric], from_sums[metric], atol=1e-12)


def test_intervals_contain_the_estimate_and_narrow_as_groups_grow():
    y, pd_, groups = _synthetic({"small": 300, "large": 3000}, seed=1)
    table = audit_groups(y, pd_, 0.3, groups, min_group_size=50, n_boot=200).set_index("group")
    for metric in INTERVAL_METRICS:
        low, value, high = table[f"{metric}_low"], table[metric], table[f"{metric}_high"]
        assert (low <= value + 1e-12).all() and (value <= high + 1e-12).all(), metric
    width = (
        table[[f"{m}_high" for m in INTERVAL_METRICS]].to_numpy()
        - table[[f"{m}_low" for m in INTERVAL_METRICS]].to_numpy()
    )
    small, large = width[table.index.get_loc("small")], width[table.index.get_loc("large")]
    metrics = INTERVAL_METRICS.index
    for metric in ("approval_rate", "false_rejection_rate", "roc_auc", "calibration_gap"):
        assert large[metrics(metric)] < small[metrics(metric)] / 2, metric  # ~1/sqrt(10)


def test_same_seed_same_table():
    y, pd_, groups = _synthetic({"a": 200, "b": 400, "c": 5}, seed=2)
    first = audit_groups(y, pd_, 0.3, groups, 50, n_boot=100, seed=7)
    pd.testing.assert_frame_equal(first, audit_groups(y, pd_, 0.3, groups, 50, 100, seed=7))
    other = audit_groups(y, pd_, 0.3, groups, 50, n_boot=100, seed=8)
    assert not np.allclose(first["approval_rate_low"][:2], other["approval_rate_low"][:2])


def test_bands_label_numeric_values():
    values = pd.Series([18, 25, 34.9, 35, 44, 45, 80, None], index=list("abcdefgh"), name="age")
    labels = group_labels(values, {"bands": [25, 35, 45]})
    assert labels.tolist() == [
        "under 25", "25 to under 35", "25 to under 35", "35 to under 45", "35 to under 45",
        "45 and over", "45 and over", "missing",
    ]  # fmt: skip
    assert labels.index.tolist() == list("abcdefgh") and labels.dtype == "string"
    assert group_labels(pd.Series([1.0]), {"bands": [2.5]}).tolist() == ["under 2.5"]
    with pytest.raises(ValueError, match="not numbers"):
        group_labels(pd.Series(["young", 30]), {"bands": [25]})


def test_group_maps_match_numbers_and_text_alike():
    values = pd.Series([1, 1.0, "1", " 2 ", 3, "3.0", 7, "x", None, ""], dtype=object)
    grouping = {"groups": {"low": [1, "2"], "high": [3.0]}, "other": "rest"}
    assert group_labels(values, grouping).tolist() == [
        "low", "low", "low", "low", "high", "high", "rest", "rest", "missing", "missing"
    ]  # fmt: skip
    default_other = group_labels(pd.Series(["CA", "NY"]), {"groups": {"West": ["CA"]}})
    assert default_other.tolist() == ["West", "other"]


def test_ungrouped_values_are_their_own_text():
    assert group_labels(pd.Series([1.0, 2.0, np.nan]), {}).tolist() == ["1", "2", "missing"]
    assert group_labels(pd.Series([" a", "b", None]), {"bands": None}).tolist() == [
        "a", "b", "missing"
    ]  # fmt: skip


def _proxy_data(planted: bool, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, 1500)
    features = pd.DataFrame(rng.normal(size=(1500, 6)), columns=[f"noise_{i}" for i in range(6)])
    if planted:
        features["proxy"] = codes + rng.normal(0, 0.1, 1500)
    groups = pd.Series(np.array(["north", "south", "west"])[codes])
    return features, groups


def test_planted_proxy_is_found_and_ranked_first():
    features, groups = _proxy_data(planted=True)
    result = proxy_strength(features, groups, min_group_size=10, seed=0)
    assert result["n_groups"] == 3 and result["n_rows"] == 1500
    assert result["chance_balanced_accuracy"] == pytest.approx(1 / 3)
    assert result["balanced_accuracy"] > 0.9
    assert result["lift"] > 2.5
    assert result["roc_auc"] > 0.95
    assert result["top_features"][0][0] == "proxy"
    assert len(result["top_features"]) == 5


def test_independent_features_predict_at_chance():
    features, groups = _proxy_data(planted=False)
    result = proxy_strength(features, groups, min_group_size=10, seed=0)
    assert result["balanced_accuracy"] == pytest.approx(1 / 3, abs=0.06)
    assert result["roc_auc"] == pytest.approx(0.5, abs=0.06)
    assert result["majority_share"] == pytest.approx(groups.value_counts(normalize=True).max())


def test_proxy_strength_ignores_small_groups_and_says_when_it_cannot_judge():
    features, groups = _proxy_data(planted=True)
    groups = groups.where(groups != "west", pd.Series([f"tiny{i}" for i in range(1500)]))
    two = proxy_strength(features, groups, min_group_size=10, seed=0)
    assert two["n_groups"] == 2 and two["n_rows"] == int(groups.isin(["north", "south"]).sum())
    assert two["roc_auc"] > 0.95
    one = proxy_strength(features, groups.replace("south", "north"), min_group_size=10, seed=0)
    assert one["n_groups"] == 1 and np.isnan(one["balanced_accuracy"]) and one["reason"]
