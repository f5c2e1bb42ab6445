"""Numeric features from free-text columns (dataset.text_columns), fitted without leakage.

Per text column: a cross-fitted text score (hashed n-grams into a regularised logistic
regression) and simple indicators. The score a training row receives comes from a model fitted
on the other inner folds, the way scikit-learn's TargetEncoder cross-fits, so a downstream model
never learns from a score that saw its own label. Rows transformed later get the model fitted on
all rows. The n-grams are hashed, not counted into a vocabulary: hashing is stateless, so it is
computed once per call and learns nothing from the rows it sees (and it is several times faster
than TF-IDF here).

The text model is fitted on the rows that have text only, and an empty text scores exactly 0
(the score is centred on the log-odds of those rows). Cross-fitting empty texts would give them
a few slightly different scores in training (one per inner fold, each a function of the other
folds' default rate, so weakly tied to the row's own label) and a single score later.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse
from scipy.special import logit
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from loan_default.parameters import TextFeatures as TextSettings

from .names import safe_part

logger = logging.getLogger(__name__)

# Keeps log-odds finite for a score of exactly 0 or 1.
_EPSILON = 1e-6
# A word as Python's `\w+` reads one, written for RE2 (whose `\w` is ASCII only).
_WORD = r"[\pL\pN_]+"
_TEXT = pd.ArrowDtype(pa.string())
KINDS = {"text_score": "text score", "present": "has text", "words": "words (log)"}


def _log_odds(probability: np.ndarray) -> np.ndarray:
    return logit(np.clip(probability, _EPSILON, 1 - _EPSILON))


_SETTINGS = TextSettings()  # the defaults' one home: the schema


@dataclass(eq=False, repr=False)  # the parameters, stored as scikit-learn expects
class TextFeatures(TransformerMixin, BaseEstimator):
    """Per text column: `<column>__text_score` (log-odds of default from its words, relative
    to texts in general; cross-fitted on training rows; 0 for an empty text), `<column>__present`
    (has any text) and `<column>__words` (log of the word count).

    A column absent from the frame is read as empty text everywhere (the scoring stage warns).
    """

    columns: Mapping[str, Mapping[str, Any]] | None = None
    score: bool = _SETTINGS.score
    analyzer: str = _SETTINGS.analyzer
    ngram_range: Sequence[int] = tuple(_SETTINGS.ngram_range)
    n_features: int = _SETTINGS.n_features
    C: float = _SETTINGS.C
    cv: int = _SETTINGS.cv
    indicators: Sequence[str] = tuple(_SETTINGS.indicators)
    random_state: int = _SETTINGS.random_state

    def _text_model(self) -> LogisticRegression:
        # liblinear: the fastest solver for a few thousand rows of sparse, high-dimensional text
        return LogisticRegression(C=self.C, solver="liblinear", random_state=self.random_state)

    def vectorizer(self) -> HashingVectorizer:
        """The stateless n-gram hasher every text model reads its input through."""
        return HashingVectorizer(
            analyzer=self.analyzer, ngram_range=tuple(self.ngram_range),
            n_features=self.n_features, alternate_sign=False, norm="l2", dtype=np.float32,
        )  # fmt: skip

    def _hashed(self, text: pd.Series) -> sparse.csr_matrix:
        return _HASHED.transform(self.vectorizer(), text)

    def riskiest_phrases(self, X: pd.DataFrame, column: str, count: int = 3) -> list[list[str]]:
        """Per row, up to `count` phrases of its own `column` text that raise its text score
        most (the text model's coefficient x the phrase's weight in the text), most first.
        Empty when the text is empty, when its text score is not above that of texts in general
        (its words lowered the risk), or when no phrase raised it. Each distinct text once."""
        model = getattr(self, "models_", {}).get(column)
        text = self.cleaned(X, column)
        if model is None or not len(text):
            return [[] for _ in range(len(text))]
        codes, distinct = pd.factorize(text.to_numpy(dtype=object))
        vectorizer = self.vectorizer()
        matrix = vectorizer.transform(pd.Series(distinct, dtype=object)).tocsr()
        coef = model.coef_[0]
        score = matrix @ coef + model.intercept_[0] - self.centres_[column]
        riskier = np.flatnonzero((score > 0) & (matrix.getnnz(axis=1) > 0))
        texts, named, columns = _PhraseIndex(vectorizer, self.n_features).occurrences(
            [distinct[i] for i in riskier]
        )
        found: dict[int, list[str]] = {}
        if len(texts):
            texts = riskier[texts]
            weight = np.asarray(matrix[texts, columns]).ravel()
            parts = pd.DataFrame({"text": texts, "phrase": named, "value": coef[columns] * weight})
            raised = parts.groupby(["text", "phrase"], sort=False)["value"].sum().reset_index()
            worded = {p: bool(phrase_words(p)) for p in raised["phrase"].unique()}
            raised = raised[(raised["value"] > 0) & raised["phrase"].map(worded)]
            raised = raised.sort_values(["text", "value"], ascending=[True, False])
            raised = raised[raised.groupby("text").cumcount() < 4 * count]
            for text, rows in itertools.groupby(
                zip(raised["text"].tolist(), raised["phrase"].tolist(), strict=True),
                key=lambda pair: pair[0],
            ):
                chosen: list[str] = []
                for _, phrase in rows:
                    if len(chosen) < count and not any(
                        phrase in given or given in phrase for given in chosen
                    ):
                        chosen.append(phrase)
                found[text] = chosen
        return [list(found.get(code, [])) for code in codes]

    def cleaned(self, X: pd.DataFrame, column: str) -> pd.Series:
        """The column as text: missing values and absent columns are empty; with `keep_first`,
        only the first entry (text added later, e.g. while the loan was listed, is dropped);
        then `strip` patterns (boilerplate such as dated "added on" markers) are removed."""
        if column not in X.columns:
            return pd.Series("", index=X.index, dtype=_TEXT)
        spec = (self.columns or {})[column]
        # Arrow strings: the patterns run in pyarrow's RE2 over the whole column, not per row
        # in Python (scoring 100,000 applications spends most of its time here otherwise).
        text = X[column].astype("object").where(X[column].notna(), "").astype(str).astype(_TEXT)
        if spec.get("keep_first"):
            text = _first_entries(text, spec["keep_first"])
        for pattern in spec.get("strip", []):
            text = text.str.replace(pattern, " ", regex=True)
        return text.str.strip()

    def _names(self, column: str) -> dict[str, str]:
        stem = safe_part(column) or "text"
        kinds = (["text_score"] if self.score else []) + list(self.indicators)
        return {kind: f"{stem}__{kind}" for kind in kinds}

    def _indicators(self, text: pd.Series) -> dict[str, np.ndarray]:
        values = {}
        if "present" in self.indicators:
            values["present"] = (text.str.len() > 0).to_numpy(dtype="float64")
        if "words" in self.indicators:
            words = text.str.count(_WORD).to_numpy("float64")
            values["words"] = np.log1p(words)
        return values

    def fit(self, X: pd.DataFrame, y: Any = None) -> TextFeatures:
        """Fit every column's text model on all rows with text."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit on all rows; a row's own text score comes from the inner folds without it."""
        self.models_, self.centres_ = {}, {}
        y_array = None if y is None else np.asarray(y, dtype=int)
        out = self._features(X, lambda column, text: self._fit_score(column, text, y_array))
        self._remember_names(list(out.columns))
        return out

    def _features(
        self, X: pd.DataFrame, score: Callable[[str, pd.Series], np.ndarray]
    ) -> pd.DataFrame:
        """Every column's indicators and, from `score(column, cleaned text)`, its text score."""
        frames = []
        for column in self.columns or {}:
            text = self.cleaned(X, column)
            values = self._indicators(text)
            if self.score:
                values["text_score"] = score(column, text)
            frames.append(self._frame(column, values, X.index))
        return pd.concat(frames, axis=1) if frames else pd.DataFrame(index=X.index)

    def _fit_score(self, column: str, text: pd.Series, y: np.ndarray) -> np.ndarray:
        """Cross-fitted, centred log-odds for the rows with text; 0 for the others."""
        has_text, score = (text.str.len() > 0).to_numpy(), np.zeros(len(text))
        rows, labels = np.flatnonzero(has_text), y[has_text]
        if np.bincount(labels, minlength=2).min() < self.cv:
            logger.warning("Text column '%s': too few texts per class for a text score", column)
            return score
        matrix = self._hashed(text.iloc[rows])
        self.models_[column] = clone(self._text_model()).fit(matrix, labels)
        self.centres_[column] = float(_log_odds(np.array([labels.mean()]))[0])
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        inner = np.empty(len(rows))
        for fit_rows, held_out in folds.split(np.zeros(len(rows)), labels):
            model = clone(self._text_model()).fit(matrix[fit_rows], labels[fit_rows])
            inner[held_out] = model.predict_proba(matrix[held_out])[:, 1]
        score[rows] = _log_odds(inner) - self.centres_[column]
        return score

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Text features of new rows from the models fitted on all training rows with text."""
        check_is_fitted(self, "feature_names_out_")
        # Reasons score one batch again and again with a single other column changed; the text
        # is then the same, and its features (most of the preprocessing time) are reused.
        key = self._fingerprint(X)
        last = getattr(self, "_last_transform", None)
        if last is not None and last[0] == key:
            return last[1].copy()
        out = self._features(X, self._score)[list(self.feature_names_out_)]
        self._last_transform = (key, out)
        return out.copy()

    def _fingerprint(self, X: pd.DataFrame) -> tuple:
        """Identifies the rows (index) and the content of every text column."""
        digest = hashlib.sha1(pd.util.hash_pandas_object(X.index).to_numpy().tobytes())
        for column in self.columns or {}:
            if column in X.columns:
                values = X[column].astype("object")
                digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
            digest.update(column.encode())
        return (len(X), digest.hexdigest())

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_last_transform", None)  # a cache of the last batch, not part of the model
        return state

    def _score(self, column: str, text: pd.Series) -> np.ndarray:
        score = np.zeros(len(text))
        rows = np.flatnonzero((text.str.len() > 0).to_numpy())
        if column in self.models_ and len(rows):
            # Each distinct text once: titles and job titles repeat a lot ("Debt consolidation").
            codes, distinct = pd.factorize(text.iloc[rows])
            model = self.models_[column]
            probability = model.predict_proba(self._hashed(pd.Series(distinct)))[:, 1]
            score[rows] = _log_odds(probability[codes]) - self.centres_[column]
        return score

    def _frame(self, column: str, values: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
        names = self._names(column)
        return pd.DataFrame({names[kind]: values[kind] for kind in names}, index=index)

    def _remember_names(self, names: list[str]) -> None:
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.feature_labels_ = {
            name: f"{(self.columns or {})[column].get('label') or column}: {KINDS[kind]}"
            for column in self.columns or {}
            for kind, name in self._names(column).items()
        }

    def source_columns(self) -> dict[str, str]:
        """Output column -> the text column it is made from."""
        check_is_fitted(self, "feature_names_out_")
        return {
            name: column for column in self.columns or {} for name in self._names(column).values()
        }

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the text feature columns."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()


class _HashedTexts:
    """Hashed rows of the texts this process has hashed before, per hasher configuration.

    The same texts are hashed again and again in one run: the features stage's fit, each CV
    fold's fit (subsets of the same training loans), the transforms of validation, test and
    audited loans. Hashing is stateless and row by row (each row's n-grams, normalised on
    their own), so a row hashed once is the row hashed again: the matrix is the same, and so is
    every text model fitted on it. At most `max_texts` distinct texts are kept (then the store
    starts again), so a long-lived scoring process does not grow without bound.
    """

    def __init__(self, max_texts: int = 100_000) -> None:
        self.max_texts = max_texts
        self._rows: dict[tuple, dict[str, tuple[np.ndarray, np.ndarray]]] = {}

    def transform(self, vectorizer: HashingVectorizer, text: pd.Series) -> sparse.csr_matrix:
        """`vectorizer.transform(text)`, hashing only the distinct texts not seen before."""
        # Every setting of the hasher: two hashers that differ in any (norm, lowercase, ...) hash
        # the same text differently.
        key = tuple(sorted((name, repr(value)) for name, value in vectorizer.get_params().items()))
        codes, distinct = pd.factorize(np.asarray(text, dtype=object))
        rows = self._rows.setdefault(key, {})
        missing = [value for value in distinct if value not in rows]
        if len(rows) + len(missing) > self.max_texts:  # full: start again
            rows = self._rows[key] = {}
            missing = list(distinct)
        if missing:
            hashed = vectorizer.transform(missing)
            bounds = hashed.indptr
            for i, value in enumerate(missing):
                rows[value] = (
                    hashed.indices[bounds[i] : bounds[i + 1]],
                    hashed.data[bounds[i] : bounds[i + 1]],
                )
        parts = [rows[value] for value in distinct]
        indptr = np.zeros(len(parts) + 1, dtype=np.int32)
        np.cumsum([len(indices) for indices, _ in parts], out=indptr[1:])
        empty = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        indices = np.concatenate([indices for indices, _ in parts] or [empty[0]])
        data = np.concatenate([data for _, data in parts] or [empty[1]])
        matrix = sparse.csr_matrix(
            (data, indices, indptr), shape=(len(parts), vectorizer.n_features)
        )
        return matrix[codes]


_HASHED = _HashedTexts()


def phrase_words(phrase: str) -> list[str]:
    """The words of a phrase that say something: not English stop words ("and", "be", "for"),
    numbers or single letters."""
    return [
        word
        for word in re.findall(r"\w+", phrase.lower())
        if word not in ENGLISH_STOP_WORDS and len(word) > 1 and not word.isdigit()
    ]


class _PhraseIndex:
    """Texts' phrases and the hashed columns each is counted in: word n-grams (word analyzer),
    or words and the character n-grams of each (char_wb); every distinct n-gram hashed once."""

    def __init__(self, vectorizer: HashingVectorizer, n_features: int) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.words = vectorizer.analyzer != "word"
        self.hasher = FeatureHasher(
            n_features=n_features, input_type="string", alternate_sign=False
        )

    def occurrences(self, texts: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Every (text, phrase, hashed column) once: the text's position in `texts`, the
        phrase, and a hashed column it is counted in."""
        if self.words:  # a phrase is a word; each of its character n-grams is a column
            split = [list(dict.fromkeys(re.findall(r"\w+", text.lower()))) for text in texts]
            pairs = [(t, w, g) for t, ws in enumerate(split) for w in ws for g in self.analyze(w)]
            if not pairs:
                return np.zeros(0, dtype=int), [], np.zeros(0, dtype=int)
            position, phrase, grams = (list(part) for part in zip(*pairs, strict=True))
        else:  # a phrase is an n-gram, counted in its own hashed column
            analysed = [self.analyze(text) for text in texts]
            position = np.repeat(np.arange(len(texts)), [len(a) for a in analysed]).tolist()
            phrase = grams = [gram for a in analysed for gram in a]
        if not grams:
            return np.zeros(0, dtype=int), [], np.zeros(0, dtype=int)
        codes, unique = pd.factorize(pd.Series(grams, dtype=object))
        hashed = self.hasher.transform([[gram] for gram in unique]).tocsr().indices
        frame = pd.DataFrame({"text": position, "phrase": phrase, "column": hashed[codes]})
        frame = frame.drop_duplicates(ignore_index=True)
        return (
            frame["text"].to_numpy(dtype=int),
            frame["phrase"].tolist(),
            frame["column"].to_numpy(dtype=int),
        )


def _first_entries(text: pd.Series, separator: str) -> pd.Series:
    """Per row, the first non-blank stretch of text between matches of `separator`."""
    marked = text.str.replace(separator, "\x00", regex=True)
    # Blank stretches before the first entry go; the first entry ends at the next separator.
    leading = marked.str.replace(r"^[\s\x00\x{85}\x{a0}\p{Z}]+", "", regex=True)
    return leading.str.split("\x00", n=1).list[0]
