"""Monitoring nodes: check the scoring log and its outcomes, split them into review periods,
backtest each period (ECB AUC test, Jeffreys per grade, PSI / CSI) and record the verdict."""

from __future__ import annotations

import html
import logging
from typing import Any

import numpy as np
import pandas as pd

from loan_default import report
from loan_default.applications import ROW, check_applications
from loan_default.core.parsers import parse_date
from loan_default.parameters import Dataset, Monitor, Rating
from loan_default.pipelines.lazy import backtest, serving, tracking
from loan_default.pipelines.lazy import monitoring as mon
from loan_default.schema import label_text
from loan_default.stability import ReferenceDistribution
from loan_default.validation import DataValidationError, describe_examples

logger = logging.getLogger(__name__)

ID = "identifier"
VERSION = "model_version"
SCORED_ON = "scored_on"
OUTCOME_ON = "outcome_on"
# Fewer defaults or non-defaults than this in a period: no AUC standard error (DeLong).
MIN_CLASS = 2
# The champion's test AUC as its `loan` run logged it (when its version carries no tag).
RUN_AUC = "champion.test_roc_auc"


def check_scoring_log(
    scoring_log: pd.DataFrame,
    champion: serving.ChampionHandle,
    monitor: Monitor,
    dataset: Dataset,
) -> pd.DataFrame:
    """The scoring log with its columns checked (present, identifiers unique, PDs in [0, 1],
    grades and dates present and readable), under the monitor's own names, with the review
    period of each application (`all` without a date column)."""
    config = monitor.scoring_log
    where = config.file
    identifier = mon.identifier_column(monitor, dataset)
    needed = {
        identifier: "monitor.scoring_log.identifier_column",
        config.model_version_column: "monitor.scoring_log.model_version_column",
        config.probability_column: "monitor.scoring_log.probability_column",
        config.grade_column: "monitor.scoring_log.grade_column",
    }
    if date_column := mon.scoring_date_column(monitor, dataset):
        needed[date_column] = "monitor.scoring_log.date_column"
    _require_columns(scoring_log, needed, where)
    if scoring_log.empty:
        raise DataValidationError(
            f"{where}: the scoring log has no rows (the bundled sample is empty when the "
            "registry's champion could not score the loan run's test loans: see that run's log)."
        )
    _require_unique(scoring_log[identifier], where, identifier)
    probability = pd.to_numeric(scoring_log[config.probability_column], errors="coerce")
    bad = probability.isna() | (probability < 0) | (probability > 1)
    if bad.any():
        raise DataValidationError(
            f"{where}: column '{config.probability_column}': {int(bad.sum()):,} value(s) are "
            "not probabilities of default in [0, 1], e.g. "
            f"{describe_examples(scoring_log.loc[bad, config.probability_column].unique())}."
        )
    grades = scoring_log[config.grade_column]
    if grades.isna().any():
        raise DataValidationError(
            f"{where}: column '{config.grade_column}': {int(grades.isna().sum()):,} "
            "application(s) without a rating grade; every scored application needs its grade."
        )
    _require_scale_grades(grades, champion, where, config.grade_column)
    checked = scoring_log.copy()
    checked[ID] = scoring_log[identifier].map(label_text)
    checked[VERSION] = scoring_log[config.model_version_column].map(label_text)
    checked[mon.PD] = probability.to_numpy(dtype=float)
    checked[mon.GRADE] = grades.to_numpy()
    dates = _scoring_dates(scoring_log, monitor, dataset, where)
    checked[SCORED_ON] = dates if dates is not None else pd.NaT
    checked[mon.PERIOD] = (
        mon.period_labels(dates, monitor.period) if dates is not None else mon.ALL_PERIODS
    )
    logger.info(
        "Scoring log %s: %d applications in %d review period(s), model version(s) %s",
        where,
        len(checked),
        checked[mon.PERIOD].nunique(),
        sorted(checked[VERSION].unique())[:5],
    )
    return checked


def _require_scale_grades(
    grades: pd.Series, champion: serving.ChampionHandle, where: str, column: str
) -> None:
    """Grades are those of the champion's master scale (1 .. K), when it has one."""
    scale = getattr(champion.model, "rating_scale", None)
    if scale is None:
        return
    known = {str(grade) for grade in range(1, len(scale.loans) + 1)}
    unknown = ~grades.map(label_text).isin(known)
    if unknown.any():
        raise DataValidationError(
            f"{where}: column '{column}': {int(unknown.sum()):,} grade(s) not on "
            f"{champion.describe()}'s master scale (1 to {len(known)}), e.g. "
            f"{describe_examples(grades[unknown].unique())}."
        )


