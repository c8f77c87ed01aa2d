"""``targets.yaml``: the targets (AWS accounts and Regions) a desired state is for, and which target each
document is for (docs/desired-state.md, "Targets").

``read_targets`` validates the file: each target's fields, its own variables, no two targets on one account
and Region (their resources would carry the same ownership tags, so each would prune the other's), and the
folders mapped to targets. ``Assignment`` then answers, for each file, the target of its folder (the deepest
mapped folder holding it), and for each document, its target (``metadata.target``, read before any variable
is substituted: the target decides which variables apply) and the variables that apply to it.

Without ``targets.yaml`` there is one target, ``DEFAULT_TARGET``: every document is for it, and the variables
are those of every load before targets, so nothing else changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reconciler.desired.sources import SourceText
from reconciler.desired.spec_checker import describe_type
from reconciler.desired.tree import TARGETS_FILE_NAME
from reconciler.desired.variable_sources import VariableLayers, variables_of
from reconciler.desired.variables import VariableValue, substitute, undefined_variable
from reconciler.desired.yaml_reader import DocumentBudget, YamlDocument, read_yaml
from reconciler.errors import Problem, echoed
from reconciler.model.targets import DEFAULT_TARGET, TARGET_NAME, Target

_SECTIONS = ("targets", "folders")
_FIELDS = ("account", "region", "roleArn", "externalId", "sessionName", "eventsQueueUrl", "vars")
_REQUIRED = (
    "account",
    "region",
)  # no roleArn: the reconciler's own credentials, which must be of that account
_NEED_ROLE = ("externalId", "sessionName")  # what only an AssumeRole uses
ACCOUNT = re.compile(r"[0-9]{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+){1,2}-[1-9][0-9]?")  # us-east-1, us-gov-west-1, ap-southeast-5
ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::(?P<account>[0-9]{12}):role/[\w+=,.@/-]{1,576}")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")  # what STS AssumeRole takes
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
QUEUE_URL = re.compile(r"https://[^\s/]+/\S+")
_WHAT = {
    "account": "an AWS account ID of 12 digits, quoted",
    "region": "a Region name such as eu-west-1",
    "roleArn": "an IAM role's ARN (arn:aws:iam::ACCOUNT:role/NAME)",
    "externalId": "2 to 1224 letters, digits and _ + = , . @ : / -",
    "sessionName": "2 to 64 letters, digits and _ + = , . @ -",
    "eventsQueueUrl": "an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
}
_PATTERNS = {
    "account": ACCOUNT,
    "region": REGION,
    "roleArn": ROLE_ARN,
    "externalId": EXTERNAL_ID,
    "sessionName": SESSION_NAME,
    "eventsQueueUrl": QUEUE_URL,
}
Folder = tuple[str, ...]  # a folder below the root, by its names (``()``: the root itself)


@dataclass(frozen=True)
class TargetsFile:
    """``targets.yaml``, validated: every target whose name is valid (with its problems, if any, in
    ``problems``), and the folders mapped to a target."""

    targets: tuple[Target, ...] = ()
    folders: Mapping[Folder, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def read_targets(source: SourceText, variables: Mapping[str, VariableValue]) -> TargetsFile:
    """The targets and folders of ``targets.yaml``; ``variables`` (vars.yaml, ``--vars``) fill ``${NAME}`` in
    the values of each target's fields other than ``vars``."""
    read = read_yaml(source.text, budget=DocumentBudget())
    reading = _Reading(source.display, variables)
    reading.problems.extend(Problem(source.display, line, message) for line, message in read.problems)
    if len(read.documents) > 1:
        reading.problem(
            read.documents[1].line, "targets.yaml holds a single mapping (targets, folders), not documents"
        )
    if read.documents:
        reading.document(read.documents[0])
    elif not read.problems:
        reading.problem(1, "declares no target: write each under targets (or remove targets.yaml)")
    return TargetsFile(tuple(reading.targets), reading.folders, tuple(reading.problems))


