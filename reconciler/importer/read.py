"""What ``reconciler import`` reads: one cluster, its services (all, or those named), and what they use — task
definitions, target groups with their load balancers, listeners and rules, scaling, Cloud Map services and
CodeDeploy deployment groups — as AWS describes them. Reads only; batched as the daemon's readers are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.live.clients import AwsClients
from reconciler.live.codedeploy import deployment_group_arn_prefix
from reconciler.live.paging import bounded_gather, chunks, paginate

Described = dict[str, Any]


@dataclass
class ImportedEstate:
    """Descriptions by ARN (tags, where AWS keeps them apart, in ``tags``), as read."""

    cluster: Described
    services: list[Described]
    task_definitions: dict[str, Described] = field(default_factory=dict)  # ARN → description (with ``tags``)
    target_groups: dict[str, Described] = field(default_factory=dict)
    load_balancers: dict[str, Described] = field(default_factory=dict)
    listeners: dict[str, Described] = field(default_factory=dict)
    rules: dict[str, Described] = field(default_factory=dict)
    attributes: dict[str, list[Described]] = field(default_factory=dict)  # LB or TG ARN → Attributes
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # ELBv2, Cloud Map, CodeDeploy ARN → tags
    scalable_targets: list[Described] = field(default_factory=list)
    scaling_policies: list[Described] = field(default_factory=list)
    scheduled_actions: list[Described] = field(default_factory=list)
    discovery_services: dict[str, Described] = field(default_factory=dict)  # registry ARN → GetService
    deployment_groups: list[Described] = field(default_factory=list)


class NotFound(Exception):
    """The cluster or a named service is not there."""


async def read_estate(clients: AwsClients, cluster: str, services: Sequence[str]) -> ImportedEstate:
    ecs = await clients.client("ecs")
    found = (await ecs.describe_clusters(clusters=[cluster], include=["SETTINGS", "CONFIGURATIONS", "TAGS"]))[
        "clusters"
    ]
    if not found or found[0].get("status") != "ACTIVE":
        raise NotFound(f"cluster {cluster} not found")
    estate = ImportedEstate(cluster=found[0], services=await _services(ecs, cluster, services))
    await _task_definitions(ecs, estate)
    await _deployment_groups(clients, estate)
    await _load_balancing(clients, estate)
    await _scaling(clients, estate)
    await _discovery(clients, estate)
    return estate


async def _services(ecs: Any, cluster: str, named: Sequence[str]) -> list[Described]:
    arns = list(named) or await paginate(ecs, "list_services", "serviceArns", cluster=cluster)
    described: list[Described] = []
    for batch in chunks(arns, 10):
        answer = await ecs.describe_services(cluster=cluster, services=list(batch), include=["TAGS"])
        described += [s for s in answer["services"] if s.get("status") == "ACTIVE"]
    missing = set(named) - {s["serviceName"] for s in described}
    if missing:
        raise NotFound(f"service(s) not found in cluster {cluster}: {', '.join(sorted(missing))}")
    return sorted(described, key=lambda s: str(s["serviceName"]))


async def _task_definitions(ecs: Any, estate: ImportedEstate) -> None:
    async def one(arn: str) -> None:
        answer = await ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        estate.task_definitions[arn] = {**answer["taskDefinition"], "tags": answer.get("tags") or []}

    await bounded_gather(one(arn) for arn in {s["taskDefinition"] for s in estate.services})


async def _deployment_groups(clients: AwsClients, estate: ImportedEstate) -> None:
    """The deployment groups that deploy the CODE_DEPLOY services among those imported."""
    wanted = {
        s["serviceName"]
        for s in estate.services
        if (s.get("deploymentController") or {}).get("type") == "CODE_DEPLOY"
    }
    if not wanted:
        return
    codedeploy = await clients.client("codedeploy")
    for application in await paginate(codedeploy, "list_applications", "applications"):
        names = await paginate(
            codedeploy, "list_deployment_groups", "deploymentGroups", applicationName=application
        )
        for batch in chunks(names, 100):
            answer = await codedeploy.batch_get_deployment_groups(
                applicationName=application, deploymentGroupNames=list(batch)
            )
            estate.deployment_groups += [
                g for g in answer["deploymentGroupsInfo"] if _deploys(g, estate, wanted)
            ]
    prefix = await deployment_group_arn_prefix(clients) if estate.deployment_groups else ""
    for group in estate.deployment_groups:
        arn = f"{prefix}{group['applicationName']}/{group['deploymentGroupName']}"
        answer = await codedeploy.list_tags_for_resource(ResourceArn=arn)
        group["tags"] = answer.get("Tags") or []


def _deploys(group: Described, estate: ImportedEstate, wanted: set[str]) -> bool:
    cluster = estate.cluster["clusterName"]
    return any(
        s.get("serviceName") in wanted and s.get("clusterName") == cluster
        for s in group.get("ecsServices") or ()
    )


async def _load_balancing(clients: AwsClients, estate: ImportedEstate) -> None:
    """Target groups the services use (and both of a blue/green pair), their load balancers, every listener
    and rule of those load balancers, the attributes and tags of all of them."""
    elbv2 = await clients.client("elbv2")
    balancers = [b for s in estate.services for b in s.get("loadBalancers") or ()]
    group_arns = {b["targetGroupArn"] for b in balancers if b.get("targetGroupArn")}
    group_arns |= {  # the other of a pair ECS deploys blue/green, linear or canary
        b["advancedConfiguration"]["alternateTargetGroupArn"]
        for b in balancers
        if (b.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
    }
    pair_names = {
        t["name"]
        for g in estate.deployment_groups
        for info in (g.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or ()
        for t in info.get("targetGroups") or ()
    }
    await _describe_target_groups(elbv2, estate, group_arns, pair_names)
    lb_arns = {arn for g in estate.target_groups.values() for arn in g.get("LoadBalancerArns") or ()}
    for batch in chunks(sorted(lb_arns), 20):
        for lb in (await elbv2.describe_load_balancers(LoadBalancerArns=list(batch)))["LoadBalancers"]:
            estate.load_balancers[lb["LoadBalancerArn"]] = lb
    for lb_arn in estate.load_balancers:
        for listener in await paginate(elbv2, "describe_listeners", "Listeners", LoadBalancerArn=lb_arn):
            estate.listeners[listener["ListenerArn"]] = listener
    for listener_arn in estate.listeners:
        for rule in await paginate(elbv2, "describe_rules", "Rules", ListenerArn=listener_arn):
            if not rule.get("IsDefault"):
                estate.rules[rule["RuleArn"]] = {**rule, "ListenerArn": listener_arn}
    await _elbv2_attributes(elbv2, estate)
    await _elbv2_tags(elbv2, estate)


async def _describe_target_groups(
    elbv2: Any, estate: ImportedEstate, arns: set[str], names: set[str]
) -> None:
    for batch in chunks(sorted(arns), 20):
        for group in (await elbv2.describe_target_groups(TargetGroupArns=list(batch)))["TargetGroups"]:
            estate.target_groups[group["TargetGroupArn"]] = group
    missing = names - {g["TargetGroupName"] for g in estate.target_groups.values()}
    for batch in chunks(sorted(missing), 20):
        for group in (await elbv2.describe_target_groups(Names=list(batch)))["TargetGroups"]:
            estate.target_groups[group["TargetGroupArn"]] = group


async def _elbv2_attributes(elbv2: Any, estate: ImportedEstate) -> None:
    async def of_group(arn: str) -> None:
        answer = await elbv2.describe_target_group_attributes(TargetGroupArn=arn)
        estate.attributes[arn] = answer["Attributes"]

    async def of_balancer(arn: str) -> None:
        answer = await elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)
        estate.attributes[arn] = answer["Attributes"]

    await bounded_gather([*map(of_group, estate.target_groups), *map(of_balancer, estate.load_balancers)])


async def _elbv2_tags(elbv2: Any, estate: ImportedEstate) -> None:
    arns = [*estate.target_groups, *estate.load_balancers, *estate.listeners, *estate.rules]
    for batch in chunks(arns, 20):
        for described in (await elbv2.describe_tags(ResourceArns=list(batch)))["TagDescriptions"]:
            estate.tags[described["ResourceArn"]] = {t["Key"]: t.get("Value", "") for t in described["Tags"]}


async def _scaling(clients: AwsClients, estate: ImportedEstate) -> None:
    aas = await clients.client("application-autoscaling")
    ids = [_resource_id(estate, s) for s in estate.services]
    for batch in chunks(ids, 50):
        estate.scalable_targets += await paginate(
            aas,
            "describe_scalable_targets",
            "ScalableTargets",
            ServiceNamespace="ecs",
            ResourceIds=list(batch),
        )
    for target in estate.scalable_targets:
        if arn := target.get("ScalableTargetARN"):
            estate.tags[arn] = (await aas.list_tags_for_resource(ResourceARN=arn)).get("Tags") or {}
        resource = target["ResourceId"]
        estate.scaling_policies += await paginate(
            aas, "describe_scaling_policies", "ScalingPolicies", ServiceNamespace="ecs", ResourceId=resource
        )
        estate.scheduled_actions += await paginate(
            aas, "describe_scheduled_actions", "ScheduledActions", ServiceNamespace="ecs", ResourceId=resource
        )


def _resource_id(estate: ImportedEstate, service: Described) -> str:
    return f"service/{estate.cluster['clusterName']}/{service['serviceName']}"


async def _discovery(clients: AwsClients, estate: ImportedEstate) -> None:
    registries = {r["registryArn"] for s in estate.services for r in s.get("serviceRegistries") or ()}
    if not registries:
        return
    cloud_map = await clients.client("servicediscovery")
    for arn in sorted(registries):
        estate.discovery_services[arn] = (await cloud_map.get_service(Id=arn.rsplit("/", 1)[-1]))["Service"]
        answer = await cloud_map.list_tags_for_resource(ResourceARN=arn)
        estate.tags[arn] = {t["Key"]: t.get("Value", "") for t in answer.get("Tags") or ()}