def _scoring_dates(
    scoring_log: pd.DataFrame, monitor: Monitor, dataset: Dataset, where: str
) -> pd.Series | None:
    column = mon.scoring_date_column(monitor, dataset)
    if not column:
        return None
    formats = monitor.scoring_log.date_formats or [*dataset.date_formats, "%Y-%m-%d"]
    return _parsed_dates(scoring_log, column, formats, where, "monitor.scoring_log.date_formats")


def _parsed_dates(
    table: pd.DataFrame, column: str, formats: list[str], where: str, key: str
) -> pd.Series:
    dates = parse_date(table[column], formats)
    if dates.isna().any():
        raise DataValidationError(
            f"{where}: column '{column}': {int(dates.isna().sum()):,} date(s) missing or "
            f"not in the formats {formats}, e.g. "
            f"{describe_examples(table.loc[dates.isna(), column].unique())}; fix them or "
            f"set {key}."
        )
    return dates


def attach_outcomes(
    scoring_log_periods: pd.DataFrame,
    loan_outcomes: pd.DataFrame,
    champion: serving.ChampionHandle,
    monitor: Monitor,
) -> pd.DataFrame:
    """The scored applications whose outcome is known, with the outcome as 1 (default) / 0.

    Refused: outcomes of identifiers the scoring log does not hold, an identifier twice, an
    outcome label that is neither a default nor a non-default value, and outcomes of
    applications scored by another model version than the champion monitored."""
    config, log_file = monitor.outcomes, monitor.scoring_log.file
    where = config.file
    identifier = config.identifier_column or mon.identifier_column(monitor, champion.model.dataset)
    outcome = config.outcome_column
    needed = {
        identifier: "monitor.outcomes.identifier_column",
        outcome: "monitor.outcomes.outcome_column",
    }
    if config.date_column:
        needed[config.date_column] = "monitor.outcomes.date_column"
    _require_columns(loan_outcomes, needed, where)
    _require_unique(loan_outcomes[identifier], where, identifier)
    ids = loan_outcomes[identifier].map(label_text)
    unknown = ~ids.isin(scoring_log_periods[ID])
    if unknown.any():
        raise DataValidationError(
            f"{where}: column '{identifier}': {int(unknown.sum()):,} outcome(s) for "
            f"identifiers the scoring log {log_file} does not hold, e.g. "
            f"{describe_examples(ids[unknown].unique())}; outcomes are only judged against the "
            "score the application received: add its scoring-log row or remove the outcome."
        )
    labels = loan_outcomes[outcome].map(label_text)
    defaults = {label_text(v) for v in config.default_values}
    repaid = {label_text(v) for v in config.non_default_values}
    unmapped = ~labels.isin(defaults | repaid)
    if unmapped.any():
        raise DataValidationError(
            f"{where}: column '{outcome}': {int(unmapped.sum()):,} outcome(s) neither a default "
            f"{sorted(defaults)} nor a non-default {sorted(repaid)}, e.g. "
            f"{describe_examples(loan_outcomes.loc[unmapped, outcome].unique())}; map them in "
            "monitor.outcomes.default_values / non_default_values, or remove the open loans."
        )
    known = pd.DataFrame({ID: ids, mon.OUTCOME: labels.isin(defaults).astype(int).to_numpy()})
    if config.date_column:
        formats = config.date_formats or ["%Y-%m-%d"]
        known[OUTCOME_ON] = _parsed_dates(
            loan_outcomes, config.date_column, formats, where, "monitor.outcomes.date_formats"
        ).to_numpy()
    sample = scoring_log_periods.merge(known, on=ID, how="inner", validate="one_to_one")
    if config.date_column:
        _require_outcomes_after_scoring(sample, where, config.date_column)
    _require_champion_version(sample, champion, where, log_file)
    logger.info(
        "Outcomes %s: %d of %d scored applications have one (%d defaults)",
        where,
        len(sample),
        len(scoring_log_periods),
        int(sample[mon.OUTCOME].sum()),
    )
    return sample


