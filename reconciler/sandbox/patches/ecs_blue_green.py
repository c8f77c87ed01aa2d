"""ECS blue/green, linear and canary deployments: ECS itself moves traffic between a service's two target groups
(Amazon ECS Developer Guide: "Amazon ECS blue/green service deployments workflow", "Amazon ECS linear deployments",
"Amazon ECS canary deployments", "Application Load Balancer resources for blue/green, linear, and canary
deployments", "Lifecycle hooks for Amazon ECS service deployments", "Lambda hooks for Amazon ECS service
deployments", "Stopping Amazon ECS service deployments"; ECS API Reference: DeploymentConfiguration,
LinearConfiguration, CanaryConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookTimeoutConfiguration,
AdvancedConfiguration, ServiceDeployment, ServiceRevisionSummary, StopServiceDeployment,
ContinueServiceDeployment).

moto kept ``deploymentConfiguration.strategy``, the hooks and ``loadBalancers[].advancedConfiguration`` as given
and checked none of it, ran every service's deployments as rolling updates (the sandbox's ``ecs_deployments``), and
lacked StopServiceDeployment and ContinueServiceDeployment. Here a deployment of a service whose strategy is
BLUE_GREEN, LINEAR or CANARY (``TRAFFIC_SHIFTING``) goes through the lifecycle stages on the ``TIMELINE``, each
stage ``ecs_lifecycle_stage`` seconds (its hooks run that long), each configured minute ``ecs_deployment_minute``:

| stage (``lifecycleStage``) | what ECS does in it |
|---|---|
| RECONCILE_SERVICE | only when the deployment starts while another is still in progress: that one's green tasks stop, production and test traffic go back to the last completed revision |
| PRE_SCALE_UP | hooks |
| SCALE_UP | the green tasks start (``ecs_rollout``); an image with ``CRASHLOOP_MARKER`` never becomes healthy: ``failedTasks`` grows, and the circuit breaker, when on, fails (and rolls back) the deployment |
| POST_SCALE_UP | hooks |
| TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT | each test listener rule forwards blue 0, green 100; hooks |
| PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, once per step | each production listener rule forwards blue 100 - p, green p; hooks; then the step's bake. BLUE_GREEN: p = 100. CANARY: canaryPercent, after canaryBakeTimeInMinutes 100. LINEAR: stepPercent, 2 stepPercent, ... up to 100, stepBakeTimeInMinutes apart (none after 100) |
| POST_PRODUCTION_TRAFFIC_SHIFT | hooks |
| BAKE_TIME | ``bakeTimeInMinutes`` |
| CLEAN_UP | the blue tasks stop (``ecs_drain``); the green deployment is COMPLETED, the service deployment SUCCESSFUL; ECS swaps the pair: ``loadBalancers[].targetGroupArn`` becomes the green target group and ``advancedConfiguration.alternateTargetGroupArn`` the blue one |

Throughout, DescribeServices shows the green deployment PRIMARY (rolloutState IN_PROGRESS until the end, through
the bakes) beside the blue one ACTIVE (COMPLETED); DescribeServiceDeployments shows ``lifecycleStage``, the
current stage's ``lifecycleHookDetails`` and each revision's ``requestedProductionTrafficWeight`` and
``requestedTestTrafficWeight``. The rule writes are ELBv2 ModifyRule calls on moto's rules, so DescribeRules shows
them: a ``forward`` with ``ForwardConfig.TargetGroups`` [blue, green] and their weights, no ``TargetGroupArn``
(both stay listed, the idle one at weight 0), and each puts the CloudTrail event of a ModifyRule made by
``ecs.amazonaws.com`` with the role of ``advancedConfiguration.roleArn`` (``cloudtrail.put_service_call_event``).

A Lambda hook whose function name contains ``HOOK_FAILURE_MARKER`` returns FAILED, any other SUCCEEDED; a PAUSE
hook waits for ContinueServiceDeployment, or its timeout (``timeoutConfiguration``: 1440 minutes, ROLLBACK by
default). A failed hook, the circuit breaker (with rollback), a ROLLBACK at a pause hook or StopServiceDeployment
roll the deployment back: the green deployment is FAILED with the reason and ACTIVE, the blue one PRIMARY again
(the service's task definition, network configuration and load balancers go back to it), the service deployment
ROLLBACK_IN_PROGRESS (after ROLLBACK_REQUESTED, for StopServiceDeployment) with ``rollback``; after
``ecs_lifecycle_stage`` the production and test rules forward blue 100, green 0 again, after ``ecs_drain`` more
the green tasks are gone and the service deployment is ROLLBACK_SUCCESSFUL.

Where AWS's documents say nothing the sandbox chooses, and says so here and in docs/sandbox.md:
- The first deployment (CreateService) goes through every stage too, from the service's target group (with no
  tasks) to its alternate one, and the pair is swapped after it: ECS rewrote the production rule to green 100,
  blue 0 after a service's first deployment in https://github.com/go-to-k/cdk-real-drift/issues/1730.
- The swap of ``targetGroupArn`` and ``alternateTargetGroupArn`` after each successful deployment: the documents
  only call them the primary (blue) and alternate (green) target groups;
  https://github.com/hashicorp/terraform-provider-aws/issues/45678 reports that deployments started from the ECS
  console alternate the two groups, which they can only do if ECS hands back the swapped pair. A later
  UpdateService that sends the pair as it was first written is a change of load balancers (a new deployment)
  whose green target group is the one serving production: ECS does not check the rule's weights first
  (https://github.com/aws/containers-roadmap/issues/2853), nor does the sandbox.
- Weights are the percentages when the share is whole, else tenths of a percent (x 10, so that no weight
  exceeds ELBv2's 999); the TargetGroups are listed blue first.
- The error texts, reasons and event messages of hooks and stops are the sandbox's own; StopServiceDeployment of
  a service deployment that is over is a ConflictException, ``stopType`` ABORT (in botocore's enum, not among the
  documented values) an InvalidParameterException; a rolling deployment that is stopped rolls back as the circuit
  breaker's rollback does.
- The hooks of TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT, which ECS runs again during a rollback, are not
  run again.
- A PAUSE hook told to ROLLBACK shows FAILED; ROLLBACK_FAILED never happens.
- Validation that AWS documents is enforced with InvalidParameterException (``check_request``): a strategy
  ECS does not know; BLUE_GREEN without ``bakeTimeInMinutes``; bake times outside 0-1440 minutes;
  ``linearConfiguration``/``canaryConfiguration`` with another strategy; stepPercent outside 3.0-100.0 and
  canaryPercent outside 0.1-100.0 or not a multiple of 0.1; a hook without lifecycle stages, with a stage it
  cannot run at, a Lambda hook without ``hookTargetArn``, a PAUSE hook at TEST_TRAFFIC_SHIFT or
  PRODUCTION_TRAFFIC_SHIFT, a timeout outside 1-20160 minutes; another strategy than ROLLING, or an
  ``advancedConfiguration``, under another deployment controller than ECS; an ``advancedConfiguration`` without
  its alternate target group, production listener rule or role, or whose alternate is its own target group.
  Defaults (LINEAR 10 % every 6 minutes, CANARY 5 % for 10 minutes) are used, not written into the service.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import elbv2_backends
from moto.moto_api._internal import mock_random

from reconciler.sandbox.cloudtrail import WriteCall, put_service_call_event
from reconciler.sandbox.patches import ecs_deployments
from reconciler.sandbox.patches._wrapping import add_method
from reconciler.sandbox.patches.ecs_deployments import (
    ROLLBACK_REASON,
    Rollout,
    ServiceDeployment,
    add_event,
    at_time,
    copy_value,
    end_record,
    fail_rollout,
    record_of,
    render,
    schedule_failure,
    start_rollback,
)
from reconciler.sandbox.timing import TIMELINE

TRAFFIC_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")
STRATEGIES = ("ROLLING", *TRAFFIC_SHIFTING)
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
LAMBDA_ONLY_STAGES = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
HOOK_FAILURE_MARKER = "fail"  # in a Lambda hook's function name: the function returns hookStatus FAILED
MAX_BAKE_MINUTES = 1440
HOOK_TIMEOUT_MINUTES, MAX_HOOK_TIMEOUT_MINUTES = 1440, 20160
LINEAR_STEP_PERCENT, LINEAR_STEP_BAKE_MINUTES = 10.0, 6
CANARY_PERCENT, CANARY_BAKE_MINUTES = 5.0, 10
ECS_PRINCIPAL = "ecs.amazonaws.com"
ROLE_SESSION_NAME = "ecs-service-deployment"
MODIFY_RULE = WriteCall("aws.elasticloadbalancing", "elbv2", "ModifyRule", "query")
RUNNING = ("PENDING", "IN_PROGRESS")
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED")
HOOK_ROLLBACK_REASON = "Service deployment rolled back because a lifecycle hook failed."
STOP_ROLLBACK_REASON = "Service deployment rolled back because a rollback was requested."
STOP_REASON = "ECS deployment stopped: a rollback was requested."
SHIFT_ROLLBACK_REASON = "Service deployment rolled back because ECS could not shift traffic."


class ServiceDeploymentNotFoundException(ServiceException):
    code = "ServiceDeploymentNotFoundException"


class ConflictException(ServiceException):
    code = "ConflictException"


def apply() -> None:
    add_method(EC2ContainerServiceResponse, "stop_service_deployment", _stop_service_deployment)
    add_method(EC2ContainerServiceResponse, "continue_service_deployment", _continue_service_deployment)


def shifts_traffic(service: Any) -> bool:
    controller = (service.deployment_controller or {}).get("type", "ECS")
    return controller == "ECS" and service.deployment_configuration.get("strategy") in TRAFFIC_SHIFTING


# --- what CreateService and UpdateService accept --------------------------------------------------------------


def check_request(
    *, controller: str, configuration: dict[str, Any], given: dict[str, Any] | None, load_balancers: Any
) -> None:
    """Refuse (InvalidParameterException) what AWS documents it refuses. ``configuration`` is the deployment
    configuration the service will have, ``given`` what the request sent of it."""
    strategy = configuration.get("strategy", "ROLLING")
    if strategy not in STRATEGIES:
        raise InvalidParameterException(
            f"Unknown deployment strategy {strategy!r} (valid: {', '.join(STRATEGIES)})."
        )
    if controller != "ECS" and strategy != "ROLLING":
        raise InvalidParameterException(
            f"The {strategy} deployment strategy requires the ECS deployment controller."
        )
    given = given or {}
    for name, wanted in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
        if given.get(name) is not None and strategy != wanted:
            raise InvalidParameterException(f"{name} is only valid with the {wanted} deployment strategy.")
    bake = configuration.get("bakeTimeInMinutes")
    if strategy == "BLUE_GREEN" and bake is None:
        raise InvalidParameterException(
            "bakeTimeInMinutes is required with the BLUE_GREEN deployment strategy."
        )
    _in_range("bakeTimeInMinutes", bake, 0, MAX_BAKE_MINUTES)
    linear = given.get("linearConfiguration") or {}
    _percent("stepPercent", linear.get("stepPercent"), 3.0)
    _in_range("stepBakeTimeInMinutes", linear.get("stepBakeTimeInMinutes"), 0, MAX_BAKE_MINUTES)
    canary = given.get("canaryConfiguration") or {}
    _percent("canaryPercent", canary.get("canaryPercent"), 0.1)
    _in_range("canaryBakeTimeInMinutes", canary.get("canaryBakeTimeInMinutes"), 0, MAX_BAKE_MINUTES)
    for hook in given.get("lifecycleHooks") or []:
        _check_hook(hook)
    for balancer in load_balancers or []:
        _check_advanced(balancer, controller)


def _in_range(name: str, value: Any, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidParameterException(f"{name} must be between {low} and {high} (got {value}).")


def _percent(name: str, value: Any, low: float) -> None:
    _in_range(name, value, low, 100.0)
    if value is not None and abs(value * 10 - round(value * 10)) > 1e-6:
        raise InvalidParameterException(f"{name} must be a multiple of 0.1 (got {value}).")


def _check_hook(hook: dict[str, Any]) -> None:
    stages = hook.get("lifecycleStages") or []
    kind = hook.get("targetType", "AWS_LAMBDA")
    if not stages:
        raise InvalidParameterException("A lifecycle hook needs lifecycleStages.")
    if unknown := [stage for stage in stages if stage not in HOOK_STAGES]:
        raise InvalidParameterException(f"A lifecycle hook cannot run at {', '.join(unknown)}.")
    if kind == "AWS_LAMBDA" and not hook.get("hookTargetArn"):
        raise InvalidParameterException("An AWS_LAMBDA lifecycle hook needs a hookTargetArn.")
    if kind == "PAUSE" and (refused := [stage for stage in stages if stage in LAMBDA_ONLY_STAGES]):
        raise InvalidParameterException(f"PAUSE hooks cannot be configured at {', '.join(refused)}.")
    if kind not in ("AWS_LAMBDA", "PAUSE"):
        raise InvalidParameterException(f"Unknown lifecycle hook targetType {kind!r}.")
    timeout = hook.get("timeoutConfiguration") or {}
    _in_range("timeoutInMinutes", timeout.get("timeoutInMinutes"), 1, MAX_HOOK_TIMEOUT_MINUTES)
    if timeout.get("action", "ROLLBACK") not in ("ROLLBACK", "CONTINUE"):
        raise InvalidParameterException(f"Unknown lifecycle hook timeout action {timeout.get('action')!r}.")


def _check_advanced(balancer: dict[str, Any], controller: str) -> None:
    advanced = balancer.get("advancedConfiguration")
    if advanced is None:
        return
    if controller != "ECS":
        raise InvalidParameterException("advancedConfiguration requires the ECS deployment controller.")
    for name in ("alternateTargetGroupArn", "productionListenerRule", "roleArn"):
        if not advanced.get(name):
            raise InvalidParameterException(f"advancedConfiguration needs {name}.")
    if advanced["alternateTargetGroupArn"] == balancer.get("targetGroupArn"):
        raise InvalidParameterException("The alternate target group must differ from the target group.")


# --- a deployment ---------------------------------------------------------------------------------------------


def start_deployment(service: Any) -> None:
    """The deployment a change of the service starts: a traffic-shifting run for BLUE_GREEN, LINEAR and CANARY,
    else the rolling update."""
    if not shifts_traffic(service):
        ecs_deployments.start_deployment(service)
        return
    previous: TrafficRun | None = getattr(service, "traffic_run", None)
    busy = [r for r in service.rollouts if r.rollout_state == "IN_PROGRESS" or r.running + r.pending > 0]
    blue = service.last_completed if service.last_completed in service.rollouts else None
    superseded = previous if previous is not None and previous.in_progress() else None
    reconcile = len(busy) > 1 or superseded is not None
    green = ecs_deployments.begin_deployment(service)
    record = record_of(service, green)
    assert record is not None  # begin_deployment records every deployment that is not a rollback
    service.traffic_run = TrafficRun(service, green, blue, record, reconcile=reconcile, superseded=superseded)
    service.traffic_run.start(TIMELINE.now())


@dataclass(frozen=True)
class Shift:
    """One load balancer of the service: its pair of target groups and the rules ECS moves between them."""

    blue: str
    green: str
    production_rule: str
    test_rule: str | None
    role_arn: str


@dataclass
class TrafficRun:
    """The stages of one traffic-shifting deployment, each due after the one before; a step finds the deployment
    as it is then, and one that was stopped, superseded or deleted meanwhile goes no further."""

    service: Any
    green: Rollout
    blue: Rollout | None
    record: ServiceDeployment
    reconcile: bool = False
    superseded: TrafficRun | None = None
    shifts: list[Shift] = field(default_factory=list)
    production: float = 0.0  # the green revision's share of production traffic, percent
    tested: bool = False
    _stage_number: int = 0
    _then_after_hooks: Callable[[float], None] | None = None
    _hooks_ran: bool = False

    def __post_init__(self) -> None:
        self.shifts = [
            Shift(
                blue=balancer["targetGroupArn"],
                green=advanced["alternateTargetGroupArn"],
                production_rule=advanced["productionListenerRule"],
                test_rule=advanced.get("testListenerRule"),
                role_arn=advanced["roleArn"],
            )
            for balancer in self.service.load_balancers or []
            if (advanced := balancer.get("advancedConfiguration"))
        ]
        self.green.production_weight = 0.0
        if self.blue is not None:
            self.blue.production_weight = 100.0

    @property
    def configuration(self) -> dict[str, Any]:
        return self.record.deployment_configuration

    def in_progress(self) -> bool:
        service = self.service
        return (
            self.record.status == "IN_PROGRESS"
            and service.status == "ACTIVE"
            and getattr(service, "traffic_run", None) is self
            and ecs_deployments.is_current(service, self.green)
        )

    def _then(self, step: Callable[[float], None], seconds: float, when: float) -> None:
        def go(due: float) -> None:
            if self.in_progress():
                step(due)

        TIMELINE.after(seconds, go, start=when)

    # stages, in order

    def start(self, when: float) -> None:
        if not self.reconcile:
            self._stage("PRE_SCALE_UP", when, self.scale_up)
            return
        self._stage("RECONCILE_SERVICE", when, lambda due: self._stage("PRE_SCALE_UP", due, self.scale_up))
        self._reconcile(when)

    def _reconcile(self, when: float) -> None:
        """The tasks of every other revision stop, and traffic a superseded deployment moved goes back to the last
        completed revision."""
        if self.superseded is not None and (self.superseded.production or self.superseded.tested):
            self.superseded.send_traffic_back(when)
        leftovers = [r for r in self.service.rollouts if r is not self.green and r is not self.blue]

        def drained(due: float) -> None:
            self.service.rollouts = [r for r in self.service.rollouts if r not in leftovers]
            render(self.service)

        TIMELINE.after(TIMELINE.timing.ecs_drain, drained, start=when)

    def scale_up(self, when: float) -> None:
        self._enter("SCALE_UP", when, hooks=[])
        green = self.green
        if green.healthy or green.desired == 0:
            self._then(self._scaled_up, TIMELINE.timing.ecs_rollout, when)
        else:
            schedule_failure(self.service, green, start=when, trip=self._breaker_tripped)

    def _scaled_up(self, when: float) -> None:
        green = self.green
        green.running, green.pending, green.updated_at = green.desired, 0, at_time(when)
        render(self.service)
        self._stage("POST_SCALE_UP", when, self.test_traffic)

    def test_traffic(self, when: float) -> None:
        self._enter("TEST_TRAFFIC_SHIFT", when)
        if not self._write_test(when):
            return
        self._after_hooks(lambda due: self._stage("POST_TEST_TRAFFIC_SHIFT", due, self._production_step(0)))

    def _production_step(self, step: int) -> Callable[[float], None]:
        return lambda when: self._stage("PRE_PRODUCTION_TRAFFIC_SHIFT", when, self._shift(step))

    def _shift(self, step: int) -> Callable[[float], None]:
        def shift(when: float) -> None:
            steps, bake = self._steps()
            self._enter("PRODUCTION_TRAFFIC_SHIFT", when)
            if not self._write_production(steps[step], when):
                return
            if step + 1 == len(steps):
                self._after_hooks(lambda due: self._stage("POST_PRODUCTION_TRAFFIC_SHIFT", due, self.bake))
            else:
                later = self._production_step(step + 1)
                self._after_hooks(
                    lambda due: self._then(later, bake * TIMELINE.timing.ecs_deployment_minute, due)
                )

        return shift

    def _steps(self) -> tuple[list[float], float]:
        """The production shares the green revision gets, in order, and the minutes baked after each but the last."""
        strategy = self.configuration.get("strategy")
        if strategy == "LINEAR":
            linear = self.configuration.get("linearConfiguration") or {}
            size = float(linear.get("stepPercent", LINEAR_STEP_PERCENT))
            count = math.ceil(round(100.0 / size, 6))
            steps = [min(100.0, round(size * (number + 1), 1)) for number in range(count)]
            return steps, float(linear.get("stepBakeTimeInMinutes", LINEAR_STEP_BAKE_MINUTES))
        if strategy == "CANARY":
            canary = self.configuration.get("canaryConfiguration") or {}
            percent = float(canary.get("canaryPercent", CANARY_PERCENT))
            steps = [percent, 100.0] if percent < 100.0 else [100.0]
            return steps, float(canary.get("canaryBakeTimeInMinutes", CANARY_BAKE_MINUTES))
        return [100.0], 0.0

    def bake(self, when: float) -> None:
        self._enter("BAKE_TIME", when, hooks=[])
        minutes = float(self.configuration.get("bakeTimeInMinutes") or 0)
        self._then(self.clean_up, minutes * TIMELINE.timing.ecs_deployment_minute, when)

    def clean_up(self, when: float) -> None:
        self._enter("CLEAN_UP", when, hooks=[])
        if self.blue is not None:
            self.blue.pending = 0
        self._then(self._finish, TIMELINE.timing.ecs_drain, when)

    def _finish(self, when: float) -> None:
        service, green = self.service, self.green
        green.rollout_state = "COMPLETED"
        green.rollout_state_reason = f"ECS deployment {green.id} completed."
        green.desired = service.desired_count
        green.running, green.pending, green.updated_at = green.desired, 0, at_time(when)
        if self.blue is not None:
            self.blue.production_weight = 0.0
            self.blue.test_weight = 0.0 if self.blue.test_weight is not None else None
        service.rollouts = [green]
        service.load_balancers = [_swapped(balancer) for balancer in service.load_balancers or []]
        green.revision["load_balancers"] = copy_value(service.load_balancers)
        service.last_completed = green
        end_record(self.record, "SUCCESSFUL", when)
        add_event(service, f"(service {service.name}) (deployment {green.id}) deployment completed.", when)
        add_event(service, f"(service {service.name}) has reached a steady state.", when)
        render(service)

    # hooks

    def _enter(self, stage: str, when: float, hooks: list[dict[str, Any]] | None = None) -> None:
        """The deployment is at ``stage``; its hooks (those configured for it, unless ``hooks`` says) start."""
        self._stage_number += 1
        self.record.lifecycle_stage, self.record.updated_at = stage, at_time(when)
        configured = [
            hook
            for hook in self.configuration.get("lifecycleHooks") or []
            if stage in hook["lifecycleStages"]
        ]
        self.record.hook_details = [
            _hook_detail(hook, when) for hook in (configured if hooks is None else hooks)
        ]
        self._then_after_hooks, self._hooks_ran = None, False
        number = self._stage_number
        self._then(lambda due: self._hooks_done(number, due), TIMELINE.timing.ecs_lifecycle_stage, when)
        for detail in self.record.hook_details:
            if detail["status"] == "AWAITING_ACTION":
                minutes = detail.pop("_timeout_minutes")
                self._then(
                    self._timeout(number, detail["hookId"]),
                    minutes * TIMELINE.timing.ecs_deployment_minute,
                    when,
                )

    def _timeout(self, number: int, hook_id: str) -> Callable[[float], None]:
        return lambda when: self._timed_out(number, hook_id, when)

    def _stage(self, stage: str, when: float, then: Callable[[float], None]) -> None:
        """Enter ``stage`` at ``when`` and go on with ``then`` once its hooks are done."""
        self._enter(stage, when)
        self._after_hooks(then)

    def _after_hooks(self, then: Callable[[float], None]) -> None:
        self._then_after_hooks = then

    def _hooks_done(self, number: int, when: float) -> None:
        """The stage's time is over: each Lambda hook has answered (FAILED if its function name has the marker)."""
        if number != self._stage_number:
            return
        self._hooks_ran = True
        for detail in self.record.hook_details:
            if detail["status"] == "IN_PROGRESS":
                failed = HOOK_FAILURE_MARKER in _function_name(detail.get("targetArn", ""))
                detail["status"] = "FAILED" if failed else "SUCCEEDED"
        failed_hooks = [detail for detail in self.record.hook_details if detail["status"] == "FAILED"]
        if failed_hooks:
            stage = self.record.lifecycle_stage
            reason = f"ECS deployment lifecycle hook {failed_hooks[0]['targetArn']} failed at {stage}."
            self.roll_back(reason, HOOK_ROLLBACK_REASON, when)
            return
        self._go_on(when)

    def _go_on(self, when: float) -> None:
        waiting = any(detail["status"] == "AWAITING_ACTION" for detail in self.record.hook_details)
        then = self._then_after_hooks
        if self._hooks_ran and not waiting and then is not None:
            self._then_after_hooks = None
            then(when)

    def resolve_pause(self, hook_id: str, action: str, when: float) -> bool:
        """ContinueServiceDeployment: False if no hook of the current stage with that ID awaits an action."""
        detail = next((d for d in self.record.hook_details if d["hookId"] == hook_id), None)
        if detail is None or detail["status"] != "AWAITING_ACTION" or not self.in_progress():
            return False
        if action == "ROLLBACK":
            detail["status"] = "FAILED"
            self.roll_back("ECS deployment rolled back at a pause hook.", STOP_ROLLBACK_REASON, when)
        else:
            detail["status"] = "SUCCEEDED"
            self._go_on(when)
        return True

    def _timed_out(self, number: int, hook_id: str, when: float) -> None:
        detail = next((d for d in self.record.hook_details if d["hookId"] == hook_id), None)
        if number != self._stage_number or detail is None or detail["status"] != "AWAITING_ACTION":
            return
        detail["status"] = "TIMED_OUT"
        if detail["timeoutAction"] == "ROLLBACK":
            self.roll_back("ECS deployment lifecycle hook timed out.", HOOK_ROLLBACK_REASON, when)
        else:
            self._go_on(when)

    # traffic

    def _write_production(self, percent: float, when: float) -> bool:
        """Each production rule forwards ``percent`` to green, the rest to blue; False (and rolled back) if ECS
        cannot write a rule."""
        for shift in self.shifts:
            if not self._write(shift, shift.production_rule, _weights(shift, percent), when):
                return False
        self.production = percent
        self.green.production_weight = percent
        if self.blue is not None:
            self.blue.production_weight = 100.0 - percent
        return True

    def _write_test(self, when: float) -> bool:
        """Each test rule forwards everything to green; False (and rolled back) if ECS cannot write a rule."""
        for shift in self.shifts:
            if shift.test_rule and not self._write(shift, shift.test_rule, _weights(shift, 100.0), when):
                return False
        if any(shift.test_rule for shift in self.shifts):
            self.tested = True
            self.green.test_weight = 100.0
            if self.blue is not None:
                self.blue.test_weight = 0.0
        return True

    def _write(self, shift: Shift, rule_arn: str, weights: list[tuple[str, int]], when: float) -> bool:
        try:
            modify_rule_as_ecs(self.service, shift.role_arn, rule_arn, weights)
        except ELBClientError as error:
            if self.in_progress():
                failure = f"ECS could not modify listener rule {rule_arn}: {error.message}"
                self.roll_back(failure, SHIFT_ROLLBACK_REASON, when)
            return False
        return True

    def send_traffic_back(self, when: float) -> None:
        """Production and test rules forward blue 100, green 0 again (errors ignored: nothing is left to undo)."""
        for shift in self.shifts:
            rules = [shift.production_rule] if self.production else []
            rules += [shift.test_rule] if self.tested and shift.test_rule else []
            for rule in rules:
                with contextlib.suppress(ELBClientError):
                    modify_rule_as_ecs(self.service, shift.role_arn, rule, _weights(shift, 0.0))
        self.production, self.tested = 0.0, False
        self.green.production_weight = 0.0
        self.green.test_weight = 0.0 if self.green.test_weight is not None else None
        if self.blue is not None:
            self.blue.production_weight = 100.0
            self.blue.test_weight = 100.0 if self.blue.test_weight is not None else None

    # failing and rolling back

    def _breaker_tripped(self, service: Any, rollout: Rollout, rollback: bool, when: float) -> None:
        if rollback:
            self.roll_back(rollout.rollout_state_reason, ROLLBACK_REASON, when)
        else:
            end_record(self.record, "STOPPED", when, reason=rollout.rollout_state_reason)

    def roll_back(self, failure: str, reason: str, when: float, *, requested: bool = False) -> None:
        """The green deployment FAILED (unless it already is), the blue one PRIMARY again; traffic goes back after
        ``ecs_lifecycle_stage``, the green tasks are gone after ``ecs_drain`` more. Nothing to go back to (a first
        deployment): the service deployment is STOPPED and the green deployment stays, FAILED."""
        service, green, blue, record = self.service, self.green, self.blue, self.record
        if record.status not in RUNNING:
            return
        if green.rollout_state == "IN_PROGRESS":
            fail_rollout(service, green, failure, when)
        if blue is None:
            end_record(record, "STOPPED", when, reason=green.rollout_state_reason)
            render(service)
            return
        start_rollback(record, blue, reason=reason, when=when)
        if requested:
            record.status = "ROLLBACK_REQUESTED"
        for name, value in blue.revision.items():
            setattr(service, name, copy_value(value))
        green.status, blue.status = "ACTIVE", "PRIMARY"
        service.rollouts = [blue, green]
        add_event(service, f"(service {service.name}) rolling back to deployment {blue.id}.", when)
        render(service)

        def rolling_back() -> bool:
            return record.status in ROLLING_BACK and service.status == "ACTIVE"

        def traffic_back(due: float) -> None:
            if rolling_back():
                record.status, record.updated_at = "ROLLBACK_IN_PROGRESS", at_time(due)
                self.send_traffic_back(due)
                TIMELINE.after(TIMELINE.timing.ecs_drain, green_gone, start=due)

        def green_gone(due: float) -> None:
            if rolling_back():
                green.running = green.pending = 0
                service.rollouts = [rollout for rollout in service.rollouts if rollout is not green]
                end_record(record, "ROLLBACK_SUCCESSFUL", due)
                add_event(service, f"(service {service.name}) has reached a steady state.", due)
                render(service)

        TIMELINE.after(TIMELINE.timing.ecs_lifecycle_stage, traffic_back, start=when)


