"""Application Auto Scaling from Git: scalable targets, policies and scheduled actions converge, their
drift is reported and corrected, and a scaled service's desiredCount belongs to the scaler."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.live.clients import AwsClients
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.fault_rules import FaultRules, OperationFaults
from reconciler.sandbox.faults import FaultProxy
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate

TARGET = {
    "ServiceNamespace": "ecs",
    "ResourceId": "service/myapp-prod/frontapp",
    "ScalableDimension": "ecs:service:DesiredCount",
}


@pytest.fixture
def scaled(estate: Estate, cli: CLI) -> Estate:
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    return estate


def _plan(cli: CLI, estate: Estate) -> list[dict[str, Any]]:
    result = cli("plan", *estate.args(), "--output", "json")
    assert result.code in (0, 2), result.err
    changes: list[dict[str, Any]] = result.json()["changes"]
    return changes


def test_scaling_converges_and_stays_converged(scaled: Estate, cli: CLI, boto: BotoFactory) -> None:
    for _ in range(10):
        assert _plan(cli, scaled) == []
    aas = boto("application-autoscaling")
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 4)
    assert [
        p["PolicyName"] for p in aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    ] == ["frontapp-cpu60"]


def in_ecs_tag_alphabet(text: str) -> bool:
    """ECS API Reference, Tag: keys and values match ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$``."""
    return all(unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-@" for ch in text)


def test_scaling_facts_are_written_in_the_ecs_tag_alphabet(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """The facts of the scaling resources are tags of the scaled ECS service, which AWS (and the sandbox) refuses
    outside its tag alphabet: the apply succeeds, every tag fits, each fact is read back and nothing is planned."""
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["frontapp"], include=["TAGS"])
    tags = {t["key"]: t["value"] for t in service["services"][0]["tags"]}
    facts = {key: value for key, value in tags.items() if key.startswith("reconciler:aas:")}
    assert len(facts) == 4, tags  # the target, its policy and its two scheduled actions
    assert [item for item in tags.items() if not all(map(in_ecs_tag_alphabet, item))] == []
    assert sorted(value.rsplit("/", 1)[-1] for value in facts.values()) == [
        "frontapp", "frontapp-cpu60", "frontapp-morning-scale-out", "frontapp-night-scale-in",
    ]  # fmt: skip
    assert _plan(cli, estate) == []


def test_the_scaler_owns_desired_count_inside_its_bounds(scaled: Estate, cli: CLI, boto: BotoFactory) -> None:
    boto("ecs").update_service(
        cluster="myapp-prod", service="frontapp", desiredCount=4
    )  # the scaler scaled out
    assert _plan(cli, scaled) == []
    scaled.edit(
        "services/frontapp.yaml", "desiredCount: 2", "desiredCount: 3"
    )  # only the count it is created with
    assert _plan(cli, scaled) == []


def test_the_plan_says_who_owns_what_it_does_not_correct(scaled: Estate, cli: CLI, boto: BotoFactory) -> None:
    boto("ecs").update_service(cluster="myapp-prod", service="frontapp", desiredCount=4)
    plan = cli("plan", *scaled.args(), "--output", "json").json()
    assert plan["changes"] == []
    assert {
        "kind": "Service",
        "name": "frontapp",
        "path": "desiredCount",
        "owner": "Application Auto Scaling",
    } in (plan["owned"])
    text = cli("plan", *scaled.args()).out
    assert "resources in sync are left to other owners" in text


def test_a_field_the_document_ignores_is_left_as_someone_set_it(
    scaled: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """Argo CD's ignoreDifferences: a grace period someone tunes by hand in the console stays, and the plan says
    why; a difference elsewhere in the service is still corrected."""
    scaled.edit(
        "services/wordpress.yaml",
        "kind: Service\nmetadata:\n",
        "kind: Service\nmetadata:\n  ignoreDifferences: [healthCheckGracePeriodSeconds]\n",
    )
    assert cli("apply", *scaled.args()).code == 0
    wait_until_settled(boto)  # drift during the reconciler's own first rollout waits for it
    ecs = boto("ecs")
    ecs.update_service(cluster="myapp-prod", service="wordpress", healthCheckGracePeriodSeconds=300)
    plan = cli("plan", *scaled.args(), "--output", "json").json()
    assert plan["changes"] == []
    assert {"kind": "Service", "name": "wordpress", "path": "healthCheckGracePeriodSeconds",
            "owner": "metadata.ignoreDifferences"} in plan["owned"]  # fmt: skip
    ecs.update_service(cluster="myapp-prod", service="wordpress", desiredCount=3)
    [change] = cli("plan", *scaled.args(), "--output", "json").json()["changes"]
    assert [d["path"] for d in change["diff"]] == ["desiredCount"]
    assert cli("apply", *scaled.args()).code == 0
    service = ecs.describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert (service["desiredCount"], service["healthCheckGracePeriodSeconds"]) == (1, 300)


def test_removing_the_scalable_target_hands_desired_count_back_to_git(
    scaled: Estate, cli: CLI, boto: BotoFactory
) -> None:
    boto("ecs").update_service(cluster="myapp-prod", service="frontapp", desiredCount=4)
    (scaled.dir / "scaling/frontapp.yaml").unlink()
    changes = _plan(cli, scaled)
    service = next(c for c in changes if c["kind"] == "Service")
    assert [d["path"] for d in service["diff"]] == ["desiredCount"] and service["cause"] == "desired"


def drift_capacity(boto: BotoFactory) -> None:
    boto("application-autoscaling").register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=10)


def drift_suspended(boto: BotoFactory) -> None:
    boto("application-autoscaling").register_scalable_target(
        **TARGET, SuspendedState={"DynamicScalingInSuspended": True}
    )


def _policy(boto: BotoFactory, **changes: Any) -> None:
    configuration = {
        "TargetValue": 60.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 60,
        "DisableScaleIn": False,
        **changes,
    }
    boto("application-autoscaling").put_scaling_policy(
        **TARGET, PolicyName="frontapp-cpu60", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=configuration,
    )  # fmt: skip


def drift_target_value(boto: BotoFactory) -> None:
    _policy(boto, TargetValue=90.0)


def drift_disable_scale_in(boto: BotoFactory) -> None:
    _policy(boto, DisableScaleIn=True)


def drift_cooldowns(boto: BotoFactory) -> None:
    _policy(boto, ScaleInCooldown=30, ScaleOutCooldown=600)


def drift_schedule(boto: BotoFactory) -> None:
    boto("application-autoscaling").put_scheduled_action(
        **TARGET, ScheduledActionName="frontapp-night-scale-in", Schedule="cron(0 3 * * ? *)", Timezone="Asia/Tokyo",
        ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 2},
    )  # fmt: skip


def drift_policy_deleted(boto: BotoFactory) -> None:
    boto("application-autoscaling").delete_scaling_policy(**TARGET, PolicyName="frontapp-cpu60")


DRIFTS: list[tuple[Callable[[BotoFactory], None], str, str, str, str]] = [
    (drift_capacity, "ScalableTarget", "frontapp", "MaxCapacity", "drift"),
    (drift_suspended, "ScalableTarget", "frontapp", "SuspendedState.DynamicScalingInSuspended", "drift"),
    (
        drift_target_value,
        "ScalingPolicy",
        "frontapp-cpu60",
        "TargetTrackingScalingPolicyConfiguration.TargetValue",
        "drift",
    ),
    (
        drift_disable_scale_in,
        "ScalingPolicy",
        "frontapp-cpu60",
        "TargetTrackingScalingPolicyConfiguration.DisableScaleIn",
        "drift",
    ),
    (
        drift_cooldowns,
        "ScalingPolicy",
        "frontapp-cpu60",
        "TargetTrackingScalingPolicyConfiguration.ScaleInCooldown",
        "drift",
    ),
    (drift_schedule, "ScheduledAction", "frontapp-night-scale-in", "Schedule", "drift"),
    (drift_policy_deleted, "ScalingPolicy", "frontapp-cpu60", "status", "missing"),
]  # a deleted policy leaves no trace in AWS: a fresh plan can only call it missing


@pytest.mark.parametrize(
    ("make_drift", "kind", "name", "path", "cause"), DRIFTS, ids=[d[0].__name__ for d in DRIFTS]
)
def test_scaling_drift_is_reported_and_corrected(
    scaled: Estate, cli: CLI, boto: BotoFactory, make_drift: Callable[[BotoFactory], None], kind: str, name: str,
    path: str, cause: str,
) -> None:  # fmt: skip
    make_drift(boto)
    changes = _plan(cli, scaled)
    found = {(c["kind"], c["name"]): c for c in changes}
    assert (kind, name) in found, changes
    assert found[(kind, name)]["cause"] == cause
    assert path in [d["path"] for d in found[(kind, name)]["diff"]]
    assert cli("apply", *scaled.args()).code == 0
    assert _plan(cli, scaled) == []


def test_stopping_a_service_through_git(scaled: Estate, cli: CLI, boto: BotoFactory) -> None:
    scaled.edit(
        "scaling/frontapp.yaml",
        "  MinCapacity: 2\n  MaxCapacity: 4\n  SuspendedState",
        "  MinCapacity: 0\n  MaxCapacity: 0\n  SuspendedState",
    )
    changes = _plan(cli, scaled)
    assert [(c["kind"], c["cause"]) for c in changes] == [("ScalableTarget", "desired")]
    assert cli("apply", *scaled.args()).code == 0
    (target,) = boto("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 0)


def test_a_scheduled_action_at_work_is_not_drift(scaled: Estate, cli: CLI, boto: BotoFactory) -> None:
    """At night the schedule sets 1 to 2: that is Git's own schedule, not someone fighting it."""
    boto("application-autoscaling").register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
    assert _plan(cli, scaled) == []
    boto("application-autoscaling").register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=3)
    assert [c["kind"] for c in _plan(cli, scaled)] == ["ScalableTarget"]


