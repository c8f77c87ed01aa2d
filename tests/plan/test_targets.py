"""Targeted passes, table-wise: what a change of the desired state touches, and the scope a targeted pass reads and
plans for it (its units, and what those depend on), on the example estate."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.model.references import (
    Attachments,
    declared_by_reference,
    dependencies,
    iter_reference_values,
)
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.plan.targets import MIN_FULL_PASS_SCOPE, ScopeIndex, changed_keys, changed_resources, subset

ESTATE = Path(__file__).resolve().parents[2] / "desired-state"


def load() -> DesiredState:
    from reconciler.source.directory import load_directory

    return load_directory(ESTATE, (), {})


DESIRED = load()
INDEX = ScopeIndex(DESIRED)


def key(text: str) -> ResourceKey:
    kind, name = text.split("/", 1)
    return ResourceKey(kind, name)


def replaced(desired: DesiredState, text: str, **spec: object) -> DesiredState:
    resources = tuple(
        dataclasses.replace(r, spec={**r.spec, **spec}) if r.key == key(text) else r for r in desired
    )
    return DesiredState(resources=resources, revision="next")


@pytest.mark.parametrize(
    ("touched", "inside", "outside"),
    [
        (  # a service: its unit (task definition, target group, the rule forwarding to it), and what they need
            "Service/wordpress",
            {"TaskDefinition/wordpress", "TargetGroup/wordpress-tg", "Cluster/myapp-prod",
             "LoadBalancer/wordpress-alb"},
            {"Service/frontapp", "TaskDefinition/frontapp", "Service/scorekeep-api", "TargetGroup/frontapp-tg01"},
        ),
        (  # a task definition brings its service (which must move to the new revision)
            "TaskDefinition/scorekeep-api",
            {"Service/scorekeep-api", "DiscoveryService/scorekeep-api", "Cluster/myapp-prod"},
            {"Service/wordpress", "Service/scorekeep-frontend"},
        ),
        (  # a scheduled action: its scalable target, the service, and the blue/green pair around it
            "ScheduledAction/frontapp-night-scale-in",
            {"ScalableTarget/frontapp", "Service/frontapp", "DeploymentGroup/frontapp",
             "TargetGroup/frontapp-tg02", "Listener/frontapp-https"},
            {"Service/wordpress", "TaskDefinition/wordpress"},
        ),
        (  # a shared resource alone: a cluster's settings concern no service
            "Cluster/myapp-prod",
            {"Cluster/myapp-prod"},
            {"Service/wordpress", "Service/frontapp"},
        ),
    ],
)  # fmt: skip
def test_the_scope_of_a_change_is_its_units_and_what_they_need(
    touched: str, inside: set[str], outside: set[str]
) -> None:
    scope = INDEX.scope({key(touched)})
    assert scope is not None
    assert {key(k) for k in inside | {touched}} <= scope
    assert not {key(k) for k in outside} & scope


def test_every_reference_of_the_scope_is_in_it() -> None:
    from reconciler.model.references import declared_by_reference, dependencies

    declared = declared_by_reference(DESIRED)
    for resource in DESIRED:
        scope = INDEX.scope({resource.key})
        assert scope is not None
        for member in INDEX.subset(scope):
            assert dependencies(member, declared) <= scope, (resource.key, member.key)


def test_a_scope_too_large_or_unknown_asks_for_a_full_pass() -> None:
    assert INDEX.scope({key("Service/nowhere")}) is None  # a resource no longer declared
    everything = {r.key for r in DESIRED}
    assert len(everything) <= MIN_FULL_PASS_SCOPE  # the example is small: all of it is still targeted
    assert INDEX.scope(everything) == frozenset(everything)
    cluster = DESIRED.of_kind("Cluster")[0]
    clusters = tuple(dataclasses.replace(cluster, name=f"c{i}") for i in range(4 * MIN_FULL_PASS_SCOPE))
    many = ScopeIndex(DesiredState(resources=clusters, revision="x"))
    assert many.scope({key("Cluster/c1")}) == {key("Cluster/c1")}
    assert many.scope({key(f"Cluster/c{i}") for i in range(MIN_FULL_PASS_SCOPE + 1)}) is None  # over 1/4


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: replaced(d, "Service/wordpress", desiredCount=3), {"Service/wordpress"}),
        (lambda d: replaced(d, "TaskDefinition/frontapp", cpu="1024"), {"TaskDefinition/frontapp"}),
        (lambda d: DesiredState(resources=d.resources, revision="moved"), set()),  # same declarations
        (  # a document moved to another file or line declares the same
            lambda d: DesiredState(
                resources=tuple(dataclasses.replace(r, line=r.line + 7, file="x.yaml") for r in d),
                revision="moved",
            ),
            set(),
        ),
    ],
)
def test_changed_keys_are_what_the_documents_declare_differently(change: object, expected: set[str]) -> None:
    after = change(DESIRED)  # type: ignore[operator]
    assert changed_keys(DESIRED, after) == {key(k) for k in expected}


def test_a_removed_document_means_a_full_pass_and_an_added_one_is_changed() -> None:
    fewer = DesiredState(
        resources=tuple(r for r in DESIRED if r.key != key("Service/wordpress")), revision="r"
    )
    assert changed_keys(DESIRED, fewer) is None
    assert changed_keys(fewer, DESIRED) == {key("Service/wordpress")}


def test_reference_values_are_worked_out_once_per_document_object() -> None:
    """Documents of unchanged files are the same objects from one load to the next: their references are not
    walked again. Another object, however alike, gets its own."""
    service = next(r for r in DESIRED if r.kind == "Service")
    first = iter_reference_values(service)
    assert first and iter_reference_values(service) is first
    changed = dataclasses.replace(service, spec={**service.spec, "taskDefinition": "other-family"})
    assert [
        v.value for v in iter_reference_values(changed) if v.reference.target_kind == "TaskDefinition"
    ] == ["other-family"]
    assert iter_reference_values(service) is first


def with_spec(text: str, **spec: object) -> Callable[[DesiredState], DesiredState]:
    return lambda desired: replaced(desired, text, **spec)


def added(text: str, like: str, **spec: object) -> Callable[[DesiredState], DesiredState]:
    """A new document, a copy of ``like`` named after ``text``, in a file of its own (the loader keeps documents
    in file and line order)."""

    def add(desired: DesiredState) -> DesiredState:
        model = desired.get(*key(like))
        assert model is not None
        update = {"name": key(text).name, "spec": {**model.spec, **spec}, "file": f"zz/{text}.yaml"}
        copy = dataclasses.replace(model, **update)
        return DesiredState(resources=(*desired.resources, copy), revision="next")

    return add


REVISIONS = [  # applied one after the other: each link the index keeps, moved by a revision
    with_spec(
        "ListenerRule/scorekeep-frontend", Actions=[{"Type": "forward", "TargetGroupArn": "wordpress-tg"}]
    ),
    with_spec("Service/wordpress", loadBalancers=[]),  # no longer needs the rule forwarding to its group
    with_spec("ScalableTarget/frontapp", ResourceId="service/myapp-prod/wordpress"),  # and so its policies
    with_spec("ScalingPolicy/frontapp-cpu60", ResourceId="service/myapp-prod/wordpress"),
    with_spec("Service/wordpress", cluster="elsewhere"),  # no longer the service the target scales
    with_spec("Listener/frontapp-https", Port=8443),  # its reference name: the rules on :443 lose it
    added("Service/frontapp-copy", like="Service/frontapp"),  # a second user of frontapp-tg01
    added("TargetGroup/late-tg", like="TargetGroup/wordpress-tg"),
    with_spec(
        "Service/scorekeep-api",
        loadBalancers=[{"targetGroupArn": "late-tg", "containerName": "api", "containerPort": 80}],
    ),
]


def test_an_index_moved_on_by_what_changed_is_the_index_built_afresh() -> None:
    """The daemon moves its scope index on by each revision's changed documents: after every one, it
    must link exactly what an index built from scratch links, or a targeted pass would miss a resource."""
    index, before = ScopeIndex(DESIRED), DESIRED
    for revision in REVISIONS:
        after = revision(before)
        changed = changed_resources(before, after)
        assert changed, "each revision changes something"
        index = index.updated(after, changed)
        fresh = ScopeIndex(after)
        declared, attachments = declared_by_reference(after), Attachments(after)
        for resource in after:
            needs = dependencies(resource, declared) | attachments.of(resource)  # the planner's order
            assert index.needs(resource.key) == fresh.needs(resource.key) == needs, resource.key
            assert index.scope({resource.key}) == fresh.scope({resource.key}), resource.key
        assert index.subset(frozenset(r.key for r in after)).resources == after.resources
        before = after
    assert index.needs(key("Service/scorekeep-api")) >= {key("TargetGroup/late-tg")}


def test_a_part_of_a_target_keeps_its_target_in_a_targeted_scope() -> None:
    """A targeted pass plans the scope with the clients of the target its documents are for."""
    part = DesiredState(resources=DESIRED.resources, revision=DESIRED.revision, target="staging")
    scope = frozenset({key("Service/wordpress"), key("Cluster/myapp-prod")})
    for scoped in (subset(part, scope), ScopeIndex(part).subset(scope)):
        assert (scoped.target, scoped.revision) == ("staging", DESIRED.revision)
        assert {r.key for r in scoped} == scope


def test_a_state_named_by_a_commit_names_its_parts_by_it_too() -> None:
    part = DesiredState(resources=DESIRED.resources, revision=DESIRED.revision, target="staging")
    whole = DesiredState(resources=DESIRED.resources, revision=DESIRED.revision, parts=(part,))
    named = whole.with_revision("0123abc")
    assert named.revision == "0123abc"
    assert [(p.target, p.revision) for p in named.parts] == [("staging", "0123abc")]
    assert named.parts[0].resources is part.resources
