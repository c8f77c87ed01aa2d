"""A service's health apart from its sync, and its deployment history, end to end: the daemon on the example estate
in the emulator, whose ECS deployments take time, crash-loop and roll back as ECS's do."""

from __future__ import annotations

from collections import Counter

from reconciler.live.clients import AwsClients
from reconciler.model.resource import ResourceKey
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory
from tests.e2e.conftest import Estate


async def test_what_health_reads_is_read_only_when_it_may_have_changed(
    converged: Estate, boto: BotoFactory
) -> None:
    """A fresh engine lists each service's deployments once; then nothing, pass after pass, until a service's
    deployments change; a service that rolls out has its target group's health read at once."""
    source = DirectorySource(root=converged.dir, vars_files=(converged.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions())
        desired = source.load()

        async def spent_by_a_pass() -> tuple[Counter[str], PassOutcome]:
            before = clients.calls_by_operation()
            outcome = await engine.reconcile(desired)
            calls = clients.calls_by_operation()
            calls.subtract(before)
            return +calls, outcome

        first, _ = await spent_by_a_pass()
        # wordpress, catalog and scorekeep's two (frontapp's history is CodeDeploy's)
        assert first["ecs:ListServiceDeployments"] == 4
        assert first["ecs:DescribeServiceDeployments"] == 1  # their deployments, 20 a call
        for _ in range(3):
            steady, outcome = await spent_by_a_pass()
            assert not {op: n for op, n in steady.items() if op in HISTORY_READS}, steady
            # target health by turns: a sixtieth of the target groups a pass
            assert steady["elastic-load-balancing-v2:DescribeTargetHealth"] <= 1
        healths = {key: verdict.health.value for key, verdict in outcome.health.items()}
        assert healths[ResourceKey("Service", "wordpress")] == "Healthy"
        assert {h for key, h in healths.items() if key.kind != "TargetGroup"} == {"Healthy"}
        assert outcome.deployments["wordpress"][0]["status"] == "SUCCESSFUL"

        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", forceNewDeployment=True)
        rolling, outcome = await spent_by_a_pass()
        assert rolling["ecs:ListServiceDeployments"] == 1 and rolling["ecs:DescribeServiceDeployments"] == 1
        assert rolling["elastic-load-balancing-v2:DescribeTargetHealth"] >= 1  # wordpress-tg, at once
        assert outcome.health[ResourceKey("Service", "wordpress")].health.value == "Progressing"
        assert outcome.health[ResourceKey("TargetGroup", "wordpress-tg")].read
        newest = outcome.deployments["wordpress"][0]
        assert (newest["status"], newest["startedBy"]) == ("IN_PROGRESS", "outside the reconciler")


HISTORY_READS = {
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "codedeploy:BatchGetDeployments",
}
