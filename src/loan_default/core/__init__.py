"""Core data rules, one engine-neutral definition each: parsing, labelling, derived features,
duplicates, column profiles and selection, the split method. pandas only: no model library, no
Kedro, no Spark (the Spark engine applies these rules per partition or to its own aggregates)."""
