"""The parameters' schema: defaults in one place, unknown keys and names refused with a hint."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from loan_default.parameters import BLOCKS, Dataset, validate_parameters
from loan_default.validation import ConfigurationError
from tests.conftest import PROJECT_ROOT
from tests.params import REQUIRED_DATASET, block


def _error(parameters: dict) -> str:
    with pytest.raises(ConfigurationError) as error:
        validate_parameters({"dataset": REQUIRED_DATASET, **parameters})
    return str(error.value)


def test_the_minimal_dataset_block_gets_every_default():
    validated = validate_parameters({"dataset": REQUIRED_DATASET})
    assert validated["dataset"]["target"]["output_column"] == "is_default"
    assert (
        validated["dataset"]["column_types"] == {} and validated["dataset"]["date_column"] is None
    )
    assert validated["training"]["cv"]["n_splits"] == 5, "absent blocks get the schema's defaults"
    assert set(validated) >= set(BLOCKS)


def test_a_misspelled_key_names_its_path_and_the_closest_key():
    message = _error({"training": {"cv": {"n_split": 3}}})
    assert "training.cv.n_split: unknown key; did you mean n_splits?" in message
    assert "dataset.costs.interest_margn: unknown key; did you mean interest_margin?" in _error(
        {"dataset": {**REQUIRED_DATASET, "costs": {"loss_given_default": 1, "interest_margn": 0}}}
    )


def test_a_missing_target_label_list_is_named():
    dataset = {**REQUIRED_DATASET, "target": {"column": "status", "positive": ["bad"]}}
    assert "dataset.target.negative: required key is missing" in _error({"dataset": dataset})


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (
            {"training": {"models": {"lgbm": {}}}},
            "training.models.lgbm.model: unknown model 'lgbm'",
        ),
        (
            {"training": {"strategies": {"smoote": {}}}},
            "unknown strategy 'smoote' (did you mean smote?",
        ),
        (
            {"training": {"threshold": {"objective": "max_luck"}}},
            "training.threshold.objective: unknown objective 'max_luck'",
        ),
        (
            {"training": {"selection": {"primary_metric": "auc"}}},
            "training.selection.primary_metric: unknown metric 'auc'",
        ),
        ({"registry": {"metric": "rocauc"}}, "did you mean roc_auc?"),
        ({"split": {"method": "by_month"}}, "split.method: Input should be 'auto'"),
        ({"training": {"cv": {"n_splits": 1}}}, "training.cv.n_splits: Input should be greater"),
    ],
)
def test_names_are_checked_against_the_registries(parameters: dict, expected: str):
    assert expected in _error(parameters)


def test_every_problem_is_reported_at_once():
    message = _error({"training": {"cv": {"n_split": 3}}, "registry": {"metric": "auc"}})
    assert "training.cv.n_split" in message and "registry.metric" in message


def test_yaml_files_set_only_what_differs_from_the_schema():
    """Defaults live in the schema: a YAML value equal to its default would be a second copy."""
    repeated = []
    for path in sorted((PROJECT_ROOT / "conf").glob("*/parameters_*.yml")):
        for name, raw_values in (yaml.safe_load(path.read_text()) or {}).items():
            if name not in BLOCKS:
                continue
            values = raw_values or {}
            if name == "dataset":  # the required keys have no default to repeat
                values = {key: value for key, value in values.items() if key != "costs"}
                values["target"] = {
                    key: value
                    for key, value in values["target"].items()
                    if key not in {"column", "positive", "negative"}
                }
                defaults = block("dataset")
            else:
                defaults = BLOCKS[name]().model_dump(by_alias=True)
            label = f"{path.parent.name}/{path.name}"
            repeated += [f"{label}: {key}" for key in _same(values, defaults, name)]
    assert not repeated, repeated


def _same(values: dict, defaults: dict, prefix: str) -> list[str]:
    found = []
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            found += _same(value, defaults[key], f"{prefix}.{key}")
        elif key in defaults and defaults[key] == value and not isinstance(value, dict):
            found.append(f"{prefix}.{key}")
    return found


def test_the_own_data_key_table_matches_the_dataset_schema():
    """docs/own-data.md's table of `dataset` keys documents every key of the schema, and no other."""
    readme = (PROJECT_ROOT / "docs" / "own-data.md").read_text()
    table = readme[readme.index("| key | meaning |") :].split("\n\n", 1)[0]
    first_cells = [row.split("|")[1] for row in table.splitlines()[2:]]
    documented = {
        name.split(".")[0] for cell in first_cells for name in re.findall(r"`([^`]+)`", cell)
    }
    schema = set(Dataset.model_fields) - {"name", "source_file"}
    assert documented == schema, (sorted(schema - documented), sorted(documented - schema))


