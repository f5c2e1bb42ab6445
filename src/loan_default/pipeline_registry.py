"""Project pipelines: every stage on its own, and `loan`, the whole job."""

from __future__ import annotations

from collections.abc import Callable

from kedro.framework.project import find_pipelines, pipelines
from kedro.pipeline import Pipeline

from loan_default.config.engines import selected_engine
from loan_default.pipelines.data_quality import spark_pipeline as data_quality_on_spark
from loan_default.pipelines.ingestion import spark_pipeline as ingestion_on_spark
from loan_default.pipelines.registration import spark_pipeline as registration_on_spark
from loan_default.pipelines.score import spark_pipeline as score_on_spark
from loan_default.pipelines.split import spark_pipeline as split_on_spark

# Stages that are not part of the training job: scoring consumes its outputs; tuning is an
# occasional search whose result is written into conf/base by hand; monitoring reads scored
# applications and their later outcomes (by default the sample `loan` ends by writing).
NOT_IN_LOAN_JOB = {"score", "tune", "monitor"}

# The stages the Spark engine runs in its own version (`<stage>/spark_pipeline.py`): the same
# datasets with the same meaning, Spark-typed nodes, and the hand-offs to pandas as nodes of their
# own. The engine is the environment's (an environment with a spark.yml runs on Spark): see
# config/engines.py for how the run's environment reaches `register_pipelines`.
SPARK_STAGES: dict[str, Callable[..., Pipeline]] = {
    "ingestion": ingestion_on_spark.create_pipeline,
    "split": split_on_spark.create_pipeline,
    "data_quality": data_quality_on_spark.create_pipeline,
    "registration": registration_on_spark.create_pipeline,
    "score": score_on_spark.create_pipeline,
}

# How `loan` nests its stages (node namespaces) for `kedro viz`: one `loan` box whose only
# datasets outside are the raw inputs and the job's final outputs; inside it four phases, and
# inside each phase its stages. Each phase runs in one stretch (Kedro warns about a namespace
# that is "interrupted"): ablation reads the evaluation's comparison, so it is validation;
# scoring_profile feeds the fairness stage, so it is validation too, not registration.
LOAN_NAMESPACE = "loan"
PHASES = {
    "data": ("ingestion", "split", "data_quality"),
    "modelling": ("features", "baselines", "training", "rating"),
    "validation": (
        "ablation",
        "evaluation",
        "backtest",
        "scoring_profile",
        "fairness",
        "reporting",
    ),
    "registration": ("registration", "monitoring_sample"),
}


def nest_in_phases(job: Pipeline) -> Pipeline:
    """Nest each stage's nodes under `loan.<phase>` (dataset and parameter names unchanged)."""
    phase_of = {stage: phase for phase, stages in PHASES.items() for stage in stages}
    missing = {node.namespace for node in job.nodes} - set(phase_of)
    if missing:
        raise ValueError(
            f"pipeline_registry.PHASES: stages {sorted(missing)} have no phase; add each to one."
        )
    return sum(
        (
            Pipeline(
                job.only_nodes_with_namespaces([stage]),
                # A phase of one stage is that stage: `loan.registration`, not twice.
                namespace=LOAN_NAMESPACE
                if phase_of[stage] == stage
                else f"{LOAN_NAMESPACE}.{phase_of[stage]}",
                prefix_datasets_with_namespace=False,
            )
            for stage in sorted({node.namespace for node in job.nodes})
        ),
        start=Pipeline([]),
    )


def register_pipelines() -> dict[str, Pipeline]:
    """Register each stage, `loan` (all training stages), `tune` (the search with the stages it
    needs) and `__default__` (= loan), for the run's engine (config/engines.py)."""
    # Kedro 1.x imports only the stage folders named on the command line; `loan` is composed
    # from every stage, so lift that filter and discover them all.
    pipelines.set_requested(None)
    return build_pipelines(selected_engine())


def build_pipelines(engine: str) -> dict[str, Pipeline]:
    """Every registered pipeline, with the data stages of `engine` (pandas or spark)."""
    stages = find_pipelines(raise_errors=True)
    stages.pop("__default__", None)
    if engine == "spark":
        stages |= {name: create() for name, create in SPARK_STAGES.items()}
    loan = sum(
        (pipeline for name, pipeline in stages.items() if name not in NOT_IN_LOAN_JOB),
        start=Pipeline([]),
    )
    # `tune` runs on its own: the stages that give it the training loans and prepared folds,
    # and the raw file recorded as the run's MLflow input, as in `loan`.
    tune = loan.to_outputs("prepared_folds", "cv_folds", "train_loans", "raw_data_input")
    tune += stages["tune"]
    loan = nest_in_phases(loan)
    return {**stages, "tune": tune, "loan": loan, "__default__": loan}
