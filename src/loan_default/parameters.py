"""The parameters' typed contract: one pydantic model per block, the only place defaults live.

`validate_parameters` runs when Kedro loads the parameters (see config_loader.py), so a typo, an
unknown model or a bad metric stops `kedro run` before the first node and before any MLflow
run opens. The validated blocks stay typed: a node whose `params:` input is annotated with one
of these classes (`dataset: Dataset`, `cv: CrossValidation` for `params:training.cv`) receives
the object and reads attributes (docs/typed-parameters.md). Kedro (1.3+) checks the annotation
against the object it passes (`kedro.validation.ParameterValidator`).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from loan_default.config.columns import column_references, columns_by_key, expression_columns
from loan_default.config.names import (
    GREATER_IS_BETTER,
    MODEL_NAMES,
    MONOTONE_MODELS,
    STRATEGY_NAMES,
    THRESHOLD_OBJECTIVES,
)
from loan_default.validation import ConfigurationError

Label = str | int | float | bool
Fraction = Annotated[float, Field(ge=0, le=1)]
ColumnType = Literal["numeric", "percent", "months", "years", "date", "category"]
# optbinning's monotonic_trend values
MonotonicTrend = Literal[
    "ascending", "descending", "auto", "auto_heuristic", "auto_asc_desc", "concave", "convex",
    "peak", "valley", "peak_heuristic", "valley_heuristic",
]  # fmt: skip


class Block(BaseModel):
    """Unknown keys are errors, so a misspelled key never silently falls back to a default.

    Nodes read attributes (`dataset.target.column`). Library code written for the mapping the
    YAML file is (`schema`, `core`, `modelling`, the served model's stored settings) may still
    read a block by key: `block["target"]`, `block.get(...)`, `block.keys()`, `block.items()`
    and `block | {...}` (a validated copy) use the YAML file's names (`in`, not `in_`).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def __getitem__(self, key: str) -> Any:
        field = _field_names(type(self)).get(key)
        if field is None:
            raise KeyError(key)
        return getattr(self, field)

    def get(self, key: str, default: Any = None) -> Any:
        """The field the YAML file names `key`, or `default` when the block has no such key."""
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        """The block's keys as the YAML file spells them."""
        return list(_field_names(type(self)))

    def items(self) -> list[tuple[str, Any]]:
        """(key, value) of every field, keys as the YAML file spells them."""
        return [(key, self[key]) for key in self.keys()]

    def values(self) -> list[Any]:
        """Every field's value, in the schema's order."""
        return [self[key] for key in self.keys()]

    def __contains__(self, key: object) -> bool:
        return key in _field_names(type(self))

    def __or__(self, values: dict[str, Any]) -> Block:
        """A copy with the top-level `values` replaced, validated again (`dataset | {...}`)."""
        return type(self).model_validate({**self.plain(), **values})

    def plain(self) -> dict[str, Any]:
        """The block as the mapping the YAML file writes, every default filled in."""
        return self.model_dump(by_alias=True)


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """YAML key -> attribute name of a block's fields (the alias when a field has one)."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def _known(name: str, registry: Any, kind: str) -> str:
    if name not in registry:
        names = sorted(str(key) for key in registry)
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ValueError(f"unknown {kind} '{name}' ({hint}known: {', '.join(names)})")
    return name


class Band(Block):
    """A labelled band: values below `below` (null = no bound) get `label`."""

    below: float | None
    label: str


def _bands(*bounds: tuple[float | None, str]) -> list[Band]:
    return [Band(below=below, label=label) for below, label in bounds]


# ---------------------------------------------------------------- dataset ---------------------


class PolicyExceptions(Block):
    """Extra outcome labels kept with a flag (`keep`) or removed (`drop`)."""

    action: Literal["keep", "drop"] = "keep"
    flag_column: str | None = None
    positive: list[Label] = []
    negative: list[Label] = []


class Target(Block):
    """The outcome column and the labels that mean default (1) and repaid (0)."""

    column: str
    positive: Annotated[list[Label], Field(min_length=1)]
    negative: Annotated[list[Label], Field(min_length=1)]
    output_column: str = "is_default"
    ignore: list[Label] = []
    policy_exceptions: PolicyExceptions = PolicyExceptions()


class DerivedFeature(Block):
    """One of ratio [a, b] (times scale), months_between [start, end] or a pandas expression."""

    ratio: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None
    scale: float = 1.0
    months_between: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None
    expression: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DerivedFeature:
        given = [key for key in ("ratio", "months_between", "expression") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError(
                f"needs exactly one of ratio, months_between, expression (got {given or 'none'})"
            )
        return self


class InformativeMissing(Block):
    """A column whose missingness means something: indicator plus a domain fill."""

    fill: float | Literal["max", "min", "median", "zero"] | None = None
    why: str = "no reason given"


class BaselineRule(Block):
    """Reject when `column` is in `in`, above `above` or below `below` (ordered categories use
    dataset.categorical_orders, so `above: C` works on a grade)."""

    column: str
    in_: list[Label] | None = Field(default=None, alias="in")
    above: float | str | None = None
    below: float | str | None = None

    @model_validator(mode="after")
    def _a_condition(self) -> BaselineRule:
        if self.in_ is None and self.above is None and self.below is None:
            raise ValueError("needs one of `in` (a list), `above` or `below`")
        return self


class Costs(Block):
    """Cost of a missed default (amount x LGD) and of a rejected good loan (amount x margin)."""

    amount_column: str | None = None
    loss_given_default: Fraction
    interest_margin: Annotated[float, Field(ge=0)]


class Duplicates(Block):
    """Exact duplicate rows and repeated identifiers: judged (`error`) or all dropped (`drop`)."""

    # error: stop on exact copies above `max_exact_share` of the rows or on an identifier that
    # repeats with other content; drop a smaller share of exact copies with a warning.
    # drop: keep the first copy of every duplicate, whatever the share.
    action: Literal["error", "drop"] = "error"
    max_exact_share: Fraction = 0.01


class Bounds(Block):
    """Hard plausibility bounds of a column for new applications (null = unbounded)."""

    min: float | None = None
    max: float | None = None


class TextColumn(Block):
    """A free-text column turned into features (features.text says which)."""

    # Regular expressions removed before any feature is computed (boilerplate, dates).
    strip: list[str] = []
    # A regular expression that starts each later entry (text appended after the application):
    # only the text before the second entry is kept.
    keep_first: str | None = None
    label: str | None = None  # how reasons and reports name it (default: the column name)

    @field_validator("strip", "keep_first")
    @classmethod
    def _patterns(cls, patterns: list[str] | str | None) -> list[str] | str | None:
        for pattern in [patterns] if isinstance(patterns, str) else patterns or []:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"'{pattern}' is not a regular expression ({error})") from None
        return patterns


class Grouping(Block):
    """How the audit groups a column: its own values, numeric bands, or named sets of values."""

    column: str | None = None  # the column grouped (default: the grouping's own key)
    bands: list[float] | None = None  # ascending edges: "under 25", "25 to under 35", ...
    groups: dict[str, list[Label]] | None = None  # group name -> values; others -> `other`
    other: str = "other"

    @model_validator(mode="after")
    def _one_way(self) -> Grouping:
        if self.bands is not None and self.groups is not None:
            raise ValueError("give either bands or groups, not both")
        if self.bands is not None and (not self.bands or self.bands != sorted(set(self.bands))):
            raise ValueError(f"bands must be ascending distinct edges (got {self.bands})")
        return self


class Fairness(Block):
    """Fair-lending audit: protected columns (never features, audited) and potential proxies."""

    # column -> why it may not be used in a credit decision: never a feature or a reason.
    protected_columns: dict[str, str] = {}
    # column -> why it is audited as a potential proxy (it may be a feature).
    audit_columns: dict[str, str] = {}
    # Named views of a protected or audited column (a key equal to the column replaces its own
    # values, e.g. age bands; another key adds a view, e.g. states grouped into regions).
    groupings: dict[str, Grouping] = {}
    # Groups with fewer test loans are listed as "too small to judge", never as findings.
    min_group_size: Annotated[int, Field(ge=1)] = 100


class ReasonsPolicy(Block):
    """Which columns adverse-action reasons may cite (README "Adverse-action reasons")."""

    # column -> why it is never given as a reason, though it may be a feature (pricing set by
    # the lender's own risk model is circular). Protected and audited columns are never reasons
    # without being listed here, nor is a derived feature computed from a listed column.
    never_reasons: dict[str, str] = {}
    # column -> the side on which a value raises risk: a value on the other side of the
    # typical approved applicant's is never a reason ("credit history longer than typical").
    # Columns with an ascending / descending dataset.monotonic_trends have it already.
    riskier: dict[str, Literal["higher", "lower"]] = {}


class Dataset(Block):
    """Everything specific to one loan table (docs/own-data.md)."""

    name: str = "loans"
    source_file: str = "the raw loans file"
    # Who is in the data and who is not (the report's limitations), e.g. "accepted loans only".
    population: str | None = None
    target: Target
    costs: Costs
    date_column: str | None = None
    date_formats: Annotated[list[str], Field(min_length=1)] = ["%Y-%m-%d"]
    split_cutoff: str | None = None
    column_types: dict[str, ColumnType] = {}
    max_unparsable_fraction: Fraction = 0.0
    leakage_columns: dict[str, str] = {}
    identifier_columns: list[str] = []
    excluded_columns: dict[str, str] = {}
    duplicates: Duplicates = Duplicates()
    derived_features: dict[str, DerivedFeature] = {}
    sentinel_codes: dict[str, list[Label]] = {}
    informative_missing: dict[str, InformativeMissing] = {}
    categorical_orders: dict[str, list[Label]] = {}
    # Scoring an unordered category training never saw: by default no lower PD than with its
    # riskiest known level; `as_unknown` (a written rule) keeps the encoder's unknown treatment.
    # (An unseen level of an ordered category is always an error for that application.)
    unseen_categories: dict[str, Literal["riskiest_known", "as_unknown"]] = {}
    encoders: dict[str, Literal["one_hot", "ordinal", "target"]] = {}
    monotonic_trends: dict[str, MonotonicTrend] = {}
    baseline_rules: dict[str, BaselineRule] = {}
    score_baselines: dict[str, str] = {}
    bounds: dict[str, Bounds] = {}
    text_columns: dict[str, TextColumn] = {}
    # Text columns the raw file may lack or leave empty (empty: a warning instead of an error).
    optional_text_columns: list[str] = []
    # How reasons and reports name a column, e.g. {"util": "Revolving utilisation"}.
    labels: dict[str, str] = {}
    fairness: Fairness = Fairness()
    reasons: ReasonsPolicy = ReasonsPolicy()

    @model_validator(mode="after")
    def _protected_is_never_used(self) -> Dataset:
        settings = self.model_dump()
        inputs = columns_by_key(column_references(settings), uses=("model_input",))
        in_expressions = expression_columns(settings, self.fairness.protected_columns)
        for column in self.fairness.protected_columns:
            used = [key.removeprefix("dataset.") for key in inputs.get(column, [])]
            used += [
                f"{key.removeprefix('dataset.')} (expression)"
                for key in in_expressions.get(column, [])
            ]
            if column in self.derived_features:
                used.append("derived_features")
            if used:
                raise ValueError(
                    f"fairness.protected_columns.{column}: a protected column is never a model "
                    f"input, but dataset.{', dataset.'.join(used)} uses it"
                )
        return self

    @model_validator(mode="after")
    def _groupings_name_audited_columns(self) -> Dataset:
        fairness = self.fairness
        audited = set(fairness.protected_columns) | set(fairness.audit_columns)
        for name, grouping in fairness.groupings.items():
            column = grouping.column or name
            if column not in audited:
                raise ValueError(
                    f"fairness.groupings.{name}: column '{column}' is not listed in "
                    "fairness.protected_columns or fairness.audit_columns"
                )
        return self

    @model_validator(mode="after")
    def _text_is_text(self) -> Dataset:
        for column in self.text_columns:
            for key in ("column_types", "excluded_columns", "leakage_columns", "encoders"):
                if column in getattr(self, key):
                    raise ValueError(
                        f"text_columns.{column}: also listed in dataset.{key}; a text column "
                        "is read as text and turned into features by features.text"
                    )
        for column in self.optional_text_columns:
            if column not in self.text_columns:
                raise ValueError(
                    f"optional_text_columns: '{column}' is not one of dataset.text_columns "
                    f"({', '.join(self.text_columns) or 'none'})"
                )
        return self


# ---------------------------------------------------------------- stages ----------------------


class Split(Block):
    """Out-of-time split at dataset.split_cutoff (needs dataset.date_column) or a stratified
    random split; `test_size` is the random split's test share, and the out-of-time test share
    when dataset.split_cutoff is null."""

    method: Literal["auto", "out_of_time", "random"] = "auto"
    test_size: Annotated[float, Field(gt=0, lt=1)] = 0.3
    random_state: int = 42
    # Spark environment: training loans collected for modelling; above this many, every
    # default and a weighted sample of repaid loans (loan_default.spark.sampling). Sized for
    # 2 cores: at 50x, 250,000 loans took 15 of `loan`'s 31 minutes in training alone.
    row_budget: Annotated[int, Field(ge=1000)] = 200_000
    # Spark environment: test loans collected for evaluation; above this many, the same random
    # fraction of each class, weighted so totals stand for every test loan. Evaluation,
    # fairness and the promotion guard score every kept loan, several times over.
    test_row_budget: Annotated[int, Field(ge=1000)] = 250_000


class DataQuality(Block):
    """Missing-value rules, judged on training loans only."""

    drop_above_rate: Fraction = 0.95
    significance_level: Annotated[float, Field(gt=0, lt=1)] = 0.01
    fisher_min_expected: Annotated[float, Field(ge=0)] = 5
    numeric_impute: Literal["median", "mean", "zero", "constant"] = "median"
    categorical_impute: Literal["most_frequent", "constant"] = "most_frequent"
    constant_numeric: float = 0.0
    constant_categorical: str = "MISSING"
    indicator_suffix: str = "__missing"


class TargetEncoder(Block):
    """scikit-learn TargetEncoder settings (cross-fitted)."""

    cv: Annotated[int, Field(ge=2)] = 5
    smooth: float | Literal["auto"] = "auto"


class Encoding(Block):
    """Encoders for text columns not listed in dataset.encoders."""

    max_one_hot_categories: Annotated[int, Field(ge=1)] = 15
    one_hot_min_frequency: Fraction = 0.005
    unknown_ordinal_value: int = -1
    target_encoder: TargetEncoder = TargetEncoder()
    random_state: int = 42


class Binning(Block):
    """WoE binning: optbinning's optimal bins, or unsupervised quantile bins."""

    method: Literal["optimal", "quantile"] = "optimal"
    min_bin_size: Annotated[float, Field(gt=0, lt=0.5)] = 0.05
    max_n_prebins: Annotated[int, Field(ge=2)] = 20
    cat_cutoff: Fraction = 0.01
    quantile_bins: Annotated[int, Field(ge=2)] = 10


STABILITY_BANDS = ((0.10, "stable"), (0.25, "moderate shift"), (None, "major shift"))


class FeatureReports(Block):
    """IV and PSI verdict bands and the WoE plot."""

    woe_plot_top_n: Annotated[int, Field(ge=1)] = 9
    text_psi_bins: Annotated[int, Field(ge=2)] = 10  # quantile bins of the text features' PSI
    iv_bands: list[Band] = _bands(
        (0.02, "not predictive"),
        (0.1, "weak"),
        (0.3, "medium"),
        (0.5, "strong"),
        (None, "suspicious: check for leakage"),
    )
    psi_bands: list[Band] = _bands(*STABILITY_BANDS)


class TextFeatures(Block):
    """Features of each of dataset.text_columns: a cross-fitted text score (hashed n-grams into
    a regularised logistic regression, out of fold on the rows it is fitted on, 0 for an empty
    text) and indicators."""

    score: bool = True
    analyzer: Literal["word", "char_wb"] = "word"
    ngram_range: Annotated[list[int], Field(min_length=2, max_length=2)] = [1, 1]
    n_features: Annotated[int, Field(ge=16)] = 2**18  # hashed columns per text column
    C: Annotated[float, Field(gt=0)] = 0.1
    cv: Annotated[int, Field(ge=2)] = 5
    indicators: list[Literal["present", "words"]] = ["present", "words"]
    random_state: int = 42


class Features(Block):
    """Encoding and binning knobs (per-column choices live in `dataset`)."""

    encoding: Encoding = Encoding()
    text: TextFeatures = TextFeatures()
    binning: Binning = Binning()
    reports: FeatureReports = FeatureReports()


class ScorecardPoints(Block):
    """PDO scaling: base_points at base_odds (good:bad), +pdo points per doubling of the odds."""

    pdo: float = 20
    base_points: float = 600
    base_odds: float = 50
    band_width: float = 20


class Scorecard(Block):
    """The WoE logistic scorecard baseline."""

    enabled: bool = True
    model_params: dict[str, Any] = {"C": 1.0, "max_iter": 1000}
    points: ScorecardPoints = ScorecardPoints()


class Baselines(Block):
    """Heuristics every model must beat (rules and score columns live in `dataset`)."""

    scorecard: Scorecard = Scorecard()


class ModelSpec(Block):
    """A model of the grid: a registry entry (default: the block's key) and hyperparameters;
    `monotone` constrains it to dataset.monotonic_trends (models that support it)."""

    model: str | None = None
    params: dict[str, Any] = {}
    monotone: bool = False


class EnsembleSpec(Block):
    """A candidate averaging the default probabilities of grid configurations (model/strategy)."""

    members: Annotated[list[str], Field(min_length=2)]


class StrategySpec(Block):
    """An imbalance strategy: a registry entry (default: the key), settings, threshold rule."""

    strategy: str | None = None
    params: dict[str, Any] = {}
    threshold: float | Literal["objective"] | None = None


class CrossValidation(Block):
    """Folds inside the training loans. `time`: expanding windows by date (fit on earlier loans,
    validate on the next period); `stratified`: k-fold (repeated when n_repeats > 1); `auto`:
    time when dataset.date_column is set. `compare` also runs the other scheme, for the report."""

    scheme: Literal["auto", "time", "stratified"] = "auto"
    n_splits: Annotated[int, Field(ge=2)] = 5
    n_repeats: Annotated[int, Field(ge=1)] = 1
    random_state: int = 42
    time_splits: Annotated[int, Field(ge=1)] = 3
    min_train_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.4
    compare: bool = True


class Threshold(Block):
    """How each configuration's operating threshold is chosen on out-of-fold predictions."""

    objective: str = "min_expected_cost"

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: str) -> str:
        return _known(value, THRESHOLD_OBJECTIVES, "objective")


