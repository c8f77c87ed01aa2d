"""``plan --output markdown``, table-wise: rendered by a CommonMark parser (raw HTML on, as GitHub allows the
few tags a comment uses), the comment has its summary, one ``<details>`` per application with changes and one for
the shared resources; hostile values stay text; secrets stay masked; a plan too long for a comment loses whole
sections, says so, and fits."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from reconciler.model.resource import DesiredResource, DesiredState, Mode
from reconciler.model.secrets import masked
from reconciler.plan.diff import FieldDiff
from reconciler.plan.markdown import COMMENT_LIMIT, MARKER, plan_as_markdown
from reconciler.plan.types import Action, Cause, Change, Conflict, Orphan, Owned, Plan, Unmanaged
from reconciler.source.directory import load_directory
from tests.plan.test_render_secrets import task_definition

ESTATE = load_directory(Path(__file__).resolve().parents[2] / "desired-state", (), {})
MARKDOWN = MarkdownIt("commonmark", {"html": True})
# what the comment's own structure uses; anything else in the HTML came from a value
ALLOWED_TAGS = {"h3", "p", "strong", "details", "summary", "b", "code", "pre", "blockquote", "ul", "li"}
HOSTILE = [
    "</details>",
    "</summary></details><script>alert(1)</script>",
    "```\n</details>\n<script>alert(1)</script>\n```",
    "a | b | c",
    "`` ` ```` `",
    "`<script>alert(1)</script>`",
    "``<img src=x onerror=alert(1)>``",
    "<img src=x onerror=alert(1)>",
    "line\n\n<details><summary>fake</summary>\n\n- [x] @octocat",
    "*not bold* [a link](https://example.com) &amp; \\",
    "\u2028</details>\u2029",
]


@dataclass
class Html(HTMLParser):
    """The elements of the rendered HTML, and each ``<details>``'s summary text."""

    tags: Counter[str] = field(default_factory=Counter)
    summaries: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    outside_code: list[str] = field(default_factory=list)  # text that is not in a code span or block
    _in_summary: bool = False
    _in_code: int = 0

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self._in_code += tag == "code"
        if tag == "summary":
            self._in_summary = True
            self.summaries.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_code -= tag == "code"
        if tag == "summary":
            self._in_summary = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not self._in_code:
            self.outside_code.append(data)
        if self._in_summary:
            self.summaries[-1] += data


def rendered(comment: str) -> Html:
    found = Html()
    found.feed(MARKDOWN.render(comment))
    found.close()
    return found


def change(kind: str, name: str, *diff: tuple[str, Any, Any], **extra: Any) -> Change:
    rows = [FieldDiff(path=path, live=live, desired=desired) for path, live, desired in diff]
    return Change(
        kind=kind, name=name, action=extra.pop("action", Action.UPDATE), cause=extra.pop("cause", Cause.DRIFT),
        diff=rows, **extra,
    )  # fmt: skip