def _require_outcomes_after_scoring(sample: pd.DataFrame, where: str, column: str) -> None:
    """An outcome is observed after the application was scored (when both dates are known)."""
    early = sample[OUTCOME_ON] < sample[SCORED_ON]
    if early.any():
        raise DataValidationError(
            f"{where}: column '{column}': {int(early.sum()):,} outcome(s) dated before their "
            f"application was scored, e.g. identifiers {describe_examples(sample.loc[early, ID])}"
            "; an outcome judged against a score must come after it (check the join key or the "
            "dates)."
        )


def _require_champion_version(
    sample: pd.DataFrame, champion: serving.ChampionHandle, where: str, log_file: str
) -> None:
    other = sample[VERSION] != label_text(champion.version)
    if other.any():
        found = sample.loc[other, VERSION].value_counts().head(5).to_dict()
        raise DataValidationError(
            f"{where}: {int(other.sum()):,} outcome(s) belong to applications that "
            f"{log_file} says were scored by another model version than the champion "
            f"monitored, {champion.describe()}: {found} (version: applications). Backtest "
            "one version at a time: keep that version's rows, or monitor the other version "
            "with `--params monitored_model=<version>`."
        )


def check_review_periods(sample: pd.DataFrame, monitor: Monitor) -> pd.DataFrame:
    """Per review period: loans, defaults, non-defaults, and whether the AUC can be tested.

    A period with fewer than two defaults or non-defaults has no AUC standard error: an error
    by default (often outcomes not yet observed, or filtered away), reported as n/a with
    monitor.periods_without_defaults: flag."""
    counts = mon.outcome_counts(sample)
    counts["auc_testable"] = (counts["defaults"] >= MIN_CLASS) & (
        counts["non_defaults"] >= MIN_CLASS
    )
    untestable = counts.loc[~counts["auc_testable"]]
    if len(untestable) and monitor.periods_without_defaults == "error":
        described = ", ".join(
            f"{row[mon.PERIOD]}: {row['defaults']} defaults in {row['loans']} loans"
            for row in untestable.to_dict(orient="records")
        )
        raise DataValidationError(
            f"{monitor.outcomes.file}: review period(s) without enough defaults and "
            f"non-defaults (at least {MIN_CLASS} of each) to test the AUC: {described}. "
            "Often the outcomes are not yet observed: leave these applications out, use longer "
            "periods (monitor.period: year), or report them as n/a with "
            "monitor.periods_without_defaults: flag."
        )
    for row in untestable.to_dict(orient="records"):
        logger.warning(
            "Review period %s: %d defaults in %d loans, AUC test reported as n/a",
            row[mon.PERIOD],
            row["defaults"],
            row["loans"],
        )
    return counts


def read_initial_validation(
    champion: serving.ChampionHandle, monitored_version: dict[str, Any], monitor: Monitor
) -> dict[str, Any]:
    """The champion monitored and its initial-validation AUC: monitor.initial_auc if set,
    else the test ROC AUC its `loan` run registered with it (version tag `test_roc_auc`)."""
    if str(monitored_version["version"]) != str(champion.version):
        raise DataValidationError(
            f"The registry's alias moved during this run ({champion.name} v{champion.version} "
            f"loaded, v{monitored_version['version']} now): run `monitor` again."
        )
    source = "monitor.initial_auc"
    initial = monitor.initial_auc
    if initial is None:
        tagged = monitored_version["tags"].get("test_roc_auc")
        initial = float(tagged) if tagged not in (None, "None", "") else None
        source = f"{champion.name} v{champion.version} tag test_roc_auc (its loan run's test set)"
    if initial is None and RUN_AUC in monitored_version["run_metrics"]:
        initial = float(monitored_version["run_metrics"][RUN_AUC])
        source = f"metric {RUN_AUC} of {champion.name} v{champion.version}'s loan run"
    if initial is None or not 0 < initial < 1:
        raise DataValidationError(
            f"{champion.describe()} carries no initial-validation AUC (version tag "
            f"test_roc_auc, run metric {RUN_AUC}); set monitor.initial_auc to the AUC of its "
            "initial validation."
        )
    return {
        "model_name": champion.name,
        "model_version": str(champion.version),
        "run_id": champion.run_id,
        "initial_auc": float(initial),
        "initial_auc_source": source,
    }