class Calibration(Block):
    """Post-hoc calibration fitted on out-of-fold scores. `auto`: per configuration, the
    candidate (null = none, sigmoid = Platt, isotonic) with the lowest `scoring_rule` on the
    validation folds (time-ordered: fitted on earlier folds only); a method name forces it."""

    method: Literal["auto", "sigmoid", "isotonic"] | None = "auto"
    candidates: list[Literal["sigmoid", "isotonic"] | None] = [None, "sigmoid", "isotonic"]
    scoring_rule: Literal["log_loss", "brier"] = "log_loss"


class Selection(Block):
    """Champion = best cross-validated mean of primary_metric (ties: tie_breaker)."""

    primary_metric: str = "roc_auc"
    tie_breaker: str | None = "expected_cost_per_loan"
    # An operating point that catches fewer defaults than this share (cross-validated recall
    # mean) is flagged: listed after the contenders without a rank, and never the champion.
    min_recall: float = Field(0.10, ge=0, le=1)

    @field_validator("primary_metric", "tie_breaker")
    @classmethod
    def _metric(cls, value: str | None) -> str | None:
        return value if value is None else _known(value, GREATER_IS_BETTER, "metric")


DEFAULT_MODELS = {
    "logistic_regression": ModelSpec(params={"C": 1.0, "solver": "lbfgs", "max_iter": 1000}),
    # 100 trees on 30% samples: the forest never ranks near the top here and was the
    # costliest fit of the grid.
    "random_forest": ModelSpec(
        params={
            "n_estimators": 100,
            "min_samples_leaf": 40,
            "max_features": "sqrt",
            "max_samples": 0.3,
        }
    ),
    "xgboost": ModelSpec(
        params={
            "n_estimators": 300,
            "learning_rate": 0.05,
            "max_depth": 4,
            "min_child_weight": 5,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "tree_method": "hist",
            "eval_metric": "logloss",
            "n_jobs": 1,
        }
    ),
}
DEFAULT_STRATEGIES = {
    "none": StrategySpec(threshold=0.5),
    "class_weight": StrategySpec(),
    "smote": StrategySpec(params={"k_neighbors": 5}),
    "undersample": StrategySpec(params={"sampling_strategy": 1.0}),
    "threshold_tuning": StrategySpec(),
}


