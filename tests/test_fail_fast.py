"""Bad configuration and bad files stop `kedro run` in seconds, in plain words, writing nothing.

Real Kedro sessions on a small project; a real MLflow store shows no run was opened (or that
the one opened was closed FAILED before any output was written).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import make_kedro_project, run_kedro

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path, raw_loans_sample: pd.DataFrame, tracking_uri: str) -> Path:
    return make_kedro_project(tmp_path / "project", raw_loans_sample.head(800), {})


def _outputs(project: Path) -> list[Path]:
    """Every file a run wrote under data/ (the raw inputs excluded)."""
    return [
        path
        for path in (project / "data").rglob("*")
        if path.is_file() and "01_raw" not in path.parts
    ]


def _runs(uri: str) -> list:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("loan-default")
    return client.search_runs([experiment.experiment_id]) if experiment else []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"training": {"cv": {"n_split": 3}}}, r"training\.cv\.n_split: unknown key; did you mean n_splits\?"),
        ({"training": {"models": {"lgbm": {}}}}, r"training\.models\.lgbm\.model: unknown model 'lgbm'"),
        ({"training": {"strategies": {"adasyn": {}}}}, r"unknown strategy 'adasyn'"),
        ({"training": {"threshold": {"objective": "max_luck"}}}, r"unknown objective 'max_luck'"),
        ({"registry": {"metric": "auc"}}, r"registry\.metric: unknown metric 'auc'"),
    ],
)  # fmt: skip
def test_a_bad_configuration_stops_before_any_node(project, tracking_uri, params, message):
    with pytest.raises(Exception, match=message):
        run_kedro(project, "loan", runtime_params=params)
    assert _outputs(project) == [] and _runs(tracking_uri) == []


def test_a_configured_column_missing_from_the_header_stops_before_any_node(project, tracking_uri):
    rule = {"reject_high": {"column": "no_such_column", "above": 3}}
    with pytest.raises(Exception, match=r"dataset\.baseline_rules\.reject_high\.column"):
        run_kedro(project, "loan", runtime_params={"dataset": {"baseline_rules": rule}})
    assert _outputs(project) == [] and _runs(tracking_uri) == []


def _rewrite_raw(project: Path, write) -> None:
    raw_file = project / "data" / "01_raw" / "loans_sample.csv.gz"
    frame = pd.read_csv(raw_file, low_memory=False)
    write(frame, raw_file)


def test_a_semicolon_separated_file_says_how_to_read_it(project, tracking_uri):
    _rewrite_raw(project, lambda frame, path: frame.to_csv(path, index=False, sep=";"))
    with pytest.raises(Exception, match=r"looks `;`-separated.*raw_loans\.load_args\.sep"):
        run_kedro(project, "loan")
    assert _outputs(project) == [] and _runs(tracking_uri) == []


def test_a_file_in_another_encoding_says_which_setting_to_use(project, tracking_uri):
    def latin1(frame: pd.DataFrame, path: Path) -> None:
        frame.loc[0, "title"] = "Prêt de consolidation"
        frame.to_csv(path, index=False, encoding="latin-1", errors="replace")

    _rewrite_raw(project, latin1)
    with pytest.raises(Exception, match=r"not valid utf-8.*raw_loans\.load_args\.encoding"):
        run_kedro(project, "loan")
    assert _outputs(project) == [] and _runs(tracking_uri) == []


def test_an_empty_configured_column_names_the_keys_that_use_it(project, tracking_uri):
    _rewrite_raw(project, lambda frame, path: frame.assign(dti=None).to_csv(path, index=False))
    with pytest.raises(Exception, match=r"column 'dti' is empty.*reject_dti_above_25\.column"):
        run_kedro(project, "loan")
    assert _outputs(project) == []
    assert [run.info.status for run in _runs(tracking_uri)] == ["FAILED"]


def test_a_gzip_truncated_past_its_first_lines_is_named_before_any_node(project, tracking_uri):
    raw_file = project / "data" / "01_raw" / "loans_sample.csv.gz"
    data = raw_file.read_bytes()
    raw_file.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(Exception, match=r"loans_sample\.csv\.gz: the gzip file is truncated or"):
        run_kedro(project, "loan")
    assert _outputs(project) == [] and _runs(tracking_uri) == []


def test_an_empty_text_column_stops_before_training(project, tracking_uri):
    _rewrite_raw(project, lambda frame, path: frame.assign(desc=None).to_csv(path, index=False))
    with pytest.raises(
        Exception, match=r"column 'desc' is empty.*dataset\.text_columns uses it.*optional_text"
    ):
        run_kedro(project, "loan")
    assert _outputs(project) == []
    assert [run.info.status for run in _runs(tracking_uri)] == ["FAILED"]
