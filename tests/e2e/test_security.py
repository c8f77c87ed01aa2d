"""Security, end to end against the emulator: secrets never appear in logs, plan output or /status, and
--allowed-clusters and the ownership tag bound what may be touched, even if a document names something else.

A secret-looking environment value written in clear in a task definition is never printed, by any command, the
daemon's logs, ``/status`` or ``/metrics``: each place shows ``(masked sha256:…)`` instead, and ``validate``,
``plan`` and the daemon suggest moving it to ``secrets``. A document that touches a cluster outside
``--allowed-clusters`` makes the desired state invalid (``FILE:LINE``, exit 1) and nothing is written.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler.apply.executor import ApplyResult
from reconciler.errors import InvalidDesiredState
from reconciler.logs import RedactingFilter, configure_logging
from reconciler.model.secrets import KNOWN_SECRETS, masked
from reconciler.plan.diff import FieldDiff
from reconciler.plan.types import Action, Cause, Change, Plan
from reconciler.runtime.engine import PassOutcome
from reconciler.runtime.options import desired_source
from reconciler.runtime.report import Tracker
from reconciler.settings import Settings
from tests.conftest import CLI, BotoFactory, wait_until_settled
from tests.e2e.conftest import Estate, count_api_calls
from tests.e2e.test_daemon import free_port
from tests.files import write_tree

CLUSTER, SERVICE = "myapp-prod", "wordpress"
WORDPRESS = "services/wordpress.yaml"
LAST_VARIABLE = "        - {name: WORDPRESS_DB_NAME, value: wordpress}\n"
SUGGESTION = (
    "environment DB_PASSWORD of container wordpress in TaskDefinition/wordpress looks secret: "
    "use `secrets` with an SSM parameter (valueFrom) instead"
)
SECRET_PATH = "taskDefinition.containerDefinitions[wordpress].environment[DB_PASSWORD]"


def new_secret() -> str:
    return f"s3cr3t-{uuid.uuid4()}"


def add_secret_variable(estate: Estate, value: str) -> int:
    """Put ``DB_PASSWORD: value`` in clear in wordpress's environment; returns the line of the value."""
    estate.edit(
        WORDPRESS, LAST_VARIABLE, f'{LAST_VARIABLE}        - {{name: DB_PASSWORD, value: "{value}"}}\n'
    )
    lines = (estate.dir / WORDPRESS).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if "DB_PASSWORD, value" in line)


def move_wordpress_to_a_revision_with(boto: BotoFactory, value: str) -> None:
    """By hand, as a person with the AWS CLI: a new revision with another DB_PASSWORD, and wordpress on it."""
    ecs = boto("ecs")
    running = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
    described = ecs.describe_task_definition(taskDefinition=running)["taskDefinition"]
    keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
            "executionRoleArn", "taskRoleArn", "volumes")  # fmt: skip
    request = {k: described[k] for k in keep if described.get(k)}
    for variable in request["containerDefinitions"][0]["environment"]:
        if variable["name"] == "DB_PASSWORD":
            variable["value"] = value
    arn = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)


def running_value(boto: BotoFactory) -> str:
    ecs = boto("ecs")
    running = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
    container = ecs.describe_task_definition(taskDefinition=running)["taskDefinition"][
        "containerDefinitions"
    ][0]
    return str(next(v["value"] for v in container["environment"] if v["name"] == "DB_PASSWORD"))


