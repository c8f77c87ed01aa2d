"""The desired-scoped diff, table-wise: what counts as a difference and the path it is reported at."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.plan.diff import scoped_diff, top_level_field

CASES: list[tuple[str, Any, Any, list[str]]] = [
    ("equal scalars", {"a": 1}, {"a": 1}, []),
    ("changed scalar", {"a": 1}, {"a": 2}, ["a"]),
    ("live-only keys are not compared", {"a": 1}, {"a": 1, "b": 2}, []),
    ("missing live key", {"a": 1}, {}, ["a"]),
    ("numeric string equals number", {"cpu": "256"}, {"cpu": 256}, []),
    ("bool is not a number", {"x": True}, {"x": 1}, ["x"]),
    ("empty list equals absent", {"a": []}, {}, []),
    ("None equals empty map", {"a": None}, {"a": {}}, []),
    ("nested path", {"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 2}}}, ["a.b.c"]),
    (
        "identity key path",
        {"c": {"[app]": {"image": "x"}}},
        {"c": {"[app]": {"image": "y"}}},
        ["c[app].image"],
    ),
    ("list length differs", {"l": [1, 2]}, {"l": [1]}, ["l"]),
    ("list of scalars differs", {"l": ["a", "b"]}, {"l": ["a", "c"]}, ["l"]),
    ("list of maps compared element-wise", {"l": [{"p": 1}]}, {"l": [{"p": 1, "extra": 2}]}, []),
    ("list element field path", {"l": [{"p": 1}, {"p": 2}]}, {"l": [{"p": 1}, {"p": 3}]}, ["l[1].p"]),
    ("map vs scalar", {"a": {"b": 1}}, {"a": "x"}, ["a"]),
]


@pytest.mark.parametrize(("case", "desired", "live", "paths"), CASES, ids=[c[0] for c in CASES])
def test_scoped_diff(case: str, desired: Any, live: Any, paths: list[str]) -> None:
    assert [d.path for d in scoped_diff(desired, live)] == paths


def test_diff_carries_both_values() -> None:
    (diff,) = scoped_diff({"desiredCount": 2}, {"desiredCount": 5})
    assert (diff.path, diff.desired, diff.live) == ("desiredCount", 2, 5)


@pytest.mark.parametrize(
    ("path", "field"),
    [("desiredCount", "desiredCount"), ("networkConfiguration.awsvpcConfiguration.subnets", "networkConfiguration"),
     ("taskDefinition.containerDefinitions[app].image", "taskDefinition"), ("loadBalancers[0].containerPort", "loadBalancers")],
)  # fmt: skip
def test_top_level_field(path: str, field: str) -> None:
    assert top_level_field(path) == field
