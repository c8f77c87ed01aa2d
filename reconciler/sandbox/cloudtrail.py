"""CloudTrail's EventBridge events for hand-made writes: what AWS sends the reconciler's events queue.

In AWS every write call to ECS, ELBv2 and Application Auto Scaling becomes a CloudTrail management event,
which EventBridge delivers as "AWS API Call via CloudTrail" to the rule that feeds the reconciler's queue.
moto records no CloudTrail and its ECS emits no events, so without this the sandbox's daemon would see a
change made with the AWS CLI only at its next periodic pass. ``CloudTrailEvents`` wraps the emulator's WSGI
app: after a successful write call listed in ``reconciler.events.pattern.WRITE_CALLS`` it puts the event
CloudTrail would have produced on the default event bus of the call's account and region, through moto's own
EventBridge backend, so that rules and SQS targets deliver it exactly as they deliver a PutEvents call.

Calls whose User-Agent carries ``USER_AGENT_MARK`` (the reconciler's own) are skipped here, where AWS would
send them and the daemon would skip them. ``requestParameters`` are the request's parameters with lowerCamel
keys, as CloudTrail writes them (map keys, such as tag keys, stay as sent).

It must run under the same lock as moto (``server.OneRequestAtATime``): moto's backends are not thread-safe.
Nothing here may break a request: a failure to build or put an event is logged to stderr and the response
goes out unchanged.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from moto.core.parse import QueryParser, RequestDict
from moto.core.utils import get_service_model
from moto.events.models import events_backends
from moto.events.utils import EventTemplateParser
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.wsgi import get_input_stream

from reconciler.events.pattern import CLOUDTRAIL, USER_AGENT_MARK, WRITE_CALLS

__all__ = [
    "CloudTrailEvents",
    "WriteCall",
    "deliver_account_in_envelopes",
    "identify_write_call",
    "put_service_call_event",
    "request_parameters",
]

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DEFAULT_REGION = "us-east-1"
EVENT_VERSION = "1.08"
# The JSON protocol's X-Amz-Target prefix → (EventBridge source, botocore service model); the query
# protocol's credential scope and API version → the same (botocore's metadata: targetPrefix, apiVersion).
JSON_TARGETS = {
    "AmazonEC2ContainerServiceV20141113": ("aws.ecs", "ecs"),
    "AnyScaleFrontendService": ("aws.application-autoscaling", "application-autoscaling"),
}
QUERY_SERVICES = {("elasticloadbalancing", "2015-12-01"): ("aws.elasticloadbalancing", "elbv2")}
_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/(?P<date>[^/]+)/(?P<region>[^/]+)/(?P<service>[^/]+)/"
)


@dataclass(frozen=True)
class WriteCall:
    """A write call that CloudTrail would record: its EventBridge source, service model and operation."""

    source: str
    model: str
    operation: str
    protocol: str  # "json" or "query"


def identify_write_call(headers: Mapping[str, str], form: Mapping[str, str] | None) -> WriteCall | None:
    """The write call a request makes, or None when it is not one of ``WRITE_CALLS``.

    ``headers`` are the request's headers with lower-case names; ``form`` is the query protocol's parameters,
    or None when they have not been read (the JSON protocol needs only the headers)."""
    target = headers.get("x-amz-target", "")
    if target:
        prefix, _, operation = target.rpartition(".")
        if prefix not in JSON_TARGETS:
            return None
        source, model = JSON_TARGETS[prefix]
        return _if_written(WriteCall(source, model, operation, "json"))
    scope = _credential_scope(headers)
    if scope is None or form is None:
        return None
    known = QUERY_SERVICES.get((scope[1], form.get("Version", "")))
    if known is None:
        return None
    return _if_written(WriteCall(known[0], known[1], form.get("Action", ""), "query"))


def _if_written(call: WriteCall) -> WriteCall | None:
    return call if call.operation in WRITE_CALLS[call.source][1] else None


def is_query_candidate(headers: Mapping[str, str]) -> bool:
    """Whether the request may be a query-protocol write we follow (its form must be read to tell)."""
    scope = _credential_scope(headers)
    return scope is not None and any(scope[1] == service for service, _ in QUERY_SERVICES)


def _credential_scope(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(region, service) of the request's SigV4 credential scope."""
    match = _CREDENTIAL.search(headers.get("authorization", ""))
    return (match["region"], match["service"]) if match else None


