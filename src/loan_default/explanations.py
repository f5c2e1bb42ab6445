"""Reasons for a scored application, in words: the champion's explainer (or, for a champion
registered before explainers, one measured against its typical loan) and its wording. Batch
scoring and the Spark engine (per partition) both call `explain`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_default.modelling.champion import model_of, preprocessor_of
from loan_default.modelling.reasons import ReasonExplainer, Wording, describe_reasons
from loan_default.profile import typical_row
from loan_default.schema import protected_columns
from loan_default.serving import ChampionHandle


def explain(
    champion: ChampionHandle,
    applications: pd.DataFrame,
    features: pd.DataFrame,
    explained: np.ndarray,
    count: int,
) -> pd.DataFrame:
    """Up to `count` reasons for the `explained` rows (blank for the others), in words."""
    model, profile = champion.model.champion, champion.model.profile
    dataset, kinds = champion.model.dataset, champion.model.input_types
    typical = profile.typical_values
    explainer = profile.explainer
    if explainer is None:  # registered before explainers: measured against its typical loan
        reference = typical_row(applications, typical)
        preprocessor = preprocessor_of(model)
        explainer = ReasonExplainer.fit(
            model_of(model), preprocessor, preprocessor.transform(reference), reference,
            protected_columns(dataset),
        )  # fmt: skip
    wording = Wording.of(dataset, typical, kinds)
    rows = np.flatnonzero(explained)
    contributions = explainer.contributions(features.iloc[rows])
    described = describe_reasons(
        contributions.reset_index(drop=True),
        applications.iloc[rows].reset_index(drop=True),
        wording,
        count,
    )
    table = described.set_axis(rows).reindex(range(len(applications)))
    sizes = [column for column in table if column.endswith("_contribution")]
    table[sizes] = table[sizes].fillna(0.0)
    return table.fillna("")  # rows not explained: blank reasons, contribution 0
