"""``plan`` and ``apply`` keep the task definition revisions they described in ``--cache-dir``, so that the next
run does not describe them again; against an emulator (any endpoint but AWS's own) only when ``--cache-dir`` is
given. A kept revision is only ever the content its ARN names: a change made since, in Git or by hand, is seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BotoFactory
from tests.e2e.conftest import CLI, Estate, calls_of
from tests.e2e.test_drift import CLUSTER, SERVICE, drift_image


def described(cli: CLI, *args: str) -> tuple[int, str, int]:
    """``plan ARGS``: its exit code, its output and how many DescribeTaskDefinition calls it made."""
    before = calls_of("DescribeTaskDefinition")
    result = cli("plan", *args)
    assert result.code in (0, 2), result.out + result.err
    return result.code, result.out, calls_of("DescribeTaskDefinition") - before


def test_a_plan_after_the_first_describes_no_revision_and_still_sees_every_change(
    converged: Estate, cli: CLI, boto: BotoFactory, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    args = [*converged.args(), "--cache-dir", str(cache)]

    code, first, calls = described(cli, *args)
    assert (code, calls > 0) == (0, True), first
    assert [p.suffix for p in cache.iterdir()] == [".zlib"]
    code, second, calls = described(cli, *args)
    assert (code, second, calls) == (0, first, 0), "the revisions the first plan described were kept"

    drift_image(boto)  # a revision registered by hand, and the service moved to it
    code, out, calls = described(cli, *args)
    assert code == 2 and "attacker/wordpress:latest" in out, out
    assert calls == 1, "only the revision no run had described"

    converged.set_var("WORDPRESS_TAG", "6.7-apache")  # a change in Git
    code, out, calls = described(cli, *args)
    assert code == 2 and "6.7-apache" in out, out


def test_against_an_emulator_nothing_is_kept_unless_a_cache_dir_is_given(
    converged: Estate, cli: CLI, boto: BotoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint here is the emulator's (``AWS_ENDPOINT_URL``): after a restart it gives the same ARNs to other
    content, so without ``--cache-dir`` (nor ``RECONCILER_CACHE_DIR``, which the suite sets for every test) each
    plan describes every running revision again."""
    monkeypatch.delenv("RECONCILER_CACHE_DIR")
    running = {
        s["taskDefinition"]
        for s in boto("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
    }
    assert running
    for _ in range(2):
        code, out, calls = described(cli, *converged.args())
        assert code == 0, out
        assert calls >= len(running)
