"""The process's aiobotocore clients: one per AWS service, adaptive retries, and every attempt counted.

Each HTTP attempt (retries included) is counted in ``reconciler_aws_api_calls_total`` by outcome, through
botocore's ``response-received`` event, so throttling that the retries absorb still shows. ``calls`` keeps the
same counts for this set of clients only, for tests and benchmarks.

A call that fails, once botocore's retries are over, raises the project's ``AwsError`` that its code means
(``NotFound``, ``Throttled``, ``Terminal``…: ``live/aws_errors.py``), with botocore's exception as its
``__cause__``: callers catch what they handle and never compare error codes.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import botocore.utils
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.retries.standard import ThrottledRetryableChecker

from reconciler.errors import Terminal
from reconciler.live.aws_errors import translated
from reconciler.live.budget import ApiBudget
from reconciler.live.credentials import RoleToAssume, assumed_credentials
from reconciler.metrics import AWS_API_CALLS, AWS_BUDGET_WAIT
from reconciler.model.ownership import USER_AGENT_MARK
from reconciler.shapes.models import data_loader

THROTTLING_CODES = frozenset(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
# The reconciler's own bookkeeping, not the estate: the lease table and the events queue. Write guards let them by.
BOOKKEEPING = frozenset({"dynamodb", "sqs"})
WriteGuard = Callable[[str, str], None]  # (service, operation) → None, or raises to stop the write
# What the writes of the current task are for (with --shards auto: the shard of the change being applied), set by
# the executor around each change and read by a write guard; tasks started inside a change inherit it.
WRITE_SCOPE: ContextVar[Hashable | None] = ContextVar("reconciler_write_scope", default=None)
# The write guard's check of the request this task is sending, run again once its connection is in hand: between
# botocore's before-send and the bytes leaving lie the wait for a pooled connection and a TCP connect, in which a
# process paused (or a lease lost) would otherwise send a write checked too early. None while sending a read.
SEND_CHECK: ContextVar[Callable[[], None] | None] = ContextVar("reconciler_send_check", default=None)
# Set while a botocore waiter waits: the calls it makes raise botocore's exceptions to it (``_Waiter``).
WAITING: ContextVar[bool] = ContextVar("reconciler_waiting", default=False)


class GuardedHTTPSession(AIOHTTPSession):  # type: ignore[misc]  # aiobotocore ships no type information
    """aiobotocore's HTTP session, whose connections run ``SEND_CHECK`` when handed to a request: the last moment
    before the request is written to the socket, with nothing awaited in between."""

    async def _create_connector(self, proxy_url: Any) -> Any:
        connector = await super()._create_connector(proxy_url)
        connect = connector.connect

        async def checked(*args: Any, **kwargs: Any) -> Any:
            connection = await connect(*args, **kwargs)
            if (check := SEND_CHECK.get()) is not None:
                try:
                    check()
                except BaseException:
                    connection.release()
                    raise
            return connection

        connector.connect = checked
        return connector


def parse_timestamp(value: Any) -> datetime.datetime:
    """botocore's timestamp parser, but epoch numbers (every JSON API's timestamps) become UTC datetimes
    directly: botocore's goes through the local time zone, whose DST lookup was a tenth of a steady-state pass's
    CPU at 1000 services. The same instant either way."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    parsed: datetime.datetime = botocore.utils.parse_timestamp(value)
    return parsed