def test_suspended_flags_left_out_mean_not_suspended(scaled: Estate, cli: CLI, boto: BotoFactory) -> None:
    scaled.edit(
        "scaling/frontapp.yaml",
        "  SuspendedState:\n    DynamicScalingInSuspended: false\n    DynamicScalingOutSuspended: false\n"
        "    ScheduledScalingSuspended: false\n",
        "",
    )
    assert cli("apply", *scaled.args()).code == 0
    drift_suspended(boto)
    assert [c["kind"] for c in _plan(cli, scaled)] == ["ScalableTarget"]
    assert cli("apply", *scaled.args()).code == 0
    (target,) = boto("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
        "ScalableTargets"
    ]
    assert target["SuspendedState"]["DynamicScalingInSuspended"] is False
    assert _plan(cli, scaled) == []


def test_scaling_moved_to_another_service_removes_the_old(
    scaled: Estate, cli: CLI, boto: BotoFactory
) -> None:
    text = (
        (scaled.dir / "scaling" / "frontapp.yaml")
        .read_text()
        .replace("service/myapp-prod/frontapp", "service/myapp-prod/wordpress")
    )
    (scaled.dir / "scaling" / "frontapp.yaml").write_text(text)
    changes = _plan(cli, scaled)
    assert {c["action"] for c in changes if c["kind"] != "Service"} == {"replace"}
    assert cli("apply", *scaled.args()).code == 0
    aas = boto("application-autoscaling")
    assert [
        t["ResourceId"] for t in aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    ] == ["service/myapp-prod/wordpress"]
    assert {
        p["ResourceId"] for p in aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    } == {"service/myapp-prod/wordpress"}
    assert [c for c in _plan(cli, scaled) if c["kind"] != "Service"] == []


