"""Targeted passes (issue 8): what a change touches, and what a pass must read and plan to handle just that.

A commit, a webhook or an AWS event usually concerns a few documents. Reading and planning the whole estate for it
makes its latency grow with the estate; a *targeted* pass reads and plans only the *scope* of the touched
resources, still level-based per resource (desired against live, never the event's content):

  * each touched resource's unit — what one change can touch together: a service, its task definition, target
    groups, the rules and listeners forwarding to them, its scaling, Cloud Map service and CodeDeploy group (the
    same units as sharding, ``shards.py``);
  * everything those depend on, transitively (the cluster, the load balancer and listener a rule hangs on), so
    that every reference resolves to a live ARN.

A targeted pass never prunes or judges rules added by hand (that needs the whole estate; the full pass does it on
its interval), so a change that removes a document gets a full pass, as does one whose scope is a large share of
the estate (a full pass is then no dearer). Pure: reads documents only.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model.references import Attachments, declared_by_reference, dependencies
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.shards import SHARED_KINDS

MIN_FULL_PASS_SCOPE = 40  # a scope this big or smaller is always targeted
FULL_PASS_SHARE = 4  # beyond that, a scope over 1/4 of the estate gets a full pass


def changed_keys(before: DesiredState, after: DesiredState) -> set[ResourceKey] | None:
    """The documents added or changed from ``before`` to ``after`` (by what they declare, not where they sit in
    their file); None when one was removed: deletions are judged on the whole estate (``--max-deletions``)."""
    old = {r.key: r for r in before}
    new = {r.key: r for r in after}
    if old.keys() - new.keys():
        return None
    return {key for key, resource in new.items() if not _same(old.get(key), resource)}


def _same(before: DesiredResource | None, after: DesiredResource) -> bool:
    """The documents of an unchanged file are the very objects of the last load (the loader's file cache): only
    those of changed files are compared field by field."""
    return before is after or (before is not None and _declared(before) == _declared(after))


def _declared(resource: DesiredResource) -> tuple[object, ...]:
    return (
        resource.spec,
        resource.mode,
        resource.deletion_policy,
        resource.labels,
        resource.prune_unmanaged_rules,
    )


class ScopeIndex:
    """The links between the documents of one desired state, built once per revision (O(N)), from which the scope
    of any set of touched resources is found in time proportional to that scope."""

    def __init__(self, desired: DesiredState) -> None:
        self.desired = desired
        self._by_key = {r.key: r for r in desired}
        declared = declared_by_reference(desired)
        attachments = Attachments(desired)
        self._needs: dict[ResourceKey, set[ResourceKey]] = {}  # resource → what it depends on
        self._unit: dict[ResourceKey, set[ResourceKey]] = {}  # undirected links inside units
        for resource in desired:
            needs = (dependencies(resource, declared) | attachments.of(resource)) & self._by_key.keys()
            self._needs[resource.key] = needs
            for other in needs:
                if other.kind not in SHARED_KINDS:
                    self._unit.setdefault(resource.key, set()).add(other)
                    self._unit.setdefault(other, set()).add(resource.key)

    def scope(self, touched: Iterable[ResourceKey]) -> frozenset[ResourceKey] | None:
        """The keys a targeted pass for ``touched`` reads and plans; None when a full pass should run instead
        (a touched key is not in the desired state, or the scope is a large share of the estate)."""
        start = set(touched)
        if not start <= self._by_key.keys():
            return None
        scope = _reach(start, self._unit)
        scope = _reach(scope, self._needs)
        if len(scope) > max(MIN_FULL_PASS_SCOPE, len(self._by_key) // FULL_PASS_SHARE):
            return None
        return frozenset(scope)

    def subset(self, scope: frozenset[ResourceKey]) -> DesiredState:
        return subset(self.desired, scope)


def subset(desired: DesiredState, scope: frozenset[ResourceKey]) -> DesiredState:
    """The desired state of ``scope`` only, in document order: what a targeted pass reads and plans."""
    return DesiredState(resources=tuple(r for r in desired if r.key in scope), revision=desired.revision)


def _reach(start: set[ResourceKey], links: dict[ResourceKey, set[ResourceKey]]) -> set[ResourceKey]:
    found = set(start)
    stack = list(start)
    while stack:
        for other in links.get(stack.pop(), ()):
            if other not in found:
                found.add(other)
                stack.append(other)
    return found
