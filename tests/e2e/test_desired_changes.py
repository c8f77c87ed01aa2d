"""Git changes are applied with ``cause: desired``, and detect mode writes nothing."""

from __future__ import annotations

from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate, calls_of, count_api_calls

FRONTAPP = "services/frontapp.yaml"
WORDPRESS = "services/wordpress.yaml"  # not autoscaled: its desiredCount is Git's


def _plan_changes(cli: CLI, estate: Estate, *extra: str) -> list[dict[str, object]]:
    plan = cli("plan", *estate.args(), "--output", "json", *extra)
    assert plan.code in (0, 2), plan.err
    changes: list[dict[str, object]] = plan.json()["changes"]
    return changes


def _summary(changes: list[dict[str, object]]) -> set[tuple[object, object, object, object]]:
    return {(c["kind"], c["name"], c["action"], c["cause"]) for c in changes}


def test_new_image_tag_registers_one_revision_and_deploys_it(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    converged.set_var("FRONTAPP_TAG", "1.5.0")
    changes = _plan_changes(cli, converged)
    assert _summary(changes) == {
        ("TaskDefinition", "frontapp", "create", "desired"),
        ("Service", "frontapp", "update", "desired"),
    }
    deployments, updates = calls_of("CreateDeployment"), calls_of("UpdateService")
    assert cli("apply", *converged.args()).code == 0
    # frontapp is blue/green: one CodeDeploy deployment, no UpdateService; it now serves from frontapp-tg02
    assert (calls_of("CreateDeployment") - deployments, calls_of("UpdateService") - updates) == (1, 0)
    wait_until_settled(boto)  # the deployment takes time
    assert _plan_changes(cli, converged) == []
    ecs = boto("ecs")
    service = ecs.describe_services(cluster="myapp-prod", services=["frontapp"])["services"][0]
    serving = boto("elbv2").describe_target_groups(
        TargetGroupArns=[service["loadBalancers"][0]["targetGroupArn"]]
    )
    assert serving["TargetGroups"][0]["TargetGroupName"] == "frontapp-tg02"
    running = service["taskDefinition"]
    image = ecs.describe_task_definition(taskDefinition=running)["taskDefinition"]["containerDefinitions"]
    assert any(c["image"].endswith("frontapp:1.5.0") for c in image)
    assert len(ecs.list_task_definitions(familyPrefix="frontapp")["taskDefinitionArns"]) == 2


def test_new_environment_variable_is_a_desired_change(converged: Estate, cli: CLI, boto: BotoFactory) -> None:
    converged.edit(
        FRONTAPP,
        "- {name: APP_ENV, value: prod}",
        "- {name: APP_ENV, value: prod}\n        - {name: FEATURE_X, value: 'on'}",
    )
    changes = _plan_changes(cli, converged)
    service = next(c for c in changes if c["kind"] == "Service")
    assert service["cause"] == "desired"
    assert "taskDefinition.containerDefinitions[app].environment[FEATURE_X]" in [
        d["path"] for d in service["diff"]
    ]  # type: ignore[attr-defined]
    assert cli("apply", *converged.args()).code == 0
    wait_until_settled(boto)  # the deployment takes time
    assert _plan_changes(cli, converged) == []


def test_new_desired_count_is_a_desired_change(converged: Estate, cli: CLI, boto: BotoFactory) -> None:
    converged.edit(WORDPRESS, "desiredCount: 1", "desiredCount: 3")
    changes = _plan_changes(cli, converged)
    assert _summary(changes) == {("Service", "wordpress", "update", "desired")}
    assert cli("apply", *converged.args()).code == 0
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert service["desiredCount"] == 3
    assert _plan_changes(cli, converged) == []


def _drift(boto: BotoFactory) -> None:
    boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=7)


def test_global_detect_mode_reports_drift_and_writes_nothing(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    _drift(boto)
    enforce_view = _plan_changes(cli, converged)
    detect_view = _plan_changes(cli, converged, "--mode", "detect")
    assert detect_view == enforce_view and _summary(detect_view) == {
        ("Service", "wordpress", "update", "drift")
    }

    writes_before = count_api_calls(writes_only=True)
    result = cli("apply", *converged.args(), "--mode", "detect")
    assert count_api_calls(writes_only=True) == writes_before
    assert "--mode detect: nothing is written" in result.out
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert service["desiredCount"] == 7


def test_document_in_detect_mode_reports_drift_and_writes_nothing(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    converged.edit(
        WORDPRESS,
        "kind: Service\nmetadata:\n  name: wordpress\n",
        "kind: Service\nmetadata:\n  name: wordpress\n  mode: detect\n",
    )
    _drift(boto)
    changes = _plan_changes(cli, converged)
    assert _summary(changes) == {("Service", "wordpress", "update", "drift")}
    assert changes[0]["mode"] == "detect"

    writes_before = count_api_calls(writes_only=True)
    cli("apply", *converged.args())
    assert count_api_calls(writes_only=True) == writes_before
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert service["desiredCount"] == 7


def test_a_field_update_service_cannot_change_replaces_the_service(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    converged.edit("services/wordpress.yaml", "launchType: FARGATE", "launchType: EC2")
    plan = cli("plan", *converged.args())
    assert "-/+ Service wordpress (replace, cause: desired)" in plan.out
    assert "launchType cannot be changed in place" in plan.out

    assert cli("apply", *converged.args(), "--max-deletions", "0").code == 1  # a replace deletes: guarded
    assert cli("apply", *converged.args()).code == 0
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert (service["status"], service["launchType"]) == ("ACTIVE", "EC2")
    assert _plan_changes(cli, converged) == []


def test_a_document_rewritten_with_the_same_meaning_is_no_change_and_registers_no_revision(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """Spelling out what AWS already has (an EFS volume's default root directory, a target group's default health
    check switch) changes the document's hash, not AWS: `plan` shows no change, `apply` only refreshes our
    spec-hash tags, the running revision is kept, and a later hand-made change is still told apart as drift."""
    converged.edit(
        WORDPRESS, "        transitEncryption:", "        rootDirectory: /\n        transitEncryption:"
    )
    converged.edit(
        "load-balancers/wordpress.yaml",
        "  HealthCheckPath: ",
        "  HealthCheckEnabled: true\n  HealthCheckPath: ",
    )
    plan = cli("plan", *converged.args(), "--output", "json")
    assert (plan.code, plan.json()["changes"]) == (0, []), plan.out
    assert {"TaskDefinition/wordpress", "Service/wordpress", "TargetGroup/wordpress-tg"} <= set(
        plan.json()["restamps"]
    )
    registered = calls_of("RegisterTaskDefinition")
    applied = cli("apply", *converged.args())
    assert applied.code == 0 and "0 applied" in applied.out and "spec-hash tags refreshed" in applied.out
    assert calls_of("RegisterTaskDefinition") == registered
    assert len(boto("ecs").list_task_definitions(familyPrefix="wordpress")["taskDefinitionArns"]) == 1
    after = cli("plan", *converged.args(), "--output", "json")
    assert (after.code, after.json()["changes"], "restamps" in after.json()) == (0, [], False)
    _drift(boto)
    assert _summary(_plan_changes(cli, converged)) == {("Service", "wordpress", "update", "drift")}
