"""``reconciler import``: the example estate, applied in the emulator, imported into a new directory,
plans with no changes against the account it came from; an estate made by hand imports as adoptions that change
no field; a missing cluster or an existing file is a clear error that writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.importer import OtherAccount, import_estate
from reconciler.live.clients import AwsClients
from reconciler.model.targets import Target
from tests.conftest import REGION, BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate


def _kinds(out: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(out.rglob("*.yaml")):
        found += [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(path.read_text()) if d]
    return sorted(found)


def _declared(root: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(root.rglob("*.yaml")):
        if path.name != "vars.yaml":
            found += [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(path.read_text()) if d]
    return sorted(found)


def test_the_imported_estate_plans_with_no_changes(converged: Estate, cli: CLI, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    result = cli("import", "--cluster", "myapp-prod", "--out", str(out))
    assert result.code == 0, result.err
    assert _kinds(out) == _declared(converged.dir)  # every resource of the estate, under its own name
    assert cli("validate", str(out)).code == 0
    plan = cli("plan", str(out), "--output", "json")
    assert (plan.code, plan.json()["changes"]) == (0, []), plan.out


def _policies(root: Path) -> dict[tuple[str, str], str]:
    found = {}
    for path in sorted(root.rglob("*.yaml")):
        if path.name != "vars.yaml":
            for d in yaml.safe_load_all(path.read_text()):
                if d:
                    found[d["kind"], d["metadata"]["name"]] = d["metadata"].get("deletionPolicy", "Retain")
    return found


def test_an_estate_a_reconciler_manages_imports_with_its_own_names_and_policies(
    estate: Estate, cli: CLI, tmp_path: Path
) -> None:
    """Names that are not the importer's conventions (a scalable target's document name is free) and deletion
    policies other than the default come back as the repository had them: the round trip plans nothing."""
    estate.edit(
        "scaling/frontapp.yaml",
        "kind: ScalableTarget\nmetadata:\n  name: frontapp",
        "kind: ScalableTarget\nmetadata:\n  name: frontapp-count\n  deletionPolicy: Delete",
    )
    estate.edit(
        "scaling/frontapp.yaml",
        "  name: frontapp-cpu60\n",
        "  name: frontapp-cpu60\n  deletionPolicy: Delete\n",
    )
    estate.edit(
        "services/wordpress.yaml",
        "metadata:\n  name: wordpress\n  labels: {system: myapp, team: marketing}\nspec:\n  cluster",
        "metadata:\n  name: wordpress\n  deletionPolicy: Delete\n  labels: {system: myapp, team: marketing}\nspec:\n  cluster",
    )
    assert cli("apply", *estate.args()).code == 0
    declared = _policies(estate.dir)
    assert list(declared.values()).count("Delete") == 3, declared  # the edits took
    out = tmp_path / "imported"
    assert cli("import", "--cluster", "myapp-prod", "--out", str(out)).code == 0
    assert _policies(out) == declared
    plan = cli("plan", str(out), "--output", "json")
    assert (plan.code, plan.json()["changes"]) == (0, []), plan.out


def test_after_a_blue_green_deployment_the_import_still_plans_clean(
    converged: Estate, cli: CLI, tmp_path: Path, boto: BotoFactory
) -> None:
    converged.set_var("FRONTAPP_TAG", "1.5.0")
    assert cli("apply", *converged.args()).code == 0
    wait_until_settled(boto)  # once the deployment has finished, frontapp serves from frontapp-tg02
    out = tmp_path / "imported"
    assert cli("import", "--cluster", "myapp-prod", "--service", "frontapp", "--out", str(out)).code == 0
    service = next(
        d for d in yaml.safe_load_all((out / "services/frontapp.yaml").read_text()) if d["kind"] == "Service"
    )
    assert service["spec"]["loadBalancers"][0]["targetGroupArn"] == "frontapp-tg02"
    assert cli("validate", str(out)).code == 0
    plan = cli("plan", str(out), "--output", "json")
    # the rest of the estate is not in this directory: it is reported as orphaned, never deleted or changed
    assert [c for c in plan.json()["changes"] if c["cause"] != "orphan"] == [], plan.out


def test_a_hand_made_service_imports_as_adoptions_without_field_changes(
    estate: Estate, cli: CLI, boto: BotoFactory, tmp_path: Path
) -> None:
    variables = estate.variables
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="legacy", tags=[{"key": "Team", "value": "ops"}])
    ecs.register_task_definition(
        family="legacy-api",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=variables["EXECUTION_ROLE_ARN"],
        containerDefinitions=[
            {
                "name": "api",
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "environment": [{"name": "MODE", "value": "prod"}],
            }
        ],
    )
    network: dict[str, Any] = {
        "awsvpcConfiguration": {
            "subnets": [variables["PRIVATE_SUBNET_A"]],
            "securityGroups": [variables["APP_SECURITY_GROUP"]],
            "assignPublicIp": "DISABLED",
        }
    }
    ecs.create_service(
        cluster="legacy",
        serviceName="legacy-api",
        taskDefinition="legacy-api",
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration=network,
    )
    out = tmp_path / "imported"
    assert cli("import", "--cluster", "legacy", "--out", str(out)).code == 0
    assert _kinds(out) == [("Cluster", "legacy"), ("Service", "legacy-api"), ("TaskDefinition", "legacy-api")]
    plan = cli("plan", str(out), "--output", "json").json()
    changes = {(c["kind"], c["action"]): c["diff"] for c in plan["changes"]}
    assert set(changes) <= {("Cluster", "adopt"), ("Service", "adopt"), ("TaskDefinition", "adopt")}
    assert all(not [d for d in diff if not d["path"].startswith("tags")] for diff in changes.values()), (
        changes
    )
    assert cli("apply", str(out)).code == 0
    assert cli("plan", str(out)).code == 0
    assert (
        len(ecs.list_task_definitions(familyPrefix="legacy-api")["taskDefinitionArns"]) == 1
    )  # no new revision


def test_a_missing_cluster_or_an_existing_file_is_an_error_that_writes_nothing(
    converged: Estate, cli: CLI, tmp_path: Path
) -> None:
    out = tmp_path / "imported"
    missing = cli("import", "--cluster", "nope", "--out", str(out))
    assert (missing.code, "cluster nope not found" in missing.err, out.exists()) == (1, True, False)
    (out / "services").mkdir(parents=True)
    (out / "services/wordpress.yaml").write_text("# mine\n")
    clash = cli("import", "--cluster", "myapp-prod", "--out", str(out))
    assert clash.code == 1 and "not overwriting" in clash.err and "wordpress.yaml" in clash.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml")) == ["services/wordpress.yaml"]
    assert (out / "services/wordpress.yaml").read_text() == "# mine\n"


EXAMPLE = Path(__file__).resolve().parents[2] / "desired-state"


async def test_import_of_a_target_reads_its_account_and_says_its_target(
    aws: str, boto: BotoFactory, tmp_path: Path
) -> None:
    boto("ecs").create_cluster(clusterName="legacy")
    account = boto("sts").get_caller_identity()["Account"]
    target = Target("prod-eu", account=account, region=REGION)
    async with AwsClients(region=REGION, endpoint_url=aws) as clients:
        written = await import_estate(
            clients, cluster="legacy", services=[], out=tmp_path / "prod", target=target
        )
    assert written == [tmp_path / "prod" / "cluster.yaml"]
    [document] = [d for d in yaml.safe_load_all(written[0].read_text()) if d]
    assert document["metadata"] == {"name": "legacy", "target": "prod-eu"}

    elsewhere = Target("staging", account="111111111111", region=REGION)  # credentials of another account
    async with AwsClients(region=REGION, endpoint_url=aws) as clients:
        with pytest.raises(
            OtherAccount, match=f"reach account {account}, not the target's account 111111111111"
        ):
            await import_estate(
                clients, cluster="legacy", services=[], out=tmp_path / "staging", target=elsewhere
            )
    assert not (tmp_path / "staging").exists()


def test_import_target_names_a_target_of_the_desired_state(
    boto: BotoFactory, cli: CLI, tmp_path: Path
) -> None:
    boto("ecs").create_cluster(clusterName="legacy")
    assert cli("import", "--cluster", "legacy", "--out", str(tmp_path / "plain")).code == 0
    default = cli("import", "--cluster", "legacy", "--target", "default", "--desired", str(EXAMPLE),
                  "--out", str(tmp_path / "default"))  # fmt: skip
    assert default.code == 0, default.err  # without targets.yaml: the one target, written as without --target
    assert (tmp_path / "default" / "cluster.yaml").read_text() == (
        tmp_path / "plain" / "cluster.yaml"
    ).read_text()

    unknown = cli("import", "--cluster", "legacy", "--target", "prod-eu", "--desired", str(EXAMPLE),
                  "--out", str(tmp_path / "unknown"))  # fmt: skip
    assert unknown.code == 1
    problem = "targets.yaml:1: --target names 'prod-eu', which is not a target (no targets.yaml: the only target is 'default')"
    assert problem in unknown.err.splitlines()
    refused = cli("import", "--cluster", "legacy", "--target", "default", "--desired", str(EXAMPLE),
                  "--allowed-targets", "staging", "--out", str(tmp_path / "refused"))  # fmt: skip
    assert (refused.code, refused.err.strip()) == (
        1,
        "error: target default is not in --allowed-targets (staging)",
    )
    assert not (tmp_path / "unknown").exists() and not (tmp_path / "refused").exists()