class AwsClients:
    """Lazily created, long-lived clients, closed together. Use as ``async with AwsClients(...) as aws``."""

    def __init__(
        self,
        *,
        region: str | None,
        endpoint_url: str | None,
        max_attempts: int = 8,
        replica: str = "",
        write_guard: WriteGuard | None = None,
        budget: ApiBudget | None = None,
        read_timeout: float = 30.0,
        instance: str = "default",
        role: RoleToAssume | None = None,
        account: tuple[str, str] | None = None,
    ) -> None:
        """``role``: the clients act with this role's credentials, assumed with the process's own
        (``live/credentials.py``); None: with the process's own. ``account``: (target, account ID) when the
        process's own credentials must be of that account (a target without a role): checked once, before any
        other call (``check_credentials``)."""
        self._session: AioSession = get_session()
        self._session.register_component("data_loader", data_loader())  # the models validation loaded
        self._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_timestamp
        )
        # called before every attempt of a write (anything not Describe/List/Get): raises to stop it being sent
        self.write_guard = write_guard
        self.budget = budget  # client-side token buckets per AWS throttling group; None: no client-side limit
        # botocore reads AWS_DEFAULT_REGION; AWS_REGION is what ECS tasks and most tools set.
        self._region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self._endpoint_url = endpoint_url
        self._config = AioConfig(
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            connect_timeout=5,
            read_timeout=read_timeout,
            max_pool_connections=20,
            http_session_cls=GuardedHTTPSession,
            # names the instance (and replica) in AWS's (and the emulator's) request logs, CloudTrail's userAgent:
            # the events of our own writes are told apart by it (events/pattern.py)
            user_agent_extra=" ".join(
                [f"{USER_AGENT_MARK}{instance}"] + ([f"reconciler-replica/{replica}"] if replica else [])
            ),
        )
        self.role = role
        self._account = account  # None once the credentials are known to be of it
        if role is not None:  # every client of the session signs with them
            self._session._credentials = assumed_credentials(
                role, region=self._region, endpoint_url=endpoint_url, config=self._config
            )
        self._stack = AsyncExitStack()
        self._clients: dict[str, Any] = {}
        self.calls: Counter[tuple[str, str, str]] = Counter()  # (service, operation, outcome) → attempts

    @property
    def region(self) -> str | None:
        """The region the clients call (``--region``, or the AWS environment's); None: botocore's default."""
        return self._region

    async def __aenter__(self) -> AwsClients:
        await self._stack.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.__aexit__(exc_type, exc, tb)
        self._clients.clear()

    async def check_credentials(self) -> None:
        """With a role: its credentials, assumed now unless they are fresh. Raises the target's error when the
        role cannot be assumed, before any other call is made: one AssumeRole a pass for a target that fails,
        not one per call of its readers."""
        if self.role is not None:
            await self._session._credentials.get_frozen_credentials()
        if self._account is not None:
            target, wanted = self._account
            sts = await self.client("sts")
            actual = str((await sts.get_caller_identity()).get("Account", ""))
            if actual != wanted:  # a pass must not read, let alone write, another account as this target
                raise Terminal(
                    "sts",
                    "GetCallerIdentity",
                    "WrongAccount",
                    f"credentials of account {actual}",
                    text=f"target {target}: the reconciler's own credentials are of account {actual}, not "
                    f"{wanted}: give the target a roleArn, or run the reconciler in {wanted}",
                )
            self._account = None

    async def client(self, service: str) -> Any:
        """The client for ``service`` (botocore's name: ``ecs``, ``elbv2``, …), created on first use."""
        if service not in self._clients:
            creator = self._session.create_client(
                service, region_name=self._region, endpoint_url=self._endpoint_url, config=self._config
            )
            client = await self._stack.enter_async_context(creator)
            self._clients[service] = self._instrument(client)
        return self._clients[service]

    async def at_aws(self, service: str = "ecs") -> bool:
        """Whether ``service``'s client talks to AWS itself: its endpoint's host is under a DNS suffix of one of
        botocore's partitions (``amazonaws.com``, ``api.aws``, …), not an emulator's or a proxy's, however the
        endpoint was set (``--endpoint-url``, ``AWS_ENDPOINT_URL``, the AWS config file)."""
        host = urlsplit((await self.client(service)).meta.endpoint_url).hostname or ""
        suffixes = {
            suffix
            for partition in data_loader().load_data("partitions")["partitions"]
            for key in ("dnsSuffix", "dualStackDnsSuffix")
            if (suffix := partition.get("outputs", {}).get(key))
        }
        return any(host.endswith("." + suffix) for suffix in suffixes)

    @asynccontextmanager
    async def transient(self, service: str) -> AsyncIterator[Any]:
        """A client of a session of its own, closed (and its service model freed) on exit: for a service called
        once in a long while. EC2's model alone is about 15 MiB in memory; the subnet lookups need it once."""
        session = get_session()
        if self.role is not None:
            session._credentials = self._session._credentials  # the target's, already assumed or refreshed
        creator = session.create_client(
            service, region_name=self._region, endpoint_url=self._endpoint_url, config=self._config
        )
        async with creator as client:
            yield self._instrument(client)

    def _instrument(self, client: Any) -> Any:
        """Each attempt counted, paced by the budget and checked by the write guard; each call's failure raised
        as the project's error."""
        client.meta.events.register("response-received", self._count)
        client.meta.events.register("before-send", self._spend)
        client.meta.events.register("before-send", self._guard)  # after waiting: checked at the last moment
        translate_errors(client)
        return client

    async def _spend(self, event_name: str, **_: Any) -> None:
        if self.budget is not None:
            service, operation = event_name.split(".", 2)[1:]
            waited = await self.budget.spend(service, operation)
            if waited:
                AWS_BUDGET_WAIT.labels(service=service).inc(waited)

    def _guard(self, event_name: str, **_: Any) -> None:
        """Right before each attempt is sent (retries too), so a write never leaves without the guard's say; and
        again once the attempt's connection is in hand (``GuardedHTTPSession``)."""
        service, operation = event_name.split(".", 2)[1:]
        guard = self.write_guard
        if guard is not None and is_write(operation):
            guard(service, operation)
            SEND_CHECK.set(lambda: guard(service, operation))
        else:
            SEND_CHECK.set(None)

    def calls_by_operation(self) -> Counter[str]:
        """Attempts per ``service:Operation``, any outcome."""
        totals: Counter[str] = Counter()
        for (service, operation, _), count in self.calls.items():
            totals[f"{service}:{operation}"] += count
        return totals

    def write_calls(self) -> int:
        """Attempts of operations that change AWS (anything not Describe/List/Get)."""
        return sum(n for (_, op, _), n in self.calls.items() if is_write(op))

    def _count(self, event_name: str, parsed_response: Any = None, exception: Any = None, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        outcome = classify(parsed_response, exception)
        self.calls[(service, operation, outcome)] += 1
        AWS_API_CALLS.labels(service=service, operation=operation, outcome=outcome).inc()


def translate_errors(client: Any) -> None:
    """Make every call of ``client`` raise the project's errors instead of botocore's, which become their
    ``__cause__``. Wrapped is the method that each operation, paginator page and waiter poll goes through, around
    botocore's retries and events: the retries still decide on botocore's exceptions, and every attempt is still
    counted."""
    call = client._make_api_call
    service = client.meta.service_model.service_name  # botocore's name, as AwsClients.client takes it
    get_waiter = client.get_waiter

    async def translating(operation: str, params: Any) -> Any:
        try:
            return await call(operation, params)
        except ClientError as error:
            if WAITING.get():
                raise
            raise translated(service, operation, error) from error
        except (BotocoreConnectionError, HTTPClientError) as error:
            raise translated(service, operation, error) from error

    client._make_api_call = translating
    client.get_waiter = lambda name: _Waiter(get_waiter(name))


class _Waiter:
    """botocore's waiter. It reads AWS's error answers as answers (an acceptor may wait for an error code:
    DynamoDB's ``table_not_exists`` for ``ResourceNotFoundException``), which it takes from botocore's
    ``ClientError`` only: the calls it makes raise that to it. What it raises itself is botocore's ``WaiterError``,
    when it gives up."""

    def __init__(self, waiter: Any) -> None:
        self._waiter = waiter

    async def wait(self, **params: Any) -> Any:
        waiting = WAITING.set(True)
        try:
            return await self._waiter.wait(**params)
        finally:
            WAITING.reset(waiting)


def is_write(operation: str) -> bool:
    """Whether an operation changes AWS: anything but Describe…, List…, Get… and BatchGet…."""
    return not operation.startswith(("Describe", "List", "Get", "BatchGet"))


def classify(parsed_response: Any, exception: Any) -> str:
    """ok, throttled or error, for one attempt."""
    if exception is not None:
        return "error"
    error = (parsed_response or {}).get("Error") or {}
    code = error.get("Code")
    if code in THROTTLING_CODES:
        return "throttled"
    status = (parsed_response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
    return "error" if code or status >= 400 else "ok"
