"""Typed parameters reach the nodes: every `params:` input is annotated with its schema class,
Kedro hands the node the validated object, and at most five public pipeline functions still take
a configuration block as an untyped mapping (issue 24, item 3)."""

from __future__ import annotations

import ast
import inspect
import sys
import typing
from types import SimpleNamespace

import pytest
from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from kedro.validation.parameter_validator import ParameterValidator
from kedro.validation.type_extractor import TypeExtractor

from loan_default import parameters
from loan_default.config_loader import ProjectConfigLoader
from loan_default.parameters import BLOCKS, Block, Dataset, Encoding, Training
from tests.conftest import CONFIG_LOADER_ARGS, PROJECT_ROOT

PIPELINES_DIR = PROJECT_ROOT / "src" / "loan_default" / "pipelines"
UNTYPED = {"dict", "dict[str, Any]", "Mapping", "Mapping[str, Any]", "Any"}
# Public pipeline functions allowed to keep an untyped configuration block (at most five):
# "module:function:parameter" entries, each with the reason it stays a mapping.
ALLOWED_UNTYPED: dict[str, str] = {}


@pytest.fixture(scope="module")
def registered() -> dict:
    bootstrap_project(PROJECT_ROOT)
    return dict(pipelines)


def _schema_class(path: str) -> type[Block]:
    """The schema class of a parameters path (`training`, `features.encoding`)."""
    first, *rest = path.split(".")
    model: type[Block] = BLOCKS[first]
    for name in rest:
        annotation = model.model_fields[name].annotation
        assert isinstance(annotation, type) and issubclass(annotation, Block), (
            f"params:{path}: '{name}' is not a block of {model.__name__}"
        )
        model = annotation
    return model


def _parameter_arguments(registered: dict) -> dict[tuple[str, str], set[str]]:
    """(module, function) -> the arguments some node binds to a `params:` input."""
    bound: dict[tuple[str, str], set[str]] = {}
    for pipeline in registered.values():
        for node in pipeline.nodes:
            if isinstance(node._inputs, dict):  # {argument: dataset}
                pairs = list(node._inputs.items())
            else:
                pairs = list(
                    zip(inspect.signature(node.func).parameters, node.inputs, strict=False)
                )
            key = (node.func.__module__, node.func.__name__)
            for argument, dataset in pairs:
                if dataset.startswith("params:"):
                    bound.setdefault(key, set()).add(argument)
    return bound


