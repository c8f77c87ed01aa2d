"""Who made a drift, end to end: a hand-made change through the emulator, by an assumed role's session and by an IAM
user, reaches the daemon as the CloudTrail event AWS would send; the drift it reveals is put down to that
principal in ``/status`` (``lastDriftBy`` and the resource's drift episodes) and counted by the principal's type.
A drift no event named says a periodic pass found it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from reconciler.sandbox.seed import create_events_queue
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import REGION, Estate
from tests.e2e.test_daemon import desired_count, eventually, metric
from tests.e2e.test_targeted import daemon_on

TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}'


def as_principal(boto: BotoFactory, credentials: dict[str, str]) -> Any:
    return boto("ecs", aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials.get("SessionToken"))  # fmt: skip


async def service_status(base: str, name: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/status") as response:
        body = await response.json()
    return next(r for r in body["resources"] if (r["kind"], r["name"]) == ("Service", name))


async def test_a_hand_made_drift_is_put_down_to_the_role_session_and_the_user_that_made_it(
    estate: Estate, boto: BotoFactory, aws: str
) -> None:
    iam, sts = boto("iam"), boto("sts")
    role = iam.create_role(RoleName="Deployer", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    jane = sts.assume_role(RoleArn=role, RoleSessionName="jane")["Credentials"]
    iam.create_user(UserName="alice")
    alice = iam.create_access_key(UserName="alice")["AccessKey"]
    queue_url = await create_events_queue(endpoint_url=aws, region=REGION)
    async with daemon_on(estate, queue_url=queue_url) as (_, base):
        roles = await metric(base, 'reconciler_drift_by_principal_total{principal_type="role"}')
        users = await metric(base, 'reconciler_drift_by_principal_total{principal_type="user"}')
        await asyncio.to_thread(
            wait_until_settled, boto
        )  # a service still deploying is not corrected at once

        as_principal(boto, jane).update_service(cluster="myapp-prod", service="wordpress", desiredCount=4)
        await eventually(lambda: desired_count(boto) == 1, within=30)
        await eventually(
            lambda: _by(base, "wordpress", "Deployer/jane"), within=10
        )  # the pass has recorded it
        wordpress = await service_status(base, "wordpress")
        assert wordpress["lastDriftBy"] | {"at": ""} == {
            "type": "role", "name": "Deployer/jane", "arn": "arn:aws:sts::123456789012:assumed-role/Deployer/jane",
            "account": "123456789012", "foundBy": "event", "at": "",
        }  # fmt: skip
        assert wordpress["driftEpisodes"][0]["by"]["name"] == "Deployer/jane"
        assert wordpress["driftEpisodes"][0]["paths"] == ["desiredCount"]
        assert wordpress["driftEpisodes"][0]["correctedAt"]
        assert wordpress["changes"][0]["cause"] == "drift"
        assert await metric(base, 'reconciler_drift_by_principal_total{principal_type="role"}') == roles + 1

        await asyncio.sleep(0.5)  # the correction is our own write: the next drift is a new episode
        as_principal(boto, {"AccessKeyId": alice["AccessKeyId"], "SecretAccessKey": alice["SecretAccessKey"]}
                     ).update_service(cluster="myapp-prod", service="wordpress", desiredCount=3)  # fmt: skip
        await eventually(lambda: _by(base, "wordpress", "alice"), within=30)
        assert await metric(base, 'reconciler_drift_by_principal_total{principal_type="user"}') == users + 1
        episodes = (await service_status(base, "wordpress"))["driftEpisodes"]
        assert [e["by"]["name"] for e in episodes[:2]] == ["alice", "Deployer/jane"]  # newest first


async def _by(base: str, name: str, who: str) -> bool:
    status = await service_status(base, name)
    return bool(status.get("lastDriftBy", {}).get("name") == who and status["state"] == "Synced")


async def test_a_drift_found_by_the_interval_pass_says_so(estate: Estate, boto: BotoFactory) -> None:
    async with daemon_on(estate, interval=1.0) as (_, base):
        unknown = await metric(base, 'reconciler_drift_by_principal_total{principal_type="unknown"}')
        await asyncio.to_thread(wait_until_settled, boto)
        boto("ecs").update_service(
            cluster="myapp-prod", service="wordpress", desiredCount=2
        )  # no events queue
        await eventually(lambda: desired_count(boto) == 1, within=30)
        await eventually(lambda: _found(base), within=10)
        assert (
            await metric(base, 'reconciler_drift_by_principal_total{principal_type="unknown"}') == unknown + 1
        )


async def _found(base: str) -> bool:
    by = (await service_status(base, "wordpress")).get("lastDriftBy") or {}
    return bool(by.get("foundBy") == "periodic pass" and by.get("type") == "unknown")
