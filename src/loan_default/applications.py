"""New applications, checked and typed the way training typed its loans.

One path for the score pipeline and the registered pyfunc model: every input column is parsed
with the parser training used; a row with an unparsable value, a value outside the column's
hard bounds or a level an ordered category never had (`grade = Z`) is an error (left out, named
in the errors table). Warnings are scored, and said so: a known level written in another case
or with other spaces (`b` for `B`) is read as that level; a category of an unordered column never
seen in training is scored no safer than its riskiest known level (`floor_unseen_categories`);
a value far outside the training range is referred to manual review (`review_reasons`). A text
column absent from the batch is read as empty text, with one warning for the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loan_default.config.columns import column_references, expression_columns
from loan_default.core.ingestion import derive_features
from loan_default.core.parsers import PARSERS, unparsable
from loan_default.schema import feature_columns, label_text, text_columns
from loan_default.validation import DataValidationError

logger = logging.getLogger(__name__)

ROW = "application_row"
PROBLEM_COLUMNS = [ROW, "severity", "column", "value", "problem"]
NUMERIC_KINDS = {"numeric", "percent", "months", "years"}
TEXT = "text"  # free text: optional, never parsed
FAR_OUTSIDE = "far outside the training range"
# dataset.unseen_categories: how an unordered column's unseen category is scored.
# (the default, riskiest_known: no lower PD than with the riskiest level training saw)
AS_UNKNOWN = "as_unknown"  # the encoder's own unknown treatment (a written rule in conf)


def derived_sources(dataset: dict[str, Any], columns: Any) -> set[str]:
    """Raw columns the derived features are computed from (`config.columns`)."""
    named = {
        reference.column for reference in column_references(dataset)
        if reference.key.startswith("dataset.derived_features.")
    }  # fmt: skip
    return named | set(expression_columns(dataset, columns))


def input_types(
    raw_loans: pd.DataFrame,
    train_loans: pd.DataFrame,
    column_types: dict[str, str],
    dataset: dict[str, Any],
) -> dict[str, str]:
    """Raw columns the champion needs and the parser of each: the one the ingestion used
    (`column_types`), else how pandas typed the training loans (numeric, otherwise category)."""
    used = set(feature_columns(train_loans, dataset)) | derived_sources(dataset, raw_loans.columns)
    types = {}
    for column in (column for column in raw_loans.columns if column in used):
        if column in text_columns(dataset):
            types[column] = TEXT
            continue
        configured = column_types.get(column)
        values = train_loans[column] if column in train_loans else raw_loans[column]
        types[column] = configured or _inferred_kind(values)
    return types


def _inferred_kind(values: pd.Series) -> str:
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return "numeric" if numeric else "category"


def hard_bounds(
    train_loans: pd.DataFrame, types: dict[str, str], dataset: dict[str, Any]
) -> dict[str, tuple[float | None, float | None]]:
    """Configured bounds (dataset.bounds), else: non-negative when training had no negatives."""
    bounds = {}
    for column, kind in types.items():
        configured = dataset["bounds"].get(column)
        if configured is not None:
            bounds[column] = (configured["min"], configured["max"])
        elif kind in NUMERIC_KINDS and column in train_loans:
            values = pd.to_numeric(train_loans[column], errors="coerce").dropna()
            if len(values) and values.min() >= 0:
                bounds[column] = (0.0, None)
    return bounds


def check_applications(raw: pd.DataFrame, champion: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed, derived rows that can be scored (with their row number) and the problems found.

    `champion` is the registered model (LoanDefaultModel): its input types, dataset
    configuration and training profile say how training saw each column.
    """
    dataset, profile, types = champion.dataset, champion.profile, champion.input_types
    if raw.empty:
        raise DataValidationError("applications: the file has no rows (only a header or nothing).")
    missing = [c for c, kind in types.items() if c not in raw.columns and kind != TEXT]
    if missing:
        raise DataValidationError(
            f"applications: {len(missing)} required column(s) missing: {missing}; no application "
            "can be scored without them (the champion was trained on them)."
        )
    # Identifiers are carried along untouched, so a scored row can be matched to its applicant.
    carried = [c for c in dataset["identifier_columns"] if c in raw.columns and c not in types]
    absent_text = [column for column in types if column not in raw.columns]
    if absent_text:
        logger.warning(
            "applications: text column(s) %s not in the batch; every application is scored as if "
            "its text were empty",
            absent_text,
        )
    applications = raw.reindex(columns=[*carried, *types]).reset_index(drop=True)
    applications.insert(0, ROW, np.arange(1, len(raw) + 1))
    problems: list[tuple] = []
    for column, kind in types.items():
        if kind == TEXT:
            continue
        values = raw[column].reset_index(drop=True)
        parsed = PARSERS[kind](values, date_formats=dataset["date_formats"])
        failed = unparsable(values, parsed)
        problems += _rows(
            applications, failed, values, "error", column, f"not a valid {kind} value"
        )
        applications[column] = parsed.to_numpy()
        if kind in NUMERIC_KINDS:
            problems += _bound_problems(applications, column, profile)
    problems += _match_categories(
        applications, known_levels(profile.categories, dataset), ordered_columns(dataset)
    )
    table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    table = table.sort_values([ROW, "severity"], kind="stable").reset_index(drop=True)
    rejected = set(table.loc[table["severity"] == "error", ROW])
    valid = applications[~applications[ROW].isin(rejected)]
    return derive_features(valid, dataset).reset_index(drop=True), table


