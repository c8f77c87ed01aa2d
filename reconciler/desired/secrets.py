"""Secret-looking values written in clear in a desired state: the warnings ``validate`` and ``plan`` print, and
the values the process must never print (``model.secrets.KNOWN_SECRETS``).

A warning does not make a desired state invalid: the value still reaches AWS as written (and AWS keeps it in
clear in every task definition revision), but it says where it is and what to write instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.errors import echoed
from reconciler.model.kinds import TASK_DEFINITION
from reconciler.model.memo import per_document
from reconciler.model.resource import DesiredResource
from reconciler.model.secrets import KNOWN_SECRETS, SecretSetting, is_secret_name, secret_settings

_SUGGESTION = {
    "environment": "use `secrets` with an SSM parameter (valueFrom) instead",
    "logConfiguration.options": "use `logConfiguration.secretOptions` with an SSM parameter (valueFrom) instead",
}
_WHAT = {"environment": "environment", "logConfiguration.options": "log option"}


@dataclass(frozen=True)
class SecretWarning:
    """``environment DB_PASSWORD of container app in TaskDefinition/web looks secret: use `secrets` …``"""

    file: str
    line: int
    kind: str
    name: str
    container: str
    where: str  # "environment" or "logConfiguration.options"
    variable: str

    @property
    def message(self) -> str:
        return (
            f"{_WHAT[self.where]} {echoed(self.variable)} of container {echoed(self.container)} in "
            f"{self.kind}/{echoed(self.name)} "
            f"looks secret: {_SUGGESTION[self.where]}"
        )

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "name": self.name,
            "container": self.container,
            "variable": self.variable,
            "message": self.message,
        }


def secret_warnings(resources: Iterable[DesiredResource]) -> list[SecretWarning]:
    """One warning per secret-looking value written in clear, in file and line order."""
    warnings = [
        SecretWarning(
            file=resource.file,
            line=resource.line_of(setting.path),
            kind=resource.kind,
            name=resource.name,
            container=setting.container,
            where=setting.where,
            variable=setting.name,
        )
        for resource in resources
        if resource.kind == TASK_DEFINITION.kind
        for setting in _settings_of(resource)
    ]
    return sorted(warnings, key=lambda w: (w.file, w.line, w.variable))


@per_document
def _settings_of(resource: DesiredResource) -> tuple[SecretSetting, ...]:
    """A task definition's, worked out once per document: a load remembers them and the daemon warns about them,
    and a document of an unchanged file is the same object from one load to the next."""
    return tuple(secret_settings(resource.spec))


def remember_secret_values(
    resources: Iterable[DesiredResource], variables: Mapping[str, object] | None = None
) -> None:
    """Add every secret-looking value of ``resources``, and of secret-looking ``variables`` (``vars.yaml``,
    ``--vars``), to ``KNOWN_SECRETS``, so that no log line, error message or ``/status`` entry of this process
    shows it."""
    KNOWN_SECRETS.add(
        setting.value
        for resource in resources
        if resource.kind == TASK_DEFINITION.kind
        for setting in _settings_of(resource)
    )
    named = (variables or {}).items()
    KNOWN_SECRETS.add(value for name, value in named if isinstance(value, str) and is_secret_name(name))
