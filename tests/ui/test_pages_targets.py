"""The web UI over several targets, from a hand-made status body of three targets, one of which cannot be
reached: the targets panel, the target column and filter, and links that name the target."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from reconciler.ui import pages
from tests.ui.test_pages import ESCAPED, ESTATE, HOSTILE, entry

FAILED = "target dr: cannot assume role arn:aws:iam::333333333333:role/reconciler: AccessDenied"


def status(**top: Any) -> dict[str, Any]:
    prod, staging = {"target": "prod-eu"}, {"target": "staging"}
    return {
        "revision": "0123456789abcdef",
        "source": {"dir": "/estate"},
        "lastPass": None,
        "coordination": None,
        "targets": [
            {"name": "prod-eu", "account": "111111111111", "region": "eu-west-1",
             "roleArn": "arn:aws:iam::111111111111:role/reconciler", "answered": True, "error": None,
             "lastPass": {"at": "2026-12-05T10:00:00+00:00", "targeted": False, "seconds": 1.5,
                          "revision": "0123456789abcdef", "applied": 2, "failed": 1, "notApplied": 3}},
            {"name": "staging", "account": "222222222222", "region": "us-east-1", "roleArn": None,
             "answered": True, "error": None, "lastPass": {"at": "2026-12-05T10:00:01+00:00", "targeted": True, "seconds": 0.2,
                          "revision": "0123456789abcdef", "applied": 0, "failed": 0, "notApplied": 0}},
            {"name": "dr", "account": "333333333333", "region": "eu-central-1",
             "roleArn": "arn:aws:iam::333333333333:role/reconciler", "answered": False, "error": FAILED,
             "lastPass": None},
        ],
        "applications": [
            {"name": "web", "target": "prod-eu", "resources": ["Service/web", "TaskDefinition/web"]},
            {"name": "web", "target": "staging", "resources": ["Service/web"]},
            {"name": "api", "target": "staging", "resources": ["Service/api"]},
        ],
        "shared": [
            {"target": "prod-eu", "kind": "Cluster", "name": "main"},
            {"target": "staging", "kind": "Cluster", "name": "main"},
            {"target": "staging", "kind": "LoadBalancer", "name": "edge"},  # not read yet
        ],
        "resources": [
            entry("Service", "web", state="Drifted", **prod),
            entry("TaskDefinition", "web", **prod),
            entry("Cluster", "main", **prod),
            entry("Service", "web", health="Progressing", **staging),
            entry("Service", "api", **staging),
            entry("Cluster", "main", state="Error", lastError="staging's cluster is broken", **staging),
        ],
    } | top  # fmt: skip


def rows(text: str, heading: str) -> list[list[str]]:
    """The cells' text of the table after the heading ``heading``, row by row."""
    table = re.split(f"<h[12]>{heading}</h[12]>", text, maxsplit=1)[1].split("</table>", 1)[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]
    ]


def links(text: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(r'<a href="(/applications/[^"]+)">', text)]


def test_the_estate_page_has_a_panel_of_the_targets_and_which_answered() -> None:
    text = pages.estate_page(status())
    assert rows(text, "Targets") == [
        [
            "prod-eu",
            "111111111111",
            "eu-west-1",
            "answered",
            "2026-12-05T10:00:00+00:00 · full, took 1.5 s · 2 applied, 1 failed, 3 not applied",
        ],
        [
            "staging",
            "222222222222",
            "us-east-1",
            "answered",
            "2026-12-05T10:00:01+00:00 · targeted, took 0.2 s · 0 applied, 0 failed, 0 not applied",
        ],
        ["dr", "333333333333", "eu-central-1", f"no answer {FAILED}", "no pass yet"],
    ]
    assert '<a href="/applications?target=prod-eu">prod-eu</a>' in text


def test_what_needs_attention_says_its_target_and_links_to_its_page() -> None:
    text = pages.estate_page(status())
    assert [r[:3] for r in rows(text, "Needing attention")] == [
        ["Service web", "prod-eu", "web"],
        ["Service web", "staging", "web"],
        ["Cluster main", "staging", "shared"],
    ]
    assert links(text.split("Needing attention")[1]) == ["/applications/web?target=prod-eu",
                                                         "/applications/web?target=staging"]  # fmt: skip
    assert '<a href="/shared?target=staging">shared</a>' in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [["web", "prod-eu", "Drifted"], ["web", "staging", "Synced"], ["api", "staging", "Synced"]]),
        ({"target": "staging"}, [["web", "staging", "Synced"], ["api", "staging", "Synced"]]),
        ({"target": "staging", "health": "Progressing"}, [["web", "staging", "Synced"]]),
        ({"target": "dr"}, []),
    ],
)
def test_the_applications_have_a_target_column_and_filter(
    query: dict[str, str], expected: list[list[str]]
) -> None:
    text = pages.applications_page(status(), query)
    found = [r[:3] for r in rows(text, "Applications")] if "<table>" in text else []
    assert found == expected
    assert links(text) == [f"/applications/{name}?target={target}" for name, target, _ in expected]
    span = text.split("<span>target: ", 1)[1].split("</span>", 1)[0]  # the filter's choices
    choices = re.findall(r'<a href="([^"]*)"( class="on")?>([^<]+)</a>', html.unescape(span))
    assert [label for _, _, label in choices] == ["all", "prod-eu", "staging", "dr"]
    assert [label for _, on, label in choices if on] == [query.get("target", "all")]
    kept = "&".join(f"{k}={v}" for k, v in query.items() if k != "target")  # the other filters stay
    assert choices[2][0] == "/applications?" + "&".join(p for p in (kept, "target=staging") if p)