def ordered_columns(dataset: dict[str, Any]) -> set[str]:
    """Categories with a configured order (dataset.categorical_orders): an unseen level has no
    place in the order, so it is an error rather than a guess."""
    return set(dataset.get("categorical_orders") or {})


def known_levels(categories: dict[str, list[str]], dataset: dict[str, Any]) -> dict[str, list[str]]:
    """Per category column, the levels training saw; an ordered column's configured levels too
    (the ordinal encoder places a level training happened not to see by the order)."""
    orders = dataset.get("categorical_orders") or {}
    known = dict(categories)
    for column, order in orders.items():
        if column in known:
            levels = [label_text(level) for level in order]
            known[column] = [*levels, *(c for c in known[column] if c not in set(levels))]
    return known


def _rows(
    applications: pd.DataFrame, mask: Any, values: pd.Series, severity: str, column: str, why: str
) -> list[tuple]:
    mask = np.asarray(mask, dtype=bool)
    return [
        (row, severity, column, _text(value), why)
        for row, value in zip(applications.loc[mask, ROW], values[mask], strict=True)
    ]


def _text(value: Any) -> str:
    """A value as the applicant wrote it ('' when missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _bound_problems(applications: pd.DataFrame, column: str, profile: Any) -> list[tuple]:
    values = pd.to_numeric(applications[column], errors="coerce")
    problems = []
    low, high = profile.hard_bounds.get(column, (None, None))
    if low is not None:
        problems += _rows(applications, values < low, values, "error", column, f"below {low:g}")
    if high is not None:
        problems += _rows(applications, values > high, values, "error", column, f"above {high:g}")
    if column in profile.numeric_ranges:
        outside = _far_outside(values, column, profile)
        if low is not None:
            outside &= values >= low
        if high is not None:
            outside &= values <= high
        why = (
            f"{_far_outside_text(column, profile)}; referred to manual review, never approved "
            "automatically"
        )
        problems += _rows(applications, outside, values, "warning", column, why)
    return problems


def _far_outside(values: pd.Series, column: str, profile: Any) -> pd.Series:
    """Where a value lies further outside the training range than the profile's tolerance
    (hard-bound violations are errors, found before: their rows are never scored)."""
    seen_low, seen_high = profile.numeric_ranges[column]
    margin = profile.range_tolerance * max(seen_high - seen_low, abs(seen_high), 1e-9)
    return (values < seen_low - margin) | (values > seen_high + margin)


def _far_outside_text(column: str, profile: Any) -> str:
    low, high = profile.numeric_ranges[column]
    return f"{FAR_OUTSIDE} [{low:,.6g}, {high:,.6g}]"


def review_reasons(applications: pd.DataFrame, profile: Any) -> pd.Series:
    """Per valid row, why it goes to manual review ('' for none): values far outside the
    training range, where the model's probability is an extrapolation."""
    reasons = pd.Series("", index=applications.index, dtype=object)
    for column in profile.numeric_ranges:
        if column not in applications:
            continue
        values = pd.to_numeric(applications[column], errors="coerce")
        outside = _far_outside(values, column, profile).fillna(False).to_numpy(dtype=bool)
        if outside.any():
            range_text = _far_outside_text(column, profile)
            said = [f"{column} = {_text(value)}: {range_text}" for value in values[outside]]
            joined = reasons[outside].str.cat(pd.Series(said, index=reasons.index[outside]), "; ")
            reasons[outside] = joined.str.removeprefix("; ")
    return reasons


def _level_key(values: pd.Series) -> pd.Series:
    """A level compared without case or surrounding and repeated spaces."""
    return values.astype(str).str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def _match_categories(
    applications: pd.DataFrame, categories: dict[str, list[str]], ordered: set[str]
) -> list[tuple]:
    """Known levels written differently are read as the level (a warning); an unseen level of an
    ordered category is an error; of an unordered one, a warning (see floor_unseen_categories).
    Rewrites the matched values in `applications`."""
    problems = []
    for column, known in categories.items():
        if column not in applications:
            continue
        values = applications[column]
        present = values.notna().to_numpy()
        texts = values.astype(str)
        unseen = present & ~texts.isin(set(known)).to_numpy()
        if not unseen.any():
            continue
        by_key = dict(zip(_level_key(pd.Series(known)), known, strict=True))
        matched = _level_key(texts).map(by_key).where(unseen)
        found = matched.notna().to_numpy()
        if found.any():
            why = [
                f"read as the known level '{level}' (case or spaces differ)"
                for level in matched[found]
            ]
            problems += [
                (row, "warning", column, _text(value), reason)
                for row, value, reason in zip(
                    applications.loc[found, ROW], values[found], why, strict=True
                )
            ]
            applications.loc[found, column] = matched[found].to_numpy()
        still = unseen & ~found
        if column in ordered:
            why = (
                f"not a level of the ordered category {column} ({_levels(known)}); not scored, "
                "as its place in the order is unknown"
            )
            problems += _rows(applications, still, values, "error", column, why)
        else:
            why = "category not seen in training; scored no safer than its riskiest known level"
            problems += _rows(applications, still, values, "warning", column, why)
    return problems


