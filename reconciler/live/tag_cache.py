"""Tags of kinds whose describe calls leave them out (ELBv2, Cloud Map), kept between passes and re-read a third at
a time, so a steady-state pass does not re-read them all.

ELBv2's DescribeTags takes 20 ARNs a call, which for target groups and rules is as many calls per pass as every
other read together; Cloud Map's ListTagsForResource takes one. Tags say whose a resource is (`reconciler:*`) and carry
the document's `Tags`; only a hand edit changes them between our own writes. So tags of an ARN are read when the
ARN is first seen, and again every ``REFRESH_PASSES`` passes, staggered by ARN so each pass re-reads about a
``1 / REFRESH_PASSES`` share. A tag edited by hand is seen within ``REFRESH_PASSES`` passes.

What must never rest on an old read is decided elsewhere: the engine calls ``still_current`` for the ARNs of every
planned ELBv2 change, which reads again from AWS the tags of those this pass took from the cache. When they are
unchanged, the plan stands (it was made on what AWS holds); when any differs, they are forgotten and the engine
reads and plans again before it writes (so nothing is deleted, adopted or replaced on the strength of a cached
owner tag). It calls ``forget`` for every ARN it wrote to, so the next pass reads back its tags.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from reconciler.live.paging import bounded_gather, chunks
from reconciler.model.shared_text import shared_text

TAGS_PER_CALL = 20
REFRESH_PASSES = 3

Tags = dict[str, str]
FetchTags = Callable[[list[str]], Awaitable[dict[str, Tags]]]  # ARNs → their tags (an ARN gone is left out)


class TagCache:
    def __init__(self, *, refresh_passes: int = REFRESH_PASSES) -> None:
        self._refresh_passes = refresh_passes
        self._tags: dict[str, Tags] = {}  # ARN → its tags when last read
        self._due: dict[str, int] = {}  # ARN → the pass from which it is read again
        self._seen: set[str] = set()  # ARNs asked for this pass
        self._fresh: set[str] = set()  # ARNs read from AWS this pass
        self._pass = 0
        self._fetch: FetchTags | None = None  # how the last read fetched tags (its client): for still_current
        self.version = 0  # moves on whenever what is cached changes (``runtime/cache_snapshot.py``)

    def begin_pass(self) -> None:
        """Start a pass: ARNs not asked for since the last one are gone, so they leave the cache."""
        for arn in set(self._tags) - self._seen:
            del self._tags[arn]
            del self._due[arn]
            self.version += 1
        self._seen = set()
        self._fresh = set()
        self._pass += 1

    def begin_targeted_pass(self) -> None:
        """Start a targeted pass (a few resources): nothing leaves the cache and no refresh falls due, but what
        this pass reads fresh is tracked anew, for ``forget_stale``."""
        self._fresh = set()

    def forget(self, arns: Iterable[str]) -> None:
        """Drop ``arns`` (written to this pass) so that the next pass reads their tags back."""
        for arn in set(arns) & set(self._tags):
            del self._tags[arn], self._due[arn]
            self.version += 1

    def restore(self, tags: dict[str, Tags]) -> None:
        """Take tags a previous process read (``runtime/cache_snapshot.py``), as hints: not read this pass, so
        ``still_current`` reads them again before anything is written on them. None is refreshed in the first pass
        (the one a restart waits for to see drift); then a third each pass, as tags first seen. They stay until a
        full pass does not ask for them."""
        for arn, values in tags.items():
            if arn not in self._tags:
                self._due[arn] = self._staggered(arn, after=2)
                self._tags[arn] = values
        self._seen.update(tags)

    def entries(self) -> Iterable[tuple[str, Tags]]:
        """Every ARN cached, with its tags (for the snapshot)."""
        return self._tags.items()

    async def still_current(self, arns: Iterable[str]) -> bool:
        """Whether the tags this pass took from the cache for ``arns`` are still AWS's: those are read again now
        (one call per 20 ARNs for ELBv2). If any differs or is gone, all of them are forgotten and False is
        returned: what was decided on them must be decided again on a fresh read."""
        stale = sorted((set(arns) & set(self._tags)) - self._fresh)
        if not stale:
            return True
        if self._fetch is None:  # restored, and not read by this process yet: nothing to read them with
            self.forget(stale)
            return False
        fresh = await self._fetch(stale)
        if all(fresh.get(arn) == self._tags[arn] for arn in stale):
            self._fresh.update(stale)
            return True
        self.forget(stale)
        return False

    async def read(self, fetch: FetchTags, arns: Iterable[str]) -> dict[str, Tags]:
        """Tags of ``arns``: read from AWS (with ``fetch``) for those new or due, from the cache for the rest."""
        self._fetch = fetch
        wanted = sorted(set(arns))
        self._seen.update(wanted)
        stale = [arn for arn in wanted if self._due.get(arn, 0) <= self._pass]
        for arn, tags in (await fetch(stale)).items():
            self._due[arn] = self._next_due(arn)
            if self._tags.get(arn) != tags:
                self._tags[arn] = tags
                self.version += 1
            self._fresh.add(arn)
        return {arn: self._tags[arn] for arn in wanted if arn in self._tags}

    def _next_due(self, arn: str) -> int:
        if arn in self._tags:
            return self._pass + self._refresh_passes
        return self._staggered(arn, after=1)

    def _staggered(self, arn: str, *, after: int) -> int:
        # Tags first read (or restored): the refreshes of ARNs found together spread over ``refresh_passes`` passes,
        # the first of them ``after`` passes from now.
        return self._pass + after + zlib.crc32(arn.encode()) % self._refresh_passes


async def elbv2_tags(elbv2: Any, arns: list[str]) -> dict[str, Tags]:
    """ELBv2's DescribeTags, 20 ARNs a call."""
    responses = await bounded_gather(
        elbv2.describe_tags(ResourceArns=list(batch)) for batch in chunks(arns, TAGS_PER_CALL)
    )
    return {
        description["ResourceArn"]: {
            shared_text(t["Key"]): shared_text(t.get("Value", "")) for t in description.get("Tags", [])
        }
        for response in responses
        for description in response.get("TagDescriptions", [])
    }


async def tags_one_arn_a_call(
    list_tags: Callable[..., Awaitable[Any]], arn_parameter: str, arns: list[str]
) -> dict[str, Tags]:
    """``ListTagsForResource`` of services that take one ARN a call (Cloud Map: ``ResourceARN``, CodeDeploy:
    ``ResourceArn``)."""
    responses = await bounded_gather(list_tags(**{arn_parameter: arn}) for arn in arns)
    return {
        arn: {t["Key"]: t.get("Value", "") for t in response.get("Tags", [])}
        for arn, response in zip(arns, responses, strict=True)
    }