def http_get(url: str, *, method: str = "GET") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(check: Any, *, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def ready(base: str) -> bool:
    try:
        return http_get(f"{base}/readyz")[0] == 200
    except OSError:
        return False


def test_secret_environment_values_never_appear_in_output_logs_or_status(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    in_git, by_hand, by_hand_again = new_secret(), new_secret(), new_secret()
    line = add_secret_variable(estate, in_git)
    where = f"{estate.dir / WORDPRESS}:{line}"
    printed: list[str] = []  # everything any command, log line or endpoint showed

    def run(*args: str) -> Any:
        result = cli(*args)
        printed.extend((result.out, result.err))
        return result

    validated = run("validate", *estate.args())
    assert validated.code == 0, validated.err
    assert f"warning: {where}: {SUGGESTION}" in validated.err

    planned = run("plan", *estate.args())
    assert planned.code == 2, planned.err
    assert f"  ! {where}: {SUGGESTION}" in planned.out.splitlines()
    planned_json = run("plan", *estate.args(), "--output", "json")
    warnings = planned_json.json()["warnings"]
    assert [(w["variable"], w["container"], w["line"]) for w in warnings] == [
        ("DB_PASSWORD", "wordpress", line)
    ]

    applied = run("apply", *estate.args())
    assert applied.code == 0, applied.out + applied.err
    assert running_value(boto) == in_git  # masking is for people: AWS gets the value
    converged = run("plan", *estate.args())
    assert converged.code == 0 and SUGGESTION in converged.out

    move_wordpress_to_a_revision_with(boto, by_hand)
    drifted = run("plan", *estate.args())
    assert drifted.code == 2
    assert f"      {SECRET_PATH}: {masked(by_hand)} → {masked(in_git)}" in drifted.out.splitlines()
    drifted_json = run("plan", *estate.args(), "--output", "json")
    service = next(c for c in drifted_json.json()["changes"] if c["name"] == SERVICE)
    assert {"path": SECRET_PATH, "desired": masked(in_git), "live": masked(by_hand)} in service["diff"]

    # The daemon, as deployed: a process of its own, every byte it writes captured. (It holds a service whose
    # deployment is in progress, even one made by hand: the sandbox's deployments take time, so wait for them.)
    wait_until_settled(boto)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "reconciler", "run", *estate.args(), "--listen", f"127.0.0.1:{port}",
               "--interval", "60", "--log-format", "json"]  # fmt: skip
    daemon = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        wait_for(lambda: ready(base))
        wait_for(lambda: running_value(boto) == in_git)  # the first pass corrected the drift
        move_wordpress_to_a_revision_with(boto, by_hand_again)  # a value this process has never seen
        wait_until_settled(boto)
        assert http_get(f"{base}/sync", method="POST")[0] == 202
        wait_for(lambda: running_value(boto) == in_git)
        for path in ("/status", "/metrics", "/healthz", "/readyz"):
            printed.append(http_get(f"{base}{path}")[1])
        status = json.loads(printed[-4])
        assert {(r["kind"], r["name"]) for r in status["resources"]} >= {("Service", SERVICE)}
    finally:
        daemon.terminate()
        out, err = daemon.communicate(timeout=15)
    logs = out.decode() + err.decode()
    printed.append(logs)
    assert daemon.returncode == 0, logs

    drift_logs = [json.loads(x) for x in out.decode().splitlines() if '"drift detected"' in x]
    masked_in_logs = {d["live"] for entry in drift_logs for d in entry["diff"] if d["path"] == SECRET_PATH}
    assert masked_in_logs == {masked(by_hand), masked(by_hand_again)}  # both drifts logged, both masked
    assert SUGGESTION in logs
    everything = "\n".join(printed)
    for value in (in_git, by_hand, by_hand_again):
        assert value not in everything
    assert "(masked sha256:" in everything


def rogue_service() -> str:
    return (
        "apiVersion: reconciler/v1\n"
        "kind: Service\n"
        "metadata: {name: rogue}\n"
        "spec:\n"
        "  cluster: other\n"  # line 5
        "  taskDefinition: wordpress\n"
        "  launchType: FARGATE\n"
        "  networkConfiguration:\n"
        "    awsvpcConfiguration: {subnets: ['${PRIVATE_SUBNET_A}']}\n"
        "---\n"
        "apiVersion: reconciler/v1\n"
        "kind: ScalableTarget\n"
        "metadata: {name: rogue}\n"
        "spec:\n"
        "  ServiceNamespace: ecs\n"
        "  ResourceId: service/other/rogue\n"  # line 16
        "  ScalableDimension: ecs:service:DesiredCount\n"
        "  MinCapacity: 1\n"
        "  MaxCapacity: 2\n"
    )


def test_a_document_touching_a_cluster_outside_allowed_clusters_is_refused_and_nothing_is_written(
    estate: Estate, cli: CLI, boto: BotoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = cli("plan", *estate.args(), "--allowed-clusters", CLUSTER)
    assert planned.code == 2, planned.err  # the example estate itself is within myapp-prod

    rogue = estate.dir / "services" / "rogue.yaml"
    rogue.write_text(rogue_service())
    refused = f"is not in --allowed-clusters ({CLUSTER}); this reconciler may not touch it"
    expected = [
        f"{rogue}:5: spec.cluster: cluster 'other' {refused}",
        f"{rogue}:16: spec.ResourceId: cluster 'other' {refused}",
    ]
    writes = count_api_calls(writes_only=True)
    for command in ("validate", "plan", "apply"):
        result = cli(command, *estate.args(), "--allowed-clusters", f"{CLUSTER},staging")
        assert result.code == 1, (command, result.out, result.err)
        problems = [line for line in result.err.splitlines() if "--allowed-clusters" in line]
        assert problems == [p.replace(f"({CLUSTER})", f"({CLUSTER}, staging)") for p in expected], command
    monkeypatch.setenv("RECONCILER_ALLOWED_CLUSTERS", CLUSTER)
    from_environment = cli("apply", *estate.args())
    assert from_environment.code == 1 and expected[0] in from_environment.err.splitlines()
    assert count_api_calls(writes_only=True) == writes
    assert boto("ecs").list_clusters()["clusterArns"] == []
    assert boto("ecs").list_task_definitions()["taskDefinitionArns"] == []


def test_the_daemon_source_refuses_other_clusters_at_load(tmp_path: Path) -> None:
    """``run`` loads through ``desired_source``: the same refusal, so the daemon keeps its last good state."""
    document = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata:\n  name: other\nspec: {}\n"
    write_tree(tmp_path, {"ds/cluster.yaml": document})
    source = desired_source(Settings(dir=tmp_path / "ds", allowed_clusters=[CLUSTER]))
    with pytest.raises(InvalidDesiredState) as invalid:
        source.load()  # type: ignore[attr-defined]
    assert [p.line for p in invalid.value.problems] == [4]
    assert "cluster 'other' is not in --allowed-clusters (myapp-prod)" in str(invalid.value)
    assert desired_source(Settings(dir=tmp_path / "ds")).load()  # type: ignore[attr-defined]


def test_log_lines_mask_secret_keys_environment_entries_diffs_and_known_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    known, unknown, live = new_secret(), new_secret(), new_secret()
    KNOWN_SECRETS.add([known])
    configure_logging(fmt="json", stream=sys.stdout)
    log = structlog.get_logger("test")
    try:
        raise RuntimeError(f"AWS said: bad value {known}")
    except RuntimeError:
        log.exception("apply failed", password=unknown, error=f"echo {known}")
    log.info(
        "registering", environment=[{"name": "API_TOKEN", "value": unknown}, {"name": "PORT", "value": "80"}]
    )
    log.info("drift", diff=[{"path": "containerDefinitions[app].environment[DB_PASSWORD]", "desired": known,
                             "live": live}])  # fmt: skip
    log.info("logged in clear", reason=f"later: {live}")  # learned from the diff above
    stdlib = io.StringIO()
    handler = logging.StreamHandler(stdlib)
    handler.addFilter(RedactingFilter())
    logging.getLogger("botocore.test").addHandler(handler)
    try:
        logging.getLogger("botocore.test").warning("request echoed %s", known)
    finally:
        logging.getLogger("botocore.test").removeHandler(handler)
    assert stdlib.getvalue() == f"request echoed {masked(known)}\n"
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.splitlines()]
    text = captured.out + captured.err
    for value in (known, unknown, live):
        assert value not in text
    assert lines[0]["password"] == masked(unknown) and lines[0]["error"] == f"echo {masked(known)}"
    assert masked(known) in lines[0]["exception"]
    assert lines[1]["environment"] == [{"name": "API_TOKEN", "value": masked(unknown)}, {"name": "PORT", "value": "80"}]  # fmt: skip
    assert lines[2]["diff"][0]["live"] == masked(live)
    assert lines[3]["reason"] == f"later: {masked(live)}"


def test_status_last_error_masks_secrets_echoed_by_aws() -> None:
    known, live = new_secret(), new_secret()
    KNOWN_SECRETS.add([known])
    diff = [FieldDiff(path=SECRET_PATH, desired=known, live=live)]
    change = Change(kind="Service", name=SERVICE, action=Action.UPDATE, cause=Cause.DRIFT, diff=diff)
    failure = f"ClientException: invalid environment value {known} (was {live})"

    result = ApplyResult(failed=[(change, failure)])
    tracker = Tracker()
    tracker.record(PassOutcome(plan=Plan(revision="r1", changes=[change]), result=result))
    body = json.dumps(tracker.as_json())
    assert known not in body and live not in body
    assert f"invalid environment value {masked(known)} (was {masked(live)})" in body
