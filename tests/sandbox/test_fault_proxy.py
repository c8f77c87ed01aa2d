"""The fault-injection proxy in front of the emulator: it passes AWS calls through untouched, injects each fault
the way AWS (or a network) does it, keeps the write log and counts, and obeys its control endpoints.

The synchronous tests talk to a proxy process with boto3, as the reconciler's tests will; the asynchronous ones
run the proxy on the test's loop and use aiobotocore, the reconciler's own client.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from reconciler.live.clients import AwsClients
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import (
    DEFAULT_ACCOUNT,
    AwsCall,
    Fault,
    FaultEngine,
    FaultRules,
    OperationFaults,
    identify,
)
from reconciler.sandbox.faults import FaultProxy, FaultProxyProcess, caller_identity
from tests.conftest import FAKE_CREDENTIALS, REGION, BotoFactory
from tests.sandbox.test_sts_patches import in_account, trust

ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
Client = Callable[..., Any]


@pytest.fixture(scope="module")
def proxy_process(emulator: EmulatorProcess) -> Iterator[FaultProxyProcess]:
    with FaultProxyProcess.start(emulator.url, FaultRules(seed=1)) as process:
        yield process


@pytest.fixture
def proxy(proxy_process: FaultProxyProcess, aws: str) -> FaultProxyProcess:
    """The proxy process with no faults, an empty write log and zero counts, in front of an empty emulator."""
    proxy_process.set_rules(FaultRules())
    proxy_process.reset()
    return proxy_process


@pytest.fixture
def via_proxy(proxy: FaultProxyProcess, boto: BotoFactory) -> Client:
    """``via_proxy("ecs", config=…)``: a boto3 client whose endpoint is the proxy (one attempt by default)."""

    def make(service: str, **options: Any) -> Any:
        return boto(service, **{"endpoint_url": proxy.url, "config": ONE_ATTEMPT, **options})

    return make


def set_faults(proxy: FaultProxyProcess, match: str, **rates: Any) -> None:
    proxy.set_rules(FaultRules(operations=[OperationFaults(match=match, **rates)]))


def error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


# ---- pass-through -----------------------------------------------------------------------------------------


def test_calls_pass_through_unchanged_without_faults(
    proxy: FaultProxyProcess, via_proxy: Client, boto: BotoFactory
) -> None:
    ecs, elbv2, ec2, sts = via_proxy("ecs"), via_proxy("elbv2"), via_proxy("ec2"), via_proxy("sts")
    ecs.create_cluster(clusterName="through")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    group = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")

    direct_ecs, direct_elbv2 = boto("ecs"), boto("elbv2")
    assert (
        ecs.describe_clusters(clusters=["through"])["clusters"]
        == direct_ecs.describe_clusters(clusters=["through"])["clusters"]
    )
    assert (
        elbv2.describe_target_groups()["TargetGroups"]
        == direct_elbv2.describe_target_groups()["TargetGroups"]
    )
    assert group["TargetGroups"][0]["TargetGroupName"] == "tg"
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
    assert sts.get_caller_identity()["Account"] == boto("sts").get_caller_identity()["Account"]

    counts = proxy.counts()
    assert counts[("ecs", "CreateCluster", "forwarded")] == 1
    assert counts[("elbv2", "DescribeTargetGroups", "forwarded")] == 1
    assert counts[("ec2", "CreateVpc", "forwarded")] == 1
    assert counts[("sts", "GetCallerIdentity", "forwarded")] == 1
    assert all(outcome == "forwarded" for (_, _, outcome) in counts)


def test_requests_it_cannot_parse_are_forwarded_and_never_faulted(proxy: FaultProxyProcess) -> None:
    proxy.set_rules(FaultRules(throttle=1.0))
    request = urllib.request.Request(f"{proxy.url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert proxy.counts() == {("", "", "unparsed"): 1}


# ---- throttling -----------------------------------------------------------------------------------------


def test_throttle_rate_one_throttles_only_the_matching_operations(
    proxy: FaultProxyProcess, via_proxy: Client
) -> None:
    ecs, elbv2 = via_proxy("ecs"), via_proxy("elbv2")
    ecs.create_cluster(clusterName="busy")
    proxy.set_rules(
        FaultRules(
            operations=[
                OperationFaults(match="ecs:DescribeClusters", throttle=1.0),
                OperationFaults(match="elbv2:DescribeLoadBalancers", throttle=1.0),
            ]
        )
    )

    with pytest.raises(ClientError) as ecs_error:
        ecs.describe_clusters(clusters=["busy"])
    assert error_code(ecs_error.value) == "ThrottlingException"
    assert ecs_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as elbv2_error:
        elbv2.describe_load_balancers()
    assert error_code(elbv2_error.value) == "Throttling"

    assert ecs.list_clusters()["clusterArns"]
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    counts = proxy.counts()
    assert counts[("ecs", "DescribeClusters", "throttle")] == 1
    assert counts[("ecs", "ListClusters", "forwarded")] == 1


def test_ec2_throttles_with_its_own_code(proxy: FaultProxyProcess, via_proxy: Client) -> None:
    set_faults(proxy, "ec2:*", throttle=1.0)
    with pytest.raises(ClientError) as error:
        via_proxy("ec2").describe_vpcs()
    assert error_code(error.value) == "RequestLimitExceeded"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_aws_rates_throttle_a_burst_then_recover_after_refill(
    proxy: FaultProxyProcess, via_proxy: Client
) -> None:
    ecs = via_proxy("ecs")
    ecs.create_cluster(clusterName="burst")
    # ECS cluster reads: bucket 50, refill 20/s; scaled by 0.1 → 5 tokens, 2 per second.
    proxy.set_rules(FaultRules(aws_rates=True, rate_scale=0.1))

    outcomes = []
    for _ in range(12):
        try:
            ecs.describe_clusters(clusters=["burst"])
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error_code(error))
    assert outcomes[:5] == ["ok"] * 5
    assert outcomes.count("ThrottlingException") >= 4, outcomes  # 2 tokens/s come back during the burst
    assert ecs.list_services(cluster="burst")["serviceArns"] == []  # another bucket, still full

    time.sleep(1.0)
    assert ecs.describe_clusters(clusters=["burst"])["clusters"]
    assert proxy.counts()[("ecs", "DescribeClusters", "rate_limit")] == outcomes.count("ThrottlingException")


def test_aws_rates_are_per_account_and_region_the_account_learned_from_sts(
    proxy: FaultProxyProcess, via_proxy: Client, boto: BotoFactory
) -> None:
    """Two accounts never share a bucket, two sessions of one account do, and one account's Regions do not."""
    for account in (A, B):
        in_account(boto("iam"), account).create_role(
            RoleName="reconciler-target", AssumeRolePolicyDocument=trust(None)
        )
    sts = via_proxy("sts")

    def session(account: str, name: str) -> dict[str, str]:
        role = f"arn:aws:iam::{account}:role/reconciler-target"
        issued = sts.assume_role(RoleArn=role, RoleSessionName=name)["Credentials"]
        return {
            "aws_access_key_id": issued["AccessKeyId"],
            "aws_secret_access_key": issued["SecretAccessKey"],
            "aws_session_token": issued["SessionToken"],
        }

    first_a, second_a, only_b = session(A, "one"), session(A, "two"), session(B, "one")
    # ECS cluster reads: 50 burst, 20/s; scaled by 0.01 → 1 token, one more every 5 s.
    proxy.set_rules(FaultRules(aws_rates=True, rate_scale=0.01))

    def outcome(credentials: dict[str, str], region: str = REGION) -> str:
        try:
            via_proxy("ecs", region_name=region, **credentials).list_clusters()
        except ClientError as error:
            return error_code(error)
        return "ok"

    assert outcome(first_a) == "ok"
    assert outcome(second_a) == "ThrottlingException"  # the same account: its bucket is empty
    assert outcome(only_b) == "ok"  # another account: a bucket of its own
    assert outcome(first_a, "eu-west-1") == "ok"  # another Region of the same account
    assert outcome({}) == "ok"  # the default keys: the emulator's default account
    assert outcome(dict(FAKE_CREDENTIALS, aws_access_key_id="never-issued")) == "ThrottlingException"

    targets = Counter[tuple[str, str, str]]()
    for (account, region, _, _, result), n in proxy.target_counts().items():
        targets[(account, region, result)] += n
    assert (targets[(A, REGION, "forwarded")], targets[(A, REGION, "rate_limit")]) == (1, 1)
    assert (targets[(B, REGION, "forwarded")], targets[(A, "eu-west-1", "forwarded")]) == (1, 1)
    assert targets[(DEFAULT_ACCOUNT, REGION, "forwarded")] == 3 + 1  # the three AssumeRoles and one read
    assert targets[(DEFAULT_ACCOUNT, REGION, "rate_limit")] == 1
    assert proxy.target_counts()[(B, REGION, "ecs", "ListClusters", "forwarded")] == 1


