"""The few MLflow registry calls the gates need, in one place, with one-line errors.

Aliases, not stages (deprecated in MLflow 3): `champion` serves, `challenger` has passed `evaluate`.
Every call fails fast: no retries, a short HTTP timeout, so an unreachable server is an error in
seconds rather than a hang.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from slipway.errors import SlipwayError, first_line
from slipway.redact import redact
from slipway.store_seed import seed
from slipway.stores import store_failure

CHAMPION = "champion"
CHALLENGER = "challenger"
PROJECT_TAG = (
    "slipway.project"  # on runs and versions: the project that made them ([tool.slipway] project_id)
)
T = TypeVar("T")

# Fail fast against a remote tracking server (MLflow's defaults retry for minutes).
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")


def logged_model_id(model_uri: str) -> str | None:
    """`m-...` of a `models:/m-...` URI: a tracking server accepts such a source only with its id."""
    match = re.fullmatch(r"models:/(m-[0-9a-f]+)/?", model_uri)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Version:
    """A registered model version, with its tags (where the gates keep their records)."""

    name: str
    version: str
    run_id: str
    source: str
    tags: dict[str, str]


@contextmanager
def reaching(uri: str, action: str) -> Iterator[None]:
    """Turn MLflow/HTTP failures into one SlipwayError line naming the store and the action."""
    from mlflow.exceptions import MlflowException
    from requests.exceptions import RequestException

    try:
        yield
    except (ModuleNotFoundError, MlflowException, RequestException, OSError) as exc:
        line = store_failure(exc, uri)  # down, or lacking its database driver: say so plainly
        if line is not None:
            raise SlipwayError(line) from None
        if isinstance(exc, ModuleNotFoundError):
            raise
        raise SlipwayError(redact(f"{action} failed at tracking store {uri}: {first_line(exc)}")) from None


class Registry:
    """One registered model in one tracking store."""

    def __init__(self, name: str, uri: str) -> None:
        from mlflow import MlflowClient

        self.name, self.uri = name, uri
        seed(uri)  # a new local store: copied, not migrated
        with reaching(uri, "opening the registry"):  # MLflow opens the store here
            self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def _call(self, action: str, func: Callable[[], T]) -> T:
        with reaching(self.uri, action):
            return func()

    def _version(self, raw: Any) -> Version:
        return Version(self.name, str(raw.version), raw.run_id or "", raw.source, dict(raw.tags))

    def alias(self, alias: str) -> Version | None:
        """The version an alias points at, or None when the model or alias does not exist yet."""
        from mlflow.exceptions import MlflowException

        try:
            aliases = self._call(
                "reading the registry", lambda: self.client.get_registered_model(self.name).aliases
            )
        except SlipwayError as exc:
            if "RESOURCE_DOES_NOT_EXIST" in str(exc) or "not found" in str(exc).lower():
                return None
            raise
        if alias not in aliases:
            return None
        try:
            return self.get(str(aliases[alias]))
        except MlflowException:  # pragma: no cover - alias to a deleted version
            return None

    def get(self, version: str) -> Version:
        raw = self._call(
            f"reading version {version}", lambda: self.client.get_model_version(self.name, version)
        )
        return self._version(raw)

    def versions(self) -> list[Version]:
        found = self._call(
            "listing versions", lambda: self.client.search_model_versions(f"name = '{self.name}'")
        )
        return sorted((self._version(v) for v in found), key=lambda v: int(v.version))

    def create_version(self, model_uri: str, run_id: str, tags: dict[str, str]) -> Version:
        """A new version of the model from a logged model, with its tags set at creation."""

        def create() -> Any:
            from mlflow.exceptions import MlflowException

            try:
                self.client.get_registered_model(self.name)
            except MlflowException:
                self.client.create_registered_model(self.name)
            return self.client.create_model_version(
                self.name, model_uri, run_id=run_id, tags=tags, model_id=logged_model_id(model_uri)
            )

        return self._version(self._call("creating a model version", create))

    def set_alias(self, alias: str, version: str) -> None:
        self._call(
            f"moving alias {alias}", lambda: self.client.set_registered_model_alias(self.name, alias, version)
        )

    def delete_alias(self, alias: str) -> None:
        self._call(
            f"removing alias {alias}", lambda: self.client.delete_registered_model_alias(self.name, alias)
        )

    def set_tag(self, version: str, key: str, value: str) -> None:
        self._call(
            f"tagging version {version}",
            lambda: self.client.set_model_version_tag(self.name, version, key, value),
        )

    def log_artifacts(self, run_id: str, paths: list[Path], artifact_path: str) -> None:
        """Files into the run's artifacts under `artifact_path` (a model card, say)."""

        def log() -> None:
            for path in paths:
                self.client.log_artifact(run_id, str(path), artifact_path)

        self._call(f"logging {artifact_path} to run {run_id}", log)

    def download_artifacts(self, run_id: str, artifact_path: str, dst: Path) -> Path:
        """The run's artifacts under `artifact_path`, copied into `dst` (a model card, say)."""
        return Path(
            self._call(
                f"downloading {artifact_path} of run {run_id}",
                lambda: self.client.download_artifacts(run_id, artifact_path, str(dst)),
            )
        )

    def run_tags(self, run_id: str) -> dict[str, str]:
        return dict(self._call(f"reading run {run_id}", lambda: self.client.get_run(run_id)).data.tags)

    def set_run_tag(self, run_id: str, key: str, value: str) -> None:
        self._call(f"tagging run {run_id}", lambda: self.client.set_tag(run_id, key, value))


def require_project_id(project_id: str) -> str:
    """The project's id, or one line saying how to get one (projects made before 0.3.0 lack it)."""
    if not project_id:
        raise SlipwayError(
            "[tool.slipway] project_id is missing: `nox -s template-update` adds one (or add"
            ' project_id = "<a fresh uuid4>"); it tells this project\'s model versions apart'
        )
    return project_id


def check_ours(version: Version, project_id: str) -> Version:
    """The version, if this project made it (its `slipway.project` tag); else one line naming it."""
    found = version.tags.get(PROJECT_TAG)
    require_project_id(project_id)
    if found != project_id:
        owner = f"project {found}" if found else "no project (no slipway.project tag)"
        raise SlipwayError(
            f"version {version.version} of {version.name!r} belongs to {owner}, not this project"
            f" ({project_id}): refusing it"
        )
    return version
