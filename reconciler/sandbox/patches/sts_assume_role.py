"""AssumeRole refuses a role that does not exist, and one whose trust policy wants another external ID.

AWS (the AWS STS API Reference, ``AssumeRole``, and the IAM User Guide, "Access to AWS accounts owned by third
parties", on ``sts:ExternalId``): the role must exist, and its trust policy must allow the caller; a trust policy
whose ``Allow`` statement has the condition ``StringEquals`` (or ``StringLike``) on ``sts:ExternalId`` allows the
call only when the request's ``ExternalId`` matches. Otherwise the answer is ``AccessDenied`` (HTTP 403): ``User:
<caller> is not authorized to perform: sts:AssumeRole on resource: <role>``. moto 5.2 lets any ARN be assumed,
existing or not, whatever its trust policy, which made a wrong external ID or a missing role look like a working
target. Patched: ``STSBackend.assume_role`` looks the role up in its account's IAM and checks the external ID
conditions of its trust policy's statements that allow ``sts:AssumeRole`` before moto's own code runs. Who the
principal is, and other condition keys, are not checked: moto's IAM does not enforce policies elsewhere either.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from moto.core.exceptions import AccessDeniedError
from moto.iam.models import iam_backends
from moto.sts.models import STSBackend

from reconciler.sandbox.patches._wrapping import Method, replace_method

_ROLE_ARN = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _external_id_allows(statement: dict[str, Any], external_id: str | None) -> bool:
    """Whether the statement's ``sts:ExternalId`` conditions (StringEquals, StringLike) hold for ``external_id``;
    True when it has none."""
    conditions = statement.get("Condition") or {}
    for operator, keys in conditions.items():
        for key, wanted in (keys or {}).items():
            if key.lower() != "sts:externalid":
                continue
            if external_id is None:
                return False
            values = [str(v) for v in _as_list(wanted)]
            if operator == "StringEquals" and external_id not in values:
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(external_id, v) for v in values):
                return False
    return True


def _allows(document: str, external_id: str | None) -> bool:
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    for statement in _as_list((policy or {}).get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _as_list(statement.get("Action") or [])]
        if not any(fnmatch.fnmatchcase("sts:AssumeRole", a) for a in actions):
            continue
        if _external_id_allows(statement, external_id):
            return True
    return False


def apply() -> None:
    def make(original: Method) -> Method:
        def assume_role(self: STSBackend, *args: Any, **kwargs: Any) -> Any:
            role_arn = str(kwargs.get("role_arn", ""))
            external_id = kwargs.get("external_id")
            caller = f"arn:aws:sts::{self.account_id}:caller"
            refused = AccessDeniedError(caller, f"sts:AssumeRole on resource: {role_arn}")
            match = _ROLE_ARN.match(role_arn)
            if match is None:
                raise refused
            partition, account, name = match.groups()
            roles = iam_backends[account][partition].roles.values()
            role = next((r for r in roles if r.name == name), None)
            if role is None or not _allows(role.assume_role_policy_document, external_id):
                raise refused
            return original(self, *args, **kwargs)

        return assume_role

    replace_method(STSBackend, "assume_role", make)
