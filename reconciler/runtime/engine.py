"""One reconcile pass, level-based: read AWS, plan against the desired state, apply. Nothing else.

The CLI's ``plan`` and ``apply`` and the daemon all go through here, so they can never disagree about what a
change is.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.apply.ecs import EcsWriter
from reconciler.apply.executor import ApplyResult, Executor, Writer
from reconciler.live.clients import AwsClients
from reconciler.live.ecs import EcsReader
from reconciler.model.live import LiveState
from reconciler.model.resource import DesiredState, Mode
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.types import Plan


@dataclass
class PassOutcome:
    plan: Plan
    result: ApplyResult


class Engine:
    """Holds what must outlive a pass (the clients, the task definition cache) and runs passes."""

    def __init__(self, clients: AwsClients, *, options: PlanOptions, mode: Mode = Mode.ENFORCE) -> None:
        self.clients = clients
        self.options = options
        self.mode = mode
        self._ecs_reader = EcsReader(clients, instance=options.instance)
        ecs_writer: Writer = EcsWriter(clients, self._ecs_reader)
        self._executor = Executor(
            writers={"Cluster": ecs_writer, "TaskDefinition": ecs_writer, "Service": ecs_writer},
            instance=options.instance,
            mode=mode,
        )

    async def plan(self, desired: DesiredState) -> Plan:
        live = LiveState()
        await self._ecs_reader.read(desired, live)
        plan = make_plan(desired, live, self.options)
        if plan.families_to_read:
            await self._ecs_reader.read_families(plan.families_to_read, live)
            plan = make_plan(desired, live, self.options)
        return plan

    async def reconcile(self, desired: DesiredState) -> PassOutcome:
        plan = await self.plan(desired)
        result = await self._executor.run(plan, desired)
        return PassOutcome(plan=plan, result=result)
