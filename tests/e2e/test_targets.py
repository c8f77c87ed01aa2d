"""Many targets in one daemon, end to end against the emulator: three targets in two other accounts and two
Regions, each reached through its role (assumed with the process's own credentials, with an external ID), converge
from empty; drift made by hand in each, with that account's credentials, is corrected there; a fourth target whose
role cannot be assumed is reported in /status with the reason while the others converge and stay corrected.

The desired state is built by hand here, one part per target (``DesiredState.parts``), as the loader makes it from
targets.yaml; each part is loaded from a folder of its own."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from reconciler.commands import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, passes
from reconciler.events.queue import EventQueue
from reconciler.live.clients import AwsClients
from reconciler.model.resource import DesiredState
from reconciler.model.targets import Target
from reconciler.runtime.daemon import DaemonOptions
from reconciler.runtime.fleet import Fleet
from reconciler.runtime.options import engine_factory
from reconciler.settings import Settings
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.test_daemon import counted, eventually, free_port, metric, status_code
from tests.runtime.test_fleet import envelope
from tests.sandbox.test_sts_patches import in_account

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
ROLE = "reconciler-target"
EXECUTION_ROLE = "ecsTaskExecutionRole"
TARGETS = (
    Target("a-east", account=ACCOUNT_A, region="us-east-1", external_id="ext-a",
           role_arn=f"arn:aws:iam::{ACCOUNT_A}:role/{ROLE}"),
    Target("a-west", account=ACCOUNT_A, region="eu-west-1", external_id="ext-a",
           role_arn=f"arn:aws:iam::{ACCOUNT_A}:role/{ROLE}"),
    Target("b-east", account=ACCOUNT_B, region="us-east-1", external_id="ext-b",
           role_arn=f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"),
)  # fmt: skip
# the role of account B, with the external ID of account A: refused
REFUSED = Target("b-wrong", account=ACCOUNT_B, region="us-west-2", external_id="ext-a",
                 role_arn=f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}")  # fmt: skip
ESTATE = """
apiVersion: reconciler/v1
kind: Cluster
metadata: {name: apps}
spec: {}
---
apiVersion: reconciler/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  executionRoleArn: ${EXECUTION_ROLE_ARN}
  containerDefinitions:
    - {name: app, image: "public.ecr.aws/nginx/nginx:1.27", portMappings: [{containerPort: 8080}]}
---
apiVersion: reconciler/v1
kind: Service
metadata: {name: web}
spec:
  cluster: apps
  taskDefinition: web
  desiredCount: 1
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration: {subnets: ["${SUBNET}"], securityGroups: ["${SECURITY_GROUP}"]}
"""


def trust(external_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
    }]})  # fmt: skip


@dataclass
class Accounts:
    """boto3 clients acting in a target's account and Region, as its administrator would by hand."""

    boto: BotoFactory
    _credentials: dict[str, dict[str, str]] = field(default_factory=dict)

    def client(self, target: Target, service: str) -> Any:
        assert target.role_arn is not None and target.account is not None
        if target.account not in self._credentials:
            answer = self.boto("sts").assume_role(
                RoleArn=target.role_arn, RoleSessionName="by-hand", ExternalId=target.external_id
            )
            self._credentials[target.account] = answer["Credentials"]
        credentials = self._credentials[target.account]
        return self.boto(
            service,
            region_name=target.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def desired_count(self, target: Target) -> int:
        """The service's desiredCount in ``target``; -1 while it (or its cluster) is not there."""
        ecs = self.client(target, "ecs")
        if not ecs.list_clusters()["clusterArns"]:
            return -1
        services = ecs.describe_services(cluster="apps", services=["web"])["services"]
        return int(services[0]["desiredCount"]) if services else -1


def prepared(boto: BotoFactory) -> Accounts:
    """Each account's role for the reconciler (trusting the process's account, with its external ID) and task
    execution role, and a subnet and a security group in each target's Region."""
    for account, external_id in ((ACCOUNT_A, "ext-a"), (ACCOUNT_B, "ext-b")):
        iam = in_account(boto("iam"), account)
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust(external_id))
        iam.create_role(RoleName=EXECUTION_ROLE, AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    return Accounts(boto)


def network(accounts: Accounts, target: Target) -> dict[str, str]:
    ec2 = accounts.client(target, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="app", Description="app")["GroupId"]
    role = f"arn:aws:iam::{target.account}:role/{EXECUTION_ROLE}"
    return {"SUBNET": subnet, "SECURITY_GROUP": group, "EXECUTION_ROLE_ARN": role}


@dataclass
class TargetsSource:
    """The desired state of ``targets``, one folder each, loaded into one state with a part per target."""

    root: Path
    targets: tuple[Target, ...]
    variables: dict[str, dict[str, str]]
    description: str = "targets in memory"

    async def load_async(self) -> DesiredState:
        parts = []
        for target in self.targets:
            folder = self.root / target.name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "estate.yaml").write_text(ESTATE)
            source = DirectorySource(root=folder, extra_vars=self.variables.get(target.name, {}))
            parts.append((await source.load_async()).model_copy(update={"target": target.name}))
        revision = "+".join(part.revision[:8] for part in parts)
        parts = [part.model_copy(update={"revision": revision}) for part in parts]
        resources = tuple(r for part in parts for r in part.resources)
        return DesiredState(resources=resources, revision=revision, targets=self.targets, parts=tuple(parts))

    def request_refresh(self) -> bool:
        return False

    def status(self) -> dict[str, object]:
        return {"dir": str(self.root)}

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None:
        await stop.wait()