class Training(Block):
    """The model x imbalance-strategy grid, cross-validated on training loans only."""

    random_state: int = 42
    n_jobs: Annotated[int, Field(ge=1)] = 2
    # Where the grid's fits run: threads of this process, or Spark tasks (joblibspark).
    backend: Literal["threads", "spark"] = "threads"
    cv: CrossValidation = CrossValidation()
    models: Annotated[dict[str, ModelSpec], Field(min_length=1)] = DEFAULT_MODELS
    strategies: Annotated[dict[str, StrategySpec], Field(min_length=1)] = DEFAULT_STRATEGIES
    threshold: Threshold = Threshold()
    calibration: Calibration = Calibration()
    selection: Selection = Selection()
    ensembles: dict[str, EnsembleSpec] = {}

    @field_validator("models", mode="before")
    @classmethod
    def _over_defaults(cls, models: Any) -> Any:
        """A model given here updates the default of the same label (its params key by key);
        a new label adds a model; `label: null` removes a default one."""
        if not isinstance(models, dict):
            return models
        merged = {label: spec.model_dump() for label, spec in DEFAULT_MODELS.items()}
        for label, spec in models.items():
            if spec is None:
                merged.pop(label, None)
            elif label in merged and isinstance(spec, dict):
                base = merged[label]
                params = {**base["params"], **(spec.get("params") or {})}
                merged[label] = {**base, **spec, "params": params}
            else:
                merged[label] = spec
        return merged

    @model_validator(mode="after")
    def _registered(self) -> Training:
        for label, spec in self.models.items():
            spec.model = spec.model or label
            _known_at(spec.model, MODEL_NAMES, "model", f"models.{label}.model")
            if spec.monotone and spec.model not in MONOTONE_MODELS:
                supported = sorted(MONOTONE_MODELS)
                raise ValueError(
                    f"models.{label}.monotone: model '{spec.model}' takes no monotone "
                    f"constraints (models that do: {', '.join(supported)})"
                )
        for label, spec in self.strategies.items():
            spec.strategy = spec.strategy or label
            _known_at(spec.strategy, STRATEGY_NAMES, "strategy", f"strategies.{label}.strategy")
        grid = {f"{model}/{strategy}" for model in self.models for strategy in self.strategies}
        for label, ensemble in self.ensembles.items():
            for member in ensemble.members:
                _known_at(member, grid, "configuration", f"ensembles.{label}.members")
        return self


