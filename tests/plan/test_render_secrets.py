"""Plan output never shows a secret-looking value, and suggests `secrets` for each one written in clear."""

from __future__ import annotations

import json
import uuid
from typing import Any

from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.model.secrets import KNOWN_SECRETS, masked
from reconciler.plan.diff import FieldDiff
from reconciler.plan.render import plan_as_json, plan_as_text
from reconciler.plan.types import Action, Cause, Change, Plan

PREFIX = "taskDefinition.containerDefinitions[app]"


def secret() -> str:
    return f"s3cr3t-{uuid.uuid4()}"


def task_definition(**environment: str) -> DesiredResource:
    spec: dict[str, Any] = {
        "containerDefinitions": [
            {"name": "app", "image": "web:1", "environment": [{"name": k, "value": v} for k, v in environment.items()],
             "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/api-token"}]},
        ]
    }  # fmt: skip
    line_offsets = {  # lines 14 and 15
        "containerDefinitions[0].environment[0].value": 11,
        "containerDefinitions[0].environment[1].value": 12,
    }
    return DesiredResource(
        kind="TaskDefinition",
        name="web",
        spec=spec,
        file="services/web.yaml",
        line=3,
        line_offsets=line_offsets,
    )


def drift_plan(desired_value: str, live_value: str) -> Plan:
    diff = [
        FieldDiff(path="taskDefinition", desired="web:1", live="web:2"),
        FieldDiff(path=f"{PREFIX}.environment[DB_PASSWORD]", desired=desired_value, live=live_value),
        FieldDiff(path=f"{PREFIX}.environment[SERVER_PORT]", desired="8080", live="9090"),
        FieldDiff(path=f"{PREFIX}.secrets[API_TOKEN]", desired="arn:aws:ssm:new", live="arn:aws:ssm:old"),
        FieldDiff(path="taskDefinition.containerDefinitions[sidecar]", desired=None,
                  live={"image": "x", "environment": {"[WORDPRESS_AUTH_KEY]": live_value + "-salt"}}),
    ]  # fmt: skip
    change = Change(kind="Service", name="web", action=Action.UPDATE, cause=Cause.DRIFT, diff=diff)
    return Plan(revision="r1", changes=[change])


def test_diff_values_under_secret_names_are_masked_with_a_fingerprint_in_text_and_json() -> None:
    desired_value, live_value = secret(), secret()
    plan = drift_plan(desired_value, live_value)
    text, body = plan_as_text(plan), plan_as_json(plan)
    for output in (text, body):
        assert desired_value not in output and live_value not in output
    line = f"{PREFIX}.environment[DB_PASSWORD]: {masked(live_value)} → {masked(desired_value)}"
    assert line in text  # a change of the value still shows: two different fingerprints
    assert masked(live_value) != masked(desired_value)
    assert f"{PREFIX}.environment[SERVER_PORT]: 9090 → 8080" in text  # not secret: shown
    assert f"{PREFIX}.secrets[API_TOKEN]: arn:aws:ssm:old → arn:aws:ssm:new" in text  # a reference: shown
    diff = {d["path"]: d for d in json.loads(body)["changes"][0]["diff"]}
    assert diff[f"{PREFIX}.environment[DB_PASSWORD]"] == {
        "path": f"{PREFIX}.environment[DB_PASSWORD]",
        "desired": masked(desired_value),
        "live": masked(live_value),
    }
    sidecar = diff["taskDefinition.containerDefinitions[sidecar]"]["live"]
    assert sidecar["environment"]["[WORDPRESS_AUTH_KEY]"] == masked(live_value + "-salt")


def test_a_secret_seen_in_a_diff_is_masked_in_every_other_string_of_the_plan() -> None:
    value = secret()
    plan = drift_plan(value, secret())
    plan.changes[0].diff.append(
        FieldDiff(path=f"{PREFIX}.command", desired=["sh", "-c", f"run --pw {value}"])
    )
    plan.changes[0] = plan.changes[0].model_copy(update={"held": f"AWS said: invalid value {value}"})
    text, body = plan_as_text(plan), plan_as_json(plan)
    assert value not in text and value not in body
    assert f"run --pw {masked(value)}" in text
    assert value in KNOWN_SECRETS


def test_secret_looking_environment_values_written_in_clear_are_warned_about() -> None:
    value = secret()
    desired = DesiredState(revision="r1", resources=(task_definition(DB_PASSWORD=value, SERVER_PORT="8080"),))
    plan = Plan(revision="r1")
    text = plan_as_text(plan, desired)
    message = (
        "environment DB_PASSWORD of container app in TaskDefinition/web looks secret: "
        "use `secrets` with an SSM parameter (valueFrom) instead"
    )
    assert f"  ! services/web.yaml:14: {message}" in text.splitlines()
    assert "SERVER_PORT" not in text and value not in text
    warnings = json.loads(plan_as_json(plan, desired))["warnings"]
    assert warnings == [
        {
            "file": "services/web.yaml",
            "line": 14,
            "kind": "TaskDefinition",
            "name": "web",
            "container": "app",
            "variable": "DB_PASSWORD",
            "message": message,
        }
    ]
    assert "warnings" not in json.loads(plan_as_json(plan))
