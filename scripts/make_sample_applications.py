"""Write a sample batch of new applications from the raw data of a Kedro environment.

Takes the latest loans (or a seeded random draw when the data has no dates) and keeps only the
columns known at application time (free-text columns included), so the outcome and
post-outcome columns are gone.

    python scripts/make_sample_applications.py --env base --rows 300
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from loan_default.config_loader import ProjectConfigLoader
from loan_default.parameters import Dataset
from loan_default.schema import application_columns
from loan_default.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[1]


def sample_columns(dataset: Dataset, raw: pd.DataFrame) -> list[str]:
    """The columns an application has: those known at application time, and free text."""
    text = [column for column in dataset.text_columns if column in raw.columns]
    return application_columns(dataset) + text


def main() -> None:
    """Parse arguments and write the sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args()
    loader = ProjectConfigLoader(
        str(ROOT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": args.env}
    )
    dataset, config = loader["parameters"]["dataset"], loader["globals"]
    raw = pd.read_csv(ROOT / config["raw_loans_file"], low_memory=False)
    date_column = dataset.date_column
    if date_column:
        order = pd.to_datetime(raw[date_column], format="mixed").sort_values(kind="stable")
        sample = raw.loc[order.index[-args.rows :]]
    else:
        sample = raw.sample(n=args.rows, random_state=config["seed"])
    target = dataset.target.column
    labels = set(map(str, dataset.target.positive + dataset.target.negative))
    sample = sample[sample[target].astype(str).isin(labels)]
    output = ROOT / config["applications_file"]
    sample[sample_columns(dataset, sample)].to_csv(output, index=False)
    print(f"wrote {len(sample)} applications to {output.relative_to(ROOT)}")  # noqa: T201


if __name__ == "__main__":
    main()
