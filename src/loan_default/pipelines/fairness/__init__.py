"""Fair lending: group outcomes at the champion's threshold, proxies, and the trade-off."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
