"""The bundled monitoring sample: the out-of-time test loans scored by the registered champion,
as a scoring log, and their real outcomes (what `kedro run --pipeline monitor` reads)."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from loan_default.parameters import Dataset, Monitor
from loan_default.pipelines.lazy import monitoring, serving
from loan_default.schema import RAW_ROW, target_values
from loan_default.validation import DataValidationError

logger = logging.getLogger(__name__)


def registered_champion(
    champion_registration: dict[str, str],
    champion_package: serving.ChampionHandle,
    incumbent_champion: serving.ChampionHandle | None,
) -> serving.ChampionHandle:
    """The champion the registry holds after this run: this run's model if it was promoted,
    else the incumbent, with its registered name and version."""
    promoted = champion_registration["promoted"] == "true"
    champion = champion_package if promoted else incumbent_champion
    if champion is None:  # the registration stage never keeps an alias on nothing
        raise DataValidationError("registry: no champion after this run's registration.")
    return dataclasses.replace(
        champion,
        name=champion_registration["model_name"],
        version=champion_registration["champion_version"],
    )


def log_out_of_time_scores(
    champion_registration: dict[str, str],
    champion_package: serving.ChampionHandle,
    incumbent_champion: serving.ChampionHandle | None,
    test_loans: pd.DataFrame,
    raw_test_loans: pd.DataFrame,
    dataset: Dataset,
    monitor: Monitor,
) -> dict[str, pd.DataFrame]:
    """Score the test loans' raw rows (`raw_test_loans`, in the test loans' order) with the champion the registry holds after this run:
    a scoring log (identifier, application date, model version, PD, rating grade, the
    application's columns) and the loans' outcomes, named as `monitor` reads them.

    The identifier is the raw loans' column monitor.scoring_log.identifier_column or, when the
    raw file has no column of that name, the loan's row number in the raw file (1 = first)."""
    champion = registered_champion(champion_registration, champion_package, incumbent_champion)
    log_columns, outcomes = monitor.scoring_log, monitor.outcomes
    identifier = monitoring.identifier_column(monitor, dataset)
    raw_test = raw_test_loans.reset_index(drop=True)
    if identifier not in raw_test:  # e.g. LendingClub, whose `id` column is empty
        row_numbers = pd.DataFrame({identifier: test_loans[RAW_ROW].to_numpy() + 1})
        raw_test = pd.concat([row_numbers, raw_test], axis=1)
    _require_identifiers(raw_test[identifier], identifier, dataset)
    inputs = [column for column in champion.model.input_types if column in raw_test]
    date_column = monitoring.scoring_date_column(monitor, dataset)
    carried = [c for c in (identifier, date_column) if c and c not in inputs]
    try:
        predicted = champion.model.predict(None, raw_test[inputs], params={"reasons": False})
    except Exception as error:  # noqa: BLE001 - an incumbent trained on other data
        logger.warning(
            "Monitoring sample left empty: the registry's champion %s cannot score this run's "
            "test loans (%s: %s)",
            champion.describe(),
            type(error).__name__,
            str(error)[:300],
        )
        predicted = pd.DataFrame({"probability_of_default": np.full(len(raw_test), np.nan)})
    scored = predicted["probability_of_default"].notna().to_numpy()
    log = raw_test.loc[scored, carried + inputs].reset_index(drop=True)
    log.insert(len(carried), log_columns.model_version_column, champion.version)
    probability = predicted.loc[scored, "probability_of_default"].astype(float).round(6)
    log.insert(len(carried) + 1, log_columns.probability_column, probability.to_numpy())
    if "rating_grade" in predicted:  # the champion's master scale (registered with it)
        grades = predicted.loc[scored, "rating_grade"].astype("Int64").to_numpy()
        log.insert(len(carried) + 2, log_columns.grade_column, grades)
    else:
        logger.warning(
            "%s gives no rating_grade (no master scale): `monitor` needs one", champion.describe()
        )
    defaulted = target_values(test_loans, dataset)[scored].astype(bool)
    outcome = np.where(defaulted, outcomes.default_values[0], outcomes.non_default_values[0])
    outcome_table = pd.DataFrame(
        {
            outcomes.identifier_column or identifier: log[identifier].to_numpy(),
            outcomes.outcome_column: outcome,
        }
    )
    logger.info(
        "Monitoring sample: %d of %d test loans scored by %s (%d defaults)",
        len(log),
        len(test_loans),
        champion.describe(),
        int(defaulted.sum()),
    )
    return {"scoring_log": log, "outcomes": outcome_table}


def _require_identifiers(values: pd.Series, column: str, dataset: Dataset) -> None:
    """Every test loan has an identifier of its own."""
    if values.isna().any() or values.duplicated().any():
        raise DataValidationError(
            f"{dataset.source_file}: column '{column}' (monitor.scoring_log."
            f"identifier_column): {int(values.isna().sum()):,} empty and "
            f"{int(values.duplicated().sum()):,} repeated identifiers among the test loans; name "
            "a column that identifies each loan, or a name the raw file does not have (the "
            "loan's row number then identifies it)."
        )
