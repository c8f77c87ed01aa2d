"""The order in which changes are shown and applied: what others depend on first, deletions last and reversed.

The executor waits on ``depends_on`` itself; this order makes the plan read the way it will happen.
"""

from __future__ import annotations

from graphlib import TopologicalSorter

from reconciler.model.kinds import KINDS
from reconciler.model.resource import ResourceKey
from reconciler.plan.types import Action, Change

# The creation order: what others refer to first (target group → load balancer → listener → rule → service), as
# each kind's ``KindInfo.rank`` says; the kinds without one are left out (see ``KindInfo.rank``).
KIND_RANK = {name: kind.rank for name, kind in KINDS.items() if kind.rank is not None}


def order_changes(changes: list[Change]) -> list[Change]:
    """Creations and updates in dependency order, then deletions in the reverse of that order."""
    writes = [c for c in changes if c.action is not Action.DELETE]
    deletions = [c for c in changes if c.action is Action.DELETE]
    by_key = {c.key: c for c in writes}
    graph = {c.key: [d for d in c.depends_on if d in by_key] for c in writes}
    ordered = [by_key[k] for k in _static_order(graph)]
    deletions.sort(key=lambda c: (-KIND_RANK.get(c.kind, 99), c.name))
    return ordered + deletions


def _static_order(graph: dict[ResourceKey, list[ResourceKey]]) -> list[ResourceKey]:
    sorter: TopologicalSorter[ResourceKey] = TopologicalSorter()
    for key in sorted(graph, key=lambda k: (KIND_RANK.get(k.kind, 99), k.name)):
        sorter.add(key, *graph[key])
    return list(sorter.static_order())