def request_parameters(call: WriteCall, body: bytes, form: Mapping[str, str]) -> dict[str, Any]:
    """The call's parameters as CloudTrail's ``requestParameters``: nested values, lowerCamel keys."""
    operation = get_service_model(call.model).operation_model(call.operation)
    shape = operation.input_shape
    if call.protocol == "json":
        parsed = json.loads(body) if body.strip() else {}
    else:
        request: RequestDict = {
            "method": "POST",
            "values": MultiDict(form),
            "headers": Headers(),
            "body": body,
            "url_path": "/",
            "url_params": {},
        }
        parsed = QueryParser(operation).parse(request)
    result = _lower_camel(shape, parsed)
    return result if isinstance(result, dict) else {}


def _lower_camel(shape: Any, value: Any) -> Any:
    """``value`` with the first letter of every structure member lower-cased; map keys stay as they are."""
    type_name = getattr(shape, "type_name", None)
    if isinstance(value, dict):
        if type_name == "map":
            return {key: _lower_camel(shape.value, item) for key, item in value.items()}
        members = _serialized_members(shape) if type_name == "structure" else {}
        return {_lower_first(key): _lower_camel(members.get(key), item) for key, item in value.items()}
    if isinstance(value, list):
        member = shape.member if type_name == "list" else None
        return [_lower_camel(member, item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=value.tzinfo or datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _serialized_members(shape: Any) -> dict[str, Any]:
    """A structure's members by the name they travel under (the member name, or its serialized name)."""
    members: dict[str, Any] = {}
    for name, member in shape.members.items():
        members[name] = member
        members.setdefault(member.serialization.get("name", name), member)
    return members


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def cloudtrail_detail(
    call: WriteCall,
    *,
    parameters: dict[str, Any],
    account: str,
    region: str,
    user_agent: str,
    source_ip: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The ``detail`` of an "AWS API Call via CloudTrail" event, as AWS delivers it."""
    detail: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"type": "IAMUser", "accountId": account},
        "eventTime": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": WRITE_CALLS[call.source][0],
        "eventName": call.operation,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": parameters,
        "responseElements": None,
        "requestID": request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    return {key: value for key, value in detail.items() if value is not None or key == "responseElements"}


def put_cloudtrail_event(detail: dict[str, Any], *, source: str, account: str, region: str) -> None:
    """Put the event on the default bus through moto's EventBridge backend, the path PutEvents takes."""
    entries = events_backends[account][region].put_events(
        [{"Source": source, "DetailType": CLOUDTRAIL, "Detail": json.dumps(detail)}]
    )
    failed = [entry for entry in entries if "ErrorCode" in entry]
    if failed:
        log.error("sandbox CloudTrail event for %s was refused: %s", detail.get("eventName"), failed)


def put_service_call_event(
    call: WriteCall,
    *,
    parameters: dict[str, Any],
    account: str,
    region: str,
    role_arn: str,
    invoked_by: str,
    session_name: str,
) -> None:
    """The event of a write that an AWS service makes for the account with a role the account gave it (ECS shifting
    a blue/green deployment's traffic with its infrastructure role). ``parameters`` are the request's, as sent.

    CloudTrail User Guide, "CloudTrail userIdentity element": the identity is the ``AssumedRole`` session of that
    role, and ``invokedBy`` names the AWS service that made the request; "CloudTrail record contents":
    ``sourceIPAddress`` and ``userAgent`` are the service's name (``ecs.amazonaws.com``) when a service makes the
    call. The role session's name is the sandbox's own (AWS's is not documented)."""
    shape = get_service_model(call.model).operation_model(call.operation).input_shape
    converted = _lower_camel(shape, parameters)
    detail = cloudtrail_detail(
        call,
        parameters=converted if isinstance(converted, dict) else {},
        account=account,
        region=region,
        user_agent=invoked_by,
        source_ip=invoked_by,
    )
    role_name = role_arn.rsplit("/", 1)[-1]
    detail["userIdentity"] = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}",
        "accountId": account,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": role_arn, "accountId": account, "userName": role_name},
            "attributes": {"mfaAuthenticated": "false"},
        },
        "invokedBy": invoked_by,
    }
    put_cloudtrail_event(detail, source=call.source, account=account, region=region)


# EventBridge's envelope, in AWS's order; moto's default template (no input transformer) leaves out "account"
AWS_ENVELOPE_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", "account": "<account>", '
    '"time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}'
)


