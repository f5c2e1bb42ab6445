"""Tune: bounded hyperparameter search on the time-ordered folds (`kedro run --pipeline tune`)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
