"""Reading ELBv2: load balancers, target groups, listeners and rules, into request-shaped ``LiveEntry``s.

Describe calls page at 400 (the API's largest page); tags are read 20 ARNs a call and kept between passes by
``TagCache``, which re-reads a third of them each pass; attributes are read only for documents that set
``Attributes``. Listeners and their rules are read only for load balancers that are declared or ours. A live
resource is matched to its document by our ``reconciler:name`` tag, or, for one we do not manage yet, by its
natural key (name; load balancer and port; listener and priority), so that it can be adopted; a tag wins over
a natural key. A rule on a declared listener that matches no document and carries no owner tag was added by
hand: it is kept in ``LiveState.unmanaged``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reconciler.errors import NotFound
from reconciler.live.clients import AwsClients
from reconciler.live.paging import bounded_gather, chunks, paginate
from reconciler.live.tag_cache import REFRESH_PASSES, TagCache, elbv2_tags
from reconciler.model.live import Described, LiveEntry, LiveState
from reconciler.model.ownership import NAME_TAG, owner_of
from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.model.shared_text import shared_strings

KINDS = ("LoadBalancer", "TargetGroup", "Listener", "ListenerRule")
PAGE_SIZE = 400
SUBNETS_PER_FILTER = 200  # values one EC2 filter takes


@dataclass
class Found:
    """Everything described in one pass, before it is matched to documents."""

    load_balancers: list[Described] = field(default_factory=list)
    target_groups: list[Described] = field(default_factory=list)
    listeners: list[Described] = field(default_factory=list)
    rules: list[tuple[Described, Described]] = field(default_factory=list)  # (listener, rule)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # ARN → tags


class Elbv2Reader:
    kinds = KINDS
    after_others = False

    def __init__(
        self, clients: AwsClients, *, instance: str, tag_refresh_passes: int = REFRESH_PASSES
    ) -> None:
        self._clients = clients
        self._instance = instance
        self._zones: dict[str, str] = {}  # subnet → Availability Zone, forever
        self.tags = TagCache(refresh_passes=tag_refresh_passes)

    async def fetch(self, desired: DesiredState, *, targeted: bool = False) -> None:
        """Nothing read ahead: this reader does not wait for the others (``Reader.fetch``)."""

    async def read(self, desired: DesiredState, live: LiveState, *, targeted: bool = False) -> None:
        # Read even when no ELBv2 document is left: resources of ours whose documents are gone must be found
        # to be pruned. An account without load balancers costs two calls.
        elbv2 = await self._clients.client("elbv2")
        found = Found()
        if targeted:
            self.tags.begin_targeted_pass()
            found.load_balancers, found.target_groups = await _by_name(elbv2, desired)
        else:
            self.tags.begin_pass()
            found.load_balancers = await _pages(elbv2, "describe_load_balancers", "LoadBalancers")
            found.target_groups = await _pages(elbv2, "describe_target_groups", "TargetGroups")
        found.tags = await self.tags.read(
            partial(elbv2_tags, elbv2), [lb["LoadBalancerArn"] for lb in found.load_balancers]
        )
        found.listeners = await self._listeners(elbv2, desired, found)
        found.rules = await self._rules(elbv2, found)
        arns = [tg["TargetGroupArn"] for tg in found.target_groups] + _rule_and_listener_arns(found)
        found.tags |= await self.tags.read(
            partial(elbv2_tags, elbv2), arns
        )  # one batch of 20-ARN calls for the other three kinds
        fill_entries(live, desired, found, instance=self._instance)
        await self._attributes(elbv2, desired, live)
        self._learn_zones(found.load_balancers)
        await self._subnet_zones(desired, live)

    async def _listeners(self, elbv2: Any, desired: DesiredState, found: Found) -> list[Described]:
        """Listeners of the load balancers the documents name or that are ours: when a load balancer's documents
        are gone, its rules and listeners are pruned before it, in that order."""
        wanted = {str(r.spec.get("LoadBalancerArn")) for r in desired.of_kind("Listener")}
        wanted |= {r.name for r in desired.of_kind("LoadBalancer")}
        relevant = [
            lb for lb in found.load_balancers
            if {lb["LoadBalancerName"], lb["LoadBalancerArn"]} & wanted
            or owner_of(found.tags.get(lb["LoadBalancerArn"], {})) == self._instance
        ]  # fmt: skip
        pages = await bounded_gather(
            _pages(elbv2, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"])
            for lb in relevant
        )
        return [listener for page in pages for listener in page]

    async def _rules(self, elbv2: Any, found: Found) -> list[tuple[Described, Described]]:
        """Rules of every listener read (those of declared or owned load balancers): a rule of ours whose
        document is gone must be found to be pruned."""
        pages = await bounded_gather(
            _pages(elbv2, "describe_rules", "Rules", ListenerArn=listener["ListenerArn"])
            for listener in found.listeners
        )
        return [
            (listener, rule) for listener, page in zip(found.listeners, pages, strict=True) for rule in page
        ]

    async def _attributes(self, elbv2: Any, desired: DesiredState, live: LiveState) -> None:
        wanted = attributes_wanted(desired, live)
        responses = await bounded_gather(
            getattr(elbv2, ATTRIBUTE_READS[r.kind][0])(**{ATTRIBUTE_READS[r.kind][1]: entry.arn})
            for r, entry in wanted
        )
        for (resource, entry), response in zip(wanted, responses, strict=True):
            add_attributes(live, resource, entry, response)

    def _learn_zones(self, load_balancers: list[Described]) -> None:
        """A described load balancer names the zone of each of its subnets: in steady state, EC2 (whose model
        alone is ~20 MiB of a pass's peak memory) is never asked."""
        for lb in load_balancers:
            for zone in lb.get("AvailabilityZones") or ():
                if zone.get("SubnetId") and zone.get("ZoneName"):
                    self._zones[zone["SubnetId"]] = zone["ZoneName"]

    async def _subnet_zones(self, desired: DesiredState, live: LiveState) -> None:
        """The zone of every subnet a load balancer document names. Read by filter, not ``SubnetIds``: a
        subnet that does not exist is then absent from ``subnet_zones`` (a plan-time problem), not an error."""
        named = {s for r in desired.of_kind("LoadBalancer") for s in load_balancer_subnets(r.spec)}
        subnets = sorted(named - set(self._zones))  # a subnet never changes zone: each is looked up once
        live.subnet_zones.update({s: self._zones[s] for s in named if s in self._zones})
        if not subnets:
            return
        async with self._clients.transient("ec2") as ec2:  # once per subnet for the life of the process
            pages = await bounded_gather(
                _pages(
                    ec2,
                    "describe_subnets",
                    "Subnets",
                    Filters=[{"Name": "subnet-id", "Values": list(batch)}],
                    page_size_key=None,
                )
                for batch in chunks(subnets, SUBNETS_PER_FILTER)
            )
        found = {s["SubnetId"]: s["AvailabilityZone"] for page in pages for s in page}
        self._zones.update(found)
        live.subnet_zones.update(found)


def fill_entries(live: LiveState, desired: DesiredState, found: Found, *, instance: str) -> None:
    """Put what one pass described into ``live``: each resource under the name of its document, and the rules
    added by hand on declared listeners."""
    matcher = _Matcher(desired, found, instance=instance)
    for kind, entries in matcher.entries().items():
        live.entries_of(kind).update(entries)
    for kind, unmatched in matcher.unmanaged.items():
        live.unmanaged.setdefault(kind, []).extend(unmatched)


# kind → (the call that reads its attributes, the parameter that names it)
ATTRIBUTE_READS = {
    "TargetGroup": ("describe_target_group_attributes", "TargetGroupArn"),
    "LoadBalancer": ("describe_load_balancer_attributes", "LoadBalancerArn"),
}


def attributes_wanted(desired: DesiredState, live: LiveState) -> list[tuple[DesiredResource, LiveEntry]]:
    """The documents that set ``Attributes``, with their live entries: only their attributes are read."""
    return [
        (r, live.entries_of(r.kind)[r.name])
        for r in desired
        if r.kind in ATTRIBUTE_READS and r.spec.get("Attributes") and r.name in live.entries_of(r.kind)
    ]


def add_attributes(live: LiveState, resource: DesiredResource, entry: LiveEntry, response: Described) -> None:
    """A Describe*Attributes answer into the entry's request-shaped ``Attributes``."""
    entry.spec["Attributes"] = response.get("Attributes", [])
    live.entries_of(resource.kind)[resource.name] = entry


async def _by_name(elbv2: Any, desired: DesiredState) -> tuple[list[Described], list[Described]]:
    """A targeted pass's load balancers (declared, or named by ARN in a listener) and target groups, one call
    each: AWS fails the whole call when one of several names is missing, and a new document's one is."""
    named = {r.name for r in desired.of_kind("LoadBalancer")}
    named |= {str(r.spec.get("LoadBalancerArn", "")) for r in desired.of_kind("Listener")}
    by_arn = sorted(n for n in named if n.startswith("arn:"))
    by_name = sorted(n for n in named - set(by_arn) if n)
    balancers = await bounded_gather(
        [_described(elbv2, "describe_load_balancers", "LoadBalancers", Names=[n]) for n in by_name]
        + [
            _described(elbv2, "describe_load_balancers", "LoadBalancers", LoadBalancerArns=[a])
            for a in by_arn
        ]
    )
    groups = await bounded_gather(
        _described(elbv2, "describe_target_groups", "TargetGroups", Names=[r.name])
        for r in desired.of_kind("TargetGroup")
    )
    unique = {lb["LoadBalancerArn"]: lb for page in balancers for lb in page}
    return list(unique.values()), [tg for page in groups for tg in page]


async def _described(elbv2: Any, operation: str, key: str, **params: Any) -> list[Described]:
    """What a describe call by name or ARN answers; none when AWS has nothing of that name (LoadBalancerNotFound,
    TargetGroupNotFound: a new document's, not made yet)."""
    try:
        response = await getattr(elbv2, operation)(**params)
    except NotFound:
        return []
    found: list[Described] = response.get(key, [])
    return found


def load_balancer_subnets(spec: dict[str, Any]) -> list[str]:
    """The subnet IDs a load balancer document names, in ``Subnets`` or ``SubnetMappings``."""
    subnets = spec.get("Subnets") or [
        m.get("SubnetId") for m in spec.get("SubnetMappings") or () if isinstance(m, dict)
    ]
    return [s for s in subnets if isinstance(s, str)] if isinstance(subnets, list) else []


class _Matcher:
    """Gives each described resource the ``metadata.name`` of its document: by our name tag, else by natural key."""

    def __init__(self, desired: DesiredState, found: Found, *, instance: str) -> None:
        self._desired = desired
        self._found = found
        self._instance = instance
        self._lb_names = {lb["LoadBalancerArn"]: lb["LoadBalancerName"] for lb in found.load_balancers}
        # listener ARN → its natural key, for a rule document that names its listener by ARN
        self._listener_keys = {
            listener["ListenerArn"]: f"{self._lb_names.get(listener['LoadBalancerArn'])}:{listener['Port']}"
            for listener in found.listeners
        }
        self._by_tag: set[tuple[str, str]] = set()  # (kind, name) of the entries matched by our name tag
        self._natural_entries: dict[str, LiveEntry] = {}  # ARN → the entry named by its natural key
        self._natural_keys: dict[str, dict[str, str]] = {}  # kind → natural key → metadata.name
        # kind → live resources under a declared parent that match no document and that no instance owns
        self.unmanaged: dict[str, list[LiveEntry]] = {}

    def entries(self) -> dict[str, dict[str, LiveEntry]]:
        result: dict[str, dict[str, LiveEntry]] = {kind: {} for kind in KINDS}
        for lb in self._found.load_balancers:
            self._add(result, "LoadBalancer", lb["LoadBalancerName"], lb["LoadBalancerArn"], _lb_spec(lb))
        for tg in self._found.target_groups:  # described this pass and ours: made entries' specs in place
            tg.pop("LoadBalancerArns", None)
            self._add(result, "TargetGroup", tg["TargetGroupName"], tg["TargetGroupArn"], tg)
        for listener in self._found.listeners:
            key = self._listener_keys[listener["ListenerArn"]]
            self._add(
                result, "Listener", key, listener["ListenerArn"], listener, parent=listener["LoadBalancerArn"]
            )
        declared_listeners = {entry.arn for entry in result["Listener"].values()}
        for listener, rule in self._found.rules:
            if not rule.get("IsDefault"):
                rule["ListenerArn"] = listener["ListenerArn"]
                key = f"{self._listener_keys[listener['ListenerArn']]}:{rule['Priority']}"
                self._add(result, "ListenerRule", key, rule["RuleArn"], rule, parent=listener["ListenerArn"])
        self._keep_unmanaged_rules(declared_listeners)
        return result

    def _add(
        self,
        result: dict[str, dict[str, LiveEntry]],
        kind: str,
        natural: str,
        arn: str,
        spec: Described,
        parent: str = "",
    ) -> None:
        tags = self._found.tags.get(arn, {})
        tagged = tags.get(NAME_TAG) if owner_of(tags) == self._instance else None
        name = tagged or self._by_natural_key(kind).get(natural)
        # Both entries hold this pass's own ``spec``, uncopied (at thousands of resources copies cost megabytes):
        # only ``_attributes`` adds to a spec, a matched one's, once matching is over.
        entry = LiveEntry(name=natural, arn=arn, spec=spec, tags=tags, parent=parent)
        if name is None or (kind, name) in self._by_tag:  # no document; or one whose tagged resource is found
            self._unmatched(kind).append(entry)
            return
        if name in result[kind]:  # matched by natural key before this one, which carries our tag
            self._unmatched(kind).append(self._natural_entries[result[kind][name].arn])
        if tagged:
            self._by_tag.add((kind, name))
        self._natural_entries[arn] = entry
        result[kind][name] = LiveEntry(name=name, arn=arn, spec=spec, tags=tags, parent=parent)

    def _unmatched(self, kind: str) -> list[LiveEntry]:
        return self.unmanaged.setdefault(kind, [])

    def _keep_unmanaged_rules(self, declared_listeners: set[str]) -> None:
        """Only rules that no instance owns, on a listener that a document declares, are unmanaged: anything
        else that matched no document is an orphan (ours: pruning finds it by tag) or not ours to judge."""
        self.unmanaged = {
            "ListenerRule": [
                entry
                for entry in self.unmanaged.get("ListenerRule", [])
                if entry.parent in declared_listeners and owner_of(entry.tags) is None
            ]
        }

    def _by_natural_key(self, kind: str) -> dict[str, str]:
        if kind not in self._natural_keys:
            self._natural_keys[kind] = {
                natural_key(r, self._lb_names, self._listener_keys): r.name
                for r in self._desired.of_kind(kind)
            }
        return self._natural_keys[kind]


def natural_key(
    resource: DesiredResource, lb_names: Mapping[str, str], listener_keys: Mapping[str, str]
) -> str:
    """How AWS identifies the resource of a document: its name, or load balancer:port(:priority). A document
    may name its load balancer or listener by ARN (as the create calls take them): ``lb_names`` (load balancer
    ARN → name) and ``listener_keys`` (listener ARN → load balancer:port) turn those into the same key."""
    spec = resource.spec
    if resource.kind == "Listener":
        lb = str(spec.get("LoadBalancerArn", ""))
        return f"{lb_names.get(lb, lb)}:{spec.get('Port')}"
    if resource.kind == "ListenerRule":
        listener = str(spec.get("ListenerArn", ""))
        return f"{listener_keys.get(listener, listener)}:{spec.get('Priority')}"
    return resource.name


def _lb_spec(lb: Described) -> Described:
    subnets = [zone["SubnetId"] for zone in lb.get("AvailabilityZones") or ()]
    return {**{k: v for k, v in lb.items() if k != "AvailabilityZones"}, "Subnets": subnets}


def _rule_and_listener_arns(found: Found) -> list[str]:
    return [listener["ListenerArn"] for listener in found.listeners] + [
        rule["RuleArn"] for _, rule in found.rules if not rule.get("IsDefault")
    ]


async def _pages(
    client: Any, operation: str, key: str, *, page_size_key: str | None = "PageSize", **params: Any
) -> list[Described]:
    if page_size_key:
        params[page_size_key] = PAGE_SIZE
    found: list[Described] = shared_strings(await paginate(client, operation, key, **params))
    return found