def _swapped(balancer: dict[str, Any]) -> dict[str, Any]:
    advanced = balancer.get("advancedConfiguration")
    if not advanced:
        return balancer
    swapped_advanced = {**advanced, "alternateTargetGroupArn": balancer["targetGroupArn"]}
    return {
        **balancer,
        "targetGroupArn": advanced["alternateTargetGroupArn"],
        "advancedConfiguration": swapped_advanced,
    }


def _weights(shift: Shift, green_percent: float) -> list[tuple[str, int]]:
    scale = 1 if green_percent == int(green_percent) else 10
    green = round(green_percent * scale)
    return [(shift.blue, 100 * scale - green), (shift.green, green)]


def _hook_detail(hook: dict[str, Any], when: float) -> dict[str, Any]:
    """A DeploymentLifecycleHookDetail (``_timeout_minutes`` is the sandbox's, taken out when it is scheduled)."""
    kind = hook.get("targetType", "AWS_LAMBDA")
    timeout = hook.get("timeoutConfiguration") or {}
    minutes = float(timeout.get("timeoutInMinutes", HOOK_TIMEOUT_MINUTES))
    detail: dict[str, Any] = {
        "hookId": str(mock_random.uuid4()),
        "targetType": kind,
        "targetArn": hook.get("hookTargetArn") if kind == "AWS_LAMBDA" else None,
        "status": "AWAITING_ACTION" if kind == "PAUSE" else "IN_PROGRESS",
        "expiresAt": at_time(when + minutes * TIMELINE.timing.ecs_deployment_minute),
        "timeoutAction": timeout.get("action", "ROLLBACK"),
    }
    if kind == "PAUSE":
        detail["_timeout_minutes"] = minutes
    return detail


