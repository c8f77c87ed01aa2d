"""Keeping Python's cyclic garbage collector off the long-lived heap.

A daemon over thousands of services holds a large, long-lived heap (the desired state, cached revisions and tags,
AWS's service models) and allocates a few hundred thousand short-lived objects a pass. Every full collection scans
the whole heap, and a pass triggers several: at 3000 services that was most of a pass's CPU (15 s of CPU a pass
rather than 5), growing faster than the estate. After each full pass the heap that survived it is frozen
(``gc.freeze``: left out of collections). At most every ``THAW_SECONDS`` it is thawed and collected once, so that
cyclic garbage that was frozen is reclaimed; that one collection scans everything (about a second at 3000
services), so it is rare. Reference counting frees everything else as usual.
"""

from __future__ import annotations

import gc
import time

THAW_SECONDS = 600.0


class CollectorPolicy:
    """When the cyclic garbage collector runs, and over what (see above)."""

    def __init__(self) -> None:
        self._thawed = time.monotonic()

    def after_full_pass(self) -> None:
        """Collect the pass's young garbage (or, at most every ``THAW_SECONDS``, everything), then freeze what
        survived."""
        if time.monotonic() - self._thawed >= THAW_SECONDS:
            gc.unfreeze()
            gc.collect()
            self._thawed = time.monotonic()
        else:
            gc.collect(1)  # the pass's young garbage, not the heap
        gc.freeze()
