"""Numeric features from free-text columns (dataset.text_columns), fitted without leakage.

One cross-fitted text score over all text columns (hashed n-grams of each column into one
regularised logistic regression) and simple indicators per column. The score a training row
receives comes from a model fitted on the other inner folds, the way scikit-learn's
TargetEncoder cross-fits, so a downstream model never learns from a score that saw its own
label. Rows transformed later get the model fitted on all rows. The n-grams are hashed, not
counted into a vocabulary: hashing is stateless, so it is computed once per call and never
learns anything from the rows it sees (and it is several times faster than TF-IDF here).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import logit
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .names import safe_part

logger = logging.getLogger(__name__)

# Keeps log-odds finite for a score of exactly 0 or 1.
_EPSILON = 1e-6
_WORD = re.compile(r"\w+")


SCORE = "text__score"


class TextFeatures(TransformerMixin, BaseEstimator):
    """`text__score`: log-odds of default from the words of every text column (cross-fitted on
    training rows); per column `<column>__present` (has any text) and `<column>__words` (log of
    the word count).

    A column absent from the frame is read as empty text everywhere (the scoring stage warns).
    """

    def __init__(
        self,
        columns: Mapping[str, Mapping[str, Any]] | None = None,
        score: bool = True,
        analyzer: str = "word",
        ngram_range: Sequence[int] = (1, 1),
        n_features: int = 2**16,
        C: float = 0.3,
        cv: int = 5,
        indicators: Sequence[str] = ("present", "words"),
        random_state: int = 42,
    ):
        self.columns = columns
        self.score = score
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.C = C
        self.cv = cv
        self.indicators = indicators
        self.random_state = random_state

    def _text_model(self) -> LogisticRegression:
        # liblinear: the fastest solver for a few thousand rows of sparse, high-dimensional text
        return LogisticRegression(C=self.C, solver="liblinear", random_state=self.random_state)

    def _hashed(self, texts: dict[str, pd.Series]) -> sparse.csr_matrix:
        """Every column's n-grams in its own block of hashed columns, side by side."""
        vectorizer = HashingVectorizer(
            analyzer=self.analyzer, ngram_range=tuple(self.ngram_range),
            n_features=self.n_features, alternate_sign=False, norm="l2", dtype=np.float32,
        )  # fmt: skip
        return sparse.hstack([vectorizer.transform(text) for text in texts.values()]).tocsr()

    def cleaned(self, X: pd.DataFrame, column: str) -> pd.Series:
        """The column as text: missing values and absent columns are empty; `strip` patterns
        (boilerplate such as dated "added on" markers) are removed."""
        if column not in X.columns:
            return pd.Series("", index=X.index, dtype=object)
        text = X[column].astype("object").where(X[column].notna(), "").astype(str)
        for pattern in (self.columns or {})[column].get("strip", []):
            text = text.str.replace(pattern, " ", regex=True)
        return text.str.strip()

    def _indicators(self, texts: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
        values = {}
        for column, text in texts.items():
            stem = safe_part(column) or "text"
            if "present" in self.indicators:
                values[f"{stem}__present"] = (text.str.len() > 0).to_numpy(dtype="float64")
            if "words" in self.indicators:
                words = text.map(lambda value: len(_WORD.findall(value))).to_numpy("float64")
                values[f"{stem}__words"] = np.log1p(words)
        return pd.DataFrame(values, index=index)

    def fit(self, X: pd.DataFrame, y: Any = None) -> TextFeatures:
        """Fit the text model on all rows."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit on all rows; a row's own text score comes from the inner folds without it."""
        texts = {column: self.cleaned(X, column) for column in self.columns or {}}
        out = self._indicators(texts, X.index)
        if self.score and texts:
            matrix, y_array = self._hashed(texts), np.asarray(y, dtype=int)
            self.model_ = clone(self._text_model()).fit(matrix, y_array)
            out.insert(0, SCORE, self._cross_fitted(matrix, y_array))
        self._remember_names(list(out.columns))
        return out

    def _cross_fitted(self, matrix: sparse.csr_matrix, y: np.ndarray) -> np.ndarray:
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        scores = np.empty(len(y))
        for fit_rows, held_out in folds.split(np.zeros(len(y)), y):
            model = clone(self._text_model()).fit(matrix[fit_rows], y[fit_rows])
            scores[held_out] = model.predict_proba(matrix[held_out])[:, 1]
        return logit(np.clip(scores, _EPSILON, 1 - _EPSILON))

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Text features of new rows from the model fitted on all training rows."""
        check_is_fitted(self, "feature_names_out_")
        texts = {column: self.cleaned(X, column) for column in self.columns or {}}
        out = self._indicators(texts, X.index)
        if SCORE in self.feature_names_out_:
            probability = self.model_.predict_proba(self._hashed(texts))[:, 1]
            out.insert(0, SCORE, logit(np.clip(probability, _EPSILON, 1 - _EPSILON)))
        return out[list(self.feature_names_out_)]

    def _remember_names(self, names: list[str]) -> None:
        self.feature_names_out_ = np.asarray(names, dtype=object)
        labels = {
            f"{safe_part(column) or 'text'}__{kind}": f"{spec.get('label') or column}: {text}"
            for column, spec in (self.columns or {}).items()
            for kind, text in (("present", "has text"), ("words", "words (log)"))
        }
        described = ", ".join(spec.get("label") or c for c, spec in (self.columns or {}).items())
        labels[SCORE] = f"text score ({described})"
        self.feature_labels_ = {name: labels[name] for name in names}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the text feature columns."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()
