"""joblib's Spark backend (joblibspark) for the model x strategy x fold grid.

`training.backend: spark` runs each fit as a Spark task: on local[*] the cores of this machine,
on a cluster its executors. Results do not depend on the backend: every fit is seeded on its own.
"""

from __future__ import annotations

from typing import Any

from joblib import register_parallel_backend
from joblib._utils import _retrieve_traceback_capturing_wrapped_call


def register_spark_backend() -> None:
    """Register joblib's "spark" backend (called by the SparkHook once the session exists)."""
    from loan_default.spark import require_pyspark  # noqa: PLC0415

    require_pyspark()  # the optional extra: a plain message naming the install command
    # Imported here: joblibspark imports pyspark, which the threads backend never needs.
    from joblibspark.backend import SparkDistributedBackend  # noqa: PLC0415

    class SparkBackendWithErrors(SparkDistributedBackend):
        """joblibspark 0.6 hands a failed task's wrapped exception to joblib as if it were the
        result ("'_ExceptionWithTraceback' object is not iterable"); unwrap it so the task's
        own error is raised."""

        def retrieve_result(self, out: Any, timeout: float | None = None) -> Any:
            return _retrieve_traceback_capturing_wrapped_call(out.get(timeout=timeout))

    register_parallel_backend("spark", SparkBackendWithErrors)
