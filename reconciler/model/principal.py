"""Who made a call: CloudTrail's ``userIdentity`` element resolved to a principal a person recognises.

The shapes are CloudTrail's, as its user guide documents them ("CloudTrail userIdentity element"): ``type`` is
``Root``, ``IAMUser``, ``AssumedRole``, ``FederatedUser``, ``AWSAccount``, ``AWSService``, ``IdentityCenterUser``,
``SAMLUser`` or ``WebIdentityUser``; an assumed role's ``arn`` ends in ``<role>/<session name>`` and its
``sessionContext.sessionIssuer`` names the role. Two more facts from AWS's guides decide the kind:

- A person signed in through IAM Identity Center (SSO) works in an account through a role that Identity Center
  made, named ``AWSReservedSSO_<permission set>_<id>``, with their user name as the session name; a request on an
  Identity Center user's behalf may instead carry ``onBehalfOf.userId`` (and type ``IdentityCenterUser``).
- A service-linked role (path ``/aws-service-role/``) is a service acting on its own, such as Application Auto
  Scaling changing a service's desired count.

Anything else, or a shape not seen before, is ``unknown`` with what the record does say: never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PrincipalType(StrEnum):
    USER = "user"
    ROLE = "role"
    SSO = "sso"
    SERVICE = "service"
    ROOT = "root"
    UNKNOWN = "unknown"


SSO_ROLE_PREFIX = "AWSReservedSSO_"
SERVICE_ROLE_PATH = ":role/aws-service-role/"


@dataclass(frozen=True, slots=True)
class Principal:
    type: PrincipalType
    name: str  # a user's name, ``<role>/<session>``, an SSO user, a service's host name, an account alias
    arn: str = ""
    account: str = ""

    def as_json(self) -> dict[str, str]:
        body = {"type": self.type.value, "name": self.name}
        if self.arn:
            body["arn"] = self.arn
        if self.account:
            body["account"] = self.account
        return body

    def __str__(self) -> str:
        if self.name:
            return f"{self.type.value} {self.name}"
        return f"{self.type.value} of account {self.account}" if self.account else self.type.value


UNKNOWN = Principal(PrincipalType.UNKNOWN, "")


def principal_of(identity: object) -> Principal:
    """The principal of a CloudTrail ``userIdentity`` element."""
    if not isinstance(identity, dict):
        return UNKNOWN
    kind = _text(identity, "type")
    if _sso_user(identity):  # on an Identity Center user's behalf, whatever the type says
        kind = "IdentityCenterUser"
    principal_type, name = _RESOLVE.get(kind, _unknown)(identity)
    return Principal(principal_type, name, _text(identity, "arn"), _text(identity, "accountId"))


Resolved = tuple[PrincipalType, str]


def _sso_user(identity: dict[str, Any]) -> str:
    on_behalf = identity.get("onBehalfOf")
    return _text(on_behalf, "userId") if isinstance(on_behalf, dict) else ""


def _user(identity: dict[str, Any]) -> Resolved:
    return PrincipalType.USER, _text(identity, "userName") or _tail(_text(identity, "arn"))


def _assumed_role(identity: dict[str, Any]) -> Resolved:
    """``arn:aws:sts::<account>:assumed-role/<role>/<session>``; the role also in the session's issuer."""
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
    arn = _text(identity, "arn")
    parts = arn.split(":", 5)[-1].split("/") if arn else []
    role = _text(issuer, "userName") or (parts[1] if len(parts) > 2 else "")
    session = parts[-1] if len(parts) > 2 else ""
    if role.startswith(SSO_ROLE_PREFIX):
        return PrincipalType.SSO, session or role
    if SERVICE_ROLE_PATH in _text(issuer, "arn"):
        return PrincipalType.SERVICE, _text(identity, "invokedBy") or role
    return PrincipalType.ROLE, (f"{role}/{session}" if role and session else role or session)


def _unknown(identity: dict[str, Any]) -> Resolved:
    return PrincipalType.UNKNOWN, _text(identity, "principalId") or _text(identity, "type")


_RESOLVE: dict[str, Callable[[dict[str, Any]], Resolved]] = {
    "IdentityCenterUser": lambda i: (PrincipalType.SSO, _sso_user(i) or _text(i, "userName")),
    "Root": lambda i: (PrincipalType.ROOT, _text(i, "userName") or "root"),  # userName: the account's alias
    "IAMUser": _user,
    "FederatedUser": _user,
    "SAMLUser": _user,
    "WebIdentityUser": _user,
    "AWSService": lambda i: (PrincipalType.SERVICE, _text(i, "invokedBy") or "an AWS service"),
    "AssumedRole": _assumed_role,
}


def _text(record: object, name: str) -> str:
    value = record.get(name) if isinstance(record, dict) else None
    return value if isinstance(value, str) else ""


def _tail(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else ""
