"""Kept so that champions registered before the FixedThresholdClassifier still unpickle.

They pickled a `ScoringModel` (pipeline, calibrator, threshold, name); `LoanDefaultModel`
rebuilds it as a FixedThresholdClassifier on load (`champion.as_threshold_classifier`). Nothing
creates one any more.
"""


class ScoringModel:
    """The fitted state of an older champion: `pipeline`, `calibrator`, `threshold`, `name`."""