class SearchRange(Block):
    """One hyperparameter's range: numbers in [low, high] (log scale when `log`, whole numbers
    when `integer`), or a list of `choices`."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _range_or_choices(self) -> SearchRange:
        ranged = self.low is not None and self.high is not None
        if ranged == (self.choices is not None):
            raise ValueError("needs either low and high, or choices")
        if ranged and (self.low > self.high or (self.log and self.low <= 0)):
            raise ValueError("needs 0 < low <= high on a log scale, low <= high otherwise")
        return self


class Tuning(Block):
    """Bounded hyperparameter search of `kedro run --pipeline tune`, on the time-ordered folds
    of the training loans only (the test loans are never read). Budgets are per model."""

    # Labels of training.models; null = every model of the grid with a search space.
    models: Annotated[list[str], Field(min_length=1)] | None = None
    # Unweighted: probabilities stay on their calibrated scale (what an ensemble averages), and
    # the operating threshold handles the imbalance.
    strategy: str = "threshold_tuning"
    metric: str | None = None  # null = training.selection.primary_metric
    n_trials: Annotated[int, Field(ge=1)] = 40
    timeout_seconds: Annotated[float, Field(gt=0)] = 600
    # Per model label; null = each model's registry entry's space (modelling.registry.MODELS,
    # `search_space`). Given, it replaces them all: only the labels listed are searched.
    search_spaces: dict[str, dict[str, SearchRange]] | None = None
    random_state: int = 42

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str | None) -> str | None:
        return value if value is None else _known(value, GREATER_IS_BETTER, "metric")


def _known_at(name: str, registry: Any, kind: str, where: str) -> None:
    try:
        _known(name, registry, kind)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


class Ablation(Block):
    """What each addition contributes, on validation and test: `configuration` (a grid
    model/strategy) with its model's default hyperparameters on the structured features only,
    then + text features, + monotone constraints, + the configured (tuned) hyperparameters,
    and + `ensemble` (default: the first in training.ensembles). Null configuration: no ablation."""

    configuration: str | None = None
    ensemble: str | None = None


class FairnessAudit(Block):
    """How the fair-lending audit measures (what it audits is dataset.fairness)."""

    n_boot: Annotated[int, Field(ge=0)] = 200  # bootstrap replicates for the intervals
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.95
    proxy_cv: Annotated[int, Field(ge=2)] = 3  # folds of the proxy-strength classifier
    proxy_top_features: Annotated[int, Field(ge=1)] = 5
    # Refit the champion without the audited columns and compare (costs one final fit).
    ablation: bool = True
    # Refit the champion's configuration without the columns that are never reasons
    # (dataset.reasons: pricing, geography) and compare: the application-only champion.
    application_only: bool = True
    plot_max_groups: Annotated[int, Field(ge=2)] = 20  # per view, the lowest ratios first
    random_state: int = 42


class Evaluation(Block):
    """What the comparison table, charts and written finding show."""

    ablation: Ablation = Ablation()

    report_metrics: list[str] = [
        "roc_auc",
        "pr_auc",
        "ks",
        "brier",
        "recall",
        "approval_rate",
        "expected_cost_per_loan",
    ]
    chart_metric: str | None = None
    calibration_bins: Annotated[int, Field(ge=2)] = 10
    reference_baselines: list[str] | None = None
    strategy_contrasts: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = [
        ["smote", "class_weight"],
        ["smote", "threshold_tuning"],
        ["undersample", "class_weight"],
    ]
    # Model labels of training.models whose report section says what each imbalance strategy
    # changes (defaults caught, approvals, cost) against the model unweighted at its cut-off.
    strategy_effects: list[str] = []

    @field_validator("report_metrics")
    @classmethod
    def _metrics(cls, values: list[str]) -> list[str]:
        return [_known(value, GREATER_IS_BETTER, "metric") for value in values]

    @field_validator("chart_metric")
    @classmethod
    def _chart(cls, value: str | None) -> str | None:
        return value if value is None else _known(value, GREATER_IS_BETTER, "metric")


# Facts with one home elsewhere: a parameter of that name is an error that says where it lives.
MOVED_TO_GLOBALS = {
    "model_name": "registered_model",
    "alias": "champion_alias",
    "experiment": "mlflow_experiment",
}


class Registry(Block):
    """When the champion's alias moves. Which registered model and alias: `registered_model`
    and `champion_alias` in the environment's globals.yml, their one home."""

    # The test metric a challenger must improve; null = training.selection.primary_metric (the
    # validated parameters carry the resolved name).
    metric: str | None = None
    min_improvement: Annotated[float, Field(ge=0)] = 0.0
    force: bool = False

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str | None) -> str | None:
        return value if value is None else _known(value, GREATER_IS_BETTER, "metric")

    @model_validator(mode="before")
    @classmethod
    def _names_live_in_globals(cls, values: Any) -> Any:
        for key in set(values or {}) & set(MOVED_TO_GLOBALS):
            raise ValueError(
                f"{key}: not a parameter; the registered model's name, alias and MLflow "
                f"experiment have one home, `{MOVED_TO_GLOBALS[key]}` in "
                "conf/<env>/globals.yml (the catalog, tracking and registration all read it)"
            )
        return values