@asynccontextmanager
async def running_fleet(
    source: TargetsSource, *, home: AwsClients | None = None, events: str = "", interval: float = 60
) -> AsyncIterator[tuple[Fleet, str]]:
    """The fleet of ``source``'s targets; with ``home`` (the process's own clients), ``events`` is the shared
    events queue, and every target's own queue is read with them too."""
    port = free_port()
    options = DaemonOptions(interval=interval, debounce_ms=50, host="127.0.0.1", port=port)
    queue = (lambda url: EventQueue(home, url)) if home is not None else None
    fleet = Fleet(source=source, make_engine=engine_factory(Settings()), options=options, region="us-east-1",
                  events=queue(events) if queue and events else None, make_events=queue)  # fmt: skip
    task = asyncio.create_task(fleet.run())
    base = f"http://127.0.0.1:{port}"
    try:
        await eventually(lambda: _ready(base))
        yield fleet, base
    finally:
        fleet.stop()
        await asyncio.wait_for(task, timeout=15)


async def _ready(base: str) -> bool:
    try:
        return await status_code(base, "/readyz") == 200
    except aiohttp.ClientError:
        return False


async def status(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/status") as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_targets_converge_and_are_corrected_each_in_its_account_and_region(
    aws: str, boto: BotoFactory, tmp_path: Path
) -> None:
    accounts = prepared(boto)
    variables = {target.name: network(accounts, target) for target in TARGETS}
    variables[REFUSED.name] = {"SUBNET": "subnet-0", "SECURITY_GROUP": "sg-0", "EXECUTION_ROLE_ARN": "none"}
    source = TargetsSource(tmp_path, (*TARGETS, REFUSED), variables)
    async with running_fleet(source) as (fleet, base):
        # (a) the three converge from empty, each in its own account and Region; the process's account is untouched
        for target in TARGETS:
            await eventually(lambda t=target: accounts.desired_count(t) == 1)  # type: ignore[misc]
        assert boto("ecs").list_clusters()["clusterArns"] == []
        assert (
            accounts.client(REFUSED, "ecs").list_clusters()["clusterArns"] == []
        )  # nothing in B's us-west-2

        # (c) the target whose role cannot be assumed says why, and its resources are in error
        await eventually(lambda: _failed(fleet, REFUSED.name))
        body = await status(base)
        entries = {entry["name"]: entry for entry in body["targets"]}
        assert set(entries) == {t.name for t in (*TARGETS, REFUSED)}
        refused = entries[REFUSED.name]
        assert refused["answered"] is False and refused["roleArn"] == REFUSED.role_arn
        assert (
            f"cannot assume role {REFUSED.role_arn}" in refused["error"]
            and "AccessDenied" in refused["error"]
        )
        assert all(entries[t.name]["error"] is None and entries[t.name]["answered"] for t in TARGETS)
        theirs = [r for r in body["resources"] if r["target"] == REFUSED.name]
        assert {(r["kind"], r["name"], r["state"]) for r in theirs} == {
            ("Cluster", "apps", "Error"), ("TaskDefinition", "web", "Error"), ("Service", "web", "Error"),
        }  # fmt: skip
        # each target's cluster is shared in it: the same name, named with its target
        assert sorted((s["target"], s["kind"], s["name"]) for s in body["shared"]) == sorted(
            (t.name, "Cluster", "apps") for t in (*TARGETS, REFUSED)
        )
        synced = {(r["target"], r["kind"]) for r in body["resources"] if r["state"] == "Synced"}
        assert synced == {
            (t.name, kind) for t in TARGETS for kind in ("Cluster", "TaskDefinition", "Service")
        }

        # (b) drift by hand in each healthy target, after the failure: corrected there, by that target's loop
        for target in TARGETS:  # the first pass's deployments have finished
            await asyncio.to_thread(wait_until_settled, functools.partial(accounts.client, target))
        for count, target in enumerate(TARGETS, start=3):
            accounts.client(target, "ecs").update_service(cluster="apps", service="web", desiredCount=count)
        before = {target.name: await metric(base, corrected(target)) for target in TARGETS}
        assert await status_code(base, "/sync", method="POST") == 202
        for target in TARGETS:
            await eventually(lambda t=target: accounts.desired_count(t) == 1)  # type: ignore[misc]
            assert await counted(base, corrected(target), before[target.name] + 1) == before[target.name] + 1
        assert boto("ecs").list_clusters()["clusterArns"] == []
        assert _failed(fleet, REFUSED.name)  # still failing, and still alone in it