def assess_discrimination(
    monitoring_sample: pd.DataFrame,
    review_periods: pd.DataFrame,
    initial_validation: dict[str, Any],
    monitor: Monitor,
) -> pd.DataFrame:
    """Per review period: AUC, its standard error and the ECB test against the initial AUC."""
    rows = []
    testable = review_periods.set_index(mon.PERIOD)["auc_testable"]
    for period, group in monitoring_sample.groupby(mon.PERIOD, sort=True):
        row: dict[str, Any] = {mon.PERIOD: period}
        if testable[period]:
            row |= mon.discrimination(
                group[mon.OUTCOME].to_numpy(),
                group[mon.PD].to_numpy(),
                initial_validation["initial_auc"],
                monitor.lights.auc,
            )
        else:
            row |= {"initial_auc": initial_validation["initial_auc"], "auc_light": "n/a"}
        rows.append(row)
    return pd.DataFrame(rows)


def backtest_grades(monitoring_sample: pd.DataFrame, rating: Rating) -> pd.DataFrame:
    """Per review period and rating grade: loans, defaults, mean PD, observed default rate,
    the Jeffreys p-value and its light (rating.amber / rating.red, as the loan run's backtest)."""
    thresholds = (rating.amber, rating.red)
    tables = [
        backtest.grade_backtest(
            group[mon.OUTCOME], group[mon.PD], group[mon.GRADE], thresholds
        ).assign(**{mon.PERIOD: period})
        for period, group in monitoring_sample.groupby(mon.PERIOD, sort=True)
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[[mon.PERIOD, *[c for c in table if c != mon.PERIOD]]]


def measure_stability(
    scoring_log_periods: pd.DataFrame, champion: serving.ChampionHandle, monitor: Monitor
) -> pd.DataFrame:
    """Per review period, every scored application (outcome known or not) against training:
    PSI of the score and of the rating grades, CSI of the champion's top drivers."""
    profile = champion.model.profile
    references: dict[str, tuple[str, ReferenceDistribution, str]] = {
        "score": ("score", profile.score_reference, mon.PD)
    }
    grades = grade_reference(champion)
    if grades is not None:
        references["rating_grade"] = ("rating_grade", grades, mon.GRADE)
    drivers = list(profile.feature_references)[: monitor.csi_top_features]
    frame = scoring_log_periods[[mon.PERIOD, mon.PD, mon.GRADE]].reset_index(drop=True)
    frame[mon.GRADE] = frame[mon.GRADE].map(label_text)  # 3, 3.0 and "3": grade "3"
    if drivers:
        typed = _typed_drivers(scoring_log_periods, champion, drivers, monitor)
        frame = frame.join(typed)
        references |= {d: ("driver", profile.feature_references[d], d) for d in drivers}
    rows = []
    for period, group in frame.groupby(mon.PERIOD, sort=True):
        values = {
            name: (kind, reference, group[column])
            for name, (kind, reference, column) in references.items()
        }
        rows += mon.stability_rows(period, values, monitor.lights.psi)
    return pd.DataFrame(rows)


def grade_reference(champion: serving.ChampionHandle) -> ReferenceDistribution | None:
    """The training loans' rating grades, as the champion's master scale stores them (None for
    a champion registered without one)."""
    scale = getattr(champion.model, "rating_scale", None)
    if scale is None:
        logger.warning("%s has no master scale: no grade PSI", champion.describe())
        return None
    counts = {str(grade): int(loans) for grade, loans in enumerate(scale.loans, start=1)}
    return ReferenceDistribution(counts)


def _typed_drivers(
    scoring_log: pd.DataFrame,
    champion: serving.ChampionHandle,
    drivers: list[str],
    monitor: Monitor,
) -> pd.DataFrame:
    """The drivers as training typed and derived them, row by row (NaN where a row's value
    cannot be read)."""
    inputs = list(champion.model.input_types)
    missing = [c for c in inputs if c not in scoring_log and c in drivers]
    if missing:
        raise DataValidationError(
            f"{monitor.scoring_log.file}: the scoring log lacks the application column(s) "
            f"{missing} whose stability (CSI) is measured; add the applications' columns to the "
            "log, or set monitor.csi_top_features: 0."
        )
    raw = scoring_log.reindex(columns=inputs).reset_index(drop=True)
    valid, _problems = check_applications(raw, champion.model)
    typed = pd.DataFrame(index=raw.index, columns=drivers, dtype=object)
    at = valid[ROW].to_numpy() - 1
    for driver in drivers:
        if driver in valid:
            typed.loc[at, driver] = valid[driver].to_numpy()
    return typed.infer_objects()


def assess_periods(
    review_periods: pd.DataFrame,
    discrimination: pd.DataFrame,
    grade_backtest: pd.DataFrame,
    population_stability: pd.DataFrame,
    monitoring_sample: pd.DataFrame,
    rating: Rating,
) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame, pd.DataFrame]:
    """Per review period: the figures and lights of every test and the overall light (the
    worst); the `monitor.*` metrics, per period and for the latest; and the per-grade and
    stability tables to publish. The first node that writes a file: it needs every check."""
    monitor_backtest, monitor_stability = grade_backtest, population_stability
    goal = rating.pass_goal
    rows = []
    for period in review_periods[mon.PERIOD]:
        counts = review_periods.set_index(mon.PERIOD).loc[period]
        sample = monitoring_sample[monitoring_sample[mon.PERIOD] == period]
        auc = discrimination.set_index(mon.PERIOD).loc[period]
        grades = monitor_backtest[monitor_backtest[mon.PERIOD] == period]
        stability = monitor_stability[monitor_stability[mon.PERIOD] == period].set_index("variable")
        drivers = stability[stability["kind"] == "driver"]
        row = {
            mon.PERIOD: period,
            "loans": int(counts["loans"]),
            "defaults": int(counts["defaults"]),
            "observed_default_rate": counts["defaults"] / counts["loans"],
            "mean_pd": float(sample[mon.PD].mean()),
            **{k: auc.get(k, np.nan) for k in _AUC_COLUMNS},
            "grades": len(grades),
            "grades_passing_jeffreys": float((grades["traffic_light"] != "red").mean()),
            "jeffreys_light": mon.calibration_light(list(grades["traffic_light"]), goal),
            "herfindahl_index": backtest.herfindahl_cv(grades["loans"])
            if len(grades) > 1
            else np.nan,
            "psi_score": _value(stability, "score"),
            "psi_grade": _value(stability, "rating_grade"),
            "csi_max": float(drivers["value"].max()) if len(drivers) else np.nan,
            "stability_light": mon.worst(
                list(stability.loc[stability["kind"] != "driver", "light"])
            ),
            # Diagnostic: a driver's shift explains a score's shift; it does not judge the model.
            "drivers_light": mon.worst(list(drivers["light"])),
        }
        row["light"] = mon.worst([row["auc_light"], row["jeffreys_light"], row["stability_light"]])
        row["light_code"] = mon.light_code(row["light"])
        rows.append(row)
    summary = pd.DataFrame(rows)
    return summary, _metrics(summary), monitor_backtest, monitor_stability