class Reasons(Block):
    """Adverse-action reasons: the principal characteristics that raised an applicant's risk."""

    count: Annotated[int, Field(ge=1)] = 4  # a notice gives up to four principal reasons
    for_approved: bool = False  # reasons for approved applications too (slower)
    # Tree models: XGBoost's per-path contributions, or exact TreeSHAP (about 20x slower).
    # Read when the champion is registered; the explainer travels with it.
    tree_contributions: Literal["approximate", "exact"] = "approximate"


class Drift(Block):
    """PSI of the score and the most predictive features, training vs a scored batch."""

    n_bins: Annotated[int, Field(ge=2)] = 10
    top_features: Annotated[int, Field(ge=0)] = 5
    bands: list[Band] = _bands(*STABILITY_BANDS)


class Plausibility(Block):
    """Input checks on applications beyond the hard bounds."""

    # A value further outside the training range than this many training ranges is flagged.
    range_tolerance: Annotated[float, Field(ge=0)] = 1.0


class SparkScoring(Block):
    """Scoring a Spark DataFrame (`--env spark`): reasons per application up to this many
    applications (the pandas explainer per partition); blank above."""

    reasons_up_to_rows: Annotated[int, Field(ge=0)] = 200_000


class Score(Block):
    """Scoring new applications."""

    spark: SparkScoring = SparkScoring()
    reasons: Reasons = Reasons()
    drift: Drift = Drift()
    plausibility: Plausibility = Plausibility()