def corrected(target: Target) -> str:
    """The series of drift corrections of ``target``'s services (the counters live as long as the process: a test
    compares with what it read before)."""
    return f'reconciler_drift_corrected_total{{kind="Service",target="{target.name}"}}'


def _failed(fleet: Fleet, name: str) -> bool:
    running = fleet.loops.get(name)
    return running is not None and bool(running.daemon.last_error)


async def test_plan_and_apply_go_over_every_allowed_target_and_name_the_one_that_fails(
    aws: str, boto: BotoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = prepared(boto)
    variables = {target.name: network(accounts, target) for target in TARGETS}
    variables[REFUSED.name] = {"SUBNET": "subnet-0", "SECURITY_GROUP": "sg-0", "EXECUTION_ROLE_ARN": "none"}
    desired = await TargetsSource(tmp_path, (*TARGETS, REFUSED), variables).load_async()

    assert await passes.each_target(passes.plan, Settings(), desired) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert f"error: target b-wrong: Terminal: target b-wrong: cannot assume role {REFUSED.role_arn}" in err
    assert "1 target(s) failed: b-wrong" in err
    assert out.count("+ Service web (create, cause: missing)") == 3  # each healthy target's plan

    allowed = Settings(allowed_targets="a-east,a-west,b-east")
    assert await passes.each_target(passes.plan, allowed, desired) == EXIT_CHANGES
    assert "target b-wrong: not in --allowed-targets" in capsys.readouterr().err
    assert await passes.each_target(passes.apply, allowed, desired) == EXIT_OK
    assert all(accounts.desired_count(target) == 1 for target in TARGETS)
    assert await passes.each_target(passes.plan, allowed, desired) == EXIT_OK


async def test_events_reach_the_target_of_their_account_and_region(
    aws: str, boto: BotoFactory, tmp_path: Path
) -> None:
    """The shared queue (--events-queue-url, in the process's account) carries events of every account: each goes
    to the target of its envelope's account and Region. A target's own queue (eventsQueueUrl, in its account) is
    read, as the shared one, with the process's own credentials. With passes an hour apart, only the events can
    have drift corrected."""
    a_east, _, b_east = TARGETS
    accounts = prepared(boto)
    # a-east's own queue: in AWS in a-east's account, read with the task role (the emulator has no cross-account
    # queue policies: here in the process's account, as the shared one)
    own_queue = boto("sqs").create_queue(QueueName="a-events")["QueueUrl"]
    shared_queue = boto("sqs").create_queue(QueueName="all-events")["QueueUrl"]
    targets = (replace(a_east, events_queue_url=own_queue), b_east)
    variables = {target.name: network(accounts, target) for target in targets}
    source = TargetsSource(tmp_path, targets, variables)
    home = AwsClients(region="us-east-1", endpoint_url=None)
    async with home, running_fleet(source, home=home, events=shared_queue, interval=3600) as (_, base):
        for target in targets:
            await eventually(lambda t=target: accounts.desired_count(t) == 1)  # type: ignore[misc]
        for target in targets:
            await asyncio.to_thread(wait_until_settled, functools.partial(accounts.client, target))
            accounts.client(target, "ecs").update_service(cluster="apps", service="web", desiredCount=4)
        before = {target.name: await metric(base, corrected(target)) for target in targets}
        event = json.dumps(envelope(ACCOUNT_B, "us-east-1"))  # b-east's, on the shared queue
        boto("sqs").send_message(QueueUrl=shared_queue, MessageBody=event)
        await eventually(lambda: accounts.desired_count(b_east) == 1, within=25)
        assert accounts.desired_count(a_east) == 4  # not its event
        event = json.dumps(envelope(ACCOUNT_A, "us-east-1"))
        boto("sqs").send_message(QueueUrl=own_queue, MessageBody=event)
        await eventually(lambda: accounts.desired_count(a_east) == 1, within=25)
        for target in targets:
            assert await counted(base, corrected(target), before[target.name] + 1) == before[target.name] + 1