_AUC_COLUMNS = (
    "auc",
    "auc_standard_error",
    "initial_auc",
    "auc_test_statistic",
    "auc_p_value",
    "auc_light",
)
_METRICS = {
    "loans": "loans",
    "defaults": "defaults",
    "observed_default_rate": "observed_default_rate",
    "mean_pd": "mean_pd",
    "auc": "auc",
    "auc_standard_error": "auc_standard_error",
    "auc_p_value": "auc_p_value",
    "grades_passing_jeffreys": "grades_passing_jeffreys",
    "herfindahl_index": "herfindahl_index",
    "psi_score": "psi_score",
    "psi_grade": "psi_grade",
    "csi_max": "csi_max",
    "light_code": "light",
}
_LIGHTS = ("auc_light", "jeffreys_light", "stability_light", "drivers_light")


def _value(stability: pd.DataFrame, name: str) -> float:
    return float(stability.loc[name, "value"]) if name in stability.index else np.nan


def _metrics(summary: pd.DataFrame) -> dict[str, float]:
    """`monitor.<period>.<name>` for every period and `monitor.latest.<name>` for the last;
    lights as numbers (0 green, 1 amber, 2 red); n/a values are left out."""
    metrics: dict[str, float] = {}
    latest = mon.ordered_periods(summary[mon.PERIOD])[-1]
    for row in summary.to_dict(orient="records"):
        scopes = [row[mon.PERIOD]] + (["latest"] if row[mon.PERIOD] == latest else [])
        values = {name: row[column] for column, name in _METRICS.items()}
        values |= {light: mon.light_code(row[light]) for light in _LIGHTS}
        for scope in scopes:
            for name, value in values.items():
                if value is not None and np.isfinite(float(value)):
                    metrics[f"monitor.{scope}.{name}"] = float(value)
    metrics["monitor.initial_auc"] = float(summary["initial_auc"].iloc[-1])
    metrics["monitor.periods"] = float(len(summary))
    return metrics


