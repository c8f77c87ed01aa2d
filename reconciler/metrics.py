"""Every Prometheus metric of the reconciler, defined once. Names and labels are a contract: alerts use them.

Metrics live in their own registry (not the process-global default) so that tests and the sandbox can run
several reconcilers in one process without colliding.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from reconciler.model.principal import PrincipalType

disable_created_metrics()  # type: ignore[no-untyped-call] # the *_created series double the output and no alert uses them

REGISTRY = CollectorRegistry(auto_describe=True)

CYCLES = Counter(
    "reconciler_cycles", "Reconcile passes, by result (success, error).", ["result"], registry=REGISTRY
)
CYCLE_DURATION = Histogram(
    "reconciler_cycle_duration_seconds",
    "Wall time of one reconcile pass.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
LAST_SUCCESS = Gauge(
    "reconciler_last_success_timestamp_seconds",
    "Unix time of the last successful full pass (the whole estate checked).",
    registry=REGISTRY,
)
TARGETED_PASSES = Counter(
    "reconciler_targeted_passes",
    "Passes over only the resources a change touched (and their references), by what touched them: desired "
    "(a commit or a changed directory), event (an AWS event), or both. Also counted in reconciler_cycles_total.",
    ["trigger"],
    registry=REGISTRY,
)
EVENTS_RECEIVED = Counter(
    "reconciler_events_received",
    "AWS events read from --events-queue-url, by result: matched (named a declared resource: reconciled at "
    "once), unmatched, own (of this instance's writes), ignored (not a write that can drift), invalid, and "
    "error (receiving failed).",
    ["result"],
    registry=REGISTRY,
)
RESOURCE_DRIFTED = Gauge(
    "reconciler_resource_drifted",
    "1 while a resource differs from Git because AWS was changed (cause drift) and is not yet corrected.",
    ["kind", "name", "target"],
    registry=REGISTRY,
)
DRIFT_DETECTED = Counter(
    "reconciler_drift_detected",
    "Drift found: counted once each time a resource goes from in sync to drifted.",
    ["kind", "target"],
    registry=REGISTRY,
)
DRIFT_CORRECTED = Counter(
    "reconciler_drift_corrected",
    "Drifted resources brought back to the desired state.",
    ["kind", "target"],
    registry=REGISTRY,
)
CHANGES_APPLIED = Counter(
    "reconciler_changes_applied",
    "Changes written to AWS, by kind, action and cause (drift tells corrections from deploys).",
    ["kind", "action", "cause", "target"],
    registry=REGISTRY,
)
APPLY_ERRORS = Counter(
    "reconciler_apply_errors", "Changes that failed to apply.", ["kind", "action"], registry=REGISTRY
)
DESIRED_STATE_VALID = Gauge(
    "reconciler_desired_state_valid",
    "1 when the newest desired state loaded and validated, else 0.",
    registry=REGISTRY,
)
DESIRED_REVISION = Gauge(
    "reconciler_desired_revision_info",
    "1 for the revision of the desired state in use.",
    ["revision"],
    registry=REGISTRY,
)
AWS_API_CALLS = Counter(
    "reconciler_aws_api_calls",
    "AWS API requests (each attempt), by service, operation and outcome (ok, throttled, error).",
    ["service", "operation", "outcome"],
    registry=REGISTRY,
)
AWS_BUDGET_WAIT = Counter(
    "reconciler_aws_budget_wait_seconds",
    "Seconds AWS calls waited for the client-side API budget (token buckets at a share of AWS's rates).",
    ["service"],
    registry=REGISTRY,
)
SHARDS_HELD = Gauge(
    "reconciler_shards_held", "Shards this replica holds the lease of (--shards auto).", registry=REGISTRY
)
LEADER = Gauge(
    "reconciler_leader", "1 while this process holds the lease and may write to AWS.", registry=REGISTRY
)
RESOURCE_HEALTH = Gauge(
    "reconciler_resource_health",
    "1 on a resource's current health (Healthy, Progressing, Degraded, Suspended, Missing, Unknown), 0 on the others"
    " it has had: a resource has series from its first health other than Healthy.",
    ["kind", "name", "health", "target"],
    registry=REGISTRY,
)
RESOURCE_FIGHTING = Gauge(
    "reconciler_resource_fighting",
    "1 when a resource drifted again within 3 passes of a correction: another actor is changing it.",
    ["kind", "name", "target"],
    registry=REGISTRY,
)
DRIFT_BY_PRINCIPAL = Counter(
    "reconciler_drift_by_principal",
    "Drift episodes by the kind of principal an AWS event says made them (unknown: found by a pass, no event).",
    ["principal_type"],
    registry=REGISTRY,
)
for _principal_type in PrincipalType:  # a series each from the start: rate() sees the first episode
    DRIFT_BY_PRINCIPAL.labels(principal_type=_principal_type.value)

# Beyond the core set: the health of the Git source, so that a team can alert on a repository the reconciler
# cannot read.
SOURCE_ERRORS = Counter(
    "reconciler_source_errors",
    "Fetches or checkouts of the desired-state repository that failed (the last good revision stays in use).",
    registry=REGISTRY,
)
SOURCE_LAST_FETCH = Gauge(
    "reconciler_source_last_fetch_timestamp_seconds",
    "When the desired-state repository was last fetched and checked out successfully.",
    registry=REGISTRY,
)
DEPLOYMENTS_STARTED = Counter(
    "reconciler_codedeploy_deployments_started",
    "CodeDeploy deployments started for CODE_DEPLOY services, by service.",
    ["name"],
    registry=REGISTRY,
)
DEPLOYMENT_FAILED = Gauge(
    "reconciler_deployment_failed",
    "1 while the newest deployment of a service's desired revision failed or was rolled back (ECS's circuit breaker,"
    " with or without rollback; an ECS rollback; CodeDeploy) and is not retried until Git changes.",
    ["kind", "name", "target"],
    registry=REGISTRY,
)
DEPLOYMENT_OVERDUE = Gauge(
    "reconciler_deployment_overdue",
    "1 while a service's ECS deployment has been rolling out for longer than --deployment-deadline: drift of the"
    " service is then corrected without waiting for it.",
    ["kind", "name", "target"],
    registry=REGISTRY,
)
CODEDEPLOY_DEPLOYMENT_FAILED = Gauge(
    "reconciler_codedeploy_deployment_failed",
    "Kept for existing alerts: reconciler_deployment_failed by name, for every service (CODE_DEPLOY or not).",
    ["name", "target"],
    registry=REGISTRY,
)


def set_deployment_failed(kind: str, name: str, failed: bool, *, target: str) -> None:
    DEPLOYMENT_FAILED.labels(kind=kind, name=name, target=target).set(int(failed))
    CODEDEPLOY_DEPLOYMENT_FAILED.labels(name=name, target=target).set(int(failed))


DELETIONS_BLOCKED = Gauge(
    "reconciler_deletions_blocked",
    "Deletions the last pass held because the revision would delete more than --max-deletions (0 otherwise).",
    registry=REGISTRY,
)


def set_revision(revision: str) -> None:
    """Point ``reconciler_desired_revision_info`` at ``revision`` only."""
    DESIRED_REVISION.clear()
    DESIRED_REVISION.labels(revision=revision).set(1)


NOTIFICATIONS = Counter(
    "reconciler_notifications",
    "Notifications and GitHub commit statuses, by sink (webhook, slack, github), event (drift_detected, …, "
    "digest, commit_status) and outcome: sent, retried (a try failed and another follows), failed (given up "
    "after the last try), held (over the sink's rate limit: told in the next digest), dropped (the sink's queue "
    "was full).",
    ["sink", "event", "outcome"],
    registry=REGISTRY,
)
