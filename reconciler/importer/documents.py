"""Desired-state documents from an ``ImportedEstate``: each description cut to its create request (by botocore's
shapes), ARNs replaced by the names the repo uses for them (``targetGroupArn: web-tg``, ``ListenerArn:
web-alb:443``), our own and AWS's tags left out. Grouped into files a team would keep: the cluster, one file
per service (its task definition, scaling, Cloud Map and CodeDeploy documents) and one per load balancer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.importer.read import Described, ImportedEstate
from reconciler.model.autoscaling import decode_fact, fact_key, natural_key
from reconciler.model.kinds import KINDS
from reconciler.model.ownership import DELETION_POLICY_TAG, NAME_TAG, user_tags
from reconciler.model.resource import API_VERSION, DeletionPolicy
from reconciler.shapes.requests import request_from


@dataclass(frozen=True)
class Document:
    kind: str
    name: str
    spec: dict[str, Any]
    # a resource a reconciler manages keeps the policy its tags (or facts) record
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    target: str = ""  # ``import --target``: the target of targets.yaml it is for (``metadata.target``)

    def as_yaml_object(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name}
        if self.target:
            metadata["target"] = self.target
        if self.deletion_policy is not DeletionPolicy.RETAIN:
            metadata["deletionPolicy"] = self.deletion_policy.value
        return {"apiVersion": API_VERSION, "kind": self.kind, "metadata": metadata, "spec": self.spec}


def _policy(tags: Mapping[str, str]) -> DeletionPolicy:
    """The deletion policy a managed resource's tags record (Retain, the default, for any other resource)."""
    recorded = tags.get(DELETION_POLICY_TAG)
    return (
        DeletionPolicy(recorded) if recorded in {p.value for p in DeletionPolicy} else DeletionPolicy.RETAIN
    )


def _request(kind: str, described: Described) -> dict[str, Any]:
    """``described`` cut to the kind's create request (``KindInfo``), less the field ``metadata.name`` fills."""
    info = KINDS[kind]
    return _without(request_from(info.aws_service, info.create_operation, described), info.name_field)


def _ecs_tag_map(described: Described) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in described.get("tags") or ()}


@dataclass
class _Names:
    """ARN → the name a document refers to it by."""

    by_arn: dict[str, str] = field(default_factory=dict)

    def of(self, arn: Any) -> Any:
        return self.by_arn.get(arn, arn) if isinstance(arn, str) else arn


def imported_files(estate: ImportedEstate) -> dict[str, list[Document]]:
    """Relative path → the documents of that file."""
    names = _names(estate)
    files: dict[str, list[Document]] = {"cluster.yaml": [_cluster(estate.cluster)]}
    for service in estate.services:
        files[f"services/{service['serviceName']}.yaml"] = _service_documents(service, estate, names)
    for path, documents in _load_balancer_files(estate, names).items():
        files.setdefault(path, []).extend(documents)
    return files


def _names(estate: ImportedEstate) -> _Names:
    names = _Names()
    names.by_arn |= {arn: g["TargetGroupName"] for arn, g in estate.target_groups.items()}
    names.by_arn |= {arn: lb["LoadBalancerName"] for arn, lb in estate.load_balancers.items()}
    names.by_arn |= {arn: _listener_reference(listener, estate) for arn, listener in estate.listeners.items()}
    names.by_arn |= {arn: _rule_name(rule, estate, names) for arn, rule in estate.rules.items()}
    names.by_arn |= {arn: td["family"] for arn, td in estate.task_definitions.items()}
    names.by_arn |= {arn: s["Name"] for arn, s in estate.discovery_services.items()}
    return names


def _listener_reference(listener: Described, estate: ImportedEstate) -> str:
    return f"{estate.load_balancers[listener['LoadBalancerArn']]['LoadBalancerName']}:{listener['Port']}"


def _cluster(cluster: Described) -> Document:
    spec = _request("Cluster", cluster)
    return Document("Cluster", cluster["clusterName"], _with_ecs_tags(spec), _policy(_ecs_tag_map(cluster)))


def _service_documents(service: Described, estate: ImportedEstate, names: _Names) -> list[Document]:
    name = service["serviceName"]
    task_definition = estate.task_definitions[service["taskDefinition"]]
    documents = [_task_definition(task_definition), _service(service, estate, names)]
    documents += [
        _discovery_service(estate.discovery_services[r["registryArn"]], estate)
        for r in service.get("serviceRegistries") or ()
        if r["registryArn"] in estate.discovery_services
    ]
    documents += [
        _deployment_group(g, names)
        for g in estate.deployment_groups
        if any(s.get("serviceName") == name for s in g.get("ecsServices") or ())
    ]
    return documents + _scaling(f"service/{estate.cluster['clusterName']}/{name}", service, estate)


