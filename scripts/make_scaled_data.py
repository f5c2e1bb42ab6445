"""Write an N-times copy of the bundled loans as Parquet part files, FOR TIMINGS ONLY.

    python scripts/make_scaled_data.py --scale 10          # data/spark/01_raw/loans_x10/
    python scripts/make_scaled_data.py --scale 50 --out /big/disk/loans_x50

The copy is a bootstrap of the bundled loans: each part file is one resample of all of them
with fresh identifiers (ingestion refuses repeated loans), a small multiplicative jitter
(1% by default) on continuous numeric columns, and the issue month kept (LendingClub dates are
months, so a loan stays in its month and in its side of the out-of-time split).

It is NOT new data. Repeated borrowers make cross-validated and test metrics optimistic and
the fairness audit meaningless; use it to measure time and memory (`make benchmark-spark`),
never to judge a model. Parts are written one at a time, so memory stays at one copy of the
bundled file whatever the scale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from loan_default.parameters import Dataset

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTICE = (
    "Bootstrap copy of the bundled LendingClub loans, for timing and memory measurements "
    "only: loans repeat (with new identifiers and a small numeric jitter), so metrics on it "
    "are optimistic and mean nothing. Made by scripts/make_scaled_data.py.\n"
)


def _dataset() -> Dataset:
    """The bundled data's `dataset` block, validated as the pipelines receive it."""
    text = (PROJECT_ROOT / "conf/base/parameters_dataset.yml").read_text()
    return Dataset.model_validate(yaml.safe_load(text)["dataset"])


def _raw_file() -> Path:
    globals_ = yaml.safe_load((PROJECT_ROOT / "conf/base/globals.yml").read_text())
    return PROJECT_ROOT / globals_["raw_loans_file"]


def jittered_columns(raw: pd.DataFrame, dataset: dict) -> list[str]:
    """Continuous numeric columns: float, many distinct values, not an identifier or target."""
    protected = set(dataset["identifier_columns"]) | {dataset["target"]["column"]}
    return [
        column
        for column in raw.select_dtypes("float").columns
        if column not in protected
        and raw[column].nunique() > 50
        and not np.allclose(raw[column].dropna() % 1, 0)  # counts stay whole numbers
    ]


def resample(
    raw: pd.DataFrame,
    part: int,
    rng: np.random.Generator,
    dataset: dict,
    jitter: float,
    columns: list[str],
) -> pd.DataFrame:
    """One bootstrap resample of every loan, with identifiers unique across all parts."""
    copy = raw.iloc[rng.integers(0, len(raw), len(raw))].reset_index(drop=True)
    first = part * len(raw) + 1
    new_ids = np.arange(first, first + len(raw))
    for column in dataset["identifier_columns"]:
        if column in copy:
            numeric = pd.api.types.is_numeric_dtype(raw[column])
            copy[column] = new_ids if numeric else [f"{column}-{i}" for i in new_ids]
    for column in columns:
        noise = rng.normal(1.0, jitter, len(copy))
        copy[column] = (copy[column] * noise).round(2)
    return copy


def write_scaled(scale: int, out: Path, seed: int, jitter: float) -> Path:
    """`scale` part files of one resample each, sharing the full file's Arrow schema."""
    dataset = _dataset()
    raw = pd.read_csv(_raw_file(), low_memory=False)
    # One schema for every part: a text column that happens to be empty in one resample must
    # not become a null-typed column there.
    schema = pa.Schema.from_pandas(raw, preserve_index=False)
    columns = jittered_columns(raw, dataset)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("part-*.parquet"):
        stale.unlink()
    rng = np.random.default_rng(seed)
    for part in range(scale):
        table = pa.Table.from_pandas(
            resample(raw, part, rng, dataset, jitter, columns), schema=schema, preserve_index=False
        )
        pq.write_table(table, out / f"part-{part:05d}.parquet")
        sys.stdout.write(f"  part {part + 1}/{scale}: {len(raw):,} loans\n")
    (out / "_README.txt").write_text(NOTICE)  # readers skip names starting with _
    return out


def main() -> None:
    """Parse arguments and write the copy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, required=True, help="how many copies (N)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jitter", type=float, default=0.01, help="relative numeric noise")
    args = parser.parse_args()
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    out = args.out or PROJECT_ROOT / "data" / "spark" / "01_raw" / f"loans_x{args.scale}"
    sys.stdout.write(NOTICE)
    written = write_scaled(args.scale, out, args.seed, args.jitter)
    sys.stdout.write(f"Wrote {args.scale} part file(s) to {written}\n")


if __name__ == "__main__":
    main()
