"""With targets.yaml, each target's notifications say which target they are about, and each target's commit
status has a context of its own; without, messages and statuses are as before."""

from __future__ import annotations

from typing import Any

import jsonschema

from reconciler.notify.sender import GitHubTarget, Notifier
from reconciler.runtime.notices import Notices
from tests.notify.schemas import NOTIFICATION

PROBLEMS = ["estate.yaml:3: unknown kind 'Servce'"]


def sent(notifier: Notifier) -> list[Any]:
    queue = notifier.sinks[0].queue
    return [queue.get_nowait() for _ in range(queue.qsize())]


def notifier() -> Notifier:
    notifier = Notifier(instance="prod")
    notifier.webhook("https://hooks.invalid/a", limit=None)
    notifier.commit_statuses(
        "https://api.github.invalid", "t", GitHubTarget("o", "r", context="reconciler/prod")
    )
    return notifier


def test_a_targets_messages_and_commit_status_name_it() -> None:
    shared = notifier()
    Notices(shared, target="eu-prod").loaded("abc123", PROBLEMS)
    Notices(shared, target="us-prod").loaded("abc123", PROBLEMS)
    messages = [shared.message(notice) for notice in sent(shared)]
    assert [m["details"]["target"] for m in messages] == ["eu-prod", "us-prod"]  # type: ignore[index]
    assert str(messages[0]["summary"]).startswith("eu-prod: Desired state invalid (1 problem)")
    for message in messages:
        jsonschema.validate(message, NOTIFICATION)
    assert shared.github is not None
    statuses = [shared.github.queue.get_nowait().body["context"] for _ in range(shared.github.queue.qsize())]
    assert statuses == ["reconciler/prod/eu-prod", "reconciler/prod/us-prod"]


def test_without_targets_messages_are_as_before() -> None:
    shared = notifier()
    Notices(shared).loaded("abc123", PROBLEMS)
    (message,) = (shared.message(notice) for notice in sent(shared))
    assert "target" not in message["details"]  # type: ignore[operator]
    assert str(message["summary"]).startswith("Desired state invalid")
    assert shared.github is not None
    assert shared.github.queue.get_nowait().body["context"] == "reconciler/prod"
