"""What the pull-request workflow shows: the example estate applied, three drifts made by hand through the AWS API
in three applications (one of them a password put in clear into a task definition), then ``reconciler plan
--output markdown`` run as a user runs it, in a process of its own. The comment shows each drift in its
application's section, renders as CommonMark, fits in a GitHub comment and carries no secret value."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt

from reconciler.model.secrets import masked
from tests.e2e.conftest import REPO, BotoFactory, Estate, wait_until_settled

CLUSTER = "myapp-prod"
COMMENT_LIMIT = 65_536  # GitHub's limit on a comment's body


def drift_scorekeep_api_count(boto: BotoFactory) -> None:
    boto("ecs").update_service(cluster=CLUSTER, service="scorekeep-api", desiredCount=5)


def drift_catalog_health_check(boto: BotoFactory) -> None:
    elbv2 = boto("elbv2")
    (group,) = elbv2.describe_target_groups(Names=["catalog-tg-a"])["TargetGroups"]
    elbv2.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckPath="/hacked")


def drift_wordpress_password_in_clear(boto: BotoFactory, password: str) -> None:
    """A new revision of wordpress's task definition with the database password in ``environment``, run."""
    ecs = boto("ecs")
    (service,) = ecs.describe_services(cluster=CLUSTER, services=["wordpress"])["services"]
    running = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
            "executionRoleArn", "taskRoleArn", "volumes", "runtimePlatform")  # fmt: skip
    request: dict[str, Any] = {k: running[k] for k in keep if running.get(k)}
    (app,) = [c for c in request["containerDefinitions"] if c["name"] == "wordpress"]
    app["environment"].append({"name": "WORDPRESS_DB_PASSWORD", "value": password})
    arn = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=CLUSTER, service="wordpress", taskDefinition=arn)


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.summaries: list[str] = []
        self._summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._summary = self._summary or tag == "summary"
        if tag == "summary":
            self.summaries.append("")

    def handle_endtag(self, tag: str) -> None:
        self._summary = self._summary and tag != "summary"

    def handle_data(self, data: str) -> None:
        if self._summary:
            self.summaries[-1] += data


def test_the_plan_comment_shows_three_drifts_by_hand_in_their_applications(
    converged: Estate, boto: BotoFactory
) -> None:
    password = f"hunter2-{uuid.uuid4()}"
    drift_scorekeep_api_count(boto)
    drift_catalog_health_check(boto)
    drift_wordpress_password_in_clear(boto, password)
    wait_until_settled(
        boto
    )  # a service whose deployment is in progress is held: let the hand-made one finish

    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", *converged.args(), "--output", "markdown"],
        check=False, capture_output=True, text=True, cwd=REPO, env=os.environ | {"NO_COLOR": "1"}, timeout=120,
    )  # fmt: skip
    comment = done.stdout
    assert done.returncode == 2, comment + done.stderr  # changes pending
    assert len(comment) <= COMMENT_LIMIT
    assert password not in comment and password not in done.stderr
    assert masked(password) in comment  # the drift still shows, by its fingerprint

    html = MarkdownIt("commonmark", {"html": True}).render(comment)
    structure = Structure()
    structure.feed(html)
    assert [s.split(" · ")[0] for s in structure.summaries] == ["catalog", "scorekeep-api", "wordpress"]
    assert structure.tags.count("details") == 3
    assert not {"script", "img", "a", "iframe"} & set(structure.tags)
    assert "0 to create, 3 to update, 0 to replace, 0 to delete, 0 to adopt · 3 drifted in AWS" in comment

    sections = dict(
        zip(("catalog", "scorekeep-api", "wordpress"), comment.split("<details>")[1:], strict=True)
    )
    assert "- HealthCheckPath: /hacked\n+ HealthCheckPath: /catalog/health" in sections["catalog"]
    assert "- desiredCount: 5\n+ desiredCount: 2" in sections["scorekeep-api"]
    secret_path = "taskDefinition.containerDefinitions[wordpress].environment[WORDPRESS_DB_PASSWORD]"
    assert f"- {secret_path}: {masked(password)}" in sections["wordpress"]
