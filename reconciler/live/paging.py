"""Batching helpers shared by the readers: every page of a paginated call, fixed-size chunks, and a gather with a
bound on calls in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar

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


async def paginate(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item under ``key`` in every page of ``operation`` (botocore's paginator for it)."""
    found: list[Any] = []
    async for page in client.get_paginator(operation).paginate(**params):
        found.extend(page.get(key, []))
    return found
