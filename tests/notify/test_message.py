"""Every kind of message, rendered as JSON and as Slack Block Kit, against the documented shapes; Slack's
escaping and limits; nothing secret in either."""

from __future__ import annotations

import json

import jsonschema
import pytest

from reconciler.model.resource import ResourceKey
from reconciler.model.secrets import KNOWN_SECRETS, mask_at
from reconciler.notify.episodes import Drift, Episodes, Event, Notice, Seen, loaded, step
from reconciler.notify.limits import Window, admit, digest
from reconciler.notify.message import as_json, as_slack, escape
from tests.notify.schemas import check_notification, check_slack

WEB = ResourceKey("Service", "web")
SECRET = "hunter2-is-not-a-password-0123"
BY = {
    "type": "role",
    "name": "deployer",
    "arn": "arn:aws:iam::1:role/deployer",
    "foundBy": "event",
    "at": "t",
}


def every_notice() -> list[Notice]:
    diff = [{"path": "desiredCount", "live": 3, "desired": 1},
            {"path": "taskDefinition.containerDefinitions[web].environment[DB_PASSWORD]",
             "live": mask_at("taskDefinition.containerDefinitions[web].environment[DB_PASSWORD]", SECRET),
             "desired": "x"}]  # fmt: skip
    seen = Seen(
        "abc123",
        planned=frozenset({WEB, ResourceKey("Service", "api"), ResourceKey("TargetGroup", "tg")}),
        drifted={WEB: Drift(diff, BY)},
        corrected=frozenset({WEB}),
        failed={ResourceKey("TargetGroup", "tg"): "AccessDenied: not allowed"},
        deployments_failed={"ecs-svc/123": (ResourceKey("Service", "api"), "circuit breaker tripped")},
        health={ResourceKey("Service", "api"): ("Degraded", "tasks failed to start")},
        blocked=(7, "this revision would delete 7 resources, more than --max-deletions"),
    )
    at = "2026-01-01T00:00:00+00:00"
    _, notices = step(Episodes(), seen, at=at)
    _, invalid = loaded(Episodes(), "abc124", ["services/web.yaml:3: spec.cluster: required"], at=at)
    window = Window(limit=1)
    for notice in notices:
        window, _ = admit(window, notice, 0.0)
    _, held = digest(window, 60.0, at=at)
    assert held is not None
    return [*notices, *invalid, held]


def test_every_event_is_rendered() -> None:
    assert {n.event for n in every_notice()} == set(Event)


@pytest.mark.parametrize("ui_url", [None, "https://reconciler.example.com/ui/"])
def test_every_message_is_valid_against_the_documented_schemas(ui_url: str | None) -> None:
    for notice in every_notice():
        message = as_json(notice, instance="prod", version="0.1.0", ui_url=ui_url)
        check_notification(message)
        check_slack(as_slack(message))
        assert ("url" in message) is bool(ui_url)


def test_no_secret_value_in_any_message() -> None:
    KNOWN_SECRETS.add([SECRET])
    notices = [*every_notice(), Notice(Event.APPLY_FAILED, f"failed: {SECRET}", "t", resource=WEB,
                                       details={"error": f"echoed {SECRET}"})]  # fmt: skip
    for notice in notices:
        message = as_json(notice, instance="prod", version="0.1.0", ui_url=None)
        for text in (json.dumps(message), json.dumps(as_slack(message))):
            assert SECRET not in text


def test_the_schema_rejects_what_it_should() -> None:
    """The schema can fail: a message of the wrong shape is refused."""
    message = as_json(every_notice()[0], instance="prod", version="0.1.0", ui_url=None)
    for broken in ({**message, "event": "drift"}, {k: v for k, v in message.items() if k != "resource"},
                   {**message, "details": {"paths": "desiredCount"}}):  # fmt: skip
        with pytest.raises(jsonschema.ValidationError):
            check_notification(broken)


def test_slack_text_is_escaped_and_within_block_kit_limits() -> None:
    name = "a<b>&c" * 40
    notice = Notice(Event.APPLY_FAILED, f"Apply failed on Service/{name}: <!channel> & " + "x" * 5000, "t",
                    resource=ResourceKey("Service", name),
                    details={"error": "<@U123> " + "&" * 4000, **{f"k{i}": i for i in range(60)}})  # fmt: skip
    slack = as_slack(as_json(notice, instance="prod", version="0.1.0", ui_url="https://ui.example.com"))
    check_slack(slack)
    texts = [slack["text"]] + [json.dumps(b) for b in slack["blocks"]]  # type: ignore[operator]
    assert not any("<!channel>" in t or "<@U123>" in t for t in texts)
    assert "&lt;!channel&gt; &amp;" in str(slack["text"])
    header = slack["blocks"][0]  # type: ignore[index]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a & b", "a &amp; b"),
        ("<http://x|y>", "&lt;http://x|y&gt;"),
        ("*bold* \"q\" 'a'", "*bold* \"q\" 'a'"),
    ],
)
def test_slack_escaping_is_only_the_three_control_characters(text: str, expected: str) -> None:
    assert escape(text) == expected
