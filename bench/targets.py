"""One reconciler, several targets: N services in each of three targets, in two accounts and two Regions, through
the fault proxy with AWS's rates (kept per account and Region) and the client-side budget at half of them.

The targets: ``a-eu`` (account 111111111111, eu-west-1), ``a-us`` (111111111111, us-east-1) and ``b-eu``
(222222222222, eu-west-1), each reached through the role ``reconciler-target`` of its account, assumed with the
reconciler's own credentials (the emulator's default account, 123456789012, which holds nothing else). In the
emulator: each account's role (trusting the default account), each target's base infrastructure seeded in its
account and Region with the role's credentials (``reconciler/sandbox/seed.py``), and each target's estate (the
estate of ``bench/steady_state.py --full``: per service a task definition, target group, rule, scalable target
and policy) converged from empty straight to the emulator, until ECS has finished its first deployments. The
desired state is one directory: ``targets.yaml`` names the targets with their variables, and a folder per target.

Then ``reconciler run`` starts as a process of its own, through the proxy, with its interval and --pass-timeout an
hour: each pass is asked for with ``POST /sync``, which wakes every target. Measured, per target and pass (from the
proxy, which counts each request by the account and Region it is charged to, and from the daemon's log, which
names the target of each pass): AWS calls, throttled answers, wall, the calls of each throttling group and the
group that bounds the pass; per round of passes, the wall from the first target's start to the last one's end
against the sum of the targets' walls (whether the targets ran at once); the daemon's CPU and peak RSS. The first
pass of each target, then the passes while deployment histories are read (250 services a pass), then steady ones.

The reconciler measured is ``python -m reconciler`` of the checkout named by --reconciler (this one by default),
to measure a branch or a commit other than this one's.

    python bench/targets.py [--services 1000] [--reconciler /path/to/checkout] [--steady 1] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import yaml

from reconciler.live.budget import ApiBudget
from reconciler.live.clients import AwsClients
from reconciler.logs import configure_logging
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox import seed
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import DEFAULT_ACCOUNT
from reconciler.sandbox.faults import FaultProxyProcess
from reconciler.source.directory import DirectorySource

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import RESULTS, DaemonProcess, aws_proxy, by_operation, daemon, floors, table, until
from steady_state import settled, write_estate

ROLE_NAME = "reconciler-target"
HOME_REGION = "us-east-1"  # the reconciler's own Region (--region): where its own STS calls go


@dataclass(frozen=True)
class Target:
    name: str
    account: str
    region: str

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{ROLE_NAME}"


TARGETS = (
    Target("a-eu", "111111111111", "eu-west-1"),
    Target("a-us", "111111111111", "us-east-1"),
    Target("b-eu", "222222222222", "eu-west-1"),
)
Credentials = dict[str, str]  # boto3's aws_access_key_id, aws_secret_access_key, aws_session_token


# ---- the estate ---------------------------------------------------------------------------------------------


def make_roles(emulator_url: str, accounts: set[str]) -> None:
    """In each account, the role the reconciler assumes, trusting the default account (the reconciler's own)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"}}]}  # fmt: skip
    for account in sorted(accounts):
        iam = boto3.client("iam", endpoint_url=emulator_url, region_name=HOME_REGION)

        def in_account(request: Any, account: str = account, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account  # the emulator acts in this account (its admin)

        iam.meta.events.register("before-sign.*.*", in_account)
        iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))


def assume(emulator_url: str, target: Target) -> Credentials:
    sts = boto3.client("sts", endpoint_url=emulator_url, region_name=target.region)
    issued = sts.assume_role(RoleArn=target.role_arn, RoleSessionName=f"bench-{target.name}")["Credentials"]
    return {
        "aws_access_key_id": issued["AccessKeyId"],
        "aws_secret_access_key": issued["SecretAccessKey"],
        "aws_session_token": issued["SessionToken"],
    }


