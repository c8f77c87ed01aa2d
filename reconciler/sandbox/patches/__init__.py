"""Patches to moto's backends where moto 5.2 is unlike AWS in ways the reconciler would see.

Each patch is a small function with a docstring that says what AWS does and what moto did; the tests in
``tests/sandbox`` show each one over HTTP. They patch classes (not instances), so they survive
``POST /moto-api/reset``, which builds new backend instances. ``apply_patches()`` is idempotent.
"""

from __future__ import annotations

from reconciler.sandbox.patches import (
    autoscaling_policies,
    autoscaling_targets,
    cloud_map,
    codedeploy,
    ecs_blue_green,
    ecs_clusters,
    ecs_deployments,
    ecs_service_connect,
    ecs_services,
    ecs_task_definitions,
    elbv2_creation,
    elbv2_reads,
    elbv2_rules,
    events_disabled_rules,
    iam_managed_policies,
    sqs_long_poll,
    sts_assume_role,
    tags,
)

_applied: set[str] = set()


def apply_patches() -> None:
    """Apply every patch once per process; later calls do nothing."""
    for module in (
        ecs_clusters,
        ecs_service_connect,
        ecs_services,
        ecs_deployments,
        ecs_blue_green,
        ecs_task_definitions,
        iam_managed_policies,
        elbv2_creation,
        elbv2_rules,
        elbv2_reads,
        autoscaling_targets,
        autoscaling_policies,
        codedeploy,
        cloud_map,
        events_disabled_rules,
        sqs_long_poll,
        sts_assume_role,
        tags,
    ):
        if module.__name__ not in _applied:
            module.apply()
            _applied.add(module.__name__)
