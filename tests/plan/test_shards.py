"""Units and shards, table-wise: what must stay together does; rendezvous hashing gives every shard one owner and
moves only a lost member's shards."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model.resource import ResourceKey
from reconciler.plan.shards import owner_of_shard, shard_of, shards_of, unit_of
from reconciler.source.directory import load_directory

ESTATE = Path(__file__).resolve().parents[2] / "desired-state"
UNITS = load_directory(ESTATE, (), {})


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("TaskDefinition/frontapp", "Service/frontapp"),
        ("TargetGroup/frontapp-tg02", "Service/frontapp"),  # through the deployment group's pair
        ("ScheduledAction/frontapp-night-scale-in", "Service/frontapp"),  # through the scalable target
        ("Listener/frontapp-https", "Service/frontapp"),  # its default action forwards to the pair
        ("ListenerRule/scorekeep-frontend", "Service/scorekeep-frontend"),  # forwards to that service's group
        ("DiscoveryService/scorekeep-api", "Service/scorekeep-api"),
        ("TargetGroup/wordpress-tg", "Service/wordpress"),
        ("Cluster/myapp-prod", "Cluster/myapp-prod"),  # shared: a unit of its own
        ("LoadBalancer/frontapp-alb", "LoadBalancer/frontapp-alb"),
    ],
)
def test_what_one_change_touches_stays_in_one_unit(key: str, unit: str) -> None:
    kind, name = key.split("/")
    assert unit_of(UNITS)[ResourceKey(kind, name)] == unit


def test_every_shard_has_one_owner_and_a_lost_member_moves_only_its_own() -> None:
    members = ["a", "b", "c"]
    split = {m: shards_of(m, members, 16) for m in members}
    assert sorted(s for shards in split.values() for s in shards) == list(range(16))
    assert all(split.values())  # each member has a share (16 shards over 3 members)
    after = {m: shards_of(m, ["a", "b"], 16) for m in ("a", "b")}
    assert after["a"] >= split["a"] and after["b"] >= split["b"]  # nothing moves between survivors
    assert after["a"] | after["b"] == frozenset(range(16))


def test_shards_are_stable_and_spread() -> None:
    assert shard_of("Service/frontapp", 16) == shard_of("Service/frontapp", 16)
    assert len({shard_of(f"Service/svc-{i}", 16) for i in range(200)}) == 16
    assert owner_of_shard(3, []) is None