async def seed_target(
    emulator_url: str, target: Target, credentials: Credentials, roles: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The sandbox's base infrastructure in the target's account and Region. ``seed_base_infrastructure`` signs
    with the emulator's default keys, so its client options are given the role's credentials here; and IAM is
    global, so an account's roles are made by its first target's seed only (``roles``: account → the variables
    they gave), and found again by the others."""

    def options(*, endpoint_url: str, region: str) -> dict[str, str]:
        return {"endpoint_url": endpoint_url, "region_name": region, **credentials}

    make_roles = seed._create_roles

    async def account_roles(iam: Any) -> dict[str, str]:
        if target.account not in roles:
            roles[target.account] = await make_roles(iam)
        return dict(roles[target.account])

    with (
        mock.patch.object(seed, "_client_options", options),
        mock.patch.object(seed, "_create_roles", account_roles),
    ):
        variables = await seed.seed_base_infrastructure(endpoint_url=emulator_url, region=target.region)
    assert variables["AWS_ACCOUNT_ID"] == target.account, variables["AWS_ACCOUNT_ID"]
    return variables


@contextmanager
def acting_as(credentials: Credentials) -> Iterator[None]:
    """The process's AWS credentials (the environment botocore reads) set to ``credentials`` for a while."""
    names = {"aws_access_key_id": "AWS_ACCESS_KEY_ID", "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
             "aws_session_token": "AWS_SESSION_TOKEN"}  # fmt: skip
    saved = {name: os.environ.get(name) for name in names.values()}
    os.environ.update({names[key]: value for key, value in credentials.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def converge(emulator_url: str, target: Target, root: Path, variables: Mapping[str, str]) -> None:
    """The target's folder converged from empty as a desired state of its own, straight to the emulator with the
    role's credentials, until ECS has finished its first deployments."""
    started = time.perf_counter()
    with acting_as(assume(emulator_url, target)):
        async with AwsClients(region=target.region, endpoint_url=emulator_url) as clients:
            source = DirectorySource(root=root / target.name, extra_vars=dict(variables))
            await Engine(clients, options=PlanOptions()).reconcile(source.load())
            converged = time.perf_counter() - started
            waited = await settled(clients, within=1800)
    print(f"{target.name}: converged from empty in {converged:.0f} s, deployments settled {waited:.0f} s later",
          flush=True)  # fmt: skip


def write_targets(root: Path, services: int, variables: Mapping[str, Mapping[str, str]]) -> None:
    """``targets.yaml`` and a folder per target holding ``services`` services of the steady-state bench's estate."""
    for target in TARGETS:
        write_estate(root / target.name, services, full=True)
    targets = {
        target.name: {
            "account": target.account,
            "region": target.region,
            "roleArn": target.role_arn,
            "vars": dict(variables[target.name]),
        }
        for target in TARGETS
    }
    folders = {target.name: target.name for target in TARGETS}
    (root / "targets.yaml").write_text(
        yaml.safe_dump({"targets": targets, "folders": folders}, sort_keys=False)
    )


async def build(emulator_url: str, root: Path, services: int) -> None:
    make_roles(emulator_url, {target.account for target in TARGETS})
    variables: dict[str, dict[str, str]] = {}
    roles: dict[str, dict[str, str]] = {}
    for target in TARGETS:
        variables[target.name] = await seed_target(emulator_url, target, assume(emulator_url, target), roles)
    write_targets(root, services, variables)
    for target in TARGETS:
        await converge(emulator_url, target, root, variables[target.name])


# ---- the measure ------------------------------------------------------------------------------------------------

ProxyCounts = Counter[tuple[str, str, str, str, str]]  # (account, Region, service, operation, outcome)


@dataclass(frozen=True)
class Pass:
    """One target's pass, from the daemon's log."""

    target: str
    seconds: float
    ended: float  # Unix time
    failed: bool

    @property
    def started(self) -> float:
        return self.ended - self.seconds


def passes_in(log: Path) -> list[Pass]:
    """Every pass the daemon's JSON log tells of, with its target, in order. Raises if the desired state was found
    invalid: no pass would follow."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "desired state invalid":
            raise RuntimeError(
                f"the reconciler finds the desired state invalid: {entry.get('problems')}"[:2000]
            )
        if entry.get("event") not in ("pass done", "pass failed") or "target" not in entry:
            continue
        ended = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
        failed = entry["event"] == "pass failed" or bool(entry.get("failed"))
        found.append(Pass(entry["target"], float(entry.get("seconds", 0.0)), ended, failed))
    return found


async def round_of_passes(
    process: DaemonProcess, log: Path, seen: int, *, within: float = 3600
) -> tuple[dict[str, Pass], int]:
    """Wait until every target has one more pass in the log than the ``seen`` first ones; each target's, and how
    many passes the log then tells of."""

    async def done() -> bool:
        if process.process.poll() is not None:
            raise RuntimeError(f"the reconciler exited with {process.process.returncode}")
        return {p.target for p in passes_in(log)[seen:]} >= {target.name for target in TARGETS}

    await until(done, within=within, every=1.0)
    passes = passes_in(log)
    ours: dict[str, Pass] = {}
    for one in passes[seen:]:
        ours.setdefault(one.target, one)
    return ours, len(passes)


# botocore's client names (the proxy's) → the service IDs the budget's groups name
SERVICE_IDS = {"elbv2": "elastic-load-balancing-v2", "application-autoscaling": "application-auto-scaling"}


def target_rows(
    label: str, before: ProxyCounts, after: ProxyCounts, passes: Mapping[str, Pass]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A row per target for one round; and each target's ListServiceDeployments calls (its histories)."""
    budget = ApiBudget()
    rows, histories = [], {}
    for target in TARGETS:
        calls: Counter[tuple[str, str, str]] = Counter()
        for (account, region, service, operation, outcome), n in after.items():
            if (account, region) == (target.account, target.region):
                calls[(service, operation, outcome)] += n
        for (account, region, service, operation, outcome), n in before.items():
            if (account, region) == (target.account, target.region):
                calls[(service, operation, outcome)] -= n
        calls = +calls
        print(f"{target.name}, pass {label}, by operation: {by_operation(calls)}", flush=True)
        grouped: Counter[str] = Counter()
        for (service, operation, _), n in calls.items():
            grouped[budget.group_of(SERVICE_IDS.get(service, service), operation) or service] += n
        one = passes[target.name]
        rows.append({
            "target": f"{target.name} ({target.account}, {target.region})",
            "pass": label + (" (failed)" if one.failed else ""),
            "calls": sum(calls.values()),
            "throttled": sum(n for (_, _, outcome), n in calls.items() if outcome == "rate_limit"),
            "wall s": one.seconds,
            "budget floors s": floors(grouped),
            "by group": ", ".join(f"{group} {n}" for group, n in grouped.most_common()),
        })  # fmt: skip
        histories[target.name] = sum(
            n for (_, operation, _), n in calls.items() if operation == "ListServiceDeployments"
        )
    return rows, histories


def round_row(label: str, passes: Mapping[str, Pass], cpu: float) -> dict[str, Any]:
    """Whether the targets ran at once: the round's wall (first start to last end) against the sum of walls."""
    span = max(p.ended for p in passes.values()) - min(p.started for p in passes.values())
    total = sum(p.seconds for p in passes.values())
    return {"pass": label, "round wall s": span, "sum of target walls s": total,
            "at once": f"{total / span:.2f} targets" if span else "", "daemon CPU s": cpu}  # fmt: skip


async def measure(
    emulator_url: str, root: Path, *, python: str, checkout: Path, steady: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """Per target rows, per round rows, and the daemon's peak RSS in MiB."""
    with aws_proxy(emulator_url, aws=True) as proxy, tempfile.TemporaryDirectory() as logs:
        assert proxy is not None
        log = Path(logs) / "daemon.log"
        environment = {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        }  # the default account's
        with daemon(root, None, proxy.url, queue=None, interval=3600.0, pass_timeout=3600.0, aws=True,
                    python=python, environment=environment, log_path=log, checkout=checkout) as process:  # fmt: skip
            try:
                return await rounds(process, proxy, log, steady=steady) + (process.peak_rss_mib(),)
            except BaseException:
                print(log.read_text(errors="replace")[-6000:], file=sys.stderr)
                raise


async def rounds(
    process: DaemonProcess, proxy: FaultProxyProcess, log: Path, *, steady: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    before: ProxyCounts = Counter()
    seen, number, quiet = 0, 1, 0
    per_target: list[dict[str, Any]] = []
    per_round: list[dict[str, Any]] = []
    cpu = 0.0
    while quiet < steady:
        if number > 1:
            await process.sync()
        passes, seen = await round_of_passes(process, log, seen)
        after, now = proxy.target_counts(), process.cpu_seconds()
        label = "first" if number == 1 else str(number)
        rows, histories = target_rows(label, before, after, passes)
        quiet = quiet + 1 if number > 1 and not any(histories.values()) else 0
        if quiet:
            label = "steady"
            for row in rows:
                row["pass"] = row["pass"].replace(str(number), label)
        per_target += rows
        per_round.append(round_row(label, passes, now - cpu))
        print(table(rows), "", table(per_round[-1:]), sep="\n", flush=True)
        before, cpu, number = after, now, number + 1
    home = sum(n for (account, *_), n in before.items() if account == DEFAULT_ACCOUNT)
    print(f"calls charged to the reconciler's own account (AssumeRole): {home}", flush=True)
    return per_target, per_round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000, help="services in each target")
    parser.add_argument("--reconciler", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the checkout whose reconciler runs (its .venv's python if it has one)")  # fmt: skip
    parser.add_argument("--steady", type=int, default=1, help="steady rounds of passes to measure")
    parser.add_argument("--write", action="store_true", help="write the tables into bench/RESULTS.md")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION=HOME_REGION)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    configure_logging(fmt="json", level=40, stream=sys.stderr)
    checkout = args.reconciler.resolve()
    venv = checkout / ".venv" / "bin" / "python"
    python = str(venv) if venv.exists() else sys.executable
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()  # fmt: skip
    with EmulatorProcess.start() as emulator, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        asyncio.run(build(emulator.url, root, args.services))
        per_target, per_round, peak = asyncio.run(
            measure(emulator.url, root, python=python, checkout=checkout, steady=args.steady)
        )
    result = f"{table(per_target)}\n\n{table(per_round)}\n\nthe daemon's peak RSS: {peak:.0f} MiB"
    print(f"\n{result}")
    if args.write:
        machine = f"{platform.node()}: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        header = (f"## {stamp}, {machine}, bench/targets.py: {len(TARGETS)} targets of {args.services} services, "
                  f"through the proxy (AWS's rates), reconciler of {checkout.name} at {commit}\n\n")  # fmt: skip
        RESULTS.write_text(RESULTS.read_text() + header + result + "\n\n")


if __name__ == "__main__":
    main()
