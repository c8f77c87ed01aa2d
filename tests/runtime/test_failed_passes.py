"""A targeted pass that fails leaves what it was for to a full pass: at once, unless it failed in a way that
retrying will not fix (a ``TerminalError``: access denied, a request AWS refuses as sent), which would only fail
the full pass the same way after reading the whole estate; that one then comes when it is due."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from reconciler.errors import NotFound, Terminal, TerminalError, Throttled, Unreachable
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.runtime import schedule
from reconciler.runtime.daemon import Daemon, DaemonOptions

KEY = ResourceKey("Service", "web")
DESIRED = DesiredState(
    resources=(
        DesiredResource(kind="Service", name="web", spec={"cluster": "apps"}, file="web.yaml", line=1),
    ),
    revision="r1",
)


class _Source:
    description = "in memory"

    async def load_async(self) -> DesiredState:
        return DESIRED

    def request_refresh(self) -> bool:
        return False

    def status(self) -> dict[str, object]:
        return {}

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None:
        await stop.wait()


@dataclass
class _FailingEngine:
    """Scopes a targeted pass to what was touched; every pass fails with ``error``."""

    error: Exception
    writing: bool = False

    def scope_of(self, desired: DesiredState, touched: set[ResourceKey], **_: Any) -> frozenset[ResourceKey]:
        return frozenset(touched)

    async def reconcile(self, desired: DesiredState, **_: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "at_once"),
    [
        (Terminal("ecs", "DescribeServices", "AccessDeniedException", "not authorized"), False),
        (TerminalError("ListenerRule: Actions differ, and no update call can set them"), False),
        (Throttled("ecs", "DescribeServices", "ThrottlingException", "Rate exceeded"), True),
        (Unreachable("ecs", "DescribeServices", "ReadTimeoutError", "Read timeout"), True),
        (NotFound("ecs", "DescribeServices", "ClusterNotFoundException", "Cluster not found."), True),
        (RuntimeError("anything else"), True),
    ],
)
async def test_a_failed_targeted_pass_leaves_its_keys_to_a_full_pass(error: Exception, at_once: bool) -> None:
    daemon = Daemon(source=_Source(), engine=_FailingEngine(error), options=DaemonOptions())  # type: ignore[arg-type]
    # a full pass has handled this revision, and the next is an hour away
    daemon._schedule = replace(daemon._schedule, baseline=DESIRED, next_full=time.monotonic() + 3600)
    daemon.touch({KEY}, "an AWS event names it")
    daemon._schedule = schedule.new_round(daemon._schedule)  # the loop takes the wake-up

    assert await daemon.run_pass() is None  # failed: logged and counted, never raised
    after = daemon._schedule
    assert after.full is not None and after.touched == {KEY}  # a full pass owes it, keys and all
    assert after.woken is at_once