class Rating(Block):
    """The master scale: PD bands fitted on the champion's out-of-fold training PDs, and the
    backtest of the test loans by grade. Starts from `grades` equal-count bands, then merges
    adjacent grades until each holds at least `min_share` of the loans, observed default rates
    rise with the grade and each pair of neighbours differs (one-sided two-proportion test at
    `distinct_at`). Traffic lights: p-value below `red` red, below `amber` amber, else green."""

    grades: Annotated[int, Field(ge=2, le=30)] = 8
    min_share: Annotated[float, Field(ge=0, lt=0.5)] = 0.03
    distinct_at: Annotated[float, Field(gt=0, lt=1)] = 0.05
    amber: Annotated[float, Field(gt=0, lt=1)] = 0.05
    red: Annotated[float, Field(gt=0, lt=1)] = 0.01
    # The share of grades passing Jeffreys (not red) a validation aims for.
    pass_goal: Fraction = 0.9

    @model_validator(mode="after")
    def _lights(self) -> Rating:
        if self.red > self.amber:
            raise ValueError(f"red: must not exceed amber ({self.amber}), got {self.red}")
        return self


# ---------------------------------------------------------------- monitor ---------------------


class ScoringLog(Block):
    """The table of scored applications `monitor` reads (docs/monitoring.md): one row per
    application with its identifier, scoring date, the model version that scored it, its PD and
    rating grade, and the application's own columns (for the drivers' stability)."""

    # Where the table came from, for error messages (conf: the catalog's `scoring_log` file).
    file: str = "the scoring log"
    identifier_column: str | None = None  # null: the first of dataset.identifier_columns
    # null: the dataset's date column (dataset.date_column; none there: one review period);
    # "": no scoring dates, one review period.
    date_column: str | None = None
    # null: dataset.date_formats (the application dates' formats), then ISO dates.
    date_formats: list[str] | None = None
    model_version_column: str = "model_version"
    probability_column: str = "probability_of_default"
    grade_column: str = "rating_grade"


