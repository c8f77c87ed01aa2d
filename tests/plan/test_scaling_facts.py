"""The facts of scaling resources kept in the scaled ECS service's tags: written in ECS's tag alphabet (ECS API
Reference, Tag: letters, digits, spaces and ``_ . : / = + - @``), read back as written, and read from the
``;``-separated values written before."""

from __future__ import annotations

import re

import pytest

from reconciler.model.autoscaling import decode_fact, encode_fact, fact_key

ECS_TAG_PATTERN = re.compile(r"^[\w\s.:/=+\-@]*$")  # \p{L}\p{Z}\p{N}_.:/=+-@, as Python's re spells it
NAMES = ["cpu", "scale-out_fast", "cpu; 70% (fast)", "a/b/c", "x=y", "ünïcödé 名前", "tab\tand;semi", "=3b"]


@pytest.mark.parametrize("name", NAMES)
def test_a_fact_is_a_valid_ecs_tag_value_and_reads_back(name: str) -> None:
    value = encode_fact(spec_hash="0f1e2d3c", deletion_policy="Delete", instance="team-a", name=name)
    assert ECS_TAG_PATTERN.match(value) and "\t" not in value, value
    assert len(value) <= 256
    assert decode_fact(value) == ("0f1e2d3c", "Delete", "team-a", name)


def test_an_instance_with_a_separator_reads_back() -> None:
    value = encode_fact(spec_hash="h", deletion_policy="Retain", instance="a/b", name="n")
    assert decode_fact(value) == ("h", "Retain", "a/b", "n")


def test_facts_written_before_are_still_read() -> None:
    assert decode_fact("0f1e;Retain;default;cpu;70") == ("0f1e", "Retain", "default", "cpu;70")


@pytest.mark.parametrize(
    "natural",
    ["service/demo/web ecs:service:DesiredCount cpu", "service/demo/web ecs:service:DesiredCount c;(x)"],
)
def test_a_fact_key_is_a_valid_ecs_tag_key(natural: str) -> None:
    key = fact_key("ScalingPolicy", natural)
    assert ECS_TAG_PATTERN.match(key) and len(key) <= 128, key
    assert key == fact_key("ScalingPolicy", natural)  # stable: the next pass finds it again


def test_a_long_name_is_cut_in_the_name_only() -> None:
    value = encode_fact(spec_hash="h" * 16, deletion_policy="Retain", instance="default", name="n;" * 200)
    assert len(value) == 256
    spec_hash, policy, instance, _ = decode_fact(value)
    assert (spec_hash, policy, instance) == ("h" * 16, "Retain", "default")
