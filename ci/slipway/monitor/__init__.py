"""Drift monitoring: `slipway monitor BATCH` (CSV or Parquet) against the training reference."""
