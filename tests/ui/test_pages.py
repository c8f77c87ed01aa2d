"""The web UI's pages, from status bodies: every user-controlled value is escaped, filters choose the right
applications, the grouping puts each resource on its application's page, commit links for known Git hosts."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.ui import pages
from reconciler.ui.markup import Markup
from reconciler.ui.markup import html as template

HOSTILE = "<img src=x onerror=alert(1)>\"'&"
ESCAPED = html.escape(HOSTILE, quote=True)
SHA = "0123456789abcdef0123456789abcdef01234567"


def entry(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "name": name, "state": "Synced", "revision": SHA, "lastChange": None, "lastError": "",
            "health": "Healthy", "healthReason": "", **fields}  # fmt: skip


def body(resources: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    """A status body whose applications are named by their services; the rest is shared."""
    services = [r["name"] for r in resources if r["kind"] == "Service"]
    grouped = {
        s: [f"{r['kind']}/{r['name']}" for r in resources if r["name"].startswith(s)] for s in services
    }
    in_app = {key for keys in grouped.values() for key in keys}
    return {
        "revision": SHA,
        "source": {"dir": "/estate"},
        "lastPass": None,
        "coordination": None,
        "targets": [{"instance": "default", "region": "us-east-1"}],
        "applications": [{"name": s, "resources": keys} for s, keys in grouped.items()],
        "shared": [f"{r['kind']}/{r['name']}" for r in resources if f"{r['kind']}/{r['name']}" not in in_app],
        "resources": resources,
    } | top


def principal(value: str) -> dict[str, str]:
    return {"type": "user", "name": value, "arn": f"arn:aws:iam::1:user/{value}", "foundBy": "event",
            "at": "2026-12-05T10:00:00+00:00"}  # fmt: skip


# Each case puts HOSTILE into one field a user (or AWS, echoing a user) controls.
CASES: dict[str, Callable[[str], dict[str, Any]]] = {
    "service name": lambda v: body([entry("Service", f"web{v}")]),
    "resource name": lambda v: body(
        [entry("Service", "web"), entry("TargetGroup", f"web-tg{v}", state="Drifted")]
    ),
    "kind": lambda v: body([entry("Service", "web"), entry(f"Kind{v}", "web-x", state="Error")]),
    "last error": lambda v: body([entry("Service", "web", state="Error", lastError=v)]),
    "health reason": lambda v: body([entry("Service", "web", health="Degraded", healthReason=v)]),
    "state": lambda v: body([entry("Service", "web", state=v)]),
    "health": lambda v: body([entry("Service", "web", health=v)]),
    "revision": lambda v: body([entry("Service", "web", revision=v, lastChange="2026")], revision=v),
    "deployment": lambda v: body([entry("Service", "web", deployment=v)]),
    "owned": lambda v: body([entry("Service", "web", owned=[{"path": f"tags[{v}]", "owner": v}])]),
    "diff path": lambda v: body(
        [entry("Service", "web", state="Drifted", diff=[{"path": v, "live": 1, "desired": 2}])]
    ),
    "diff values": lambda v: body(
        [entry("Service", "web", state="Drifted", diff=[{"path": "tags", "live": {"k": v}, "desired": v}])]
    ),
    "changes": lambda v: body(
        [entry("Service", "web", changes=[{"at": v, "action": v, "cause": v, "revision": v, "paths": [v]}])]
    ),
    "drift episodes": lambda v: body(
        [
            entry(
                "Service",
                "web",
                driftEpisodes=[{"detectedAt": v, "correctedAt": v, "by": principal(v), "paths": [v]}],
            )
        ]
    ),
    "last drift by": lambda v: body([entry("Service", "web", lastDriftBy=principal(v))]),
    "drift by an account": lambda v: body(
        [
            entry(
                "Service",
                "web",
                lastDriftBy={"type": "user", "name": "", "account": v, "foundBy": v, "at": v},
            )
        ]
    ),
    "deployments": lambda v: body(
        [
            entry(
                "Service",
                "web",
                deployments=[
                    {
                        "id": v,
                        "revision": v,
                        "startedBy": v,
                        "strategy": v,
                        "status": v,
                        "reason": v,
                        "startedAt": v,
                        "finishedAt": v,
                    }
                ],
            )
        ]
    ),
    "source dir": lambda v: body([entry("Service", "web")], source={"dir": v}),
    "source git": lambda v: body(
        [entry("Service", "web")],
        source={"git": f"https://github.com/o/r{v}@main", "revision": v, "lastFetch": v, "lastError": v},
    ),
    "last pass": lambda v: body([entry("Service", "web")], lastPass={"at": v, "seconds": v, "revision": v}),
    "coordination": lambda v: body(
        [entry("Service", "web")],
        coordination={"kind": "shards", "replica": v, "members": [v], "held": [v], "count": v},
    ),
    "targets": lambda v: body([entry("Service", "web")], targets=[{"instance": v}, {"instance": "b"}]),
}


def every_page(status: dict[str, Any], query: dict[str, str] | None = None) -> str:
    rendered = [
        pages.estate_page(status),
        pages.applications_page(status, query or {}),
        pages.shared_page(status),
    ]
    rendered += [pages.application_page(status, a["name"]) or "" for a in status["applications"]]
    rendered.append(pages.not_found_page(status, HOSTILE))
    return "\n".join(rendered)


@pytest.mark.parametrize("case", CASES)
def test_a_user_controlled_value_is_shown_as_text_never_as_html(case: str) -> None:
    text = every_page(CASES[case](HOSTILE))
    assert HOSTILE not in text
    assert "<img" not in text
    assert ESCAPED in text or html.escape(HOSTILE.strip("\"'&"), quote=True) in text, (
        f"{case}: not shown at all"
    )


def test_the_name_filter_is_shown_escaped() -> None:
    text = pages.applications_page(body([entry("Service", "web")]), {"q": HOSTILE})
    assert HOSTILE not in text and ESCAPED in text


def test_templates_escape_their_values_but_not_markup() -> None:
    assert template("<b>{}</b>", "<i>") == "<b>&lt;i&gt;</b>"
    assert template("<b>{}</b>", Markup("<i>")) == "<b><i></b>"
    assert template('<a href="{}">', '" onclick="x') == '<a href="&quot; onclick=&quot;x">'


ESTATE = body(
    [
        entry("Service", "api", state="Drifted", health="Healthy"),
        entry("TargetGroup", "api-tg"),
        entry("Service", "web", state="Synced", health="Degraded"),
        entry("TaskDefinition", "web"),
        entry("Service", "worker"),
        entry("Cluster", "prod"),
    ]
)


def listed(text: str) -> list[str]:
    return re.findall(r'<a href="/applications/([^"]+)">', text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["api", "web", "worker"]),
        ({"state": "Drifted"}, ["api"]),  # its worst resource's state
        ({"state": "Synced"}, ["web", "worker"]),
        ({"health": "Degraded"}, ["web"]),
        ({"health": "Healthy", "state": "Synced"}, ["worker"]),
        ({"q": "or"}, ["worker"]),
        ({"q": "nothing"}, []),
        ({"state": "Error"}, []),
        ({"page": "9"}, ["api", "web", "worker"]),  # past the end: the last page
        ({"page": "x"}, ["api", "web", "worker"]),
    ],
)
def test_filters_choose_applications_by_state_health_and_name(
    query: dict[str, str], expected: list[str]
) -> None:
    assert listed(pages.applications_page(ESTATE, query)) == expected


def test_the_list_is_paginated_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    first, second = (pages.applications_page(ESTATE, {"page": p}) for p in ("1", "2"))
    assert listed(first) == ["api", "web"] and listed(second) == ["worker"]
    assert "1 to 2 of 3 matching" in first and "page=2" in first
    assert "3 to 3 of 3 matching" in second and "page=1" in second


def test_an_application_page_shows_its_resources_only() -> None:
    text = pages.application_page(ESTATE, "api") or ""
    assert "api-tg" in text and "TaskDefinition" not in text and "prod" not in text
    assert pages.application_page(ESTATE, "prod") is None  # shared, not an application
    assert "prod" in pages.shared_page(ESTATE)


def test_a_resource_not_planned_yet_is_pending() -> None:
    status = ESTATE | {"applications": [{"name": "new", "resources": ["Service/new", "TaskDefinition/new"]}]}
    text = pages.application_page(status, "new") or ""
    assert text.count("s-Pending") >= 2


def test_the_diff_history_and_who_drifted_are_shown() -> None:
    drifted = entry("Service", "api", state="Drifted", lastDriftBy=principal("alice"),
                    diff=[{"path": "desiredCount", "live": 5, "desired": 2}],
                    changes=[{"at": "2026-12-05T10:00:00+00:00", "action": "update", "cause": "drift",
                              "revision": SHA, "paths": ["desiredCount"]}],
                    driftEpisodes=[{"detectedAt": "2026-12-05T09:59:00+00:00", "correctedAt": None,
                                    "by": principal("alice"), "paths": ["desiredCount"]}])  # fmt: skip
    text = pages.application_page(body([drifted]), "api") or ""
    assert "<code>desiredCount</code></td><td><code>5</code></td><td><code>2</code>" in text
    assert "alice (user)" in text and "not corrected" in text and "drift" in text
    anonymous = entry("Service", "api", lastDriftBy={"type": "role", "name": "", "account": "123456789012"})
    assert "role of account 123456789012" in (pages.application_page(body([anonymous]), "api") or "")


def test_sync_form_only_with_ui_sync_and_no_form_otherwise() -> None:
    for render in (pages.estate_page, pages.shared_page):
        assert "<form" not in render(ESTATE)
        assert 'action="/ui/sync"' in render(ESTATE, pages.Options(sync=True))


@pytest.mark.parametrize(
    ("git", "url"),
    [
        ("https://github.com/acme/estate.git@main", f"https://github.com/acme/estate/commit/{SHA}"),
        ("https://***@github.com/acme/estate@HEAD", f"https://github.com/acme/estate/commit/{SHA}"),
        ("git@github.com:acme/estate.git@main", f"https://github.com/acme/estate/commit/{SHA}"),
        ("ssh://git@github.com/acme/estate.git@v1", f"https://github.com/acme/estate/commit/{SHA}"),
        (
            "https://gitlab.com/group/sub/estate.git@main",
            f"https://gitlab.com/group/sub/estate/-/commit/{SHA}",
        ),
        (
            "git@gitlab.example.com:group/estate.git@main",
            f"https://gitlab.example.com/group/estate/-/commit/{SHA}",
        ),
        ("https://bitbucket.org/acme/estate.git@main", f"https://bitbucket.org/acme/estate/commits/{SHA}"),
        ("git@bitbucket.org:acme/estate.git@main", f"https://bitbucket.org/acme/estate/commits/{SHA}"),
        ("https://github.com/acme/estate@feature/x", f"https://github.com/acme/estate/commit/{SHA}"),
        ("git@github.com:acme/estate.git@refs/tags/v1", f"https://github.com/acme/estate/commit/{SHA}"),
        ("https://git.example.com/acme/estate.git@main", None),  # an unknown host: no link
        ("file:///srv/estate.git@main", None),
        ("/srv/estate@main", None),
    ],
)
def test_commit_links_for_known_git_hosts(git: str, url: str | None) -> None:
    assert pages.commit_url(git, SHA) == url


def test_no_commit_link_for_what_is_not_a_sha() -> None:
    assert pages.commit_url("https://github.com/acme/estate@main", "main") is None
    status = body([entry("Service", "web")], source={"git": "https://github.com/a/b@main", "revision": SHA})
    assert f'href="https://github.com/a/b/commit/{SHA}"' in pages.estate_page(status)
