"""Drift monitoring: `slipway monitor BATCH.csv` against the training reference."""
