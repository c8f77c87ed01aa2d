"""Keeping Python's cyclic garbage collector off the long-lived heap.

A daemon over thousands of services holds a large, long-lived heap (the desired state, cached revisions and tags)
and allocates a few hundred thousand short-lived objects a pass. Every full collection scans the whole heap, and a
pass triggers several: at 3000 services that was a large share of a pass's CPU, growing faster than the estate.
After each full pass the heap that survived it is frozen (``gc.freeze``: left out of collections); every
``THAW_EVERY`` full passes it is thawed and collected once, so cyclic garbage that was frozen is reclaimed.
Reference counting frees everything else as usual.
"""

from __future__ import annotations

import gc

THAW_EVERY = 10  # full passes


def settle(full_passes: int) -> None:
    """Call after a full pass (``full_passes`` counts them)."""
    if full_passes % THAW_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    else:
        gc.collect(1)  # the pass's young garbage, not the heap
    gc.freeze()