def test_one_section_per_application_with_changes_then_the_shared_ones() -> None:
    plan = Plan(
        revision="5fb9225ceecd",
        changes=[
            change("Service", "wordpress", ("desiredCount", 5, 1)),
            change(
                "TaskDefinition", "wordpress", ("containerDefinitions[wordpress].image", "evil:1", "wp:6")
            ),
            change("TargetGroup", "catalog-tg-a", ("HealthCheckPath", "/", "/health"), cause=Cause.DESIRED),
            change("Cluster", "myapp-prod", ("settings[containerInsights]", "disabled", "enabled")),
            change("Service", "gone", action=Action.DELETE, cause=Cause.ORPHAN),
            change("ScalableTarget", "frontapp", ("MaxCapacity", 4, 6), held="a deployment is in progress"),
        ],
        conflicts=[Conflict(kind="Service", name="scorekeep-api", owner="other")],
        owned=[Owned(kind="Service", name="wordpress", path="desiredCount", owner="application-autoscaling")],
    )
    comment = plan_as_markdown(plan, ESTATE)
    html = rendered(comment)
    assert comment.startswith(MARKER + "\n")
    assert [s.split(" · ")[0] for s in html.summaries] == [
        "catalog", "frontapp", "scorekeep-api", "wordpress", "shared resources",
    ]  # fmt: skip
    assert html.tags["details"] == 5
    assert set(html.tags) <= ALLOWED_TAGS
    summary = comment.split("\n")[3]
    assert summary.startswith("**Plan:** 0 to create, 5 to update, 0 to replace, 1 to delete, 0 to adopt")
    assert "4 drifted in AWS, 1 changed in Git, 1 orphan · 1 held, 1 conflicts" in summary
    assert "revision ` 5fb9225ceecd `" in summary
    wordpress = comment.split("<b><code>wordpress</code></b>")[1].split("</details>")[0]
    assert "- desiredCount: 5\n+ desiredCount: 1" in wordpress
    assert (
        "- containerDefinitions[wordpress].image: evil:1\n+ containerDefinitions[wordpress].image: wp:6"
        in wordpress
    )
    assert "Left to other owners: ` desiredCount ` (` application-autoscaling `)" in wordpress
    assert "owned by reconciler instance ` other `" in comment.split("scorekeep-api</code>")[1]
    assert "**held:** ` a deployment is in progress `" in comment.split("<code>frontapp</code>")[1]
    shared = comment.split("shared resources")[1]
    assert "Cluster ` myapp-prod `" in shared and "Service ` gone `" in shared


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (Plan(revision="r1"), "**No changes.** Live AWS matches the desired state · 0 held, 0 conflicts"),
        (
            Plan(revision="r1", changes=[change("Service", "wordpress", action=Action.CREATE, cause=Cause.MISSING),
                                         change("Service", "frontapp", ("desiredCount", 3, 2), restamp=True)]),
            "**Plan:** 1 to create, 0 to update, 0 to replace, 0 to delete, 0 to adopt · 0 drifted in AWS, "
            "0 changed in Git, 1 missing · 0 held, 0 conflicts · 1 tags refreshed",
        ),
        (
            Plan(revision="r1", changes=[change("Service", "wordpress", ("desiredCount", 3, 2), mode=Mode.DETECT)]),
            "**Plan:** 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to adopt · 1 drifted in AWS",
        ),
    ],
)  # fmt: skip
def test_the_summary_counts_actions_causes_held_and_conflicts(plan: Plan, expected: str) -> None:
    comment = plan_as_markdown(plan, ESTATE)
    assert comment.split("\n")[3].startswith(expected)
    assert rendered(comment).tags["details"] == len({c.name for c in plan.reported_changes})


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_name_or_message_stays_text(value: str) -> None:
    plan = Plan(
        revision="r1",
        changes=[
            change("Service", "wordpress", ("environment[NOTE]", value, "fine"), (value, "x", "y"),
                   reason=value, held=value),
            change("TargetGroup", value, ("HealthCheckPath", "/", value)),
        ],
        conflicts=[Conflict(kind="Service", name="frontapp", owner=value)],
        unmanaged=[Unmanaged(kind="ListenerRule", name=value, arn="arn:x", parent="frontapp-https", reason=value)],
        orphans=[Orphan(kind="TargetGroup", name=value, arn="arn:y")],
        owned=[Owned(kind="Service", name="wordpress", path=value, owner=value)],
    )  # fmt: skip
    html = rendered(plan_as_markdown(plan, ESTATE))
    assert set(html.tags) <= ALLOWED_TAGS, html.tags
    assert html.tags["details"] == html.tags["summary"] == 3  # frontapp, wordpress, shared
    assert [s.split(" · ")[0] for s in html.summaries] == ["frontapp", "wordpress", "shared resources"]
    if "\n" not in value and "\u2028" not in value:
        assert value in "".join(html.text)  # shown as it is, as text
    outside = "".join(html.outside_code)
    assert "octocat" not in outside and "alert" not in outside and "example.com" not in outside  # code only
    for shown in ("`", "\n", "\u2028"):
        if shown in value:
            break
    else:
        assert sum(value in text for text in html.text) >= 8  # each place it appears, in one text node


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_service_name_stays_text_in_its_section_s_summary(value: str) -> None:
    named = DesiredResource(kind="Service", name=value, spec={"cluster": "main"}, file="s.yaml", line=1)
    desired = DesiredState(resources=(named,), revision="r1")
    plan = Plan(revision="r1", changes=[change("Service", value, ("desiredCount", 1, 2))])
    html = rendered(plan_as_markdown(plan, desired))
    assert set(html.tags) <= ALLOWED_TAGS, html.tags
    assert html.tags["details"] == html.tags["summary"] == 1
    if "\n" not in value and "\u2028" not in value:
        assert html.summaries[0].startswith(value + " · ")


