"""``per_document``: what is worked out from a desired document, once per document object.

A document of a file that did not change is the very object of the last load (the loader's file cache), so a
result memoized per object is worked out again only for the documents of changed files: each revision's checks,
warnings and targeted-pass scopes then walk the specs of what changed, not of the estate. An entry
leaves with its document (a weak reference), so the memo never outgrows the documents alive.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

from reconciler.model.resource import DesiredResource

Result = TypeVar("Result")


def per_document(compute: Callable[[DesiredResource], Result]) -> Callable[[DesiredResource], Result]:
    """``compute``, memoized by document object. ``compute`` must be pure, and its result never changed."""
    found: dict[int, tuple[weakref.ref[DesiredResource], Result]] = {}

    def forget(key: int) -> Callable[[weakref.ref[DesiredResource]], None]:
        def gone(_: weakref.ref[DesiredResource]) -> None:
            found.pop(key, None)

        return gone

    @functools.wraps(compute)
    def memoized(resource: DesiredResource) -> Result:
        key = id(resource)
        hit = found.get(key)
        if hit is not None and hit[0]() is resource:
            return hit[1]
        result = compute(resource)
        found[key] = (weakref.ref(resource, forget(key)), result)
        return result

    return memoized