class Outcomes(Block):
    """The later outcome of scored applications, joined to the scoring log on the identifier."""

    file: str = "the outcomes table"
    identifier_column: str | None = None  # null: the scoring log's identifier column
    outcome_column: str = "is_default"
    default_values: Annotated[list[Label], Field(min_length=1)] = [1]
    non_default_values: Annotated[list[Label], Field(min_length=1)] = [0]
    # Optional: when the outcome was observed; it must not precede the scoring date.
    date_column: str | None = None
    date_formats: list[str] | None = None  # null: ISO dates


class MonitorLights(Block):
    """Traffic lights: p-value cut-offs [amber, red] of the ECB tests (below amber amber, below
    red red) and PSI / CSI bands labelled green, amber, red. The Jeffreys lights of a grade and
    the share of grades that must pass are the `rating` block's (as in the loan run's backtest)."""

    auc: Annotated[list[Annotated[float, Field(gt=0, lt=1)]], Field(min_length=2, max_length=2)] = [
        0.05,
        0.01,
    ]
    psi: list[Band] = _bands((0.10, "green"), (0.25, "amber"), (None, "red"))

    @model_validator(mode="after")
    def _ordered(self) -> MonitorLights:
        amber, red = self.auc
        if red > amber:
            raise ValueError("auc: [amber, red] p-values need red <= amber")
        labels = {band.label for band in self.psi}
        if not labels <= {"green", "amber", "red"}:
            raise ValueError(f"psi: band labels must be green, amber or red (got {sorted(labels)})")
        return self


