"""ELBv2 tags kept between passes (``TagCache``), against the emulator's DescribeTags: every ARN is read when first
seen and again within ``REFRESH_PASSES`` passes, the re-reads are spread over the passes, and a hand edit is seen
within that window."""

from __future__ import annotations

from functools import partial

import pytest

from reconciler.live.clients import AwsClients
from reconciler.live.tag_cache import REFRESH_PASSES, TagCache, elbv2_tags
from tests.conftest import BotoFactory

GROUPS = 60  # three DescribeTags calls' worth


@pytest.fixture
def target_groups(boto: BotoFactory) -> list[str]:
    ec2, elbv2 = boto("ec2"), boto("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    return [
        elbv2.create_target_group(
            Name=f"cache-tg{i:02d}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
            Tags=[{"Key": "team", "Value": "web"}],
        )["TargetGroups"][0]["TargetGroupArn"]
        for i in range(GROUPS)
    ]  # fmt: skip


async def _pass(
    cache: TagCache, clients: AwsClients, arns: list[str]
) -> tuple[dict[str, dict[str, str]], int]:
    """One pass's read; returns the tags and how many ARNs were asked of AWS."""
    elbv2 = await clients.client("elbv2")
    before = clients.calls_by_operation()["elastic-load-balancing-v2:DescribeTags"]
    cache.begin_pass()
    tags = await cache.read(partial(elbv2_tags, elbv2), arns)
    return tags, clients.calls_by_operation()["elastic-load-balancing-v2:DescribeTags"] - before


async def test_a_hand_edit_is_seen_within_the_window_spread_over_its_passes(
    aws: str, boto: BotoFactory, target_groups: list[str]
) -> None:
    cache = TagCache()
    async with AwsClients(region=None, endpoint_url=None) as clients:
        first, calls = await _pass(cache, clients, target_groups)
        assert calls == GROUPS // 20
        assert all(first[arn] == {"team": "web"} for arn in target_groups)
        for batch in range(0, GROUPS, 20):
            boto("elbv2").add_tags(
                ResourceArns=target_groups[batch : batch + 20], Tags=[{"Key": "team", "Value": "payments"}]
            )
        seen_edited = []  # after each pass, how many ARNs show the edit
        for _ in range(REFRESH_PASSES):
            tags, _ = await _pass(cache, clients, target_groups)
            seen_edited.append(sum(tags[arn]["team"] == "payments" for arn in target_groups))
    assert seen_edited[-1] == GROUPS  # every ARN re-read within the window
    assert seen_edited[0] < GROUPS  # but not all in one pass
    assert seen_edited == sorted(seen_edited)


async def test_still_current_reads_again_only_what_this_pass_took_from_the_cache(
    aws: str, boto: BotoFactory, target_groups: list[str]
) -> None:
    """What a planned change rests on is read again: unchanged, the plan stands (no second full read); edited by
    hand, those tags are forgotten and the caller reads and plans again."""
    cache = TagCache(refresh_passes=1000)  # after the first pass, (nearly) every ARN comes from the cache

    def describe_tags() -> int:
        return clients.calls_by_operation()["elastic-load-balancing-v2:DescribeTags"]

    async with AwsClients(region=None, endpoint_url=None) as clients:
        await _pass(cache, clients, target_groups)
        before = describe_tags()
        assert await cache.still_current(target_groups)  # all read from AWS this pass: nothing to read again
        assert describe_tags() == before
        await _pass(cache, clients, target_groups)
        before = describe_tags()
        assert await cache.still_current(target_groups[:20])
        assert describe_tags() - before == 1  # the 20 taken from the cache, read again in one call
        boto("elbv2").add_tags(ResourceArns=target_groups[20:40], Tags=[{"Key": "team", "Value": "payments"}])
        await _pass(cache, clients, target_groups)
        assert not await cache.still_current(target_groups[20:40])
        tags, calls = await _pass(cache, clients, target_groups[20:40])  # forgotten: read again, in one call
    assert calls == 1
    assert all(tags[arn]["team"] == "payments" for arn in target_groups[20:40])


async def test_arns_no_longer_asked_for_leave_the_cache(aws: str, target_groups: list[str]) -> None:
    cache = TagCache()
    async with AwsClients(region=None, endpoint_url=None) as clients:
        await _pass(cache, clients, target_groups)
        await _pass(cache, clients, target_groups[:20])
        _, calls = await _pass(cache, clients, target_groups[20:40])
    assert calls == 1  # the second 20 were dropped when a pass went by without them, so are read again
