"""The checks across documents are skipped when each file's facts prove them clean (``crossfacts``): a commit that
breaks a rule in one file, the others taken from the loader's cache, must still be caught at its line, and a valid
estate must be proven clean (or the proof saves nothing)."""

from __future__ import annotations

import dataclasses
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from reconciler.desired import FileCache, load_desired_state
from reconciler.desired.crosscheck import Candidate
from reconciler.desired.crossfacts import CrossFacts, cross_facts, surely_clean
from reconciler.errors import InvalidDesiredState
from reconciler.model.autoscaling_ids import EcsServiceId, ScalableTargetId
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus import Case
from tests.desired.corpus_load_balancing import LOAD_BALANCING_CASES, SERVICE, estate
from tests.desired.corpus_strategies import STRATEGY_CASES, strategy_estate
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()
EXAMPLE = Path(__file__).resolve().parents[2] / "desired-state"

OTHER_CLUSTER = Case(
    "service-moved-to-a-cluster-not-allowed",
    estate(("service.yaml", "cluster: prod", "cluster: staging")),
    "service.yaml",
    SERVICE.splitlines().index("  cluster: prod") + 1,
    "cluster 'staging' is not in --allowed-clusters (prod)",
)


def replace_tree(root: Path, files: dict[str, str | bytes]) -> None:
    shutil.rmtree(root)
    write_tree(root, files)


@pytest.mark.parametrize(
    ("case", "before"),
    [*((case, estate()) for case in [*LOAD_BALANCING_CASES, OTHER_CLUSTER]),
     *((case, strategy_estate()) for case in STRATEGY_CASES)],
    ids=lambda value: value.id if isinstance(value, Case) else "",
)  # fmt: skip
def test_a_commit_breaking_a_rule_is_caught_with_the_unchanged_files_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case, before: dict[str, str | bytes]
) -> None:
    monkeypatch.chdir(tmp_path)
    cache = FileCache()
    write_tree(Path("ds"), before)
    load_desired_state(Path("ds"), check_spec=CHECKER, allowed_clusters={"prod"}, cache=cache)
    replace_tree(Path("ds"), case.files)
    hits = cache.hits
    with pytest.raises(InvalidDesiredState) as raised:
        load_desired_state(Path("ds"), check_spec=CHECKER, allowed_clusters={"prod"}, cache=cache)
    assert cache.hits > hits  # the files the case leaves alone were not checked again
    found = [p for p in raised.value.problems if p.file == f"ds/{case.file}" and p.line == case.line]
    assert any(case.message in p.message for p in found), "\n".join(map(str, raised.value.problems))


def facts_by_file(desired: DesiredState) -> list[CrossFacts]:
    by_file: dict[str, list[Candidate]] = defaultdict(list)
    for resource in desired:
        by_file[resource.file].append(Candidate(resource, name_line=resource.line, spec_line=resource.line))
    return [cross_facts(candidates) for candidates in by_file.values()]


@pytest.mark.parametrize("tree", ["example", "estate", "blue/green estate"])
def test_valid_estates_are_proven_clean(tmp_path: Path, tree: str) -> None:
    if tree == "example":
        root = EXAMPLE
    else:
        root = tmp_path / "ds"
        write_tree(root, estate() if tree == "estate" else strategy_estate())
    desired = load_desired_state(root, check_spec=CHECKER)
    facts = facts_by_file(desired)
    assert len(facts) > 1
    assert surely_clean(facts, allowed_clusters=())
    clusters = {r.name for r in desired.of_kind("Cluster")}
    assert surely_clean(facts, allowed_clusters=clusters)
    assert not surely_clean(facts, allowed_clusters={"elsewhere"})


def test_each_rule_broken_across_two_files_is_not_proven_clean(tmp_path: Path) -> None:
    write_tree(tmp_path / "ds", estate())
    facts = facts_by_file(load_desired_state(tmp_path / "ds", check_spec=CHECKER))
    replace = dataclasses.replace
    empty = cross_facts([])
    breaking = {  # one file's facts that break one rule together with the estate's
        "duplicate key": replace(empty, keys=facts[0].keys[:1]),
        "dangling reference": replace(empty, needed=frozenset({ResourceKey("TargetGroup", "nowhere")})),
        "port claimed twice": replace(empty, claimed=next(f.claimed for f in facts if f.claimed)),
        "scalable target twice": replace(empty, target_ids=next(f.target_ids for f in facts if f.target_ids)),
        "policy without target": replace(
            empty, attached_ids=frozenset({ScalableTargetId("ecs", "service/prod/other", "ecs:x")})
        ),
        "instance target group": replace(empty, not_ip_groups=next(f.grouped for f in facts if f.grouped)),
        "undeclared scaled service": replace(empty, scaled=frozenset({EcsServiceId("prod", "not-declared")})),
    }
    assert surely_clean([*facts, empty], allowed_clusters=())
    for rule, broken in breaking.items():
        assert not surely_clean([*facts, broken], allowed_clusters=()), rule


def test_rules_that_do_not_fit_their_pair_across_two_files_are_not_proven_clean(tmp_path: Path) -> None:
    write_tree(tmp_path / "ds", strategy_estate())
    facts = facts_by_file(load_desired_state(tmp_path / "ds", check_spec=CHECKER))
    empty = cross_facts([])
    pair = frozenset({"web-tg", "web-tg-green"})
    breaking = {  # a service in one file whose rules, declared in the others, break a rule
        "forwards elsewhere": dataclasses.replace(
            empty, shifts=frozenset({("web-prod", "", frozenset({"a", "b"}))})
        ),
        "two load balancers": dataclasses.replace(
            empty,
            rules=frozenset({("other", "api-alb:8080", pair)}),
            shifts=frozenset({("web-prod", "other", pair)}),
        ),
    }
    assert surely_clean([*facts, empty], allowed_clusters=())
    for rule, broken in breaking.items():
        assert not surely_clean([*facts, broken], allowed_clusters=()), rule
