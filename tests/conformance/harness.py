"""AWS's example outputs as live state, through the readers' own functions, and a user's documents planned
against them.

An output is put into a ``LiveState`` the way a pass puts the answer of that call: ``live.ecs`` trims services and
revisions, ``live.elbv2`` matches load balancers, target groups, listeners and rules to documents (by natural key,
or by our name tag) and adds attributes, ``live.autoscaling``, ``live.codedeploy`` and ``live.servicediscovery``
make their entries. Only the I/O is left out. AWS's examples carry no tags of ours: a resource the reconciler
manages has the tags it wrote (ownership, spec hash, name), which ``owned`` adds as the tagging calls would.
"""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from reconciler.desired import load_desired_state
from reconciler.live import autoscaling as aas_reader
from reconciler.live import codedeploy as codedeploy_reader
from reconciler.live import elbv2 as elbv2_reader
from reconciler.live import servicediscovery as sd_reader
from reconciler.live.ecs import revision_of, service_of
from reconciler.model.autoscaling import fact_key, natural_key
from reconciler.model.ecs import cluster_name_of
from reconciler.model.live import Described, LiveState
from reconciler.model.ownership import DELETION_POLICY_TAG, NAME_TAG, SPEC_HASH_TAG, ownership_tags
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.types import Plan
from reconciler.shapes import BotocoreSpecChecker
from tests.files import write_tree

EXAMPLES = Path(__file__).parent / "aws_examples"
INSTANCE = PlanOptions().instance
CHECKER = BotocoreSpecChecker()


@dataclass(frozen=True)
class Output:
    """One output of an example page: ``page`` is ``<service>/<command>``, ``example`` the example's index on
    the page, ``block`` the index of the literal block in it (by default its last, the output)."""

    page: str
    example: int
    block: int = -1

    @property
    def command(self) -> str:
        return self.page.split("/", 1)[1]

    def value(self) -> Any:
        return copy.deepcopy(_block(self.page, self.example, self.block)["json"])

    def __str__(self) -> str:
        return f"awscli/examples/{self.page}.rst example {self.example + 1}"


