"""A project to serve, without rendering one: a sqlite MLflow store holding three versions of a model.

    python tests/serve_subject.py DIR    (in an env with mlflow: see tests.serving.SERVE_ENV)

Writes DIR/pyproject.toml and the package `subject` (its `api` as the template's), logs three
versions as the template's tracking.py logs them (skops, trusted types, the contract in the
metadata, an input example): 1 and 2 healthy forests on scikit-learn's breast-cancer table (30
float features), 3 one whose logged example lacks a feature (it cannot be ready). Sets champion to
1 and prints "ready"; then each line "champion N" on stdin moves the alias and is answered "moved N".
"""

from __future__ import annotations

import sys
from pathlib import Path

PYPROJECT = """\
[project]
name = "subject"
version = "0.1.0"

[tool.slipway]
package = "subject"
project_id = "subject-0001"

[tool.slipway.mlflow]
model_name = "subject"
tracking_uri = "sqlite:///{root}/mlflow.db"

[tool.slipway.serve]
body_timeout_seconds = 2
header_timeout_seconds = 2
follow_champion_seconds = 1
"""

API = '''\
"""The template's api, as far as the server calls it."""

import numpy as np
import pandas as pd

TRUSTED_TYPES = @TRUSTED@


def predict_scores(model, features, contract):
    probabilities = pd.DataFrame(model.predict_proba(features), columns=list(model.classes_))
    return probabilities.reindex(columns=list(contract.labels), fill_value=0.0).to_numpy(dtype=float)


def score(y_true, scores, contract):
    return {"accuracy": float(np.mean(np.asarray(scores).argmax(axis=1) == np.asarray(y_true)))}
'''

TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]  # as the template's tracking.py


def write_project(root: Path) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT.format(root=root))
    package = root / "src" / "subject"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api.py").write_text(API.replace("@TRUSTED@", repr(TRUSTED_TYPES)))


def log_versions(root: Path) -> None:
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from slipway.contract.schema import METADATA_KEY, parse_contract, to_dict
    from slipway.registry import CHAMPION, PROJECT_TAG, Registry
    from slipway.store_seed import seed as seed_store

    table = load_breast_cancer(as_frame=True)
    features = table.data.rename(columns=lambda name: name.replace(" ", "_"))
    contract = parse_contract(
        {
            "task": "classification",
            "target": {"name": "target", "type": "integer", "labels": [0, 1]},
            "columns": {name: {"role": "feature", "type": "float"} for name in features.columns},
        }
    )
    uri = f"sqlite:///{root}/mlflow.db"
    seed_store(uri)  # copied from slipway's cache, not migrated
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("subject")
    registry = Registry("subject", uri)
    for seed in (1, 2, 3):
        model = make_pipeline(SimpleImputer(), RandomForestClassifier(n_estimators=10, random_state=seed))
        model.fit(features, table.target)
        example = features.head(3) if seed != 3 else features.head(3).drop(columns=["mean_radius"])
        with mlflow.start_run() as run:
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(features, model.predict(features)),
                input_example=pd.DataFrame(example),
                pip_requirements=["scikit-learn", "numpy", "pandas", "skops"],
                skops_trusted_types=TRUSTED_TYPES,
                metadata={METADATA_KEY: to_dict(contract)},
            )
        registry.create_version(info.model_uri, run.info.run_id, {PROJECT_TAG: "subject-0001"})
    registry.set_alias(CHAMPION, "1")


def main() -> None:
    from slipway.registry import CHAMPION, Registry

    root = Path(sys.argv[1]).resolve()
    write_project(root)
    log_versions(root)
    registry = Registry("subject", f"sqlite:///{root}/mlflow.db")
    print("ready", flush=True)
    for line in sys.stdin:
        version = line.split()[-1]
        registry.set_alias(CHAMPION, version)
        print(f"moved {version}", flush=True)


if __name__ == "__main__":
    main()
