"""Loan default: a Kedro pipeline from raw loan applications to an honestly evaluated champion."""

__version__ = "0.1.0"