def render_monitoring_report(
    monitor_summary: pd.DataFrame,
    monitor_backtest: pd.DataFrame,
    monitor_stability: pd.DataFrame,
    initial_validation: dict[str, Any],
    monitor: Monitor,
    rating: Rating,
) -> str:
    """The HTML monitoring report: the verdict, then per review period the AUC test, the
    per-grade backtest and the stability of the population."""
    latest = monitor_summary.iloc[-1]
    model = f"{initial_validation['model_name']} v{initial_validation['model_version']}"
    headline = report.kpis(
        {
            "Model monitored": model,
            "Latest review period": str(latest[mon.PERIOD]),
            "Latest light": str(latest["light"]),
            "AUC (latest)": "n/a" if pd.isna(latest["auc"]) else f"{latest['auc']:.3f}",
            "Initial-validation AUC": f"{initial_validation['initial_auc']:.3f}",
        },
        {"Initial-validation AUC": initial_validation["initial_auc_source"]},
    )
    lights = monitor.lights
    method = (
        f"<p>Scoring log: {html.escape(monitor.scoring_log.file)}; outcomes: "
        f"{html.escape(monitor.outcomes.file)}; review periods: {monitor.period}.</p>"
        "<p>AUC test (ECB, IRB validation instructions 2019): S = (AUC<sub>initial</sub> - "
        "AUC<sub>current</sub>) / s<sub>current</sub>, DeLong standard error, one-sided "
        f"p-value; amber below p = {lights.auc[0]}, red below {lights.auc[1]}. "
        "Jeffreys test per grade: p = Beta(D + 1/2, N - D + 1/2).cdf(mean PD); grade amber "
        f"below p = {rating.amber}, red below {rating.red}; a grade passes unless red. "
        f"A period is red when fewer than {rating.pass_goal:.0%} of its grades pass, amber "
        "when fewer than that share are green. PSI / CSI against the champion's training "
        "loans: "
        + ", ".join(f"{b.label} below {b.below}" for b in lights.psi if b.below)
        + ". The overall light of a period is the worst of its AUC, Jeffreys and PSI (score "
        "and grades) lights; the drivers' CSI light is a diagnostic, reported beside it.</p>"
    )
    verdict = f"<p>{html.escape(verdict_sentence(latest, monitor_backtest, monitor_stability))}</p>"
    grades = monitor_backtest.drop(columns=["traffic_light_code"], errors="ignore")
    return report.page(
        f"Monitoring report: {model}",
        [
            ("Verdict", headline + verdict + method),
            ("Review periods", report.table(monitor_summary, why_missing=_WHY_NA)),
            ("Backtest per grade", report.table(grades, digits=4)),
            ("Population stability", report.table(monitor_stability, digits=4)),
        ],
    )


def verdict_sentence(
    latest: pd.Series, monitor_backtest: pd.DataFrame, monitor_stability: pd.DataFrame
) -> str:
    """The latest period's verdict in words: each test's figure and light."""
    period = latest[mon.PERIOD]
    grades = monitor_backtest[monitor_backtest[mon.PERIOD] == period]
    red = grades.loc[grades["traffic_light"] == "red", "rating_grade"].astype(str).tolist()
    drivers = monitor_stability[
        (monitor_stability[mon.PERIOD] == period) & (monitor_stability["kind"] == "driver")
    ]
    if pd.isna(latest["auc"]):
        rank = "Rank order: not testable (too few defaults)."
    else:
        rank = (
            f"Rank order: AUC {latest['auc']:.3f} against {latest['initial_auc']:.3f} at the "
            f"initial validation (ECB test p = {latest['auc_p_value']:.3f}, {latest['auc_light']})."
        )
    passing = int(round(latest["grades_passing_jeffreys"] * len(grades)))
    pds = (
        f"PDs: {passing} of {len(grades)} grades pass the Jeffreys test"
        + (f" (red: grade {', '.join(red)})" if red else "")
        + f", {latest['jeffreys_light']}."
    )
    population = (
        f"Population: PSI of the score {_figure(latest['psi_score'])}, of the grades "
        f"{_figure(latest['psi_grade'])} ({latest['stability_light']})."
    )
    text = f"{period} is {latest['light']}. {rank} {pds} {population}"
    if len(drivers):
        top = drivers.loc[drivers["value"].idxmax()]
        text += (
            f" Drivers (diagnostic): largest CSI {top['variable']} {top['value']:.3f} "
            f"({latest['drivers_light']})."
        )
    return text


