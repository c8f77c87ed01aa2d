"""``reconciler sandbox``: the emulator, the base infrastructure the example needs, then the daemon against both.

The seeded IDs (subnets, security groups, roles, parameters, file system) reach the desired state as variables
that win over ``vars.yaml``, the same mechanism a real deployment uses with ``--vars``.
"""

from __future__ import annotations

import os

import structlog

from reconciler.runtime.one_shot import clients_of
from reconciler.runtime.options import fleet_of
from reconciler.sandbox.emulator import start_emulator
from reconciler.sandbox.seed import create_events_queue, seed_base_infrastructure
from reconciler.settings import Settings

log = structlog.get_logger(__name__)
SANDBOX_REGION = "us-east-1"
SANDBOX_LISTEN = "127.0.0.1:8080"


async def run_sandbox(settings: Settings, *, emulator_port: int) -> int:
    _use_sandbox_credentials()
    async with await start_emulator(port=emulator_port) as emulator:
        variables = await seed_base_infrastructure(endpoint_url=emulator.url, region=SANDBOX_REGION)
        given = settings.model_fields_set
        queue = settings.events_queue_url
        if "events_queue_url" not in given:  # the emulator emits CloudTrail-shaped events for others' writes
            queue = await create_events_queue(endpoint_url=emulator.url, region=SANDBOX_REGION)
        settings = settings.model_copy(
            update={
                "endpoint_url": emulator.url,
                "region": SANDBOX_REGION,
                "listen": settings.listen if "listen" in given else SANDBOX_LISTEN,
                "interval": settings.interval if "interval" in given else 10.0,
                "events_queue_url": queue,
            }
        )
        print(banner(settings, emulator.url), flush=True)
        async with clients_of(settings) as home:  # a loop per target, as ``reconciler run``
            await fleet_of(settings, home, extra_vars=variables, keep_caches=False).run()
    return 0


def _use_sandbox_credentials() -> None:
    """The emulator accepts any credentials; never let a developer's real ones be used against it."""
    os.environ.update(AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION=SANDBOX_REGION)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)


def banner(settings: Settings, emulator_url: str) -> str:
    metrics_url = f"http://{settings.listen}/metrics"
    return "\n".join(
        [
            "reconciler sandbox",
            f"  AWS emulator : {emulator_url}   (export AWS_ENDPOINT_URL={emulator_url} AWS_REGION={SANDBOX_REGION}"
            " AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox)",
            f"  web UI       : http://{settings.listen}/",
            f"  metrics      : {metrics_url}   status: http://{settings.listen}/status",
            f"  desired state: {settings.dir} (edit a file: the daemon reconciles at once)",
            "  cause drift  : aws ecs update-service --cluster myapp-prod --service wordpress --desired-count 5"
            f" --endpoint-url {emulator_url}",
            "                 then watch reconciler_resource_drifted and reconciler_drift_corrected_total",
        ]
    )
