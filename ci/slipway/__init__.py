"""slipway: the shared gates (nox sessions and the logic behind them) of projects made from the template."""

__version__ = "0.2.0"
