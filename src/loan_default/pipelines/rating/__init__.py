"""Rating: the master scale fitted on training PDs, and its backtest on the out-of-time loans."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
