"""Write scikit-learn's bundled example data set as CSV (no download): run with scikit-learn installed.

Usage: python example_data.py {breast_cancer|diabetes} OUT.csv
Columns are snake_case feature names plus `target`; values are written with repr precision, so the
file is byte-identical on every run (copier update re-runs tasks and must see no change).
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from sklearn import datasets

LOADERS = {"breast_cancer": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes}


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def main(name: str, out: Path) -> None:
    bunch = LOADERS[name]()
    header = [snake(f) for f in bunch.feature_names] + ["target"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row, target in zip(bunch.data, bunch.target, strict=True):
            writer.writerow([repr(float(v)) for v in row] + [repr(target.item())])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
