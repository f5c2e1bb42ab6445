"""Ablation: what each addition (text, monotone constraints, tuning, ensemble) contributes."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