def deliver_account_in_envelopes() -> None:
    """AWS's events carry the ``account`` they come from; moto's EventBridge drops it from what targets receive
    (its default input template lacks it, though its paths map has it). Idempotent; a moto that has it is left
    alone."""
    if "<account>" not in EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = AWS_ENVELOPE_TEMPLATE


class CloudTrailEvents:
    """WSGI middleware: a successful write call that is not the reconciler's puts its CloudTrail event on the
    default event bus. Run it under the lock that serialises moto."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        pending = self._before(environ)
        if pending is None:
            return list(self._app(environ, start_response))
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, *rest)

        response = list(self._app(environ, capture))
        try:
            if str(captured.get("status", "")).startswith("2"):
                self._emit(pending, environ, captured.get("headers", []))
        except Exception:
            log.exception("sandbox CloudTrail event not emitted for %s", pending.call.operation)
        return response

    def _before(self, environ: dict[str, Any]) -> _Pending | None:
        """The write call this request makes, its body read and put back; None when no event will follow."""
        try:
            headers = _headers(environ)
            if USER_AGENT_MARK in headers.get("user-agent", ""):
                return None
            call = identify_write_call(headers, None)
            if call is None and not is_query_candidate(headers):
                return None
            body = _read_body(environ)
            form: dict[str, str] = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            if call is None:
                if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                    form |= dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                call = identify_write_call(headers, form)
                if call is None:
                    return None
            return _Pending(call=call, headers=headers, body=body, form=form)
        except Exception:
            log.exception("sandbox CloudTrail: could not read the request")
            return None

    def _emit(
        self, pending: _Pending, environ: dict[str, Any], response_headers: list[tuple[str, str]]
    ) -> None:
        headers = pending.headers
        match = _CREDENTIAL.search(headers.get("authorization", ""))
        region = match["region"] if match else DEFAULT_REGION
        account = _account(headers, access_key=match["key"] if match else None)
        request_id = next(
            (
                value
                for name, value in response_headers
                if name.lower() in {"x-amzn-requestid", "x-amz-request-id"}
            ),
            None,
        )
        detail = cloudtrail_detail(
            pending.call,
            parameters=request_parameters(pending.call, pending.body, pending.form),
            account=account,
            region=region,
            user_agent=headers.get("user-agent", ""),
            source_ip=environ.get("REMOTE_ADDR"),
            request_id=request_id,
        )
        detail["userIdentity"] = user_identity(match["key"] if match else "", account)
        put_cloudtrail_event(detail, source=pending.call.source, account=account, region=region)


@dataclass(frozen=True)
class _Pending:
    call: WriteCall
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back so that moto reads it as if nobody had."""
    body: bytes = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def user_identity(access_key: str, account: str) -> dict[str, Any]:
    """The ``userIdentity`` of a call signed with ``access_key``, in the shapes of the CloudTrail User Guide's
    "CloudTrail userIdentity element": an IAM user's key gives ``IAMUser`` with its name and ARN; a key that STS's
    AssumeRole issued gives ``AssumedRole`` with the ``assumed-role/<role>/<session>`` ARN and the role as the
    session's issuer. A key the emulator did not issue (the sandbox's own test credentials) gives an ``IAMUser``
    of the account and nothing more: the emulator knows no user behind it."""
    unnamed: dict[str, Any] = {"type": "IAMUser", "accountId": account}
    key = iam_backends[account]["aws"].access_keys.get(access_key)
    if key is None:
        return unnamed
    if not key.role_arn:
        user = iam_backends[account]["aws"].users.get(key.user_name or "")
        return unnamed | {"principalId": user.id if user else "", "arn": f"arn:aws:iam::{account}:user/{key.user_name}",
                          "accessKeyId": access_key, "userName": key.user_name}  # fmt: skip
    assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    session = assumed.session_name if assumed else ""
    role_name = key.role_arn.rsplit("/", 1)[-1]
    return {
        "type": "AssumedRole",
        "principalId": assumed.user_id if assumed else "",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": access_key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": key.role_arn,
                "accountId": account,
                "userName": role_name,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }


def _account(headers: Mapping[str, str], *, access_key: str | None) -> str:
    """The account moto serves the request from (``BaseResponse.get_current_account``'s order)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "x-moto-account-id" in headers:
        return headers["x-moto-account-id"]
    return str(get_account_id_from(access_key or "AKIAEXAMPLE"))
