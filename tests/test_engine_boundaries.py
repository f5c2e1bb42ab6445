"""Engines meet in the catalog or in a pipeline, never inside a node: no function in
src/loan_default/pipelines tests which engine (or which kind of table) its input is, and the Spark
engine's stages read and write the pandas stages' datasets under the same names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from loan_default.config.engines import select_engine, selected_engine
from loan_default.pipeline_registry import SPARK_STAGES, build_pipelines
from tests.conftest import PROJECT_ROOT

PIPELINES = PROJECT_ROOT / "src" / "loan_default" / "pipelines"
# Names whose call asks which engine a table belongs to.
ENGINE_PROBES = {"is_spark_frame", "_on_spark"}


def engine_checks(source: str) -> list[str]:
    """Every place in `source` that tests the engine or the class of a table: a call of
    `is_spark_frame` (or an `_on_spark` helper), `isinstance`/`issubclass` against a DataFrame
    class or anything imported from pyspark, and a look at a value's `__module__`."""
    tree = ast.parse(source)
    spark_names = {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and (
            (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pyspark"))
            or any(alias.name.startswith("pyspark") for alias in getattr(node, "names", []))
        )
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name in ENGINE_PROBES:
                found.append(f"line {node.lineno}: {name}(...)")
            elif name in {"isinstance", "issubclass"} and len(node.args) == 2:
                classes = {
                    part.id if isinstance(part, ast.Name) else part.attr
                    for part in ast.walk(node.args[1])
                    if isinstance(part, ast.Name | ast.Attribute)
                }
                if "DataFrame" in classes or classes & spark_names:
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and node.attr == "__module__":
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "def f(frame):\n    if spark.is_spark_frame(frame):\n        return 1\n",
        "def f(frame):\n    return is_spark_frame(frame)\n",
        "from pyspark.sql import DataFrame\ndef f(frame):\n    return isinstance(frame, DataFrame)\n",
        "import pyspark.sql\ndef f(frame):\n    return isinstance(frame, pyspark.sql.DataFrame)\n",
        "def f(frame):\n    return len(frame) if isinstance(frame, pd.DataFrame) else None\n",
        "def f(frame):\n    return type(frame).__module__.startswith('pyspark')\n",
        "def f(frame):\n    if spark := _on_spark(frame):\n        return spark.g(frame)\n",
    ],
)
def test_the_check_finds_each_way_of_testing_the_engine(source: str) -> None:
    assert engine_checks(source), source


def test_no_pipeline_function_tests_the_engine_of_its_input() -> None:
    found = {
        str(path.relative_to(PROJECT_ROOT)): checks
        for path in sorted(PIPELINES.rglob("*.py"))
        if (checks := engine_checks(path.read_text()))
    }
    assert found == {}, (
        "A node tests which engine its input is; give the Spark engine its own node in "
        f"<stage>/spark_nodes.py and its own pipeline (<stage>/spark_pipeline.py): {found}"
    )


@pytest.fixture(scope="module")
def both_engines() -> dict[str, dict]:
    bootstrap_project(PROJECT_ROOT)
    before = selected_engine()
    try:
        return {engine: build_pipelines(engine) for engine in ("pandas", "spark")}
    finally:
        select_engine(before)


def _names(pipeline) -> set[str]:
    """Dataset names as the graph sees them (transcoding suffixes removed)."""
    return {name.split("@")[0] for name in pipeline.datasets()}


@pytest.mark.parametrize("stage", sorted(SPARK_STAGES))
def test_each_spark_stage_reads_and_writes_the_pandas_stage_datasets(both_engines, stage) -> None:
    """Only hand-off datasets are the Spark engine's own; every pandas dataset exists on Spark
    under the same name, and the stage's inputs from elsewhere are the same."""
    pandas, spark = both_engines["pandas"][stage], both_engines["spark"][stage]
    own = {"test_population", "raw_loan_sample", "numbered_applications"}
    assert _names(spark) - _names(pandas) <= own
    assert _names(pandas) <= _names(spark)
    outside = {name.split("@")[0] for name in spark.inputs()} - own
    assert outside <= {name.split("@")[0] for name in pandas.inputs()}


def test_the_spark_loan_job_has_the_same_stages_and_outputs(both_engines) -> None:
    pandas, spark = both_engines["pandas"]["loan"], both_engines["spark"]["loan"]
    assert {n.namespace for n in spark.nodes} == {n.namespace for n in pandas.nodes}
    assert spark.outputs() == pandas.outputs()
    assert spark.inputs() == pandas.inputs()
    on_spark = {n.name.split(".")[-1] for n in spark.nodes} - {
        n.name.split(".")[-1] for n in pandas.nodes
    }
    assert on_spark == {
        "parse_raw_loans_on_spark", "handle_duplicates_on_spark", "derive_target_on_spark",
        "add_derived_features_on_spark", "select_application_columns_on_spark",
        "describe_raw_data_on_spark", "split_loans_on_spark", "sample_modelling_table",
        "analyse_missing_values_on_spark", "collect_raw_loan_sample", "collect_raw_test_loans",
    }  # fmt: skip


def test_the_spark_environment_selects_the_spark_stages(tmp_path: Path) -> None:
    """The hook that reads the environment's spark.yml chooses the engine before the pipelines
    are read, and rebuilds pipelines an earlier session built for the other engine."""
    from types import SimpleNamespace  # noqa: PLC0415

    from kedro.config import MissingConfigException  # noqa: PLC0415

    from loan_default.hooks import SparkHook  # noqa: PLC0415

    class Loader(dict):
        def __getitem__(self, key):
            if key not in self:
                raise MissingConfigException(key)
            return super().__getitem__(key)

    bootstrap_project(PROJECT_ROOT)
    before = selected_engine()  # an earlier Spark session in this process leaves "spark"
    try:
        select_engine("pandas")
        pipelines.configure("loan_default.pipeline_registry")
        assert "split.split_loans" in {n.name for n in pipelines["split"].nodes}
        calls = SparkHook().after_context_created(
            SimpleNamespace(config_loader=Loader(spark={"spark.master": "local[1]"}), env="x")
        )
        next(calls)  # the engine is chosen before the other hooks run
        assert selected_engine() == "spark"
        assert "split.split_loans_on_spark" in {n.name for n in pipelines["split"].nodes}
        calls.close()  # no session started
        calls = SparkHook().after_context_created(SimpleNamespace(config_loader=Loader(), env="y"))
        next(calls)
        assert "split.split_loans" in {n.name for n in pipelines["split"].nodes}
    finally:
        select_engine(before)
        pipelines.configure("loan_default.pipeline_registry")