def _untyped_configuration(registered: dict) -> list[str]:
    """Public functions of the pipeline modules with an untyped configuration argument: one a
    node binds to `params:`, or one named after a parameters block (`dataset`, `reports`, ...)."""
    block_names = set(BLOCKS) | {
        name
        for model in BLOCKS.values()
        for name, field in model.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, Block)
    }
    bound = _parameter_arguments(registered)
    found = []
    for path in sorted(PIPELINES_DIR.rglob("*.py")):
        module = ".".join(path.relative_to(PIPELINES_DIR.parents[1]).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            params = bound.get((module, node.name), set())
            for argument in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                if argument.arg not in block_names and argument.arg not in params:
                    continue
                annotation = ast.unparse(argument.annotation) if argument.annotation else "Any"
                if annotation in UNTYPED:
                    found.append(f"{module}:{node.name}:{argument.arg}")
    return found


def test_at_most_five_public_pipeline_functions_take_an_untyped_configuration_block(registered):
    untyped = _untyped_configuration(registered)
    assert len(ALLOWED_UNTYPED) <= 5
    assert sorted(untyped) == sorted(ALLOWED_UNTYPED), (
        "Annotate configuration blocks with their schema class (loan_default.parameters); "
        f"untyped now: {untyped}"
    )


def test_the_check_sees_an_untyped_block(registered, tmp_path, monkeypatch):
    """The count would notice a node written the old way."""
    module = PIPELINES_DIR / "split" / "nodes.py"
    copy = module.read_text().replace("dataset: Dataset, split: Split", "dataset: dict, split")
    assert copy != module.read_text()
    fake = tmp_path / "src" / "loan_default" / "pipelines"
    (fake / "split").mkdir(parents=True)
    (fake / "split" / "nodes.py").write_text(copy)
    monkeypatch.setattr(sys.modules[__name__], "PIPELINES_DIR", fake)
    untyped = _untyped_configuration(registered)
    assert "loan_default.pipelines.split.nodes:split_loans:dataset" in untyped
    assert "loan_default.pipelines.split.nodes:split_loans:split" in untyped


BLOCK_CLASSES = {
    name: value
    for name, value in vars(parameters).items()
    if isinstance(value, type) and issubclass(value, Block)
}


def _block_type(expression: ast.expr, names: dict[str, type[Block]]) -> type[Block] | None:
    """The schema class an expression such as `dataset.fairness` holds, or None (not a block,
    or a dict, list or value field of one)."""
    if isinstance(expression, ast.Name):
        return names.get(expression.id)
    if isinstance(expression, ast.Attribute):
        owner = _block_type(expression.value, names)
        field = owner.model_fields.get(expression.attr) if owner else None
        kind = field.annotation if field else None
        return kind if isinstance(kind, type) and issubclass(kind, Block) else None
    return None


def _key_reads(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, expression) of every block read by key in a module's functions: `["key"]`,
    `.get(...)`, `.items()`, `.keys()` or `.values()` on an argument annotated with a schema
    class, on a block field of one, or on a name bound to such a field (`cv = training.cv`)."""
    reads = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        names = {
            a.arg: BLOCK_CLASSES[ast.unparse(a.annotation)]
            for a in arguments
            if a.annotation and ast.unparse(a.annotation) in BLOCK_CLASSES
        }
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and (kind := _block_type(node.value, names)):
                names |= {t.id: kind for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(function):
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                target = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                is_mapping_call = node.func.attr in {"get", "items", "keys", "values"}
                target = node.func.value if is_mapping_call else None
            else:
                continue
            if target is not None and _block_type(target, names):
                reads.append((node.lineno, ast.unparse(node)))
    return reads


def test_nodes_read_blocks_by_attribute_never_by_key():
    """No function in the pipeline modules reads a typed block by key (`dataset["target"]`)."""
    found = {
        f"{path.relative_to(PIPELINES_DIR)}:{line}: {expression}"
        for path in PIPELINES_DIR.rglob("*.py")
        for line, expression in _key_reads(ast.parse(path.read_text()))
    }
    assert not found, sorted(found)
    written_the_old_way = ast.parse(
        "def f(dataset: Dataset, training: Training):\n"
        "    target = dataset.target\n"
        "    groups = dataset.fairness.groupings\n"
        "    return target['column'], training.get('cv'), dataset.fairness['groupings'], "
        "groups.get('x'), dataset.text_columns['note']\n"
    )
    found = [expression for _, expression in _key_reads(written_the_old_way)]
    assert found == ["target['column']", "training.get('cv')", "dataset.fairness['groupings']"]


def test_every_parameter_input_is_annotated_with_its_schema_class(registered):
    """Kedro's own type extraction finds, for every `params:` input of every pipeline, the
    schema class of that path (`params:features.encoding` -> Encoding)."""
    extractor = TypeExtractor(registered)
    inputs = {
        name.removeprefix("params:")
        for pipeline in registered.values()
        for name in pipeline.inputs()
        if name.startswith("params:")
    }
    found = extractor.extract_types_from_pipelines()
    assert inputs <= set(found), (
        f"params: inputs without a schema annotation: {inputs - set(found)}"
    )
    wrong = {
        path: typing.get_args(kind) or kind
        for path, kind in found.items()
        if kind is not _schema_class(path)
    }
    assert not wrong, f"annotated with another class than the schema's: {wrong}"


def test_kedro_hands_the_nodes_the_validated_objects(registered):
    """The parameters Kedro feeds a run: blocks and nested blocks as their typed objects, the
    same objects its parameter validation accepts for every annotated input."""
    loader = ProjectConfigLoader(
        str(PROJECT_ROOT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": "base"}
    )
    validated = ParameterValidator(registered).validate_raw_params(loader["parameters"])
    feed = KedroContext._get_parameters(SimpleNamespace(params=validated))
    assert isinstance(feed["params:dataset"], Dataset)
    assert isinstance(feed["params:training"], Training)
    assert isinstance(feed["params:features.encoding"], Encoding)
    assert feed["params:training.cv"] is feed["params:training"].cv
    assert feed["params:dataset"].target.column == "loan_status"


def test_blocks_read_by_key_give_the_yaml_names():
    """Library code written for the YAML mapping still reads a block by key, `in` included."""
    dataset = Dataset.model_validate(
        {
            "target": {"column": "status", "positive": [1], "negative": [0]},
            "costs": {"loss_given_default": 0.5, "interest_margin": 0.1},
            "baseline_rules": {"grade": {"column": "grade", "in": ["G"]}},
        }
    )
    rule = dataset["baseline_rules"]["grade"]
    assert rule["in"] == rule.in_ == ["G"] and "in" in rule and "in_" not in rule
    assert dataset.get("no_such_key", "default") == "default"
    with pytest.raises(KeyError):
        dataset["no_such_key"]
    assert dict(dataset)["target"] is dataset.target
    changed = dataset | {"date_column": "issued"}
    assert changed.date_column == "issued" and dataset.date_column is None
    assert isinstance(changed, Dataset)
    assert dataset.plain()["baseline_rules"]["grade"]["in"] == ["G"]
