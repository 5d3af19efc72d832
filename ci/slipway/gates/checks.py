"""One line of the evaluate gate's verdict table: what a check compared, its numbers, pass or FAIL.

Its own module so the gate report (`slipway.report.gate`) reads checks without importing the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Against = Literal["champion", "thresholds", "baseline"]
HEADER = ["check", "reference", "candidate", "delta", "CI", "verdict"]


@dataclass(frozen=True)
class Check:
    """One line of the verdict table; `reference` is the baseline's or the champion's value."""

    name: str
    reference: str
    candidate: str
    delta: str
    interval: str
    passed: bool
    against: Against

    def row(self) -> list[str]:
        """The check as a table row, in `HEADER` order."""
        return [
            self.name,
            self.reference,
            self.candidate,
            self.delta,
            self.interval,
            "pass" if self.passed else "FAIL",
        ]