class Monitor(Block):
    """`kedro run --pipeline monitor`: the champion's scored applications and their outcomes,
    backtested per review period (docs/monitoring.md)."""

    scoring_log: ScoringLog = ScoringLog()
    outcomes: Outcomes = Outcomes()
    period: Literal["month", "quarter", "half_year", "year"] = "quarter"
    # A period with no defaults (or only defaults) has no AUC: `error` stops the run (usually
    # outcomes not yet observed), `flag` reports its AUC test as n/a and backtests the rest.
    periods_without_defaults: Literal["error", "flag"] = "error"
    # null: the AUC of the champion's initial validation (its registered test_roc_auc).
    initial_auc: Annotated[float, Field(gt=0, lt=1)] | None = None
    # Drivers whose stability (CSI) is measured: the champion's most predictive features.
    csi_top_features: Annotated[int, Field(ge=0)] = 5
    lights: MonitorLights = MonitorLights()


BLOCKS: dict[str, type[Block]] = {
    "dataset": Dataset,
    "split": Split,
    "data_quality": DataQuality,
    "features": Features,
    "baselines": Baselines,
    "training": Training,
    "tuning": Tuning,
    "evaluation": Evaluation,
    "fairness": FairnessAudit,
    "registry": Registry,
    "score": Score,
    "monitor": Monitor,
    "rating": Rating,
}
# Blocks without a required key: absent from the YAML files means "all defaults".
OPTIONAL_BLOCKS = [name for name in BLOCKS if name != "dataset"]


def validate_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Every known block validated into its typed model, defaults filled in; other top-level
    keys kept. Kedro hands the objects to the nodes (`params:dataset`, `params:training.cv`)."""
    validated, problems = dict(parameters), []
    for name, model in BLOCKS.items():
        if name not in parameters and name != "dataset":
            validated[name] = model()
            continue
        try:
            validated[name] = model.model_validate(parameters.get(name) or {})
        except ValidationError as error:
            problems += [_describe(name, model, item) for item in error.errors()]
    if not problems:
        problems = _across_blocks(validated["training"], validated["evaluation"])
        registry = validated["registry"]
        if registry.metric is None:
            metric = validated["training"].selection.primary_metric
            validated["registry"] = registry.model_copy(update={"metric": metric})
    if problems:
        raise ConfigurationError(
            "The parameters do not match their schema (src/loan_default/parameters.py):\n  - "
            + "\n  - ".join(problems)
        )
    return validated


def _across_blocks(training: Training, evaluation: Evaluation) -> list[str]:
    """Names the ablation uses that the training block defines. (The `tuning` block's names are
    checked when `tune` runs: a grid without them must still train.)"""
    ablation = evaluation.ablation
    grid = {f"{m}/{s}" for m in training.models for s in training.strategies}
    references = [
        ("evaluation.ablation.configuration", ablation.configuration, grid, "configuration"),
        ("evaluation.ablation.ensemble", ablation.ensemble, training.ensembles, "ensemble"),
    ]
    problems = []
    for path, name, defined, kind in references:
        if name is None:
            continue
        try:
            _known(name, defined, f"{kind} of training")
        except ValueError as error:
            problems.append(f"{path}: {error}")
    return problems


def check_tuning(training: Training, tuning: Tuning) -> None:
    """The models and strategy `tuning` names exist in `training` (ConfigurationError if not)."""
    references = [("tuning.strategy", tuning.strategy, training.strategies, "strategy")]
    references += [("tuning.models", m, training.models, "model") for m in tuning.models or []]
    for path, name, defined, kind in references:
        try:
            _known(name, defined, f"{kind} of training")
        except ValueError as error:
            raise ConfigurationError(f"{path}: {error}") from None


def _describe(block: str, model: type[BaseModel], error: dict[str, Any]) -> str:
    path = ".".join(str(part) for part in (block, *error["loc"]))
    if error["type"] == "extra_forbidden":
        fields = _fields_at(model, error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), fields, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (known keys: {', '.join(fields)})"
        return f"{path}: unknown key{hint}"
    if error["type"] == "missing":
        return f"{path}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    nested = re.match(r"^([\w.]+): (.*)$", message)
    if nested:  # a check across keys names the key it is about
        path, message = f"{path}.{nested.group(1)}", nested.group(2)
    value = error.get("input")
    if message.startswith("unknown ") or isinstance(value, dict | list):
        return f"{path}: {message}"
    return f"{path}: {message} (got {value!r})"


def _fields_at(model: Any, loc: tuple) -> list[str]:
    """The keys a model accepts at a location, following nested models and dict values."""
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:  # a key of a dict[str, Model]: stay on the value model
            continue
        model = _model_of(field.annotation)
    return sorted((info.alias or name) for name, info in getattr(model, "model_fields", {}).items())


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_of(argument)
        if found is not None:
            return found
    return None