def _task_definition(described: Described) -> Document:
    spec = _request("TaskDefinition", described)
    return Document(
        "TaskDefinition", described["family"], _with_ecs_tags(spec), _policy(_ecs_tag_map(described))
    )


def _service(described: Described, estate: ImportedEstate, names: _Names) -> Document:
    spec = _without(_request("Service", described), "role")
    head = {"cluster": estate.cluster["clusterName"], "taskDefinition": names.of(described["taskDefinition"])}
    spec = head | _without(spec, *head)
    for balancer in spec.get("loadBalancers") or ():
        balancer["targetGroupArn"] = names.of(balancer.get("targetGroupArn"))
        advanced = balancer.get("advancedConfiguration") or {}
        for key in ("alternateTargetGroupArn", "productionListenerRule", "testListenerRule"):
            if key in advanced:
                advanced[key] = names.of(advanced[key])
    for registry in spec.get("serviceRegistries") or ():
        registry["registryArn"] = names.of(registry.get("registryArn"))
    return Document(
        "Service", described["serviceName"], _with_ecs_tags(spec), _policy(_ecs_tag_map(described))
    )


def _with_ecs_tags(spec: dict[str, Any]) -> dict[str, Any]:
    tags = user_tags({t["key"]: t.get("value", "") for t in spec.pop("tags", None) or ()})
    return spec | ({"tags": [{"key": k, "value": v} for k, v in tags.items()]} if tags else {})


def _discovery_service(described: Described, estate: ImportedEstate) -> Document:
    spec = _request("DiscoveryService", described)
    tags = estate.tags.get(described["Arn"], {})
    return Document("DiscoveryService", described["Name"], _with_tags(spec, tags), _policy(tags))