@pytest.mark.parametrize(
    ("uses", "named"),
    [
        ({"encoders": {"sex": "one_hot"}}, "dataset.encoders"),
        ({"monotonic_trends": {"sex": "ascending"}}, "dataset.monotonic_trends"),
        ({"derived_features": {"age_x": {"ratio": ["sex", "income"]}}}, "dataset.derived_features"),
        (
            {"derived_features": {"older": {"expression": "sex * 2"}}},
            "dataset.derived_features.older (expression)",
        ),
        ({"sentinel_codes": {"sex": [9]}}, "dataset.sentinel_codes"),
        ({"baseline_rules": {"r": {"column": "sex", "in": [1]}}}, "dataset.baseline_rules"),
        ({"text_columns": {"sex": {}}}, "dataset.text_columns"),
    ],
)
def test_a_protected_column_can_never_be_made_a_model_input(uses: dict, named: str):
    fairness = {"protected_columns": {"sex": "a prohibited basis"}}
    message = _error({"dataset": {**REQUIRED_DATASET, **uses, "fairness": fairness}})
    assert "dataset.fairness.protected_columns.sex: a protected column is never" in message
    assert named in message


def test_a_grouping_names_an_audited_column_and_one_way_of_grouping():
    grouping = {"column": "state", "groups": {"West": ["CA"]}, "bands": [1, 2]}
    message = _error(
        {"dataset": {**REQUIRED_DATASET, "fairness": {"groupings": {"region": grouping}}}}
    )
    assert "give either bands or groups, not both" in message
    grouping = {"column": "state", "groups": {"West": ["CA"]}}
    message = _error(
        {"dataset": {**REQUIRED_DATASET, "fairness": {"groupings": {"region": grouping}}}}
    )
    assert "fairness.groupings.region: column 'state' is not listed" in message


def test_protected_columns_are_carried_but_are_never_features_or_asked_of_applicants():
    from loan_default.schema import application_columns, feature_columns  # noqa: PLC0415

    dataset = block(
        "dataset",
        {
            "column_types": {"sex": "category", "income": "numeric"},
            "fairness": {"protected_columns": {"sex": "a prohibited basis"}},
        },
    )
    loans = pd.DataFrame({"sex": ["1", "2"], "income": [1.0, 2.0], "is_default": [0, 1]})
    assert feature_columns(loans, dataset) == ["income"]
    assert application_columns(dataset) == ["income"]


def test_the_registry_compares_on_the_primary_metric_unless_told_otherwise():
    selection = {"selection": {"primary_metric": "pr_auc"}}
    validated = validate_parameters({"dataset": REQUIRED_DATASET, "training": selection})
    assert validated["registry"]["metric"] == "pr_auc"
    validated = validate_parameters(
        {"dataset": REQUIRED_DATASET, "training": selection, "registry": {"metric": "ks"}}
    )
    assert validated["registry"]["metric"] == "ks"


def test_an_optional_text_column_must_be_one_of_the_text_columns():
    texts = {"text_columns": {"desc": {}}}
    message = _error({"dataset": {**REQUIRED_DATASET, **texts, "optional_text_columns": ["dsc"]}})
    assert (
        "dataset.optional_text_columns: 'dsc' is not one of dataset.text_columns (desc)" in message
    )
    dataset = block("dataset", {**texts, "optional_text_columns": ["desc"]})
    assert dataset["optional_text_columns"] == ["desc"]
    assert block("dataset")["optional_text_columns"] == []


def test_duplicates_stop_above_one_percent_of_exact_copies_by_default():
    assert block("dataset").duplicates.plain() == {"action": "error", "max_exact_share": 0.01}
    message = _error({"dataset": {**REQUIRED_DATASET, "duplicates": {"max_exact_share": 2}}})
    assert "dataset.duplicates.max_exact_share" in message