def test_secret_values_are_masked_as_in_the_text_plan() -> None:
    live, desired, salt = (f"s3cr3t-{uuid.uuid4()}" for _ in range(3))
    prefix = "taskDefinition.containerDefinitions[wordpress]"
    plan = Plan(
        revision="r1",
        changes=[
            change("Service", "wordpress", (f"{prefix}.environment[WORDPRESS_DB_PASSWORD]", live, desired),
                   (f"{prefix}.environment[SERVER_PORT]", "9090", "8080"),
                   ("taskDefinition.containerDefinitions[sidecar]", {"environment": {"[API_TOKEN]": salt}}, None),
                   reason=f"echoed: {live}"),
        ],
    )  # fmt: skip
    comment = plan_as_markdown(plan, ESTATE)
    assert live not in comment and desired not in comment and salt not in comment
    assert f"- {prefix}.environment[WORDPRESS_DB_PASSWORD]: {masked(live)}" in comment
    assert f"+ {prefix}.environment[WORDPRESS_DB_PASSWORD]: {masked(desired)}" in comment
    assert f"+ {prefix}.environment[SERVER_PORT]: 8080" in comment
    assert masked(salt) in comment


def service(index: int) -> DesiredResource:
    return DesiredResource(
        kind="Service", name=f"svc-{index:04}", spec={"cluster": "main"}, file=f"s/{index}.yaml", line=1
    )


def thousands(services: int, diffs: int) -> tuple[Plan, DesiredState]:
    desired = DesiredState(resources=tuple(service(i) for i in range(services)), revision="big")
    changes = [
        change("Service", f"svc-{i:04}", *((f"containerDefinitions[app{d}].image", "x" * 60, "y" * 60)
                                           for d in range(diffs)))
        for i in range(services)
    ]  # fmt: skip
    return Plan(revision="big", changes=changes), desired


@pytest.mark.parametrize(
    ("services", "diffs", "limit"),
    [
        (3000, 4, COMMENT_LIMIT),  # 3000 applications, 12000 differences: 2.8 MB as a whole
        (40, 4, 10_000),
        (5, 2, 1_500),
    ],
)
def test_a_plan_longer_than_a_comment_loses_whole_sections_and_says_so(
    services: int, diffs: int, limit: int
) -> None:
    plan, desired = thousands(services, diffs)
    whole = plan_as_markdown(plan, desired, limit=10**9)
    comment = plan_as_markdown(plan, desired, limit=limit)
    assert len(whole.encode()) > limit >= len(comment.encode())
    html = rendered(comment)
    kept = html.tags["details"]
    assert 0 < kept < services and html.tags["summary"] == kept
    left = services - kept
    note = f"{left} of {services} applications left out ({left * 1} of {services} changes)"
    assert note in comment and "Run `reconciler plan` for the whole plan." in comment
    assert comment.split("\n")[3] == whole.split("\n")[3]  # the summary stays whole
    for name in (s.split(" · ")[0] for s in html.summaries):  # each section kept is whole
        section = whole.split(f"<b><code>{name}</code></b>")[1].split("</details>")[0]
        assert section in comment
    assert len(comment.encode()) > limit - 1_000  # it fills the comment, not leaving most of it empty


def test_a_plan_that_fits_is_not_cut() -> None:
    plan, desired = thousands(20, 2)
    comment = plan_as_markdown(plan, desired)
    assert "Cut to fit" not in comment
    assert rendered(comment).tags["details"] == 20


def test_secret_looking_values_written_in_clear_get_a_section_of_their_own_without_their_values() -> None:
    value = f"s3cr3t-{uuid.uuid4()}"
    desired = DesiredState(resources=(task_definition(DB_PASSWORD=value),), revision="r1")
    html = rendered(plan_as_markdown(Plan(revision="r1"), desired))
    assert [s.split(" · ")[0] for s in html.summaries] == ["secret-looking values written in clear"]
    assert "services/web.yaml:14: environment DB_PASSWORD of container app" in "".join(html.text)
    assert value not in "".join(html.text)
