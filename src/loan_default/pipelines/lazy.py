"""The modules the nodes call, loaded on first use (`loan_default.lazy`): a node module imports its
names from here, so that building the pipelines (`kedro registry list`, `kedro viz`, the start of
every run) imports none of scikit-learn, XGBoost, MLflow, matplotlib or pyspark. Type checkers and
the layer contracts see the real imports below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loan_default.lazy import lazy_module

if TYPE_CHECKING:
    from matplotlib import figure as matplotlib_figure
    from matplotlib import patches as matplotlib_patches
    from pyspark import sql as pyspark_sql
    from sklearn import base as sklearn_base
    from sklearn import model_selection as sklearn_model_selection

    from loan_default import preprocessing, serving, tracking
    from loan_default.modelling import (
        ablation,
        backtest,
        baselines,
        calibration,
        champion,
        cross_validation,
        ensemble,
        fairness,
        findings,
        metrics,
        monitoring,
        plots,
        rating,
        reasons,
        registry,
        results,
        search,
    )
    from loan_default.preprocessing import binning
    from loan_default.spark import ingestion as spark_ingestion
    from loan_default.spark import missing as spark_missing
    from loan_default.spark import scoring as spark_scoring
else:
    ablation = lazy_module("loan_default.modelling.ablation")
    backtest = lazy_module("loan_default.modelling.backtest")
    baselines = lazy_module("loan_default.modelling.baselines")
    calibration = lazy_module("loan_default.modelling.calibration")
    champion = lazy_module("loan_default.modelling.champion")
    cross_validation = lazy_module("loan_default.modelling.cross_validation")
    ensemble = lazy_module("loan_default.modelling.ensemble")
    fairness = lazy_module("loan_default.modelling.fairness")
    findings = lazy_module("loan_default.modelling.findings")
    metrics = lazy_module("loan_default.modelling.metrics")
    monitoring = lazy_module("loan_default.modelling.monitoring")
    plots = lazy_module("loan_default.modelling.plots")
    rating = lazy_module("loan_default.modelling.rating")
    reasons = lazy_module("loan_default.modelling.reasons")
    registry = lazy_module("loan_default.modelling.registry")
    results = lazy_module("loan_default.modelling.results")
    search = lazy_module("loan_default.modelling.search")
    preprocessing = lazy_module("loan_default.preprocessing")
    binning = lazy_module("loan_default.preprocessing.binning")
    serving = lazy_module("loan_default.serving")
    tracking = lazy_module("loan_default.tracking")
    spark_ingestion = lazy_module("loan_default.spark.ingestion")
    spark_missing = lazy_module("loan_default.spark.missing")
    spark_scoring = lazy_module("loan_default.spark.scoring")
    matplotlib_figure = lazy_module("matplotlib.figure")
    matplotlib_patches = lazy_module("matplotlib.patches")
    pyspark_sql = lazy_module("pyspark.sql")
    sklearn_base = lazy_module("sklearn.base")
    sklearn_model_selection = lazy_module("sklearn.model_selection")
