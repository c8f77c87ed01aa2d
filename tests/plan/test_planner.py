"""The planner, table-wise on hand-made live snapshots: actions, causes, ownership, orphans and guards."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.errors import InvalidDesiredState
from reconciler.model.live import LiveState
from reconciler.model.ownership import DELETION_POLICY_TAG, INSTANCE_TAG, SPEC_HASH_TAG
from reconciler.model.resource import DeletionPolicy, DesiredResource, DesiredState, Mode
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.types import Action, Cause, Change, Plan

ACCOUNT = "arn:aws:ecs:us-east-1:123456789012"
TASK_SPEC: dict[str, Any] = {
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{"name": "app", "image": "web:1", "portMappings": [{"containerPort": 80}]}],
}
SERVICE_SPEC: dict[str, Any] = {
    "cluster": "demo",
    "taskDefinition": "web",
    "desiredCount": 2,
    "launchType": "FARGATE",
    "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"], "securityGroups": ["sg-1"]}},
}


def resource(kind: str, name: str, spec: dict[str, Any], **meta: Any) -> DesiredResource:
    return DesiredResource(kind=kind, name=name, spec=copy.deepcopy(spec), file="x.yaml", line=1, **meta)


def desired_state(**service_meta: Any) -> DesiredState:
    return DesiredState(
        revision="r1",
        resources=(
            resource("Cluster", "demo", {}),
            resource("TaskDefinition", "web", TASK_SPEC),
            resource("Service", "web", SERVICE_SPEC, **service_meta),
        ),
    )


def tags(instance: str | None, spec_hash: str | None, policy: str = "Retain") -> list[dict[str, str]]:
    found = {INSTANCE_TAG: instance, SPEC_HASH_TAG: spec_hash, DELETION_POLICY_TAG: policy}
    return [{"key": k, "value": v} for k, v in found.items() if v is not None]


def hashes(desired: DesiredState) -> dict[str, str]:
    """The desired hashes, as the planner computes them for an empty account."""
    live = LiveState(families_read={"web"})
    return {c.kind: c.spec_hash for c in make_plan(desired, live, PlanOptions()).changes}


def converged_live(desired: DesiredState, *, owner: str | None = "default") -> LiveState:
    """What AWS holds right after a successful apply of ``desired``."""
    h = hashes(desired)
    td_arn = f"{ACCOUNT}:task-definition/web:1"
    task = {
        **copy.deepcopy(TASK_SPEC),
        "family": "web",
        "revision": 1,
        "status": "ACTIVE",
        "taskDefinitionArn": td_arn,
    }
    task["tags"] = tags(owner, h["TaskDefinition"])
    service = {
        **copy.deepcopy(SERVICE_SPEC),
        "serviceName": "web",
        "status": "ACTIVE",
        "taskDefinition": td_arn,
    }
    service.update(serviceArn=f"{ACCOUNT}:service/demo/web", tags=tags(owner, h["Service"]), deployments=[])
    cluster = {"clusterName": "demo", "status": "ACTIVE", "clusterArn": f"{ACCOUNT}:cluster/demo"}
    cluster["tags"] = tags(owner, h["Cluster"])
    return LiveState(
        clusters={"demo": cluster}, services={("demo", "web"): service}, task_definitions={td_arn: task}
    )


def plan_of(desired: DesiredState, live: LiveState, **options: Any) -> Plan:
    return make_plan(desired, live, PlanOptions(**options))


def summary(plan: Plan) -> list[tuple[str, str, str]]:
    return [(c.kind, c.action.value, c.cause.value) for c in plan.changes]


def service_change(plan: Plan) -> Change:
    return next(c for c in plan.changes if c.kind == "Service")


def test_empty_account_asks_for_family_revisions_before_registering() -> None:
    plan = plan_of(desired_state(), LiveState())
    assert plan.families_to_read == ["web"]
    assert ("TaskDefinition", "create", "missing") not in summary(plan)


def test_empty_account_creates_everything_in_dependency_order() -> None:
    plan = plan_of(desired_state(), LiveState(families_read={"web"}))
    assert summary(plan) == [
        ("Cluster", "create", "missing"),
        ("TaskDefinition", "create", "missing"),
        ("Service", "create", "missing"),
    ]
    assert service_change(plan).task_definition_arn == ""  # the revision the TaskDefinition change registers


def test_plan_is_for_the_target_of_the_desired_state_it_plans() -> None:
    assert plan_of(desired_state(), LiveState()).target == "default"  # no targets.yaml
    prod = desired_state().model_copy(update={"target": "prod-eu"})
    assert plan_of(prod, LiveState(families_read={"web"})).target == "prod-eu"


def test_converged_account_has_no_changes_and_needs_no_extra_reads() -> None:
    desired = desired_state()
    plan = plan_of(desired, converged_live(desired))
    assert plan.changes == []
    assert plan.families_to_read == []
    assert len(plan.in_sync) == 3


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda s: s.update(desiredCount=5), "desiredCount"),
        (lambda s: s.update(propagateTags="TASK_DEFINITION"), "propagateTags"),
        (lambda s: s["networkConfiguration"]["awsvpcConfiguration"].update(assignPublicIp="ENABLED"),
         "networkConfiguration.awsvpcConfiguration.assignPublicIp"),
    ],
)  # fmt: skip
def test_live_change_with_matching_hash_is_drift(mutate: Any, path: str) -> None:
    desired = desired_state()
    live = converged_live(desired)
    mutate(live.services[("demo", "web")])
    change = service_change(plan_of(desired, live))
    assert (change.action, change.cause, [d.path for d in change.diff]) == (
        Action.UPDATE,
        Cause.DRIFT,
        [path],
    )


def test_git_change_is_desired_not_drift() -> None:
    desired = desired_state()
    live = converged_live(desired)
    changed = DesiredState(
        revision="r2",
        resources=(*desired.resources[:2], resource("Service", "web", {**SERVICE_SPEC, "desiredCount": 3})),
    )
    change = service_change(plan_of(changed, live))
    assert (change.cause, change.diff[0].path, change.diff[0].desired) == (Cause.DESIRED, "desiredCount", 3)


def test_new_image_registers_one_revision_and_moves_the_service() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.families_read.add("web")
    task = copy.deepcopy(TASK_SPEC)
    task["containerDefinitions"][0]["image"] = "web:2"
    changed = DesiredState(
        revision="r2",
        resources=(desired.resources[0], resource("TaskDefinition", "web", task), desired.resources[2]),
    )
    plan = plan_of(changed, live)
    assert summary(plan) == [("TaskDefinition", "create", "desired"), ("Service", "update", "desired")]
    paths = [d.path for d in service_change(plan).diff]
    assert paths == ["taskDefinition", "taskDefinition.containerDefinitions[app].image"]


def test_service_moved_to_another_revision_goes_back_without_registering() -> None:
    desired = desired_state()
    live = converged_live(desired)
    rogue = copy.deepcopy(next(iter(live.task_definitions.values())))
    rogue.update(revision=2, taskDefinitionArn=f"{ACCOUNT}:task-definition/web:2", tags=[])
    rogue["containerDefinitions"][0]["image"] = "web:evil"
    live.task_definitions[rogue["taskDefinitionArn"]] = rogue
    live.services[("demo", "web")]["taskDefinition"] = rogue["taskDefinitionArn"]
    plan = plan_of(desired, live)
    assert summary(plan) == [("Service", "update", "drift")]
    change = service_change(plan)
    assert change.task_definition_arn == f"{ACCOUNT}:task-definition/web:1"
    assert change.diff[0].desired == "web:1" and change.diff[0].live == "web:2"


def test_untagged_resources_are_adopted() -> None:
    desired = desired_state()
    plan = plan_of(desired, converged_live(desired, owner=None))
    assert {c.action for c in plan.changes} == {Action.ADOPT}


def test_resource_of_another_instance_is_a_conflict_not_a_change() -> None:
    desired = desired_state()
    plan = plan_of(desired, converged_live(desired, owner="other"))
    assert {(c.kind, c.owner) for c in plan.conflicts} == {
        ("Cluster", "other"),
        ("TaskDefinition", "other"),
        ("Service", "other"),
    }
    assert plan.changes == []


def test_deleted_service_of_ours_is_drift() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.services[("demo", "web")]["status"] = "INACTIVE"
    change = service_change(plan_of(desired, live))
    assert (change.action, change.cause, change.diff[0].path) == (Action.CREATE, Cause.DRIFT, "status")


def test_launch_type_change_is_a_replace_with_a_reason() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.services[("demo", "web")]["launchType"] = "EC2"
    change = service_change(plan_of(desired, live))
    assert change.action is Action.REPLACE
    assert "launchType cannot be changed in place" in change.reason


def test_detect_mode_document_is_planned_but_does_not_write() -> None:
    desired = desired_state(mode=Mode.DETECT)
    live = converged_live(desired)
    live.services[("demo", "web")]["desiredCount"] = 9
    change = service_change(plan_of(desired, live))
    assert change.cause is Cause.DRIFT and not change.writes


def _with_orphans(count: int, policy: str) -> tuple[DesiredState, LiveState]:
    desired = desired_state()
    live = converged_live(desired)
    for i in range(count):
        orphan = {"serviceName": f"old{i}", "status": "ACTIVE", "clusterArn": f"{ACCOUNT}:cluster/demo"}
        orphan.update(serviceArn=f"{ACCOUNT}:service/demo/old{i}", tags=tags("default", "h", policy))
        live.services[("demo", f"old{i}")] = orphan
    return desired, live


def test_orphan_with_delete_policy_is_deleted_and_retain_is_reported() -> None:
    desired, live = _with_orphans(1, DeletionPolicy.DELETE.value)
    assert summary(plan_of(desired, live)) == [("Service", "delete", "orphan")]
    desired, live = _with_orphans(1, DeletionPolicy.RETAIN.value)
    plan = plan_of(desired, live)
    assert (plan.changes, [o.name for o in plan.orphans]) == ([], ["old0"])


def test_more_deletions_than_allowed_holds_them_all() -> None:
    desired, live = _with_orphans(6, DeletionPolicy.DELETE.value)
    plan = plan_of(desired, live, max_deletions=5)
    assert len(plan.changes) == 6
    assert all(not c.writes and "more than --max-deletions 5" in c.held for c in plan.changes)


def test_empty_desired_state_prunes_nothing() -> None:
    _, live = _with_orphans(3, DeletionPolicy.DELETE.value)
    plan = plan_of(DesiredState(revision="empty", resources=()), live)
    assert plan.changes == [] and plan.orphans == []


def test_foreign_services_in_the_cluster_are_left_alone() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.services[("demo", "theirs")] = {"serviceName": "theirs", "status": "ACTIVE", "tags": []}
    plan = plan_of(desired, live)
    assert plan.changes == [] and plan.orphans == []


def test_allowed_clusters_refuse_a_desired_state_that_touches_another_cluster() -> None:
    with pytest.raises(InvalidDesiredState) as refused:
        plan_of(desired_state(), LiveState(families_read={"web"}), allowed_clusters=frozenset({"prod"}))
    messages = sorted(str(p) for p in refused.value.problems)
    assert messages == [
        "x.yaml:1: metadata.name: cluster 'demo' is not in --allowed-clusters (prod); this reconciler may not "
        "touch it",
        "x.yaml:1: spec.cluster: cluster 'demo' is not in --allowed-clusters (prod); this reconciler may not "
        "touch it",
    ]
    plan = plan_of(desired_state(), LiveState(families_read={"web"}), allowed_clusters=frozenset({"demo"}))
    assert plan.changes and all(c.writes for c in plan.changes)


def test_allowed_clusters_hold_deleting_an_orphan_in_another_cluster() -> None:
    desired, live = _with_orphans(1, DeletionPolicy.DELETE.value)
    live.services[("elsewhere", "old0")] = live.services.pop(("demo", "old0"))
    plan = plan_of(desired, live, allowed_clusters=frozenset({"demo"}))
    deletion = next(c for c in plan.changes if c.action is Action.DELETE)
    assert (deletion.cluster, deletion.writes) == ("elsewhere", False)
    assert deletion.held == "cluster 'elsewhere' is not in --allowed-clusters"


def test_a_pruned_cluster_waits_for_its_pruned_services() -> None:
    _, live = _with_orphans(2, DeletionPolicy.DELETE.value)
    live.clusters["demo"]["tags"] = tags("default", "h", DeletionPolicy.DELETE.value)
    only_elsewhere = DesiredState(revision="r", resources=(resource("Cluster", "other", {}),))
    plan = plan_of(only_elsewhere, live)
    deletions = [c for c in plan.changes if c.action is Action.DELETE]
    assert [c.kind for c in deletions] == ["Service", "Service", "Cluster"]  # web says Retain: an orphan
    cluster = deletions[-1]
    assert sorted(k.name for k in cluster.depends_on) == ["old0", "old1"]


def test_a_draining_service_is_created_again() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.services[("demo", "web")]["status"] = "DRAINING"
    assert service_change(plan_of(desired, live)).action is Action.CREATE


def test_task_definition_tag_change_retags_without_a_new_revision_or_deploy() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.families_read.add("web")
    tagged = DesiredState(
        revision="r2",
        resources=(
            desired.resources[0],
            resource("TaskDefinition", "web", {**TASK_SPEC, "tags": [{"key": "team", "value": "web"}]}),
            desired.resources[2],
        ),
    )
    plan = plan_of(tagged, live)
    assert summary(plan) == [("TaskDefinition", "update", "desired")]
    assert [d.path for d in plan.changes[0].diff] == ["tags.team"]


def test_deletion_policy_change_is_desired_not_drift() -> None:
    desired = desired_state()
    live = converged_live(desired)
    changed = desired_state(deletion_policy=DeletionPolicy.DELETE)
    change = service_change(plan_of(changed, live))
    assert (change.cause, [d.path for d in change.diff]) == (
        Cause.DESIRED,
        ["tags.reconciler:deletion-policy"],
    )


def test_replacements_count_against_max_deletions() -> None:
    desired, live = _with_orphans(5, DeletionPolicy.DELETE.value)
    live.services[("demo", "web")]["launchType"] = "EC2"  # a replace: the service is deleted, then created
    plan = plan_of(desired, live, max_deletions=5)
    assert len(plan.changes) == 6 and all("(deletions and replacements)" in c.held for c in plan.changes)


REWRITES = [
    # (how the document is rewritten, restamped: same meaning; else a real change)
    (
        lambda spec: spec["containerDefinitions"][0].update(memoryReservation=128),
        True,
    ),  # what AWS has, spelled out
    (lambda spec: spec["containerDefinitions"][0].update(image="web:2"), False),
]


@pytest.mark.parametrize(("rewrite", "same_meaning"), REWRITES, ids=["explicit-default", "new-image"])
def test_a_document_rewritten_with_the_same_meaning_restamps_and_reuses_the_revision(
    rewrite: Any, same_meaning: bool
) -> None:
    desired = desired_state()
    live = converged_live(desired)
    next(iter(live.task_definitions.values()))["containerDefinitions"][0]["memoryReservation"] = 128
    live.families_read.add("web")
    task = next(r for r in desired.resources if r.kind == "TaskDefinition")
    rewrite(task.spec)
    plan = plan_of(desired, live)
    if same_meaning:
        assert not plan.has_changes and plan.reported_changes == []
        assert {(c.kind, c.action) for c in plan.restamps} == {
            ("TaskDefinition", Action.UPDATE),
            ("Service", Action.UPDATE),
        }  # the revision is re-tagged, not registered again; the service's hash follows its revision's
        assert all(d.path == f"tags.{SPEC_HASH_TAG}" for c in plan.restamps for d in c.diff)
    else:
        assert plan.restamps == [] and ("TaskDefinition", "create", "desired") in summary(plan)


def test_a_revision_registered_from_another_document_that_sets_more_is_not_reused() -> None:
    """Removing a field from the document must register a revision without it, although what is left matches."""
    desired = desired_state()
    live = converged_live(desired)
    revision = next(iter(live.task_definitions.values()))
    revision["containerDefinitions"][0]["command"] = ["serve", "--debug"]  # set by the document's old version
    revision["tags"] = tags("default", "0ld0ld0ld0ld0ld0.12345678")
    live.families_read.add("web")
    plan = plan_of(desired, live)
    assert ("TaskDefinition", "create", "desired") in summary(plan) and plan.restamps == []


def _service_connect_estate(namespace: str) -> tuple[DesiredState, LiveState]:
    desired = desired_state()
    cluster = next(r for r in desired if r.kind == "Cluster")
    cluster.spec["serviceConnectDefaults"] = {"namespace": namespace}
    live = converged_live(desired)
    arn = "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abc123"
    live.clusters["demo"]["serviceConnectDefaults"] = {"namespace": arn}  # what DescribeClusters answers
    live.namespaces["myapp.local"] = "ns-abc123"
    return desired, live


def test_a_service_connect_namespace_named_by_name_is_the_arn_aws_answers() -> None:
    desired, live = _service_connect_estate("myapp.local")
    assert [c for c in plan_of(desired, live).changes if c.kind == "Cluster"] == []


def test_a_service_connect_namespace_moved_by_hand_is_drift() -> None:
    desired, live = _service_connect_estate("myapp.local")
    live.clusters["demo"]["serviceConnectDefaults"]["namespace"] = (
        "arn:aws:servicediscovery:us-east-1:1:namespace/ns-zz"
    )
    change = next(c for c in plan_of(desired, live).changes if c.kind == "Cluster")
    assert [(d.path, d.desired, d.live) for d in change.diff] == [
        ("serviceConnectDefaults.namespace", "ns-abc123", "ns-zz")
    ]


def test_the_revision_memo_forgets_documents_no_longer_declared() -> None:
    """A daemon meets a new revision hash with every commit to a family; answers about the old ones go."""
    from reconciler.plan.ecs import RevisionMemo

    memo = RevisionMemo()
    desired = desired_state()
    live = converged_live(desired)
    make_plan(desired, live, PlanOptions(), memo=memo)
    first = {key[1] for key in memo.matches}
    assert len(first) == 1
    task = TASK_SPEC | {"containerDefinitions": [{**TASK_SPEC["containerDefinitions"][0], "image": "web:2"}]}
    changed = DesiredState(
        revision="r2",
        resources=tuple(
            resource("TaskDefinition", "web", task) if r.kind == "TaskDefinition" else r for r in desired
        ),
    )
    make_plan(changed, live, PlanOptions(), targeted=True, memo=memo)
    assert first < {
        key[1] for key in memo.matches
    }  # a targeted plan sees part of the estate: it forgets nothing
    make_plan(changed, live, PlanOptions(), memo=memo)
    assert {key[1] for key in memo.matches}.isdisjoint(first)