def _function_name(arn: str) -> str:
    return arn.split(":function:", 1)[-1].split(":", 1)[0]


def modify_rule_as_ecs(service: Any, role_arn: str, rule_arn: str, weights: list[tuple[str, int]]) -> None:
    """ELBv2 ModifyRule, as ECS makes it with the service's infrastructure role: the rule's forward actions go to
    ``weights``' target groups (stickiness kept), and CloudTrail records the call."""
    region, account = service.arn.split(":")[3:5]
    elbv2 = elbv2_backends[account][region]
    [rule] = elbv2.describe_rules(listener_arn=None, rule_arns=[rule_arn])
    actions = [_forwarding(action, weights) for action in rule.actions]
    elbv2.modify_rule(rule_arn, [], actions)
    put_service_call_event(
        MODIFY_RULE,
        parameters={"RuleArn": rule_arn, "Actions": copy_value(actions)},
        account=account,
        region=region,
        role_arn=role_arn,
        invoked_by=ECS_PRINCIPAL,
        session_name=ROLE_SESSION_NAME,
    )


def _forwarding(action: Any, weights: list[tuple[str, int]]) -> dict[str, Any]:
    data = {
        key: copy_value(value)
        for key, value in action.data.items()
        if key not in ("TargetGroupArn", "ForwardConfig")
    }
    if action.type != "forward":
        return data
    stickiness = (action.data.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {
        "Enabled": False
    }
    data["ForwardConfig"] = {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights],
        "TargetGroupStickinessConfig": dict(stickiness),
    }
    return data


