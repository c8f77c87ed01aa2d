"""What a pass of one target is made of, from the settings: its clients and its planner's options. All that
``plan`` and ``apply`` take from the options, apart from what only the daemon needs (``runtime/options.py``), so
that a one-shot command imports neither the daemon, its server, the Git source nor the notifier."""

from __future__ import annotations

from reconciler.live.budget import ApiBudget
from reconciler.live.clients import AwsClients
from reconciler.live.credentials import RoleToAssume
from reconciler.model.targets import Target
from reconciler.plan.planner import PlanOptions
from reconciler.settings import Settings


def plan_options(settings: Settings) -> PlanOptions:
    return PlanOptions(
        instance=settings.instance,
        max_deletions=settings.max_deletions,
        deployment_deadline=settings.deployment_deadline,
        allowed_clusters=frozenset(settings.allowed_clusters),
    )


def clients_of(settings: Settings, target: Target | None = None) -> AwsClients:
    """The clients of a target: its Region, and its role's credentials when it has a role, with an API budget of
    its own (AWS's rates are per account and Region). Without a target, or for the default one: the process's
    own credentials and ``--region``, as before targets existed. Not yet entered."""
    region = target.region if target is not None and target.region else settings.region
    return AwsClients(
        region=region,
        endpoint_url=settings.endpoint_url,
        replica=settings.replica_id,
        budget=ApiBudget(share=settings.api_budget) if settings.api_budget else None,
        read_timeout=settings.aws_read_timeout,
        instance=settings.instance,
        role=RoleToAssume.of(target, instance=settings.instance) if target is not None else None,
        # no role: the process's own credentials, which must then be of the target's account
        account=(target.name, target.account)
        if target is not None and target.role_arn is None and target.account is not None
        else None,
    )
