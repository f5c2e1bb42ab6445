"""The configuration layer: what a configuration may say, importing no model library."""