def _levels(known: list[str]) -> str:
    return ", ".join(known) if len(known) <= 12 else f"{', '.join(known[:10])}, ... ({len(known)})"


def floor_unseen_categories(
    applications: pd.DataFrame,
    probability: np.ndarray,
    predict: Callable[[pd.DataFrame], np.ndarray],
    profile: Any,
    dataset: dict[str, Any],
    encoder: Encoder | None = None,
) -> np.ndarray:
    """The default probability, raised where an unordered column holds a category training never
    saw to the highest PD the applicant gets with any level training saw. An unseen value never
    makes an applicant look safer, unless dataset.unseen_categories sets the column `as_unknown`.
    (Ordered categories never get here: an unseen level is an error.)

    With the champion's `encoder`, the levels are tried in its feature space: each unseen row and
    each level encoded once, then only the column's encoded features swapped, instead of encoding
    every row with every level (the encoders treat each column on its own)."""
    rules = dataset.get("unseen_categories") or {}
    ordered = ordered_columns(dataset)
    floored = np.asarray(probability, dtype=float).copy()
    for column, known in profile.categories.items():
        if column not in applications or column in ordered or rules.get(column) == AS_UNKNOWN:
            continue
        values = applications[column]
        rows = np.flatnonzero((values.notna() & ~values.astype(str).isin(set(known))).to_numpy())
        if not len(rows) or not known:
            continue
        riskiest = _riskiest_encoded(applications, rows, column, known, encoder)
        if riskiest is None:
            trial = _with_levels(applications, rows, column, known)
            riskiest = predict(trial).reshape(len(rows), len(known)).max(axis=1)
        floored[rows] = np.maximum(floored[rows], riskiest)
    return floored


# The champion's encoding step, its model on encoded rows, and encoded column -> input column.
Encoder = tuple[Callable[[pd.DataFrame], pd.DataFrame], Callable[[pd.DataFrame], np.ndarray], dict]


def _with_levels(
    applications: pd.DataFrame, rows: np.ndarray, column: str, known: list[str]
) -> pd.DataFrame:
    """Each of `rows` once per known level of `column`, row by row."""
    trial = applications.iloc[np.repeat(rows, len(known))].reset_index(drop=True)
    levels = pd.Series(known * len(rows))
    values = applications[column]
    trial[column] = levels.astype(values.dtype) if values.dtype != object else levels
    return trial


def _riskiest_encoded(
    applications: pd.DataFrame,
    rows: np.ndarray,
    column: str,
    known: list[str],
    encoder: Encoder | None,
) -> np.ndarray | None:
    """Per row, the highest PD over the known levels, scored on encoded rows (None without an
    encoder, or when no encoded feature comes from `column`)."""
    if encoder is None:
        return None
    encode, predict_encoded, sources = encoder
    levels = encode(_with_levels(applications, rows[:1], column, known))
    swapped = [name for name in levels.columns if sources.get(name, name) == column]
    if not swapped:
        return None
    encoded = encode(applications.iloc[rows].reset_index(drop=True))
    trial = encoded.iloc[np.repeat(np.arange(len(rows)), len(known))].reset_index(drop=True)
    trial[swapped] = np.tile(levels[swapped].to_numpy(), (len(rows), 1))
    return predict_encoded(trial).reshape(len(rows), len(known)).max(axis=1)


def decisions(probability: np.ndarray, threshold: float, review: pd.Series) -> np.ndarray:
    """approve / reject at the threshold, and `refer` (manual review) wherever a row has a
    review reason, whatever its probability: an extrapolated PD is never acted on automatically."""
    decided = np.where(np.asarray(probability) >= threshold, "reject", "approve")
    return np.where(review.to_numpy(dtype=str) != "", "refer", decided)


def summarise_problems(rows: pd.Series, problems: pd.DataFrame, severity: str) -> pd.Series:
    """Per application row, its problems of one severity as `column = value: problem; ...`.
    (The table may come back from a CSV file, its values read as numbers or missing.)"""
    chosen = problems[problems["severity"] == severity]
    if chosen.empty:
        return pd.Series("", index=rows.index, dtype=object)
    parts = [chosen[c].astype(object).map(_text) for c in ("column", "value", "problem")]
    text = parts[0] + " = " + parts[1] + ": " + parts[2]
    joined = text.groupby(chosen[ROW].to_numpy()).agg("; ".join)
    return rows.map(joined).fillna("")
