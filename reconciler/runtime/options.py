"""Settings → the options objects of the planner and the daemon (shared by the CLI and the sandbox)."""

from __future__ import annotations

from reconciler.plan.planner import PlanOptions
from reconciler.runtime.daemon import DaemonOptions
from reconciler.settings import Settings


def plan_options(settings: Settings) -> PlanOptions:
    return PlanOptions(
        instance=settings.instance,
        max_deletions=settings.max_deletions,
        allowed_clusters=frozenset(settings.allowed_clusters),
    )


def daemon_options(settings: Settings) -> DaemonOptions:
    return DaemonOptions(
        interval=settings.interval,
        pass_timeout=settings.pass_timeout,
        debounce_ms=settings.debounce_ms,
        host=settings.listen_host,
        port=settings.listen_port,
    )