@dataclass
class _Reading:
    file: str
    variables: Mapping[str, VariableValue]
    lines: Mapping[str, int] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    folders: dict[Folder, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def line(self, path: str, default: int = 1) -> int:
        return self.lines.get(path, default)

    def document(self, document: YamlDocument) -> None:
        self.lines = document.lines
        value = document.value
        if not isinstance(value, dict):
            self.problem(
                document.line,
                f"targets.yaml must be a mapping of targets and folders, not {describe_type(value)}",
            )
            return
        for key in value.keys() - set(_SECTIONS):
            self.problem(self.line(key), f"unknown field '{echoed(key)}' (expected {', '.join(_SECTIONS)})")
        targets = value.get("targets")
        if not isinstance(targets, dict) or not targets:
            found = "" if targets is None else f", not {describe_type(targets)}"
            self.problem(
                self.line("targets", document.line),
                f"targets: a mapping of each target by its name is required{found}",
            )
        else:
            for name, entry in targets.items():
                self.target(name, entry)
        folders = value.get("folders", {})
        if not isinstance(folders, dict):
            self.problem(
                self.line("folders"), f"folders: a mapping of folder to target, not {describe_type(folders)}"
            )
        else:
            for folder, target in folders.items():
                self.folder(folder, target)

    def target(self, name: str, entry: object) -> None:
        path = f"targets.{name}"
        line = self.line(path)
        if not TARGET_NAME.fullmatch(name):
            self.problem(
                line,
                f"target '{echoed(name)}': a target's name is a letter, then up to 62 letters, digits, "
                "'-' and '_'",
            )
            return
        if name == DEFAULT_TARGET:
            self.problem(
                line,
                f"target '{name}': the name is reserved for the one target of a desired state without "
                f"{TARGETS_FILE_NAME}",
            )
            return
        if not isinstance(entry, dict):
            self.problem(
                line, f"target '{name}' must be a mapping of {', '.join(_FIELDS)}, not {describe_type(entry)}"
            )
            entry = {}
        for key in entry.keys() - set(_FIELDS):
            self.problem(
                self.line(f"{path}.{key}", line),
                f"target '{name}': unknown field '{echoed(key)}' (expected {', '.join(_FIELDS)})",
            )
        for key in _REQUIRED:
            if key not in entry:
                self.problem(line, f"target '{name}': required field '{key}' is missing")
        values = {key: self.field(name, key, entry[key]) for key in _PATTERNS if key in entry}
        variables: dict[str, VariableValue] = {}
        if "vars" in entry:
            variables = self.target_variables(name, entry["vars"])
        account, role = values.get("account"), values.get("roleArn")
        for key in _NEED_ROLE if "roleArn" not in entry else ():
            if key in entry:
                self.problem(
                    self.line(f"{path}.{key}", line),
                    f"target '{name}': {key} is given to the role it assumes, and it has no roleArn",
                )
        match = ROLE_ARN.fullmatch(role or "")
        if account is not None and match is not None and match["account"] != account:
            self.problem(
                self.line(f"{path}.roleArn", line),
                f"target '{name}': roleArn is a role of account {match['account']}, not of the target's "
                f"account {account}",
            )
        region = values.get("region")
        same = [t for t in self.targets if account is not None and (t.account, t.region) == (account, region)]
        for other in same[:1] if region is not None else ():
            self.problem(
                line,
                f"target '{name}' is account {account} in {region}, as target '{other.name}' is (at "
                f"{other.file}:{other.line}): the resources of both would carry the same ownership tags, and "
                "each target would prune the other's",
            )
        self.targets.append(
            Target(
                name=name,
                account=account,
                region=region,
                role_arn=role,
                external_id=values.get("externalId"),
                session_name=values.get("sessionName"),
                events_queue_url=values.get("eventsQueueUrl"),
                vars=variables,
                file=self.file,
                line=line,
            )
        )

    def field(self, name: str, key: str, raw: object) -> str | None:
        """One field's value, its variables substituted; None (with a problem) when it is not valid."""
        line = self.line(f"targets.{name}.{key}")
        substitution = substitute(raw, variables=self.variables)
        for _, variable in substitution.undefined:
            self.problem(line, f"target '{name}': {key}: {undefined_variable(variable)}")
        value = substitution.value
        if isinstance(value, int) and not isinstance(value, bool) and key in ("externalId", "sessionName"):
            value = str(value)
        if isinstance(value, int) and not isinstance(value, bool) and key == "account":
            self.problem(
                line,
                f"target '{name}': account must be quoted (\"012345678901\"): YAML reads digits as a "
                "number, and drops leading zeros",
            )
            return None
        if not isinstance(value, str):
            self.problem(line, f"target '{name}': {key} must be {_WHAT[key]}, not {describe_type(value)}")
            return None
        if substitution.undefined:
            return None
        if not _PATTERNS[key].fullmatch(value):
            self.problem(line, f"target '{name}': {key} '{echoed(value)}' is not {_WHAT[key]}")
            return None
        return value

    def target_variables(self, name: str, raw: object) -> dict[str, VariableValue]:
        path = f"targets.{name}.vars"
        if not isinstance(raw, dict):
            self.problem(
                self.line(path),
                f"target '{name}': vars must be a flat mapping of NAME: value, not {describe_type(raw)}",
            )
            return {}
        variables, problems = variables_of(
            raw, file=self.file, lines=self.lines, line=self.line(path), path=path
        )
        self.problems.extend(problems)
        return variables

    def folder(self, folder: str, target: object) -> None:
        line = self.line(f"folders.{folder}")
        parts = _folder_parts(folder)
        if isinstance(parts, str):
            self.problem(line, f"folders: '{echoed(folder)}' {parts}")
            return
        if not isinstance(target, str):
            self.problem(
                line,
                f"folders: '{echoed(folder)}' must be mapped to a target's name, not {describe_type(target)}",
            )
            return
        if parts in self.folders:
            first = next(key for key in self._folder_keys() if _folder_parts(key) == parts)
            where = f"{self.file}:{self.line(f'folders.{first}')}"
            self.problem(
                line, f"folders: '{echoed(folder)}' is mapped twice (first as '{echoed(first)}' at {where})"
            )
            return
        self.folders[parts] = target
        if target not in {t.name for t in self.targets}:
            self.problem(
                line,
                f"folders: '{echoed(folder)}' is mapped to '{echoed(target)}', which is no target declared "
                "under targets",
            )

    def _folder_keys(self) -> list[str]:
        return [path.removeprefix("folders.") for path in self.lines if path.startswith("folders.")]


def _folder_parts(folder: str) -> Folder | str:
    """A mapped folder's names below the root, or why it cannot be one."""
    path = PurePosixPath(folder.strip())
    if not folder.strip() or path.is_absolute() or "\\" in folder:
        return "is no folder below the desired-state directory (write prod/eu; '.' is the directory itself)"
    if ".." in path.parts:
        return "leads out of the desired-state directory"
    if any(part.startswith((".", "_")) for part in path.parts):
        return "is never read: the loader skips names starting with '.' or '_'"
    return path.parts


class Assignment:
    """Which target each document of one load is for, and the variables that apply to it."""

    def __init__(self, root: Path, layers: VariableLayers, targets: TargetsFile | None) -> None:
        self.root = root
        self.declared = {t.name: t for t in targets.targets} if targets is not None else {}
        self.folders: Mapping[Folder, str] = targets.folders if targets is not None else {}
        self.with_file = targets is not None  # False: no targets.yaml, one target (DEFAULT_TARGET)
        # vars.yaml and the rest: targets.yaml's own, and those of the documents of no declared target
        self.base = layers.merged()
        self._variables = {name: layers.merged(t.vars) for name, t in self.declared.items()}
        self._keys = {name: variables_key(values) for name, values in self._variables.items()}
        base_key = variables_key(self.base)
        self._keys[DEFAULT_TARGET] = base_key
        # what the problems of a document naming no declared target depend on: the names declared
        self._unknown_key = hashlib.sha256(repr((base_key, sorted(self.declared))).encode()).hexdigest()
        self._by_folder: dict[Path, str | None] = {}
        self._keys_of_sets: dict[frozenset[str | None], str] = {}

    @property
    def known(self) -> Collection[str]:
        """The targets documents may be for."""
        return self.declared.keys() if self.with_file else (DEFAULT_TARGET,)

    def folder_target(self, path: Path) -> str | None:
        """The target of the file ``path`` by its folder: the deepest mapped folder holding it (or None)."""
        if not self.with_file:
            return DEFAULT_TARGET
        folder = path.parent
        if folder not in self._by_folder:
            parts = folder.relative_to(self.root).parts
            found = (self.folders.get(parts[:depth]) for depth in range(len(parts), -1, -1))
            self._by_folder[folder] = next((target for target in found if target is not None), None)
        return self._by_folder[folder]

    def variables_of(self, target: str | None) -> Mapping[str, VariableValue]:
        return self._variables.get(target or "", self.base)

    def variables_key(self, folder_target: str | None, overrides: Collection[str]) -> str:
        """What the checked documents of a file depend on beyond its text: the variables of each target its
        documents are for (``overrides``: its ``metadata.target`` values), and whether each is declared."""
        names = frozenset({folder_target, *overrides})
        if names == {DEFAULT_TARGET} and not self.with_file:
            return self._keys[DEFAULT_TARGET]  # as before targets
        if names not in self._keys_of_sets:
            keyed = sorted((name or "", self._key_of(name)) for name in names)
            self._keys_of_sets[names] = hashlib.sha256(repr(keyed).encode()).hexdigest()
        return self._keys_of_sets[names]

    def _key_of(self, name: str | None) -> str:
        if name in self.known:
            return self._keys[name or DEFAULT_TARGET]
        return self._unknown_key

    def document_target(
        self, document: YamlDocument, *, folder_target: str | None, file: str
    ) -> tuple[str | None, str | None, list[Problem]]:
        """(the document's target: None when it has none, its ``metadata.target`` as written if it is a
        string, its problems). A target not declared is still returned, so that the document is checked with
        the variables of no target, and reported once."""
        metadata = document.value.get("metadata") if isinstance(document.value, dict) else None
        written = metadata.get("target") if isinstance(metadata, dict) else None
        if not isinstance(written, str):  # the envelope reports any other type
            if folder_target is None and self.declared:  # none declared: targets.yaml's problem says why
                return None, None, [Problem(file, document.line, _UNMAPPED)]
            return folder_target, None, []
        line = document.lines.get("metadata.target", document.line)
        if "${" in written:
            message = (
                "metadata.target: write the target's name as it is, without variables: the target decides "
                "which variables apply"
            )
        elif written in self.known:
            return written, written, []
        elif not self.with_file:
            message = (
                f"metadata.target: '{echoed(written)}' names a target, but there is no {TARGETS_FILE_NAME}: "
                "every document is for the reconciler's own account and Region"
            )
        else:
            message = (
                f"metadata.target: no target '{echoed(written)}' is declared in {TARGETS_FILE_NAME} "
                f"(its targets: {', '.join(self.declared)})"
            )
        return written, written, [Problem(file, line, message)]


_UNMAPPED = (
    f"the document is in no folder that {TARGETS_FILE_NAME} maps to a target, and has no metadata.target: "
    f"with {TARGETS_FILE_NAME} there is no default target (map its folder under folders, or set "
    "metadata.target)"
)


def variables_key(variables: Mapping[str, VariableValue]) -> str:
    """A digest of a set of variables, for the keys of the loader's cache."""
    text = repr(sorted((name, type(value).__name__, value) for name, value in variables.items()))
    return hashlib.sha256(text.encode()).hexdigest()
