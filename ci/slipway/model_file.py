"""The one way slipway loads a model: scikit-learn saved with skops, with the project's own trusted types.

MLflow's loader unpickles a model whose MLmodel says `serialization_format: pickle`, and for skops it
trusts the types listed in that same MLmodel: whoever can write a model version can run code where it
is loaded. Here the MLmodel is only read to find the skops file; anything else is refused in one line,
and skops rebuilds only its own safe types plus those the project's package lists (TRUSTED_TYPES).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from slipway.errors import SlipwayError, first_line

FLAVOR = "sklearn"
SAFE_FORMAT = "skops"
# Defense in depth: MLflow's own loaders refuse pickle (and skops) in this process too.
os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"


def flavor_file(local: Path, what: str) -> Path:
    """The skops file an MLmodel names, after checking flavor, format and that it stays inside `local`."""
    meta_path = local / "MLmodel"
    try:
        meta = yaml.safe_load(meta_path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SlipwayError(
            f"{what} has no readable MLmodel ({type(exc).__name__}): not an MLflow model"
        ) from None
    flavors = meta.get("flavors") if isinstance(meta, dict) else None
    flavor = flavors.get(FLAVOR) if isinstance(flavors, dict) else None
    if not isinstance(flavor, dict):
        found = ", ".join(sorted(flavors)) if isinstance(flavors, dict) else "none"
        raise SlipwayError(
            f"{what} is not a scikit-learn model (flavors: {found}):"
            " slipway loads only sklearn models saved with skops"
        )
    form = flavor.get("serialization_format", "pickle")
    if form != SAFE_FORMAT:
        raise SlipwayError(
            f"{what} is saved as {form!r}: slipway loads only the {SAFE_FORMAT!r} format"
            " (loading pickle can run any code); log it again with mlflow.sklearn.log_model's default"
        )
    name = flavor.get("pickled_model")
    root = local.resolve()
    path = (root / name).resolve() if isinstance(name, str) and name else root
    if not path.is_relative_to(root) or path == root or not path.is_file():
        raise SlipwayError(f"{what} names model file {name!r}, which is not a file inside the model")
    return path


def load_skops(path: Path, trusted: Sequence[str], what: str) -> Any:
    """skops.io.load with exactly the project's trusted types; any other type is refused by name."""
    import skops.io

    try:
        untrusted = [name for name in skops.io.get_untrusted_types(file=path) if name not in trusted]
        if untrusted:
            raise SlipwayError(
                f"{what} holds types the project does not trust: {', '.join(untrusted)}"
                " (TRUSTED_TYPES of the project's api lists what skops may rebuild)"
            )
        return skops.io.load(path, trusted=list(trusted))
    except SlipwayError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError, AttributeError, ImportError, OSError) as exc:
        first = first_line(exc, 200)
        raise SlipwayError(f"{what}: skops could not load {path.name}: {first}") from None


def local_copy(model_uri: str, tracking_uri: str | None, what: str) -> Path:
    """A local directory holding the model: the path itself, or MLflow's download of the URI."""
    if Path(model_uri).is_dir():
        return Path(model_uri)
    import mlflow

    from slipway.registry import reaching

    with reaching(tracking_uri or mlflow.get_tracking_uri(), f"downloading {what}"):
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, tracking_uri=tracking_uri))


def load_model(
    model_uri: str, trusted: Sequence[str], *, tracking_uri: str | None = None, what: str = ""
) -> Any:
    """The fitted model at `model_uri` (`models:/...`, `runs:/...` or a local directory), loaded safely."""
    what = what or model_uri
    local = local_copy(model_uri, tracking_uri, what)
    return load_skops(flavor_file(local, what), trusted, what)