def test_renaming_a_scalable_target_document_keeps_the_target(
    scaled: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """A scalable target is matched by its AWS identity, not its document name: renaming the document renames
    the facts kept for it, and is not a create plus the deletion of an orphan (which would deregister it)."""
    scaled.edit("scaling/frontapp.yaml", "kind: ScalableTarget\nmetadata:\n  name: frontapp",
                "kind: ScalableTarget\nmetadata:\n  name: frontapp-count")  # fmt: skip
    changes = _plan(cli, scaled)
    assert [(c["kind"], c["action"], [d["path"] for d in c["diff"]]) for c in changes] == [
        ("ScalableTarget", "update", ["tags.reconciler:name"])
    ], changes
    assert cli("apply", *scaled.args()).code == 0
    aas = boto("application-autoscaling")
    assert len(aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]) == 1
    assert _plan(cli, scaled) == []
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["frontapp"], include=["TAGS"])
    facts = {
        t["key"]: t["value"]
        for t in service["services"][0]["tags"]
        if t["key"].startswith("reconciler:aas:st")
    }
    assert [value.rsplit("/", 1)[-1] for value in facts.values()] == ["frontapp-count"], facts


async def test_scaling_pages_are_fetched_while_the_services_are_still_read(scaled: Estate, aws: str) -> None:
    """Application Auto Scaling is matched by the services' tags, but its pages need nothing of ECS: with ECS's
    DescribeServices answering a second late (through the fault proxy), they are read meanwhile, not after."""
    slow = FaultRules(operations=[OperationFaults(match="ecs:DescribeServices", latency_ms=1000)])
    desired = DirectorySource(root=scaled.dir, vars_files=(scaled.vars_file,)).load()
    answered: list[tuple[str, float]] = []

    def record(event_name: str, **_: Any) -> None:
        answered.append((event_name.split(".", 2)[2], time.monotonic()))

    async with FaultProxy(aws, slow) as proxy, AwsClients(region=None, endpoint_url=proxy.url) as clients:
        for service in ("ecs", "application-autoscaling"):
            (await clients.client(service)).meta.events.register("response-received", record)
        engine = Engine(clients, options=PlanOptions(), health=False)
        plan = await engine.plan(desired)
    assert plan.changes == []  # what was fetched ahead is matched as before
    services_done = max(at for operation, at in answered if operation == "DescribeServices")
    scaling = [at for operation, at in answered if operation.startswith("DescribeScal")]
    assert scaling and max(scaling) < services_done, answered
