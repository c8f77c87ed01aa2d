"""What the fault-injection proxy does to each request: which AWS call it is, which fault it gets, and how an
injected error looks on the wire.

Nothing here does I/O; ``faults`` is the proxy that applies these decisions to real HTTP traffic.

A request is identified as ``service:Operation`` with botocore's client names (``ecs:DescribeServices``,
``elbv2:DescribeLoadBalancers``). The service comes from the SigV4 credential scope in the ``Authorization``
header (every protocol carries it), else from the ``X-Amz-Target`` prefix; the operation from ``X-Amz-Target``
(JSON protocol) or the ``Action`` parameter (query and EC2 protocols). Requests in other protocols (REST, CBOR)
or without a recognisable operation are *unparsed*: forwarded untouched, never faulted.

Rate limits (``aws_rates``) are kept per account and Region, as AWS keeps them. The Region is the credential
scope's. The account is not in the request: the proxy learns it from the STS answers that pass through it (an
AssumeRole answer names the new access key and the assumed role's ARN, with its account; GetCallerIdentity names
the caller's key's account), and a key it has not seen issued is the emulator's default account's, where the
emulator puts calls signed with such keys. So two sessions of one role share the account's buckets (a refreshed
session gets no fresh ones), two accounts never share one, and a key whose issue the proxy missed is charged to
the default account: throttled sooner than in AWS, never later.

Errors are shaped like AWS's, per protocol, with the codes and statuses botocore classifies as throttling
(``botocore/data/_retry.json``, ``botocore.retries.standard``): JSON services answer ``ThrottlingException``
with 400, query services ``Throttling`` with 400, EC2 ``RequestLimitExceeded`` with 503.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Annotated, Literal
from urllib.parse import parse_qs
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, Field, field_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Milliseconds = Annotated[float, Field(ge=0.0)]
LatencyMs = Milliseconds | tuple[Milliseconds, Milliseconds]
Protocol = Literal["json", "query", "ec2"]

# Operations whose name starts with one of these only read; everything else is a write (the write log).
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Query", "Scan", "TransactGet", "Discover")


class Fault(StrEnum):
    """What happened to a request instead of (or after) being forwarded; the outcome in log and counts."""

    THROTTLE = "throttle"  # injected at the configured rate
    RATE_LIMIT = "rate_limit"  # the AWS token bucket of the call's group was empty
    SERVER_ERROR = "server_error"
    RESET = "reset"
    READ_TIMEOUT = "read_timeout"
    TRUNCATE = "truncate"


# ----------------------------------------------------------------------------------------------------------
# Rules


class FaultRates(BaseModel):
    """Probabilities of each fault (one draw per request decides between them) and added latency."""

    model_config = ConfigDict(extra="forbid")

    throttle: Probability = 0.0
    server_error: Probability = 0.0
    reset: Probability = 0.0
    read_timeout: Probability = 0.0
    truncate: Probability = 0.0
    latency_ms: LatencyMs = 0.0  # added to every request: a fixed delay or a uniform [low, high] range


class OperationFaults(BaseModel):
    """Rates for the calls matching ``match`` (a glob on ``service:Operation``); None inherits the global rate."""

    model_config = ConfigDict(extra="forbid")

    match: str
    throttle: Probability | None = None
    server_error: Probability | None = None
    reset: Probability | None = None
    read_timeout: Probability | None = None
    truncate: Probability | None = None
    latency_ms: LatencyMs | None = None


class RateGroup(BaseModel):
    """One AWS throttling bucket: the calls it covers (globs), its burst (bucket size) and sustained rate/s."""

    model_config = ConfigDict(extra="forbid")

    name: str
    match: list[str]
    burst: Annotated[float, Field(gt=0)]
    rate: Annotated[float, Field(gt=0)]


DEFAULT_ACCOUNT = "123456789012"


def _group(name: str, match: list[str], burst: float, rate: float) -> RateGroup:
    return RateGroup(name=name, match=match, burst=burst, rate=rate)


# AWS's buckets, each kept per account and per Region: "Request throttling for the Amazon ECS API" (Amazon ECS
# Developer Guide), "Request throttling for the ELB API" (Elastic Load Balancing User Guide; ELB API version 2 has
# buckets of its own, and its Describe* calls share one), "Request throttling for the Amazon EC2 API" (Amazon EC2
# API Reference). The first group that matches a call is its bucket; calls in no group are never rate-limited.
# Application Auto Scaling, Cloud Map, CodeDeploy and STS publish no request rates (Application Auto Scaling's
# quotas page lists resource quotas only): their calls pass unlimited, which may be kinder than AWS; unknown.
AWS_RATE_GROUPS: tuple[RateGroup, ...] = (
    _group("ecs-cluster-read", ["ecs:DescribeClusters", "ecs:ListClusters"], 50, 20),
    _group(
        "ecs-service-read",
        ["ecs:DescribeServices", "ecs:ListServices", "ecs:ListServicesByNamespace"],
        100,
        20,
    ),
    _group("ecs-service-modify", ["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService"], 50, 5),
    _group(
        "ecs-task-definition-read",
        ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListTaskDefinitionFamilies"],
        50,
        20,
    ),
    _group(
        "ecs-task-definition-modify",
        ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"],
        20,
        1,
    ),
    _group("elbv2-describe", ["elbv2:Describe*"], 40, 10),  # one account-wide bucket for every Describe*
    _group("elbv2-mutate", ["elbv2:*"], 20, 3),
    _group("ec2-describe", ["ec2:Describe*"], 100, 20),  # EC2's non-mutating actions
    _group("ec2-mutate", ["ec2:*"], 200, 5),
)


class FaultRules(FaultRates):
    """Everything the proxy does to traffic. The global rates apply to every parsed call; the first entry of
    ``operations`` that matches a call overrides the rates it sets. With ``aws_rates`` each call also takes a
    token from its AWS bucket (``rate_groups``, AWS's by default), burst and rate multiplied by
    ``rate_scale``, and an empty bucket answers with the throttling error, as AWS does."""

    seed: int | None = None
    operations: list[OperationFaults] = []
    aws_rates: bool = False
    rate_scale: Annotated[float, Field(gt=0)] = 1.0
    rate_groups: list[RateGroup] = list(AWS_RATE_GROUPS)
    # The account of an access key the proxy has not seen issued: the emulator's default (moto's), which is the
    # account the emulator acts in for such keys.
    default_account: Annotated[str, Field(pattern=r"^\d{12}$")] = DEFAULT_ACCOUNT
    server_error_statuses: list[Literal[500, 502, 503, 504]] = [500, 503]
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 65.0  # how long a read_timeout holds the request
    read_timeout_forwards: bool = True  # the call reaches the emulator; only its answer is lost
    reset_forwards: bool = False  # reset after the emulator answered (the write happened) instead of before
    truncate_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5  # share of the body sent before closing

    @field_validator("server_error_statuses")
    @classmethod
    def _some_status(cls, statuses: list[int]) -> list[int]:
        if not statuses:
            raise ValueError("at least one status")
        return statuses


# ----------------------------------------------------------------------------------------------------------
# Which call a request is


@dataclass(frozen=True)
class AwsCall:
    service: str  # botocore's client name
    operation: str
    protocol: Protocol
    content_type: str  # of the request; a JSON error answers with the same one
    access_key: str = ""  # the signature's access key ID, "" for an unsigned request
    region: str = ""  # the signature's credential scope's Region, "" for an unsigned request

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def is_write(self) -> bool:
        return is_write(self.operation)


def is_write(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# X-Amz-Target prefixes of the JSON services, for requests that carry no signature.
TARGET_PREFIXES = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AnyScaleFrontendService": "application-autoscaling",
    "Route53AutoNaming_v20170314": "servicediscovery",
    "CodeDeploy_20141006": "codedeploy",
    "DynamoDB_20120810": "dynamodb",
    "Logs_20140328": "logs",
    "AmazonSSM": "ssm",
    "AWSEvents": "events",
    "secretsmanager": "secretsmanager",
}
# Signing names that differ from botocore's client names.
SIGNING_NAMES = {"monitoring": "cloudwatch", "email": "ses", "states": "stepfunctions"}
ELBV2_API_VERSION = "2015-12-01"


def identify(*, method: str, query_string: str, headers: Mapping[str, str], body: bytes) -> AwsCall | None:
    """The AWS call a request makes, or None when it is not one this proxy understands (``headers`` must be
    case-insensitive, as aiohttp's are)."""
    content_type = headers.get("Content-Type", "")
    scope = _CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    access_key, region, signing_name = scope.groups() if scope else ("", "", None)
    target = headers.get("X-Amz-Target")
    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        service = signing_name or TARGET_PREFIXES.get(prefix)
        if service is None or not operation:
            return None
        return AwsCall(_client_name(service, None), operation, "json", content_type, access_key, region)
    if signing_name is None:
        return None
    parameters = parse_qs(query_string)
    if content_type.startswith("application/x-www-form-urlencoded") and method == "POST":
        parameters |= parse_qs(body.decode("utf-8", errors="replace"))
    action = (parameters.get("Action") or [""])[0]
    if not action:
        return None
    version = parameters["Version"][0] if parameters.get("Version") else None
    service = _client_name(signing_name, version)
    protocol: Protocol = "ec2" if service == "ec2" else "query"
    return AwsCall(service, action, protocol, content_type, access_key, region)


def _client_name(signing_name: str, version: str | None) -> str:
    if signing_name == "elasticloadbalancing":
        return "elbv2" if version in (None, ELBV2_API_VERSION) else "elb"
    return SIGNING_NAMES.get(signing_name, signing_name)


# ----------------------------------------------------------------------------------------------------------
# Whose account a call is in


# STS calls that issue credentials, and the element of their answer whose ARN names the new key's account.
_ISSUING = {
    "AssumeRole": "AssumedRoleUser",
    "AssumeRoleWithWebIdentity": "AssumedRoleUser",
    "AssumeRoleWithSAML": "AssumedRoleUser",
    "GetFederationToken": "FederatedUser",
    "GetSessionToken": "",  # the caller's own account
}
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:(?:sts|iam)::(\d{12}):")


def issued_keys(call: AwsCall, body: bytes) -> dict[str, str | None]:
    """What a successful STS answer says about accounts: access key ID → account ID (None: the account of the
    key that signed the call). AssumeRole and its kin name the new key and the ARN it acts as; GetCallerIdentity
    names the account of the key that asked. Anything else, or an answer that does not parse, says nothing."""
    if call.service != "sts":
        return {}
    fields = _answer_fields(body)
    if call.operation == "GetCallerIdentity":
        account = fields.get(("", "Account"))
        return {call.access_key: account} if call.access_key and account else {}
    if call.operation not in _ISSUING:
        return {}
    access_key = fields.get(("Credentials", "AccessKeyId"))
    if not access_key:
        return {}
    holder = _ISSUING[call.operation]
    if not holder:
        return {access_key: None}
    found = _ARN_ACCOUNT.match(fields.get((holder, "Arn"), ""))
    return {access_key: found.group(1)} if found else {}


def _answer_fields(body: bytes) -> dict[tuple[str, str], str]:
    """(parent, name) → text of the leaves of an STS answer (the query protocol's XML, STS's only protocol);
    ``("", name)`` for a field of the result itself."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    fields: dict[tuple[str, str], str] = {}
    for result in root:
        if _local(result.tag).endswith("Result"):
            for element in result:
                if len(element):
                    fields |= {(_local(element.tag), _local(leaf.tag)): leaf.text or "" for leaf in element}
                else:
                    fields[("", _local(element.tag))] = element.text or ""
    return fields


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# ----------------------------------------------------------------------------------------------------------
# What each request gets


@dataclass(frozen=True)
class Decision:
    latency: float  # seconds to wait before anything else
    fault: Fault | None  # None: forward untouched
    status: int | None = None  # of a server_error


class TokenBucket:
    def __init__(self, *, burst: float, rate: float, now: float) -> None:
        self.capacity = max(burst, 1.0)
        self.rate = rate
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


_RANDOM_FAULTS = (Fault.THROTTLE, Fault.SERVER_ERROR, Fault.RESET, Fault.READ_TIMEOUT, Fault.TRUNCATE)


class FaultEngine:
    """Applies ``FaultRules`` to calls: seeded randomness, per-call rates resolved once, AWS token buckets."""

    def __init__(
        self,
        rules: FaultRules,
        *,
        clock: Callable[[], float] = time.monotonic,
        accounts: Mapping[str, str] | None = None,
    ) -> None:
        self.rules = rules
        self._clock = clock
        self._random = random.Random(rules.seed)
        self._rates: dict[str, FaultRates] = {}
        self._groups: dict[str, str | None] = {}
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        # access key ID → account ID, learned from STS answers (``learn``); kept when the rules change
        self.accounts: dict[str, str] = dict(accounts or {})

    def decide(self, call: AwsCall) -> Decision:
        rates = self.rates_for(call.key)
        latency = self._latency(rates.latency_ms)
        if self.rules.aws_rates and not self._take_token(call):
            return Decision(latency, Fault.RATE_LIMIT)
        draw = self._random.random()
        for fault in _RANDOM_FAULTS:
            draw -= getattr(rates, fault.value)
            if draw < 0:
                status = self._random.choice(self.rules.server_error_statuses)
                return Decision(latency, fault, status if fault is Fault.SERVER_ERROR else None)
        return Decision(latency, None)

    def rates_for(self, key: str) -> FaultRates:
        """The global rates with those of the first matching operation rule laid over them."""
        if key not in self._rates:
            rates = FaultRates(**self.rules.model_dump(include=set(FaultRates.model_fields)))
            for rule in self.rules.operations:
                if fnmatchcase(key, rule.match):
                    overrides = rule.model_dump(exclude={"match"}, exclude_none=True)
                    rates = rates.model_copy(update=overrides)
                    break
            self._rates[key] = rates
        return self._rates[key]

    def group_of(self, key: str) -> str | None:
        if key not in self._groups:
            self._groups[key] = next(
                (g.name for g in self.rules.rate_groups if any(fnmatchcase(key, m) for m in g.match)), None
            )
        return self._groups[key]

    def account_of(self, access_key: str) -> str:
        """The account a key acts in: learned from STS, else the emulator's default account."""
        return self.accounts.get(access_key, self.rules.default_account)

    def learn(self, call: AwsCall, body: bytes) -> None:
        """Take note of the accounts a successful answer to ``call`` names (``issued_keys``)."""
        for access_key, account in issued_keys(call, body).items():
            self.accounts[access_key] = account or self.account_of(call.access_key)

    def _take_token(self, call: AwsCall) -> bool:
        name = self.group_of(call.key)
        if name is None:
            return True
        now = self._clock()
        key = (self.account_of(call.access_key), call.region, name)
        bucket = self._buckets.get(key)
        if bucket is None:
            group = next(g for g in self.rules.rate_groups if g.name == name)
            scale = self.rules.rate_scale
            bucket = self._buckets[key] = TokenBucket(
                burst=group.burst * scale, rate=group.rate * scale, now=now
            )
        return bucket.take(now)

    def _latency(self, latency_ms: float | tuple[float, float]) -> float:
        if isinstance(latency_ms, tuple):
            low, high = latency_ms
            return self._random.uniform(low, high) / 1000.0
        return latency_ms / 1000.0


# ----------------------------------------------------------------------------------------------------------
# How an injected error looks


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


_JSON_CODES = {"throttle": "ThrottlingException", 500: "InternalFailure", 503: "ServiceUnavailable"}
_QUERY_CODES = {"throttle": "Throttling", 500: "InternalFailure", 503: "ServiceUnavailable"}
_EC2_CODES = {"throttle": "RequestLimitExceeded", 500: "InternalError", 503: "Unavailable"}
_MESSAGES = {"throttle": "Rate exceeded", 500: "We encountered an internal error. Please try again."}
_DEFAULT_MESSAGE = "Service is unavailable. Please try again."


def error_answer(call: AwsCall, *, status: int | None = None) -> ErrorAnswer:
    """AWS's throttling error for ``call`` (``status`` None), or its server error with ``status`` (5xx)."""
    key: str | int = "throttle" if status is None else status
    message = _MESSAGES.get(key, _DEFAULT_MESSAGE)
    request_id = str(uuid.uuid4())
    if call.protocol == "json":
        code = _JSON_CODES.get(key, "ServiceUnavailable")
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = call.content_type or "application/x-amz-json-1.1"
        headers = {"Content-Type": content_type, "x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
        return ErrorAnswer(400 if status is None else status, headers, body)
    if call.protocol == "ec2":
        code = _EC2_CODES.get(key, "Unavailable")
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return ErrorAnswer(503 if status is None else status, {"Content-Type": "text/xml"}, text.encode())
    code = _QUERY_CODES.get(key, "ServiceUnavailable")
    kind = "Sender" if status is None else "Receiver"
    text = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    return ErrorAnswer(400 if status is None else status, headers, text.encode())