# --- StopServiceDeployment, ContinueServiceDeployment ---------------------------------------------------------


def _find(backend: Any, arn: str) -> tuple[Any, ServiceDeployment]:
    for service in backend.services.values():
        for record in service.service_deployments:
            if record.arn == arn:
                return service, record
    raise ServiceDeploymentNotFoundException(f"The service deployment {arn} does not exist.")


def _stop_service_deployment(self: Any) -> ActionResult:
    """ECS API Reference, StopServiceDeployment; Developer Guide, "Stopping Amazon ECS service deployments": a
    PENDING or IN_PROGRESS service deployment moves to ROLLBACK_REQUESTED and rolls back to the previous service
    revision (even without a rollback option); one already stopping or rolling back goes on doing so. moto lacked
    the call."""
    arn = self._get_param("serviceDeploymentArn")
    stop_type = self._get_param("stopType") or "ROLLBACK"
    if stop_type != "ROLLBACK":
        raise InvalidParameterException(
            f"stopType {stop_type} is not supported: the valid value is ROLLBACK."
        )
    service, record = _find(self.ecs_backend, arn)
    if record.status in ROLLING_BACK:
        return ActionResult({"serviceDeploymentArn": arn})
    if record.status not in RUNNING:
        raise ConflictException(f"The service deployment {arn} is {record.status} and cannot be stopped.")
    now = TIMELINE.now()
    run = getattr(service, "traffic_run", None)
    if run is not None and run.record is record:
        run.roll_back(STOP_REASON, STOP_ROLLBACK_REASON, now, requested=True)
    else:
        _stop_rolling(service, record, now)
    return ActionResult({"serviceDeploymentArn": arn})


