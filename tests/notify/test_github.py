"""Commit statuses: the repository of a Git URL, a revision's state, and one status per change of state."""

from __future__ import annotations

import pytest

from reconciler.notify.github import DESCRIPTION_MAX, Estate, Status, changed, repository_of, status_of


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://github.com/acme/deploy.git", ("acme", "deploy")),
        ("https://github.com/acme/deploy", ("acme", "deploy")),
        ("https://x-access-token@github.com/acme/deploy/", ("acme", "deploy")),
        ("git@github.com:acme/deploy.git", ("acme", "deploy")),
        ("ssh://git@github.com/acme/deploy.git", ("acme", "deploy")),
        ("ssh://git@ghe.example.com:2222/acme/deploy.git", ("acme", "deploy")),
        ("https://ghe.example.com/acme/deploy.git", ("acme", "deploy")),
        ("file:///srv/git/acme/deploy.git", ("acme", "deploy")),
        ("https://github.com/acme", None),
        ("git@github.com:deploy.git", None),
    ],
)
def test_repository_of(url: str, expected: tuple[str, str] | None) -> None:
    assert repository_of(url) == expected


CASES = {
    "converged and healthy": (Estate(resources=9), "success"),
    "applied, not in sync yet": (Estate(resources=9, unsynced=2), "pending"),
    "this pass wrote changes: judged by the next": (Estate(resources=9, applied=2), "pending"),
    "in sync, still rolling out": (Estate(resources=9, progressing=1), "pending"),
    "an apply failed": (Estate(resources=9, unsynced=1, failed_apply="Service/web: AccessDenied"), "failure"),
    "a deployment failed": (
        Estate(resources=9, failed_deployment="Service/web: ecs-svc/1 failed"),
        "failure",
    ),
    "degraded": (Estate(resources=9, degraded="Service/web: tasks failed to start"), "failure"),
}


@pytest.mark.parametrize("estate, state", CASES.values(), ids=CASES.keys())
def test_a_revisions_state(estate: Estate, state: str) -> None:
    status = status_of(estate)
    assert status.state == state
    body = status.body(context="reconciler/prod", target_url=None)
    assert len(body["description"]) <= DESCRIPTION_MAX and body["context"] == "reconciler/prod"


def test_description_is_cut_to_githubs_bound() -> None:
    body = Status("failure", "x" * 500).body(context="c", target_url="https://ui.example.com/")
    assert len(body["description"]) == DESCRIPTION_MAX and body["target_url"] == "https://ui.example.com/"


def test_one_status_per_change_of_state_per_revision() -> None:
    told: dict[str, str] = {}
    posted = []
    for revision, state in [("a", "pending"), ("a", "pending"), ("a", "success"), ("a", "success"),
                            ("b", "pending"), ("a", "success"), ("b", "failure"), ("b", "failure")]:  # fmt: skip
        after = changed(told, revision, Status(state, ""))
        if after is not None:
            told = after
            posted.append((revision, state))
    assert posted == [("a", "pending"), ("a", "success"), ("b", "pending"), ("b", "failure")]


def test_a_revision_that_converged_is_not_pending_again_but_may_fail() -> None:
    """A drift corrected or a service scaling out after success does not make the commit pending again; a service
    Degraded later does make it fail."""
    told = {"a": "success"}
    assert changed(told, "a", Status("pending", "applying: 1 changes written")) is None
    assert changed(told, "a", Status("failure", "degraded: Service/web")) == {"a": "failure"}