A, B = "111111111111", "222222222222"


# ---- server errors --------------------------------------------------------------------------------------


def test_server_errors_are_retried_by_botocore(proxy: FaultProxyProcess, via_proxy: Client) -> None:
    ecs = via_proxy("ecs", config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    proxy.set_rules(FaultRules(operations=[OperationFaults(match="ecs:ListClusters", server_error=1.0)]))
    with pytest.raises(ClientError) as error:
        ecs.list_clusters()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
    assert error_code(error.value) in ("InternalFailure", "ServiceUnavailable")
    assert proxy.counts()[("ecs", "ListClusters", "server_error")] == 2  # botocore tried again

    proxy.set_rules(FaultRules(seed=1, server_error=0.5, server_error_statuses=[503]))
    proxy.reset()
    ecs = via_proxy("ecs", config=Config(retries={"mode": "standard", "total_max_attempts": 10}))
    for _ in range(4):
        assert ecs.list_clusters()["clusterArns"] == []
    counts = proxy.counts()
    assert counts[("ecs", "ListClusters", "forwarded")] == 4
    assert counts[("ecs", "ListClusters", "server_error")] >= 1  # seed 1: the very first draw fails


# ---- broken connections -------------------------------------------------------------------------------------


def test_reset_closes_the_connection_without_an_answer(proxy: FaultProxyProcess, via_proxy: Client) -> None:
    set_faults(proxy, "ecs:CreateCluster", reset=1.0)
    ecs = via_proxy("ecs")
    with pytest.raises(ConnectionClosedError):
        ecs.create_cluster(clusterName="never")
    set_faults(proxy, "nothing:*")
    assert ecs.list_clusters()["clusterArns"] == []  # reset before forwarding: the emulator never saw it
    (record,) = proxy.write_log()
    assert (record.outcome, record.status, record.reached_upstream) == ("reset", None, False)


def test_read_timeout_holds_the_answer_past_the_clients_timeout(
    proxy: FaultProxyProcess, via_proxy: Client
) -> None:
    proxy.set_rules(
        FaultRules(
            read_timeout_seconds=2.0,
            operations=[OperationFaults(match="ecs:CreateCluster", read_timeout=1.0)],
        )
    )
    ecs = via_proxy(
        "ecs", config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=0.5)
    )
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        ecs.create_cluster(clusterName="slow")
    assert time.monotonic() - started < 2.0
    # By default the call reached the emulator and only its answer was lost, as when AWS is slow to answer.
    assert via_proxy("ecs").describe_clusters(clusters=["slow"])["clusters"][0]["clusterName"] == "slow"
    record = wait_for_write(proxy)
    assert (record.operation, record.outcome, record.reached_upstream) == (
        "CreateCluster",
        "read_timeout",
        True,
    )
    assert record.finished - record.started >= 2.0