@cache
def page(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _block(name: str, example: int, block: int) -> dict[str, Any]:
    found: dict[str, Any] = page(name)["examples"][example]["blocks"][block]
    if "json" not in found:
        raise ValueError(f"{name} example {example + 1} block {block}: not JSON")
    return found


# --- documents -----------------------------------------------------------------------------------------------


def load(documents: str, tmp: Path, *, validate: bool = True) -> DesiredState:
    """The documents through the loader, as ``reconciler plan`` reads a directory; ``validate=False`` only for a
    document the loader refuses on purpose (a kind's scope is narrower than AWS's example), said in the case."""
    text = textwrap.dedent(documents).lstrip("\n")
    if not validate:
        resources = tuple(
            DesiredResource(
                kind=d["kind"], name=d["metadata"]["name"], spec=d["spec"], file="case.yaml", line=1
            )
            for d in yaml.safe_load_all(text)
        )
        return DesiredState(revision="corpus", resources=resources)
    root = tmp / "desired"
    write_tree(root, {"case.yaml": text})
    return load_desired_state(root, check_spec=CHECKER)


def edited(documents: str, subject: tuple[str, str], path: str, value: Any) -> str:
    """The documents with one field of the subject's ``spec`` set to ``value`` (``path`` dotted, ``[i]`` for a
    list item), written back as YAML (JSON documents, which YAML reads)."""
    loaded = list(yaml.safe_load_all(textwrap.dedent(documents)))
    for document in loaded:
        if (document["kind"], document["metadata"]["name"]) == subject:
            set_path(document["spec"], path, value)
            break
    else:
        raise LookupError(f"no document {subject}")
    return "\n---\n".join(json.dumps(document) for document in loaded)


def set_path(spec: dict[str, Any], path: str, value: Any) -> None:
    parts = path.replace("[", ".[").split(".")
    node: Any = spec
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value


# --- live state ----------------------------------------------------------------------------------------------


@dataclass
class Ownership:
    """The tags the reconciler wrote on what it manages: by resource, its document's spec hash and name."""

    hashes: dict[ResourceKey, str] = field(default_factory=dict)
    desired: DesiredState | None = None

    def tags(self, kind: str, name: str) -> dict[str, str]:
        key = ResourceKey(kind, name)
        if key not in self.hashes or self.desired is None:
            return {}
        resource = next(r for r in self.desired if r.key == key)
        tags = ownership_tags(
            instance=INSTANCE, spec_hash=self.hashes[key], deletion_policy=resource.deletion_policy
        )
        return {**tags, NAME_TAG: name}


def desired_hashes(desired: DesiredState) -> dict[ResourceKey, str]:
    """The spec hash of every document, as the planner computes it for an empty account (what apply tags)."""
    families = {r.name for r in desired.of_kind("TaskDefinition")}
    plan = make_plan(desired, LiveState(families_read=families), PlanOptions())
    return {ResourceKey(c.kind, c.name): c.spec_hash for c in plan.changes}


def live_state(
    desired: DesiredState, outputs: Iterable[Output], *, owned: bool, attributes: Output | None = None
) -> LiveState:
    """``outputs`` as a pass reads them; ``owned``: as resources this reconciler manages for ``desired``."""
    reading = _Pass(
        desired, Ownership(desired_hashes(desired), desired) if owned else Ownership(desired=desired)
    )
    for output in outputs:
        _read(output, reading)
    _elbv2(desired, reading.live, reading.found, reading.owned, attributes)
    _autoscaling(desired, reading.live, reading.aas, reading.owned)
    return reading.live


@dataclass
class _Pass:
    """What one pass has read so far: the ECS part straight into ``live``, the rest gathered for its matcher."""

    desired: DesiredState
    owned: Ownership
    live: LiveState = field(default_factory=LiveState)
    found: elbv2_reader.Found = field(default_factory=elbv2_reader.Found)
    aas: dict[str, list[Described]] = field(default_factory=dict)

    def services(self, value: Described) -> None:
        for service in value.get("services") or [value["service"]]:
            service["tags"] = [*(service.get("tags") or []), *self._tags("Service", service["serviceName"])]
            key = (cluster_name_of(service["clusterArn"]), service["serviceName"])
            self.live.services[key] = service_of(service)

    def revision(self, value: Described) -> None:
        value["tags"] = [
            *(value.get("tags") or []),
            *self._tags("TaskDefinition", value["taskDefinition"]["family"]),
        ]
        revision = revision_of(value)
        self.live.task_definitions[revision["taskDefinitionArn"]] = revision
        self.live.families_read.add(revision["family"])

    def clusters(self, value: Described) -> None:
        for cluster in value.get("clusters") or [value["cluster"]]:
            cluster["tags"] = [*(cluster.get("tags") or []), *self._tags("Cluster", cluster["clusterName"])]
            self.live.clusters[cluster["clusterName"]] = cluster

    def rules(self, value: Described) -> None:
        """Each rule with the listener it was read from (DescribeRules is asked per listener): the listener's
        ARN is the rule's, less its last part."""
        for rule in value["Rules"]:
            listener_arn = rule["RuleArn"].replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
            listener = next(lr for lr in self.found.listeners if lr["ListenerArn"] == listener_arn)
            self.found.rules.append((listener, rule))

    def scaling(self, value: Described) -> None:
        for key in AAS_KINDS:
            self.aas.setdefault(key, []).extend(value.get(key, []))

    def deployment_groups(self, value: Described) -> None:
        groups = value.get("deploymentGroupsInfo") or [value["deploymentGroupInfo"]]
        _codedeploy(self.desired, self.live, groups, self.owned)

    def discovery_service(self, value: Described) -> None:
        _servicediscovery(self.desired, self.live, value["Service"], self.owned)

    def _tags(self, kind: str, name: str) -> list[dict[str, str]]:
        """ECS answers carry their tags (``include=TAGS``), as ``[{key, value}]``."""
        return [{"key": k, "value": v} for k, v in self.owned.tags(kind, name).items()]


_ECS_READS = {
    "ecs/describe-services": _Pass.services, "ecs/create-service": _Pass.services,
    "ecs/describe-task-definition": _Pass.revision, "ecs/register-task-definition": _Pass.revision,
    "ecs/describe-clusters": _Pass.clusters, "ecs/create-cluster": _Pass.clusters,
}  # fmt: skip
_SERVICE_READS = {
    "application-autoscaling": _Pass.scaling, "deploy": _Pass.deployment_groups,
    "servicediscovery": _Pass.discovery_service,
}  # fmt: skip


def _read(output: Output, reading: _Pass) -> None:
    value = output.value()
    if output.page in _ECS_READS:
        _ECS_READS[output.page](reading, value)
    elif output.page.startswith("elbv2/") and "Rules" in value:
        reading.rules(value)
    elif output.page.startswith("elbv2/"):
        reading.found.target_groups.extend(value.get("TargetGroups", []))
        reading.found.load_balancers.extend(value.get("LoadBalancers", []))
        reading.found.listeners.extend(value.get("Listeners", []))
    else:
        _SERVICE_READS[output.page.split("/", 1)[0]](reading, value)


def _elbv2(
    desired: DesiredState,
    live: LiveState,
    found: elbv2_reader.Found,
    owned: Ownership,
    attributes: Output | None,
) -> None:
    if owned.hashes:  # which document each resource is, found as for one to adopt; then tagged as ours
        matched = LiveState()
        elbv2_reader.fill_entries(matched, desired, copy.deepcopy(found), instance=INSTANCE)
        for kind in elbv2_reader.KINDS:
            for name, entry in matched.entries_of(kind).items():
                found.tags[entry.arn] = owned.tags(kind, name)
    elbv2_reader.fill_entries(live, desired, found, instance=INSTANCE)
    for resource, entry in elbv2_reader.attributes_wanted(desired, live):
        if attributes is None:
            raise ValueError(f"{resource.key} sets Attributes: the case names no attributes output")
        elbv2_reader.add_attributes(live, resource, entry, attributes.value())


AAS_KINDS = {"ScalableTargets": "ScalableTarget", "ScalingPolicies": "ScalingPolicy",
             "ScheduledActions": "ScheduledAction"}  # fmt: skip


def _autoscaling(
    desired: DesiredState, live: LiveState, described: dict[str, list[Described]], owned: Ownership
) -> None:
    """Ours are known by the facts kept in the scaled ECS service's tags; here, the facts as a pass decodes them."""
    by_natural = aas_reader.declared_by_natural_key(desired)
    facts = aas_reader.ownership_facts(live)
    for key, kind in AAS_KINDS.items():
        for item in described.get(key, []):
            natural = natural_key(kind, item)
            name = by_natural.get((kind, natural))
            tags = owned.tags(kind, name) if name else {}
            if tags:  # the scaled service's ARN (for apply) is left empty: no example describes it
                facts[fact_key(kind, natural)] = (
                    tags[SPEC_HASH_TAG],
                    tags[DELETION_POLICY_TAG],
                    name,
                    INSTANCE,
                    "",
                )
            aas_reader.add_entry(live, kind, item, facts, by_natural)


ACCOUNT, REGION = "123456789012", "us-west-2"  # deployment group ARNs are built, as the reader builds them


def _codedeploy(desired: DesiredState, live: LiveState, groups: list[Described], owned: Ownership) -> None:
    prefix = codedeploy_reader.arn_prefix(REGION, ACCOUNT)
    declared = codedeploy_reader.declared_groups(desired)
    for group in groups:
        arn = codedeploy_reader.group_arn(prefix, group)
        tags = owned.tags("DeploymentGroup", group["deploymentGroupName"])
        key = (group["applicationName"], group["deploymentGroupName"])
        entry = codedeploy_reader.group_entry(group, arn, tags, declared=key in declared, instance=INSTANCE)
        if entry is not None:
            live.entries_of("DeploymentGroup")[entry.name] = entry


def _servicediscovery(desired: DesiredState, live: LiveState, service: Described, owned: Ownership) -> None:
    wanted = sd_reader.wanted_services(desired, live)
    tags = owned.tags("DiscoveryService", service["Name"])
    entry = sd_reader.service_entry(service, tags, wanted, instance=INSTANCE)
    if entry is not None:
        live.entries_of("DiscoveryService")[entry.name] = entry


def plan(desired: DesiredState, live: LiveState) -> Plan:
    return make_plan(desired, live, PlanOptions())