def _figure(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3f}"


_WHY_NA = (
    "n/a: a period with too few defaults to test the AUC, a champion without a training grade "
    "distribution, or no drivers monitored"
)


def describe_monitoring_run(
    monitor_summary: pd.DataFrame,
    monitor_metrics: dict[str, float],
    monitor_backtest: pd.DataFrame,
    monitor_stability: pd.DataFrame,
    monitoring_report: str,
    initial_validation: dict[str, Any],
    monitor: Monitor,
) -> dict[str, Any]:
    """The monitoring run's name, tags, parameters, metrics and artifacts."""
    latest = monitor_summary.iloc[-1]
    model = f"{initial_validation['model_name']} v{initial_validation['model_version']}"
    return {
        "name": f"monitor {model} {latest[mon.PERIOD]}",
        "tags": {
            "kedro.pipeline": "monitor",
            "monitor.model_name": initial_validation["model_name"],
            "monitor.model_version": initial_validation["model_version"],
            "monitor.model_run_id": initial_validation["run_id"],
            "monitor.latest_period": str(latest[mon.PERIOD]),
            "monitor.light": str(latest["light"]),
        },
        "params": {
            "monitor.scoring_log": monitor.scoring_log.file,
            "monitor.outcomes": monitor.outcomes.file,
            "monitor.period": monitor.period,
            "monitor.initial_auc_source": initial_validation["initial_auc_source"],
            "monitor.lights.auc": monitor.lights.auc,
            "monitor.lights.psi": [band.below for band in monitor.lights.psi],
        },
        "metrics": monitor_metrics,
        "artifacts": {
            "monitor/monitor_summary.csv": monitor_summary.to_csv(index=False),
            "monitor/monitor_backtest.csv": monitor_backtest.to_csv(index=False),
            "monitor/monitor_stability.csv": monitor_stability.to_csv(index=False),
            "monitor/monitoring_report.html": monitoring_report,
        },
    }


def tag_champion_version(
    monitoring_run: dict[str, str],
    initial_validation: dict[str, Any],
    monitor_summary: pd.DataFrame,
) -> dict[str, str]:
    """Tag the monitored model version with its latest light (after the run is logged)."""
    latest = monitor_summary.iloc[-1]
    tags = tracking.tag_model_version(
        initial_validation["model_name"],
        initial_validation["model_version"],
        {
            "monitor.light": latest["light"],
            "monitor.light_code": "n/a"
            if pd.isna(latest["light_code"])
            else int(latest["light_code"]),
            "monitor.period": latest[mon.PERIOD],
            "monitor.run_id": monitoring_run["run_id"],
        },
    )
    logger.info(
        "%s v%s: latest review period %s is %s (MLflow run %s in %s)",
        initial_validation["model_name"],
        initial_validation["model_version"],
        latest[mon.PERIOD],
        latest["light"],
        monitoring_run["run_id"],
        monitoring_run["experiment"],
    )
    return tags


def _require_columns(frame: pd.DataFrame, needed: dict[str, str], where: str) -> None:
    missing = {column: key for column, key in needed.items() if column not in frame.columns}
    if missing:
        described = "; ".join(f"'{column}' ({key})" for column, key in missing.items())
        raise DataValidationError(
            f"{where}: missing column(s) {described}; the file has "
            f"{describe_examples(list(frame.columns), limit=12)}. Rename the column or set the "
            "parameter named (parameters_monitor.yml); without scoring dates, set "
            'monitor.scoring_log.date_column: "" for one review period.'
        )


def _require_unique(values: pd.Series, where: str, column: str) -> None:
    repeated = values[values.duplicated(keep=False)]
    if len(repeated):
        raise DataValidationError(
            f"{where}: column '{column}': {repeated.nunique():,} identifier(s) appear more than "
            f"once, e.g. {describe_examples(repeated.unique())}; one row per application."
        )
