"""Output column names every estimator accepts, and the way back to the original labels.

A name keeps sklearn's `<column>_<category>` form. A part (column or category) that is already
plain ASCII letters, digits and underscores is kept as is, so ordinary names do not change.
Other parts are transliterated to ASCII and every run of other characters becomes one `_`.
A name that would be empty, longer than `MAX_NAME_LENGTH` or equal to another one gets a short
stable hash of its original column and category (sha1, not Python's seeded `hash`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

MAX_NAME_LENGTH = 64
SAFE_NAME = re.compile(rf"^[A-Za-z0-9_]{{1,{MAX_NAME_LENGTH}}}$")
INFREQUENT = "infrequent_sklearn"  # sklearn's name for the pooled infrequent/unseen column

_SAFE_PART = re.compile(r"^[A-Za-z0-9_]+$")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_]+")
_HASH_LENGTHS = (8, 16, 40)


class EncodedFeature(NamedTuple):
    """One encoded output column: its input column and, for one-hot, its category."""

    column: str
    category: str | None = None
    infrequent: bool = False

    @property
    def sklearn_name(self) -> str:
        """The name sklearn gives this column (kept when it is already safe)."""
        if self.category is None:
            return self.column
        return f"{self.column}_{INFREQUENT if self.infrequent else self.category}"

    def describe(self) -> str:
        """Human text: the original column, or `column = category` for a one-hot column."""
        if self.category is None:
            return self.column
        if self.infrequent:
            return f"{self.column} = infrequent or unseen"
        return f"{self.column} = {self.category}"


def one_hot_token(feature: str, category: Any) -> str:
    """OneHotEncoder `feature_name_combiner`: an unambiguous (column, category) token.

    sklearn's own `column_category` cannot be split back when the column holds `_`; the token is
    replaced by the safe name before any frame leaves the encoder.
    """
    return json.dumps([str(feature), str(category)])


def from_token(token: str) -> tuple[str, str]:
    """The (column, category) pair of a `one_hot_token`."""
    column, category = json.loads(token)
    return column, category


def safe_part(text: str) -> str:
    """`text` unchanged when already safe; otherwise ASCII with unsafe runs as `_` (may be '')."""
    if _SAFE_PART.match(text):
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_RUN.sub("_", ascii_text).strip("_")


def _digest(feature: EncodedFeature, length: int) -> str:
    key = json.dumps([feature.column, feature.category, feature.infrequent])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:length]


def _hashed(plain: str, feature: EncodedFeature, length: int) -> str:
    stem = plain[: MAX_NAME_LENGTH - length - 1].rstrip("_") or "feature"
    return f"{stem}_{_digest(feature, length)}"


def safe_feature_names(features: Sequence[EncodedFeature]) -> list[str]:
    """Unique names matching `SAFE_NAME`, one per feature, deterministic for the same features."""
    plains, lossy = [], []
    for feature in features:
        parts = [safe_part(feature.column)]
        if feature.category is not None:
            parts.append(safe_part(INFREQUENT if feature.infrequent else feature.category))
        plains.append("_".join(part for part in parts if part))
        lossy.append(not all(parts))
    members = defaultdict(list)
    for position, plain in enumerate(plains):
        members[plain].append(position)
    keep_plain = set()
    for plain, positions in members.items():
        if not plain or len(plain) > MAX_NAME_LENGTH:
            continue
        # Only one member of a clash keeps the plain name: the one sklearn would name so already.
        unchanged = [p for p in positions if plain == features[p].sklearn_name]
        if unchanged:
            keep_plain.add(unchanged[0])
        elif len(positions) == 1 and not lossy[positions[0]]:
            keep_plain.add(positions[0])
    for length in _HASH_LENGTHS:
        names = [
            plain if position in keep_plain else _hashed(plain, features[position], length)
            for position, plain in enumerate(plains)
        ]
        if len(set(names)) == len(names):
            return names
    duplicated = sorted({name for name in names if names.count(name) > 1})
    raise ValueError(f"Could not make encoded feature names unique: {duplicated[:10]}")