def _deployment_group(described: Described, names: _Names) -> Document:
    spec = _request("DeploymentGroup", described)
    for info in (spec.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or ():
        for route in ("prodTrafficRoute", "testTrafficRoute"):
            if route in info:
                info[route]["listenerArns"] = [names.of(a) for a in info[route].get("listenerArns") or ()]
    tags = {t["Key"]: t.get("Value", "") for t in described.get("tags") or ()}
    tagged = _with_tags(spec, tags)
    if "Tags" in tagged:  # CodeDeploy spells it ``tags``
        tagged["tags"] = tagged.pop("Tags")
    return Document("DeploymentGroup", described["deploymentGroupName"], tagged, _policy(tags))


def _scaling(resource_id: str, service: Described, estate: ImportedEstate) -> list[Document]:
    """The scaling of one service. Their facts, kept in the service's tags, give a managed one its document name
    (a scalable target's is free) and deletion policy."""
    facts = _ecs_tag_map(service)
    documents = []
    for kind, items in (
        ("ScalableTarget", estate.scalable_targets),
        ("ScalingPolicy", estate.scaling_policies),
        ("ScheduledAction", estate.scheduled_actions),
    ):
        name_field = KINDS[kind].name_field
        for item in items:
            if item["ResourceId"] != resource_id:
                continue
            fact = facts.get(fact_key(kind, natural_key(kind, item)))
            _, policy, _, recorded = decode_fact(fact) if fact else ("", "", "", "")
            name = item[name_field] if name_field else recorded or service["serviceName"]
            spec = _scalable_target(item, estate) if kind == "ScalableTarget" else _request(kind, item)
            documents.append(Document(kind, name, spec, _policy({DELETION_POLICY_TAG: policy})))
    return documents


def _scalable_target(described: Described, estate: ImportedEstate) -> dict[str, Any]:
    """``RoleARN`` left out: for ECS, AWS always uses its service-linked role. Tags as a map, as AWS takes them."""
    spec = _without(_request("ScalableTarget", described), "RoleARN")
    tags = user_tags(estate.tags.get(described.get("ScalableTargetARN", ""), {}))
    return spec | ({"Tags": tags} if tags else {})


def _load_balancer_files(estate: ImportedEstate, names: _Names) -> dict[str, list[Document]]:
    files: dict[str, list[Document]] = {}
    for arn, lb in estate.load_balancers.items():
        path = f"load-balancers/{lb['LoadBalancerName']}.yaml"
        files[path] = [_load_balancer(lb, estate)]
        files[path] += [
            _listener(li, estate, names) for li in estate.listeners.values() if li["LoadBalancerArn"] == arn
        ]
        files[path] += [
            _rule(rule, estate, names)
            for rule in estate.rules.values()
            if estate.listeners[rule["ListenerArn"]]["LoadBalancerArn"] == arn
        ]
    for arn, group in estate.target_groups.items():
        attached = group.get("LoadBalancerArns") or ()
        home = estate.load_balancers.get(attached[0]) if attached else None
        path = (
            f"load-balancers/{home['LoadBalancerName']}.yaml" if home else "load-balancers/target-groups.yaml"
        )
        files.setdefault(path, []).append(_target_group(arn, group, estate))
    return files


def _load_balancer(described: Described, estate: ImportedEstate) -> Document:
    subnets = [zone["SubnetId"] for zone in described.get("AvailabilityZones") or ()]
    spec = _request("LoadBalancer", described)
    spec = {**spec, "Subnets": subnets} if subnets else spec
    arn = described["LoadBalancerArn"]
    return Document(
        "LoadBalancer", described["LoadBalancerName"], _elbv2_extras(spec, arn, estate),
        _policy(estate.tags.get(arn, {})),
    )  # fmt: skip


def _target_group(arn: str, described: Described, estate: ImportedEstate) -> Document:
    spec = _request("TargetGroup", described)
    return Document(
        "TargetGroup", described["TargetGroupName"], _elbv2_extras(spec, arn, estate),
        _policy(estate.tags.get(arn, {})),
    )  # fmt: skip


def _elbv2_extras(spec: dict[str, Any], arn: str, estate: ImportedEstate) -> dict[str, Any]:
    spec = _with_tags(spec, estate.tags.get(arn, {}))
    attributes = sorted(estate.attributes.get(arn) or (), key=lambda a: str(a.get("Key")))
    return spec | (
        {"Attributes": [{"Key": a["Key"], "Value": a.get("Value", "")} for a in attributes]}
        if attributes
        else {}
    )


def _listener(described: Described, estate: ImportedEstate, names: _Names) -> Document:
    spec = _request("Listener", described)
    spec["LoadBalancerArn"] = names.of(spec["LoadBalancerArn"])
    spec["DefaultActions"] = [_action(a, names) for a in spec.get("DefaultActions") or ()]
    tags = estate.tags.get(described["ListenerArn"], {})
    name = tags.get(NAME_TAG) or f"{spec['LoadBalancerArn']}-{described['Port']}"
    return Document("Listener", name, _with_tags(spec, tags), _policy(tags))


def _rule(described: Described, estate: ImportedEstate, names: _Names) -> Document:
    spec = _request("ListenerRule", described)
    spec["ListenerArn"] = names.of(spec["ListenerArn"])
    spec["Priority"] = int(described["Priority"])
    spec["Conditions"] = [_condition(c) for c in spec.get("Conditions") or ()]
    spec["Actions"] = [_action(a, names) for a in spec.get("Actions") or ()]
    tags = estate.tags.get(described["RuleArn"], {})
    return Document(
        "ListenerRule", _rule_name(described, estate, names), _with_tags(spec, tags), _policy(tags)
    )


def _rule_name(described: Described, estate: ImportedEstate, names: _Names) -> str:
    """Its document's name (its ``reconciler:name`` tag), else its listener's and its priority."""
    tags = estate.tags.get(described["RuleArn"], {})
    listener = str(names.of(described["ListenerArn"]))
    return tags.get(NAME_TAG) or f"{listener.replace(':', '-')}-{described['Priority']}"


def _condition(condition: dict[str, Any]) -> dict[str, Any]:
    """AWS answers with both ``Values`` and the field's ``…Config``; a request takes one: the config."""
    has_config = any(key.endswith("Config") for key in condition)
    return {k: v for k, v in condition.items() if not (has_config and k == "Values")}


def _action(action: dict[str, Any], names: _Names) -> dict[str, Any]:
    """Target groups by name; a forward to one target group as AWS also spells it (``ForwardConfig`` with that
    one group, no stickiness) written once, as ``TargetGroupArn``."""
    action = dict(action)
    if "TargetGroupArn" in action:
        action["TargetGroupArn"] = names.of(action["TargetGroupArn"])
    forward = action.get("ForwardConfig")
    if isinstance(forward, dict):
        groups = [
            {**g, "TargetGroupArn": names.of(g.get("TargetGroupArn"))}
            for g in forward.get("TargetGroups") or ()
        ]
        sticky = (forward.get("TargetGroupStickinessConfig") or {}).get("Enabled")
        if len(groups) == 1 and groups[0]["TargetGroupArn"] == action.get("TargetGroupArn") and not sticky:
            action.pop("ForwardConfig")
        else:
            action["ForwardConfig"] = {**forward, "TargetGroups": groups}
    return action


def _with_tags(spec: dict[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    kept = user_tags(tags)
    return spec | ({"Tags": [{"Key": k, "Value": v} for k, v in kept.items()]} if kept else {})


def _without(spec: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in fields}
