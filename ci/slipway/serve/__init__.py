"""Serving the champion: a small FastAPI app (`slipway serve`) and its smoke test (`slipway smoke`).

Chosen over `mlflow models serve` by measurement (benchmarks/serve.py): requests that arrive while the
model is busy are scored together in one call, and inputs are checked against the data contract
logged with the model, with messages that name the problem.
"""
