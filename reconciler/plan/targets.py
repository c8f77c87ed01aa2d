"""Targeted passes: what a change touches, and what a pass must read and plan to handle just that.

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

from collections.abc import Callable, Iterable, Mapping

from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.links import Ends, Links, MultiMap
from reconciler.plan.shards import SHARED_KINDS

MIN_FULL_PASS_SCOPE = 40  # a scope this big or smaller is always targeted
FULL_PASS_SHARE = 4  # beyond that, a scope over 1/4 of the estate gets a full pass


def changed_keys(before: DesiredState, after: DesiredState) -> set[ResourceKey] | None:
    """The documents added or changed from ``before`` to ``after`` (by what they declare, not where they sit in
    their file); None when one was removed: deletions are judged on the whole estate (``--max-deletions``)."""
    changed = changed_resources(before, after)
    return None if changed is None else set(changed)


def changed_resources(before: DesiredState, after: DesiredState) -> dict[ResourceKey, DesiredResource] | None:
    """``changed_keys``, with each one's resource in ``after``. Only the documents of changed files are compared
    field by field (``fresh_documents``)."""
    old = {r.key: r for r in fresh_documents(after, before)}
    new = {r.key: r for r in fresh_documents(before, after)}
    if not old.keys() <= new.keys():
        return None
    return {key: resource for key, resource in new.items() if not _same(old.get(key), resource)}


def fresh_documents(before: DesiredState, after: DesiredState) -> list[DesiredResource]:
    """The documents of ``after`` that are not objects of ``before`` (in no particular order): those of the files
    that changed. The documents of an unchanged file are the very objects of the last load (the loader's file
    cache), so they are told apart by identity, without building either state's keys or reading a spec."""
    after_by_id = dict(zip(map(id, after.resources), after.resources, strict=True))
    fresh = after_by_id.keys() - set(map(id, before.resources))  # both states are alive: an id is one object
    return [after_by_id[identity] for identity in fresh]


def _same(before: DesiredResource | None, after: DesiredResource) -> bool:
    return before is not None and _declared(before) == _declared(after)


def _declared(resource: DesiredResource) -> tuple[object, ...]:
    return (
        resource.spec,
        resource.mode,
        resource.deletion_policy,
        resource.labels,
        resource.prune_unmanaged_rules,
        resource.ignore_differences,
    )


class ScopeIndex:
    """The links between the documents of one desired state, from which the scope of any set of touched
    resources is found in time proportional to that scope. Built once (O(N)), then ``updated`` to each new
    revision in time proportional to what changed (``links.py``)."""

    def __init__(self, desired: DesiredState) -> None:
        self.desired = desired
        self._resources = dict(desired.by_key())  # moved on with each revision, as ``desired`` is not
        self._links = Links()
        self._needs: dict[ResourceKey, tuple[ResourceKey, ...]] = {}  # resource → what it depends on
        self._needed_by = MultiMap()  # the converse
        ends = [self._links.add(resource) for resource in desired]  # read from each spec once
        for resource, its_ends in zip(desired, ends, strict=True):
            self._set_needs(resource, its_ends)

    def updated(self, desired: DesiredState, changed: Mapping[ResourceKey, DesiredResource]) -> ScopeIndex:
        """This index, moved on to ``desired``: ``changed`` (from ``changed_resources``) are the documents added
        or changed since ``self.desired``, none removed. The index is changed in place, in time proportional to
        the changed documents and their neighbours."""
        affected = set(changed)
        for resource in (self._resources[key] for key in changed if key in self._resources):
            affected |= self._links.neighbours(resource)
            self._links.remove(resource)
        for resource in changed.values():
            self._links.add(resource)
        for resource in changed.values():
            affected |= self._links.neighbours(resource)
        self._resources.update(changed)
        for key in affected:
            self._set_needs(self._resources[key])
        self.desired = desired
        return self

    def needs(self, key: ResourceKey) -> frozenset[ResourceKey]:
        """What the document ``key`` depends on, by name or by attachment."""
        return frozenset(self._needs.get(key, ()))

    def scope(self, touched: Iterable[ResourceKey]) -> frozenset[ResourceKey] | None:
        """The keys a targeted pass for ``touched`` reads and plans; None when a full pass should run instead
        (a touched key is not in the desired state, or the scope is a large share of the estate)."""
        start = set(touched)
        if not start <= self._needs.keys():
            return None
        scope = _reach(start, self._unit_links)
        scope = _reach(scope, self._needs.__getitem__)
        if len(scope) > max(MIN_FULL_PASS_SCOPE, len(self._needs) // FULL_PASS_SHARE):
            return None
        return frozenset(scope)

    def subset(self, scope: frozenset[ResourceKey]) -> DesiredState:
        """``subset(self.desired, scope)``, found by key rather than by a walk over the estate."""
        resources = sorted((self._resources[key] for key in scope), key=_document_order)
        return self.desired.with_resources(resources)

    def _unit_links(self, key: ResourceKey) -> Iterable[ResourceKey]:
        """The documents in one unit with ``key``: what it needs, and what needs it, that no unit shares."""
        linked = [other for other in self._needs[key] if other.kind not in SHARED_KINDS]
        if key.kind not in SHARED_KINDS:
            linked.extend(self._needed_by.get(key))
        return linked

    def _set_needs(self, resource: DesiredResource, ends: Ends | None = None) -> None:
        key = resource.key
        for other in self._needs.get(key, ()):
            self._needed_by.remove(other, key)
        needs = self._needs[key] = self._links.needs(resource, ends)
        for other in needs:
            self._needed_by.add(other, key)


def subset(desired: DesiredState, scope: frozenset[ResourceKey]) -> DesiredState:
    """The desired state of ``scope`` only, in document order: what a targeted pass reads and plans."""
    return desired.with_resources(r for r in desired if r.key in scope)


def _document_order(resource: DesiredResource) -> tuple[str, int]:
    return resource.file, resource.line


def _reach(
    start: set[ResourceKey], links: Callable[[ResourceKey], Iterable[ResourceKey]]
) -> set[ResourceKey]:
    found = set(start)
    stack = list(start)
    while stack:
        for other in links(stack.pop()):
            if other not in found:
                found.add(other)
                stack.append(other)
    return found
