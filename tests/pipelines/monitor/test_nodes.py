"""The monitor's input checks: each bad input stops the run with the file, column and problem."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from loan_default.modelling import monitoring as mon
from loan_default.parameters import Monitor
from loan_default.pipelines.monitor import nodes
from loan_default.serving import ChampionHandle
from loan_default.validation import DataValidationError
from tests.params import block

LOG_FILE = "data/07_model_output/my_scoring_log.csv"
OUTCOMES_FILE = "data/07_model_output/my_outcomes.csv"
DATASET = block("dataset", {"identifier_columns": ["app_id"], "date_formats": ["%Y-%m-%d"]})
# The served model keeps its dataset block as the plain mapping (registration: dataset.plain()).
SERVED_DATASET = DATASET.plain()
CHAMPION = ChampionHandle(
    SimpleNamespace(dataset=SERVED_DATASET), "models:/loan-default/3", "run-3", "loan-default", "3"
)


def _monitor(**changes) -> Monitor:
    """The monitor block of these tests, top-level keys replaced by `changes`."""
    values = {
        "scoring_log": {"file": LOG_FILE, "date_column": "scored_on"},
        "outcomes": {"file": OUTCOMES_FILE},
    }
    return block("monitor", values | changes)


def _log(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    months = ["2011-01-15", "2011-02-15", "2011-04-15", "2011-05-15"]
    return pd.DataFrame(
        {
            "app_id": [f"A{i}" for i in range(n)],
            "scored_on": [months[i % 4] for i in range(n)],
            "model_version": 3,
            "probability_of_default": rng.uniform(0.01, 0.5, n).round(4),
            "rating_grade": [1 + i % 3 for i in range(n)],
        }
    )


def _outcomes(log: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"app_id": log["app_id"], "is_default": [i % 3 == 0 for i in range(len(log))]}
    ).assign(is_default=lambda t: t["is_default"].astype(int))


def _checked(log: pd.DataFrame, monitor: Monitor | None = None) -> pd.DataFrame:
    return nodes.check_scoring_log(log, CHAMPION, monitor or _monitor(), DATASET)


def test_a_clean_log_gets_quarters_and_its_outcomes():
    log = _log()
    sample = nodes.attach_outcomes(_checked(log), _outcomes(log), CHAMPION, _monitor())
    assert sorted(sample[mon.PERIOD].unique()) == ["2011Q1", "2011Q2"]
    assert len(sample) == 40 and set(sample[mon.OUTCOME]) == {0, 1}
    periods = nodes.check_review_periods(sample, _monitor())
    assert periods["auc_testable"].all() and periods["loans"].sum() == 40


def test_without_a_date_column_the_log_is_one_review_period():
    monitor = _monitor(scoring_log={"file": LOG_FILE, "date_column": ""})
    checked = _checked(_log().drop(columns="scored_on"), monitor)
    assert set(checked[mon.PERIOD]) == {mon.ALL_PERIODS}


def test_a_missing_date_column_names_the_file_the_column_and_the_way_out():
    with pytest.raises(DataValidationError) as error:
        _checked(_log().drop(columns="scored_on"))
    message = str(error.value)
    assert LOG_FILE in message and "'scored_on'" in message
    assert "monitor.scoring_log.date_column" in message and 'date_column: ""' in message


def test_unreadable_dates_are_refused():
    log = _log()
    log.loc[3, "scored_on"] = "sometime"
    with pytest.raises(DataValidationError, match=r"column 'scored_on'.*'sometime'"):
        _checked(log)


def test_pds_outside_zero_one_are_refused():
    log = _log()
    log.loc[0, "probability_of_default"] = 1.7
    with pytest.raises(DataValidationError, match=r"my_scoring_log.csv: column 'probability_of"):
        _checked(log)


def test_a_missing_grade_column_is_named():
    with pytest.raises(DataValidationError, match=r"'rating_grade' \(monitor.scoring_log.grade"):
        _checked(_log().drop(columns="rating_grade"))


def test_an_application_logged_twice_is_refused():
    log = _log()
    log.loc[1, "app_id"] = "A0"
    with pytest.raises(DataValidationError, match=r"column 'app_id'.*'A0'"):
        _checked(log)


def test_outcomes_for_unknown_identifiers_are_refused():
    log = _log()
    outcomes = pd.concat([_outcomes(log), pd.DataFrame({"app_id": ["Z9"], "is_default": [1]})])
    with pytest.raises(DataValidationError) as error:
        nodes.attach_outcomes(_checked(log), outcomes, CHAMPION, _monitor())
    message = str(error.value)
    assert OUTCOMES_FILE in message and "'app_id'" in message and "'Z9'" in message
    assert "does not hold" in message


def test_outcomes_scored_by_another_model_version_are_refused():
    log = _log()
    log.loc[:4, "model_version"] = 2
    with pytest.raises(DataValidationError) as error:
        nodes.attach_outcomes(_checked(log), _outcomes(log), CHAMPION, _monitor())
    message = str(error.value)
    assert "another model version" in message and "loan-default v3" in message
    assert "{'2': 5}" in message and "monitored_model" in message


def test_applications_without_an_outcome_yet_are_left_out_not_refused():
    log = _log()
    sample = nodes.attach_outcomes(_checked(log), _outcomes(log).iloc[:30], CHAMPION, _monitor())
    assert len(sample) == 30


def test_outcome_labels_outside_the_configured_values_are_refused():
    log = _log()
    outcomes = _outcomes(log).astype({"is_default": object})
    outcomes.loc[2, "is_default"] = "Current"
    with pytest.raises(DataValidationError, match=r"my_outcomes.csv: column 'is_default'.*Current"):
        nodes.attach_outcomes(_checked(log), outcomes, CHAMPION, _monitor())


def _without_defaults_in_q2() -> pd.DataFrame:
    log = _log()
    outcomes = _outcomes(log)
    q2 = log["scored_on"].isin(["2011-04-15", "2011-05-15"])
    outcomes.loc[q2.to_numpy(), "is_default"] = 0
    return nodes.attach_outcomes(_checked(log), outcomes, CHAMPION, _monitor())


def test_a_period_without_defaults_is_an_error_by_default():
    with pytest.raises(DataValidationError) as error:
        nodes.check_review_periods(_without_defaults_in_q2(), _monitor())
    message = str(error.value)
    assert OUTCOMES_FILE in message and "2011Q2: 0 defaults in 20 loans" in message
    assert "periods_without_defaults: flag" in message


def test_a_period_without_defaults_can_be_flagged_and_its_auc_test_is_na():
    sample = _without_defaults_in_q2()
    monitor = _monitor(periods_without_defaults="flag")
    periods = nodes.check_review_periods(sample, monitor)
    assert periods.set_index(mon.PERIOD)["auc_testable"].to_dict() == {
        "2011Q1": True,
        "2011Q2": False,
    }
    initial = {"initial_auc": 0.7}
    table = nodes.assess_discrimination(sample, periods, initial, monitor).set_index(mon.PERIOD)
    assert table.loc["2011Q2", "auc_light"] == "n/a" and pd.isna(table.loc["2011Q2", "auc"])
    assert table.loc["2011Q1", "auc_light"] in {"green", "amber", "red"}


def test_the_initial_auc_is_the_registered_versions_test_auc():
    entry = {"version": "3", "tags": {"test_roc_auc": "0.71"}, "run_metrics": {}}
    initial = nodes.read_initial_validation(CHAMPION, entry, _monitor())
    assert initial["initial_auc"] == 0.71 and "tag test_roc_auc" in initial["initial_auc_source"]
    entry = {"version": "3", "tags": {}, "run_metrics": {"champion.test_roc_auc": 0.69}}
    assert nodes.read_initial_validation(CHAMPION, entry, _monitor())["initial_auc"] == 0.69
    configured = nodes.read_initial_validation(CHAMPION, entry, _monitor(initial_auc=0.8))
    assert configured["initial_auc"] == 0.8


def test_an_alias_that_moved_during_the_run_is_refused():
    entry = {"version": "4", "tags": {"test_roc_auc": "0.71"}, "run_metrics": {}}
    with pytest.raises(DataValidationError, match="alias moved"):
        nodes.read_initial_validation(CHAMPION, entry, _monitor())


def test_per_period_metrics_and_lights_as_numbers():
    log = _log(80)
    sample = nodes.attach_outcomes(_checked(log), _outcomes(log), CHAMPION, _monitor())
    monitor = _monitor()
    periods = nodes.check_review_periods(sample, monitor)
    auc = nodes.assess_discrimination(sample, periods, {"initial_auc": 0.7}, monitor)
    rating = block("rating")
    grades = nodes.backtest_grades(sample, rating)
    assert {"jeffreys_p_value", "traffic_light", mon.PERIOD, "rating_grade"} <= set(grades)
    stability = pd.DataFrame(
        [
            {mon.PERIOD: p, "variable": "score", "kind": "score", "index": "PSI", "value": v,
             "light": light}
            for p, v, light in (("2011Q1", 0.05, "green"), ("2011Q2", 0.3, "red"))
        ]
        + [{mon.PERIOD: "2011Q1", "variable": "income", "kind": "driver", "index": "CSI",
            "value": 0.4, "light": "red"}]
    )  # fmt: skip
    summary, metrics, _, _ = nodes.assess_periods(periods, auc, grades, stability, sample, rating)
    assert summary["light"].tolist()[-1] == "red"
    assert metrics["monitor.latest.light"] == 2.0 == metrics["monitor.2011Q2.light"]
    assert metrics["monitor.latest.auc"] == metrics["monitor.2011Q2.auc"]
    assert metrics["monitor.2011Q1.stability_light"] == 0.0, "a driver's CSI is a diagnostic"
    assert (
        metrics["monitor.2011Q1.drivers_light"] == 2.0 and metrics["monitor.2011Q1.csi_max"] == 0.4
    )
    assert summary.set_index(mon.PERIOD).loc["2011Q1", "drivers_light"] == "red"
    assert metrics["monitor.initial_auc"] == 0.7 and metrics["monitor.periods"] == 2.0
    verdict = nodes.verdict_sentence(summary.iloc[-1], grades, stability)
    assert verdict.startswith("2011Q2 is red.") and "PSI of the score 0.300" in verdict
    assert "of the grades n/a" in verdict and "against 0.700 at the initial validation" in verdict


def test_grades_off_the_champions_master_scale_are_refused():
    scale = SimpleNamespace(loans=(10, 10, 10))
    champion = ChampionHandle(
        SimpleNamespace(dataset=SERVED_DATASET, rating_scale=scale), "models:/m/3", "r", "m", "3"
    )
    log = _log()
    assert len(nodes.check_scoring_log(log, champion, _monitor(), DATASET)) == len(log)
    log.loc[5, "rating_grade"] = 9
    with pytest.raises(DataValidationError, match=r"'rating_grade'.*master scale \(1 to 3\)"):
        nodes.check_scoring_log(log, champion, _monitor(), DATASET)


def test_an_outcome_dated_before_its_score_is_refused():
    log = _log()
    outcomes = _outcomes(log).assign(observed="2012-01-31")
    monitor = _monitor(outcomes={"file": OUTCOMES_FILE, "date_column": "observed"})
    sample = nodes.attach_outcomes(_checked(log), outcomes, CHAMPION, monitor)
    assert len(sample) == len(log)
    outcomes.loc[7, "observed"] = "2010-12-31"
    with pytest.raises(
        DataValidationError, match=r"column 'observed': 1 outcome\(s\) dated before"
    ):
        nodes.attach_outcomes(_checked(log), outcomes, CHAMPION, monitor)
    with pytest.raises(DataValidationError, match=r"'observed' \(monitor.outcomes.date_column\)"):
        nodes.attach_outcomes(_checked(log), outcomes.drop(columns="observed"), CHAMPION, monitor)