def _stop_rolling(service: Any, record: ServiceDeployment, now: float) -> None:
    """A rolling deployment rolls back as the circuit breaker's rollback does, once the request has been answered."""
    rollout = record.target
    fail_rollout(service, rollout, STOP_REASON, now)
    if service.last_completed is None or service.last_completed is rollout:
        end_record(record, "STOPPED", now, reason=STOP_REASON)
        render(service)
        return
    record.status = "ROLLBACK_REQUESTED"
    render(service)

    def roll_back(when: float) -> None:
        if record.status == "ROLLBACK_REQUESTED" and service.status == "ACTIVE":
            ecs_deployments.roll_back(service, record, reason=STOP_ROLLBACK_REASON, when=when)

    TIMELINE.after(0.0, roll_back, start=now)


def _continue_service_deployment(self: Any) -> ActionResult:
    """ECS API Reference, ContinueServiceDeployment: a deployment paused at a PAUSE hook goes on (CONTINUE, the
    default) or rolls back (ROLLBACK); a hook that is not awaiting an action is refused. moto lacked the call."""
    arn = self._get_param("serviceDeploymentArn")
    hook_id = self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    if action not in ("CONTINUE", "ROLLBACK"):
        raise InvalidParameterException(f"Unknown action {action!r} (valid: CONTINUE, ROLLBACK).")
    service, record = _find(self.ecs_backend, arn)
    run = getattr(service, "traffic_run", None)
    if run is None or run.record is not record or not run.resolve_pause(hook_id, action, TIMELINE.now()):
        raise InvalidParameterException(f"The lifecycle hook {hook_id} of {arn} is not awaiting an action.")
    return ActionResult({"serviceDeploymentArn": arn})