def test_truncated_body_is_a_parse_error_for_boto3(proxy: FaultProxyProcess, via_proxy: Client) -> None:
    set_faults(proxy, "elbv2:DescribeTargetGroups", truncate=1.0)
    with pytest.raises(ResponseParserError):
        via_proxy("elbv2").describe_target_groups()
    assert proxy.counts()[("elbv2", "DescribeTargetGroups", "truncate")] == 1


def wait_for_write(proxy: FaultProxyProcess, *, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (log := proxy.write_log()):
        assert time.monotonic() < deadline, "no write recorded"
        time.sleep(0.1)
    return log[0]


# ---- latency ----------------------------------------------------------------------------------------------


def test_latency_adds_at_least_the_configured_time(proxy: FaultProxyProcess, via_proxy: Client) -> None:
    ecs = via_proxy("ecs")
    set_faults(proxy, "ecs:ListClusters", latency_ms=400)
    started = time.monotonic()
    ecs.list_clusters()
    assert time.monotonic() - started >= 0.4

    set_faults(proxy, "ecs:ListClusters", latency_ms=(250, 300))
    started = time.monotonic()
    ecs.list_clusters()
    assert time.monotonic() - started >= 0.25


# ---- write log and control endpoints ------------------------------------------------------------------------


def test_write_log_records_writes_with_the_replica_id_and_not_reads(
    proxy: FaultProxyProcess, via_proxy: Client
) -> None:
    alpha = via_proxy("ecs", config=ONE_ATTEMPT.merge(Config(user_agent_extra="reconciler-replica/alpha")))
    beta = via_proxy("ecs", config=ONE_ATTEMPT.merge(Config(user_agent_extra="reconciler-replica/beta")))
    anonymous = via_proxy("ecs")
    alpha.create_cluster(clusterName="shared")
    alpha.describe_clusters(clusters=["shared"])
    beta.list_clusters()
    beta.delete_cluster(cluster="shared")
    anonymous.create_cluster(clusterName="manual")
    set_faults(proxy, "ecs:CreateCluster", throttle=1.0)
    with pytest.raises(ClientError):
        beta.create_cluster(clusterName="refused")

    log = proxy.write_log()
    assert [(r.operation, r.caller) for r in log[:2]] == [
        ("CreateCluster", "alpha"),
        ("DeleteCluster", "beta"),
    ]
    assert "Boto3/" in log[2].caller and log[2].operation == "CreateCluster"
    assert (log[3].caller, log[3].outcome, log[3].status, log[3].reached_upstream) == (
        "beta",
        "throttle",
        400,
        False,
    )
    assert all(r.service == "ecs" and not r.operation.startswith(("Describe", "List")) for r in log)
    assert [r.seq for r in log] == [1, 2, 3, 4]
    assert all(a.started <= b.started for a, b in itertools.pairwise(log))
    assert all(r.reached_upstream and r.status == 200 for r in log[:3])
    assert [r.seq for r in proxy.write_log(since=2)] == [3, 4]


def test_rules_can_be_replaced_at_runtime_through_the_control_endpoint(
    proxy: FaultProxyProcess, via_proxy: Client
) -> None:
    ecs = via_proxy("ecs")
    body = json.dumps({"operations": [{"match": "ecs:List*", "throttle": 1.0}]}).encode()
    request = urllib.request.Request(f"{proxy.url}/__faults/rules", method="PUT", data=body)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["operations"][0]["match"] == "ecs:List*"
    with pytest.raises(ClientError):
        ecs.list_clusters()
    assert proxy.rules().operations[0].throttle == 1.0

    refused = urllib.request.Request(f"{proxy.url}/__faults/rules", method="PUT", data=b'{"throttle": 2}')
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(refused, timeout=10)  # a probability above 1
    assert error.value.code == 400
    assert proxy.rules().operations[0].match == "ecs:List*"  # … and the rules stay as they were

    with urllib.request.urlopen(f"{proxy.url}/__faults/counts", timeout=10) as response:
        rows = json.loads(response.read())["counts"]
    assert rows == [{"service": "ecs", "operation": "ListClusters", "outcome": "throttle", "count": 1}]

    urllib.request.urlopen(urllib.request.Request(f"{proxy.url}/__faults/reset", method="POST", data=b""))
    assert proxy.counts() == {}
    proxy.set_rules(FaultRules())
    assert ecs.list_clusters()["clusterArns"] == []


# ---- aiobotocore, the reconciler's client, against the proxy on the test's loop --------------------------------


async def test_adaptive_retries_ride_through_throttles_and_count_them(aws: str) -> None:
    rules = FaultRules(seed=3, operations=[OperationFaults(match="ecs:*", throttle=0.3)])
    async with FaultProxy(aws, rules) as proxy, AwsClients(region=REGION, endpoint_url=proxy.url) as clients:
        ecs = await clients.client("ecs")
        for index in range(3):
            await ecs.create_cluster(clusterName=f"c{index}")
        for _ in range(3):
            answer = await ecs.describe_clusters(clusters=["c0", "c1", "c2"])
            assert len(answer["clusters"]) == 3

    throttled = sum(n for (_, _, outcome), n in clients.calls.items() if outcome == "throttled")
    injected = sum(n for (_, _, outcome), n in proxy.counts.items() if outcome == "throttle")
    assert throttled == injected > 0
    assert sum(n for (_, _, outcome), n in clients.calls.items() if outcome == "ok") == 6
    assert proxy.counts[("ecs", "CreateCluster", "forwarded")] == 3  # each write applied once


async def test_stopping_releases_held_requests(aws: str) -> None:
    rules = FaultRules(read_timeout=1.0, read_timeout_seconds=60)
    config = AioConfig(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=0.3)
    proxy = FaultProxy(aws, rules)
    url = await proxy.start()
    async with get_session().create_client(
        "ecs", region_name=REGION, endpoint_url=url, config=config, **FAKE_CREDENTIALS
    ) as ecs:
        with pytest.raises(ReadTimeoutError):
            await ecs.list_clusters()
    started = time.monotonic()
    await proxy.stop()
    assert time.monotonic() - started < 3.0
    assert proxy.counts[("ecs", "ListClusters", "read_timeout")] == 1
    await proxy.stop()  # twice is fine


async def test_aiobotocore_sees_resets_and_truncated_bodies_as_connection_errors(aws: str) -> None:
    config = AioConfig(retries={"mode": "standard", "total_max_attempts": 1})
    rules = FaultRules(
        operations=[
            OperationFaults(match="ecs:ListClusters", reset=1.0),
            OperationFaults(match="ecs:DescribeClusters", truncate=1.0),
            OperationFaults(match="elbv2:DescribeLoadBalancers", truncate=1.0),
        ]
    )
    session = get_session()
    async with FaultProxy(aws, rules) as proxy:
        options: dict[str, Any] = {"region_name": REGION, "endpoint_url": proxy.url, "config": config}
        async with (
            session.create_client("ecs", **options, **FAKE_CREDENTIALS) as ecs,
            session.create_client("elbv2", **options, **FAKE_CREDENTIALS) as elbv2,
        ):
            with pytest.raises(EndpointConnectionError):
                await ecs.list_clusters()
            with pytest.raises(ConnectionClosedError):
                await ecs.describe_clusters(clusters=["x"])
            with pytest.raises(ConnectionClosedError):
                await elbv2.describe_load_balancers()
            assert (await ecs.create_cluster(clusterName="fine"))["cluster"]["clusterName"] == "fine"
    assert proxy.counts[("ecs", "DescribeClusters", "truncate")] == 1


# ---- the rules themselves, without I/O ------------------------------------------------------------------------

SIGNED_ECS = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host"
SIGNED_ELB = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/elasticloadbalancing/aws4_request, X"


def test_identify_reads_every_protocol() -> None:
    json_call = identify(
        method="POST",
        query_string="",
        headers={
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeServices",
            "Authorization": SIGNED_ECS,
            "Content-Type": "application/x-amz-json-1.1",
        },
        body=b"{}",
    )
    assert json_call == AwsCall(
        "ecs", "DescribeServices", "json", "application/x-amz-json-1.1", "AKID", "us-east-1"
    )
    unsigned = identify(
        method="POST", query_string="", headers={"X-Amz-Target": "DynamoDB_20120810.PutItem"}, body=b""
    )
    assert unsigned is not None and unsigned.key == "dynamodb:PutItem" and unsigned.is_write
    form = {"Authorization": SIGNED_ELB, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    query_call = identify(
        method="POST", query_string="", headers=form, body=b"Action=DescribeTargetGroups&Version=2015-12-01"
    )
    assert query_call is not None and (query_call.key, query_call.protocol) == (
        "elbv2:DescribeTargetGroups",
        "query",
    )
    assert not query_call.is_write
    in_query_string = identify(
        method="GET",
        query_string="Action=DescribeVpcs&Version=2016-11-15",
        headers={"Authorization": SIGNED_ECS.replace("/ecs/", "/ec2/")},
        body=b"",
    )
    assert in_query_string is not None and (in_query_string.key, in_query_string.protocol) == (
        "ec2:DescribeVpcs",
        "ec2",
    )
    rest = identify(method="GET", query_string="", headers={"Authorization": SIGNED_ECS}, body=b"")
    assert rest is None
    assert identify(method="POST", query_string="", headers={}, body=b"Action=DescribeVpcs") is None


def test_operation_rules_override_only_what_they_set_and_the_first_match_wins() -> None:
    rules = FaultRules(
        throttle=0.1,
        latency_ms=40,
        operations=[
            OperationFaults(match="ecs:Describe*", server_error=0.2),
            OperationFaults(match="ecs:*", throttle=0.0),
        ],
    )
    engine = FaultEngine(rules)
    describe = engine.rates_for("ecs:DescribeServices")
    assert (describe.throttle, describe.server_error, describe.latency_ms) == (0.1, 0.2, 40)
    assert engine.rates_for("ecs:CreateService").throttle == 0.0
    assert engine.rates_for("elbv2:DescribeRules").throttle == 0.1


def test_the_seed_makes_the_faults_repeatable() -> None:
    call = AwsCall("ecs", "DescribeServices", "json", "")
    rules = FaultRules(seed=42, throttle=0.1, server_error=0.1, reset=0.05, read_timeout=0.05, truncate=0.05)
    engine_a, engine_b = FaultEngine(rules), FaultEngine(rules)
    sequence_a = [engine_a.decide(call).fault for _ in range(500)]
    sequence_b = [engine_b.decide(call).fault for _ in range(500)]
    assert sequence_a == sequence_b
    share = sum(fault is not None for fault in sequence_a) / 500
    assert 0.27 < share < 0.43  # 35 % of calls fail, one draw per call
    assert {f for f in sequence_a if f} == {
        Fault.THROTTLE,
        Fault.SERVER_ERROR,
        Fault.RESET,
        Fault.READ_TIMEOUT,
        Fault.TRUNCATE,
    }


def test_token_buckets_follow_aws_burst_and_refill() -> None:
    now = [0.0]
    engine = FaultEngine(FaultRules(aws_rates=True), clock=lambda: now[0])
    update = AwsCall("ecs", "UpdateService", "json", "")  # service modify: 50 burst, 5/s
    assert [engine.decide(update).fault for _ in range(51)].count(Fault.RATE_LIMIT) == 1
    now[0] = 1.0
    assert [engine.decide(update).fault for _ in range(6)].count(Fault.RATE_LIMIT) == 1
    unlisted = AwsCall("codedeploy", "CreateDeployment", "json", "")
    assert all(engine.decide(unlisted).fault is None for _ in range(1000))
    assert engine.group_of("elbv2:DescribeTags") == "elbv2-describe"
    assert engine.group_of("elbv2:ModifyRule") == "elbv2-mutate"


def test_accounts_are_learned_from_sts_answers_and_buckets_kept_per_account_and_region() -> None:
    engine = FaultEngine(FaultRules(aws_rates=True), clock=lambda: 0.0)
    assume = AwsCall("sts", "AssumeRole", "query", "", "AKIDEFAULT", "us-east-1")
    engine.learn(assume, ASSUME_ROLE_ANSWER)
    identity = AwsCall("sts", "GetCallerIdentity", "query", "", "ASIAOTHERSESSION", "us-east-1")
    engine.learn(identity, CALLER_IDENTITY_ANSWER)
    session = AwsCall("sts", "GetSessionToken", "query", "", "ASIAROLESESSION", "us-east-1")
    engine.learn(session, SESSION_TOKEN_ANSWER)
    assert engine.account_of("ASIAROLESESSION") == "111111111111"
    assert engine.account_of("ASIAOTHERSESSION") == "111111111111"
    assert engine.account_of("ASIATOKEN") == "111111111111"  # a session token of that role's session
    assert engine.account_of("AKIDEFAULT") == DEFAULT_ACCOUNT
    engine.learn(assume, b"<not xml")  # says nothing
    assert engine.account_of("ASIAROLESESSION") == "111111111111"

    def drained(access_key: str, region: str = "us-east-1") -> int:
        """How many UpdateService calls (50 burst, 5/s; the clock stands still) pass before the first refusal."""
        call = AwsCall("ecs", "UpdateService", "json", "", access_key, region)
        return next(n for n in itertools.count() if engine.decide(call).fault is Fault.RATE_LIMIT)

    assert drained("ASIAROLESESSION") == 50
    assert drained("ASIAOTHERSESSION") == 0  # the same account's bucket
    assert drained("AKIDEFAULT") == 50
    assert drained("never-issued") == 0  # the default account's
    assert drained("ASIAROLESESSION", "eu-west-1") == 50


ASSUME_ROLE_ANSWER = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><Credentials><AccessKeyId>ASIAROLESESSION</AccessKeyId><SecretAccessKey>s</SecretAccessKey>
<SessionToken>t</SessionToken><Expiration>2026-12-05T19:00:00Z</Expiration></Credentials>
<AssumedRoleUser><AssumedRoleId>AROA:one</AssumedRoleId>
<Arn>arn:aws:sts::111111111111:assumed-role/reconciler-target/one</Arn></AssumedRoleUser>
</AssumeRoleResult></AssumeRoleResponse>"""
CALLER_IDENTITY_ANSWER = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><UserId>AROA:two</UserId><Account>111111111111</Account>
<Arn>arn:aws:sts::111111111111:assumed-role/reconciler-target/two</Arn></GetCallerIdentityResult>
</GetCallerIdentityResponse>"""
SESSION_TOKEN_ANSWER = b"""<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetSessionTokenResult><Credentials><AccessKeyId>ASIATOKEN</AccessKeyId></Credentials></GetSessionTokenResult>
</GetSessionTokenResponse>"""


def test_caller_identity_prefers_the_replica_token() -> None:
    assert caller_identity("Boto3/1.0 md/x reconciler-replica/r-2 other/1") == "r-2"
    assert caller_identity("aws-cli/2.0") == "aws-cli/2.0"