def test_an_application_page_is_the_named_target_s() -> None:
    prod = pages.application_page(status(), "web", target="prod-eu") or ""
    staging = pages.application_page(status(), "web", target="staging") or ""
    assert "target <strong>prod-eu</strong>" in prod and "s-Drifted" in prod and "TaskDefinition" in prod
    assert "target <strong>staging</strong>" in staging and "h-Progressing" in staging
    assert "TaskDefinition" not in staging and "s-Drifted" not in staging
    assert pages.application_page(status(), "api", target="prod-eu") is None
    assert pages.application_page(status(), "web") == prod  # no target: the first that has it


def test_the_shared_resources_say_their_target_and_filter_by_it() -> None:
    every = pages.shared_page(status())
    assert every.count("<strong>main</strong>") == 2
    assert '<span class="muted">prod-eu</span> <span class="kind">Cluster</span>' in every
    staging = pages.shared_page(status(), target="staging")
    assert staging.count("<strong>main</strong>") == 1 and "staging&#x27;s cluster is broken" in staging
    assert '<a href="/shared?target=staging" class="on">staging</a>' in staging


def test_a_shared_resource_is_shown_in_its_own_target_only() -> None:
    prod = pages.shared_page(status(), target="prod-eu")
    assert prod.count("<strong>main</strong>") == 1 and "is broken" not in prod and "edge" not in prod
    staging = pages.shared_page(status(), target="staging")
    assert '<span class="muted">staging</span> <span class="kind">LoadBalancer</span> <strong>edge</strong> ' \
        '<span class="badge s-Pending">' in staging  # fmt: skip
    every = pages.shared_page(status())
    assert every.count("<strong>edge</strong>") == 1 and every.count("<strong>main</strong>") == 2
    assert "3 shared resources" in pages.estate_page(status())


@pytest.mark.parametrize(
    ("kind", "name", "target", "path"),
    [
        ("Service", "web", "staging", "/applications/web?target=staging"),
        ("Service", "web", "prod-eu", "/applications/web?target=prod-eu"),
        ("Service", "web", None, "/applications/web?target=prod-eu"),
        ("Service", "api", "prod-eu", None),
        ("Cluster", "main", "staging", "/shared?target=staging"),
        ("Cluster", "main", None, "/shared"),
        ("LoadBalancer", "edge", "staging", "/shared?target=staging"),
        ("LoadBalancer", "edge", "prod-eu", None),
    ],
)
def test_a_resource_link_leads_to_its_target_s_page(
    kind: str, name: str, target: str | None, path: str
) -> None:
    assert pages.resource_page_path(status(), kind, name, target) == path


@pytest.mark.parametrize("field", ["name", "account", "region", "error", "answered", "lastPass", "instance"])
def test_a_target_s_values_are_shown_as_text(field: str) -> None:
    body = status()
    body["targets"][1] = body["targets"][1] | {field: HOSTILE}  # one that answered: every field is shown
    text = pages.estate_page(body) + pages.applications_page(body, {}) + pages.shared_page(body)
    assert HOSTILE not in text and "<img" not in text
    assert ESCAPED in text


def test_a_resource_s_target_is_shown_as_text() -> None:
    body = status()
    body["resources"][0] = body["resources"][0] | {"target": HOSTILE}
    body["applications"][0] = body["applications"][0] | {"target": HOSTILE}
    text = pages.estate_page(body) + pages.applications_page(body, {}) + pages.shared_page(body)
    text += pages.application_page(body, "web", target=HOSTILE) or ""
    assert HOSTILE not in text and "<img" not in text
    assert ESCAPED in text


def test_one_target_named_in_the_body_shows_the_pages_of_a_body_without_targets() -> None:
    """A daemon with one target names it on every entry (``default``): nothing of it shows."""
    plain = ESTATE | {"targets": [{"instance": "default", "region": "us-east-1"}]}
    named = plain | {
        "targets": [
            {
                "name": "default",
                "account": None,
                "region": "us-east-1",
                "answered": True,
                "instance": "default",
            }
        ],
        "applications": [a | {"target": "default"} for a in ESTATE["applications"]],
        "resources": [r | {"target": "default"} for r in ESTATE["resources"]],
    }
    assert pages.applications_page(named, {"target": "x"}) == pages.applications_page(plain, {})
    assert pages.estate_page(named) == pages.estate_page(plain)
    assert pages.shared_page(named, target="x") == pages.shared_page(plain)
    for app in ESTATE["applications"]:
        assert pages.application_page(named, app["name"]) == pages.application_page(plain, app["name"])
        assert pages.application_page(named, app["name"], target="default") == pages.application_page(
            plain, app["name"]
        )
        assert (
            pages.resource_page_path(named, "Service", app["name"], "default")
            == f"/applications/{app['name']}"
        )
    assert pages.resource_page_path(named, "Cluster", "prod", "default") == "/shared"
