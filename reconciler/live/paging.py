"""Batching helpers shared by the readers: fixed-size chunks, and a gather with a bound on calls in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
PARALLEL_READS = 8


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def bounded_gather(coroutines: Iterable[Awaitable[T]], *, limit: int = PARALLEL_READS) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def run(coroutine: Awaitable[T]) -> T:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(run(c) for c in coroutines))
