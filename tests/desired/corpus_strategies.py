"""Bad inputs of a service that ECS deploys itself (``deploymentConfiguration.strategy`` BLUE_GREEN, LINEAR or
CANARY, ``loadBalancers[].advancedConfiguration``), each at its FILE:LINE.

Every case is ``STRATEGY_ESTATE`` (a Fargate service deployed blue/green behind an ALB: the target group pair, a
production rule on the HTTP listener and a test rule on the test listener) with one change, so that the expected
problem is the one that change causes. Line numbers are in the comments under each document.
"""

from __future__ import annotations

from tests.desired.corpus import TASK, Case, doc
from tests.desired.corpus_load_balancing import CLUSTER, LOAD_BALANCER, TARGET_GROUP, estate
from tests.desired.corpus_load_balancing import SERVICE as LOAD_BALANCED_SERVICE

_STRATEGY = """\
  deploymentConfiguration:
    strategy: BLUE_GREEN
    bakeTimeInMinutes: 5
    lifecycleHooks:
      - hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke-test
        roleArn: ecs-hooks
        lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]
"""
_ADVANCED = """\
      advancedConfiguration:
        alternateTargetGroupArn: web-tg-green
        productionListenerRule: web-prod
        testListenerRule: web-test
        roleArn: ecs-infrastructure
"""
# the load-balancing corpus's service, deployed blue/green by ECS
SERVICE = LOAD_BALANCED_SERVICE.replace("  loadBalancers:\n", _STRATEGY + "  loadBalancers:\n") + _ADVANCED
# 6 cluster · 8 launchType · 12 deploymentConfiguration · 13 strategy · 14 bakeTimeInMinutes · 15 lifecycleHooks
# 16 - hookTargetArn · 17 roleArn · 18 lifecycleStages · 19 loadBalancers · 20 - targetGroupArn · 23 advanced…
# 24 alternateTargetGroupArn · 25 productionListenerRule · 26 testListenerRule · 27 roleArn

GREEN_TARGET_GROUP = TARGET_GROUP.replace("name: web-tg", "name: web-tg-green")
# 9 TargetType

TEST_LISTENER = doc(
    """
    apiVersion: reconciler/v1
    kind: Listener
    metadata:
      name: web-test
    spec:
      LoadBalancerArn: web-alb
      Protocol: HTTP
      Port: 8080
      DefaultActions:
        - Type: fixed-response
          FixedResponseConfig: {StatusCode: "404"}
    """
)

PRODUCTION_LISTENER = TEST_LISTENER.replace("name: web-test", "name: web-http").replace("8080", "80")

PRODUCTION_RULE = doc(
    """
    apiVersion: reconciler/v1
    kind: ListenerRule
    metadata:
      name: web-prod
    spec:
      ListenerArn: web-alb:80
      Priority: 10
      Conditions:
        - Field: path-pattern
          Values: ["/*"]
      Actions:
        - Type: forward
          ForwardConfig:
            TargetGroups:
              - {TargetGroupArn: web-tg, Weight: 100}
              - {TargetGroupArn: web-tg-green, Weight: 0}
    """
)  # 6 ListenerArn · 11 Actions · 12 - Type · 15 - web-tg · 16 - web-tg-green

TEST_RULE = PRODUCTION_RULE.replace("name: web-prod", "name: web-test").replace("web-alb:80", "web-alb:8080")

OTHER_LOAD_BALANCER = LOAD_BALANCER.replace("name: web-alb", "name: api-alb")
OTHER_LISTENER = TEST_LISTENER.replace("name: web-test", "name: api-test").replace("web-alb", "api-alb")

STRATEGY_ESTATE: dict[str, str] = {
    "cluster.yaml": CLUSTER,
    "task.yaml": TASK,
    "service.yaml": SERVICE,
    "tg.yaml": TARGET_GROUP,
    "tg-green.yaml": GREEN_TARGET_GROUP,
    "alb.yaml": LOAD_BALANCER,
    "listener.yaml": PRODUCTION_LISTENER,
    "listener-test.yaml": TEST_LISTENER,
    "rule-prod.yaml": PRODUCTION_RULE,
    "rule-test.yaml": TEST_RULE,
}


def strategy_estate(
    *changes: tuple[str, str, str], add: dict[str, str] | None = None
) -> dict[str, str | bytes]:
    """``STRATEGY_ESTATE`` with each ``(file, old, new)`` replacement made once, plus the files in ``add``."""
    return estate(*changes, add=add, base=STRATEGY_ESTATE)


def _service(old: str, new: str) -> dict[str, str | bytes]:
    return strategy_estate(("service.yaml", old, new))


STRATEGY_CASES = [
    Case(
        "alternate-target-group-undeclared",
        _service("alternateTargetGroupArn: web-tg-green", "alternateTargetGroupArn: web-tg-blue"),
        "service.yaml",
        24,
        "spec.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn: no TargetGroup named 'web-tg-blue'",
    ),
    Case(
        "production-rule-undeclared",
        _service("productionListenerRule: web-prod", "productionListenerRule: web-live"),
        "service.yaml",
        25,
        "spec.loadBalancers[0].advancedConfiguration.productionListenerRule: no ListenerRule named 'web-live'",
    ),
    Case(
        "test-rule-undeclared",
        _service("testListenerRule: web-test", "testListenerRule: web-tst"),
        "service.yaml",
        26,
        "spec.loadBalancers[0].advancedConfiguration.testListenerRule: no ListenerRule named 'web-tst'",
    ),
]

_HOOK = """\
      - hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke-test
        roleArn: ecs-hooks
        lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]
"""
_BAKE = "    bakeTimeInMinutes: 5\n"


def _strategy(strategy: str, settings: str) -> dict[str, str | bytes]:
    """The service deployed by ``strategy``, with ``settings`` (one line) after its bake time (line 15)."""
    return strategy_estate(
        ("service.yaml", "strategy: BLUE_GREEN", f"strategy: {strategy}"),
        ("service.yaml", _BAKE, f"{_BAKE}    {settings}\n"),
    )


STRATEGY_CASES += [
    Case(
        "strategy-field-of-another-strategy",
        _strategy("BLUE_GREEN", "linearConfiguration: {stepPercent: 10.0}"),
        "service.yaml",
        15,
        "deploymentConfiguration.linearConfiguration: only a LINEAR deployment takes it, and the strategy is "
        "BLUE_GREEN",
    ),
    Case(
        "hooks-of-a-rolling-deployment",
        _service("strategy: BLUE_GREEN", "strategy: ROLLING"),
        "service.yaml",
        15,
        "deploymentConfiguration.lifecycleHooks: only a BLUE_GREEN or CANARY or LINEAR deployment takes it",
    ),
    Case(
        "blue-green-without-bake-time",
        _service(_BAKE, ""),
        "service.yaml",
        13,
        "a BLUE_GREEN deployment needs bakeTimeInMinutes (0 to 1440)",
    ),
    Case(
        "bake-time-beyond-a-day",
        _service("bakeTimeInMinutes: 5", "bakeTimeInMinutes: 1441"),
        "service.yaml",
        14,
        "deploymentConfiguration.bakeTimeInMinutes: must be 0 to 1440 minutes, not 1441",
    ),
    Case(
        "linear-step-below-three-percent",
        _strategy("LINEAR", "linearConfiguration: {stepPercent: 2.5, stepBakeTimeInMinutes: 6}"),
        "service.yaml",
        15,
        "deploymentConfiguration.linearConfiguration.stepPercent: must be a multiple of 0.1 from 3.0 to 100.0, "
        "not 2.5",
    ),
    Case(
        "linear-step-bake-negative",
        _strategy("LINEAR", "linearConfiguration: {stepPercent: 10.0, stepBakeTimeInMinutes: -1}"),
        "service.yaml",
        15,
        "deploymentConfiguration.linearConfiguration.stepBakeTimeInMinutes: must be 0 to 1440 minutes, not -1",
    ),
    Case(
        "canary-percent-not-a-tenth",
        _strategy("CANARY", "canaryConfiguration: {canaryPercent: 5.05}"),
        "service.yaml",
        15,
        "deploymentConfiguration.canaryConfiguration.canaryPercent: must be a multiple of 0.1 from 0.1 to 100.0",
    ),
    Case(
        "canary-bake-beyond-a-day",
        _strategy("CANARY", "canaryConfiguration: {canaryPercent: 10.0, canaryBakeTimeInMinutes: 2000}"),
        "service.yaml",
        15,
        "deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes: must be 0 to 1440 minutes",
    ),
    Case(
        "hook-target-not-a-lambda-function",
        _service(
            "arn:aws:lambda:us-east-1:123456789012:function:smoke-test", "arn:aws:sns:us-east-1:1:topic"
        ),
        "service.yaml",
        16,
        "lifecycleHooks[0].hookTargetArn: 'arn:aws:sns:us-east-1:1:topic' is not a Lambda function ARN",
    ),
    Case(
        "lambda-hook-without-role",
        _service("        roleArn: ecs-hooks\n", ""),
        "service.yaml",
        16,
        "an AWS_LAMBDA hook needs roleArn",
    ),
    Case(
        "pause-hook-with-a-target",
        _service(_HOOK, _HOOK.replace("- hookTargetArn", "- targetType: PAUSE\n        hookTargetArn")),
        "service.yaml",
        17,
        "lifecycleHooks[0].hookTargetArn: a PAUSE hook has no target",
    ),
    Case(
        "pause-hook-during-a-traffic-shift",
        _service(_HOOK, "      - targetType: PAUSE\n        lifecycleStages: [PRODUCTION_TRAFFIC_SHIFT]\n"),
        "service.yaml",
        17,
        "lifecycleHooks[0].lifecycleStages: a PAUSE hook cannot pause PRODUCTION_TRAFFIC_SHIFT",
    ),
    Case(
        "hook-stage-twice",
        _service("[POST_TEST_TRAFFIC_SHIFT]", "[POST_TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT]"),
        "service.yaml",
        18,
        "POST_TEST_TRAFFIC_SHIFT listed more than once",
    ),
    Case(
        "traffic-shifting-without-role",
        _service("        roleArn: ecs-infrastructure\n", ""),
        "service.yaml",
        23,
        "loadBalancers[0].advancedConfiguration: roleArn is required",
    ),
    Case(
        "traffic-shifting-under-codedeploy",
        _service(
            "  deploymentConfiguration:\n",
            "  deploymentController: {type: CODE_DEPLOY}\n  deploymentConfiguration:\n",
        ),
        "service.yaml",
        24,
        "advancedConfiguration: ECS's blue/green traffic shifting: only the ECS deployment controller runs it, "
        "not CODE_DEPLOY",
    ),
    Case(
        "traffic-shifting-of-a-rolling-deployment",
        strategy_estate(("service.yaml", "strategy: BLUE_GREEN", "strategy: ROLLING")),
        "service.yaml",
        23,
        "only a BLUE_GREEN, LINEAR or CANARY deployment shifts traffic, and the strategy is ROLLING",
    ),
    Case(
        "blue-green-load-balancer-without-its-pair",
        _service(_ADVANCED, ""),
        "service.yaml",
        20,
        "spec.loadBalancers[0]: a BLUE_GREEN deployment moves traffic to the other target group of a pair",
    ),
    Case(
        "alternate-is-the-target-group-itself",
        _service("alternateTargetGroupArn: web-tg-green", "alternateTargetGroupArn: web-tg"),
        "service.yaml",
        24,
        "'web-tg' is targetGroupArn itself",
    ),
    Case(
        "test-rule-is-the-production-rule",
        _service("testListenerRule: web-test", "testListenerRule: web-prod"),
        "service.yaml",
        26,
        "'web-prod' is the production rule too",
    ),
    Case(
        "production-rule-forwards-to-one-of-the-pair",
        strategy_estate(("rule-prod.yaml", "          - {TargetGroupArn: web-tg-green, Weight: 0}\n", "")),
        "service.yaml",
        25,
        "productionListenerRule: ListenerRule 'web-prod' (ds/rule-prod.yaml:4) forwards to web-tg: ECS moves its"
        " weights between the pair web-tg, web-tg-green",
    ),
    Case(
        "test-rule-on-another-load-balancer",
        strategy_estate(
            ("rule-test.yaml", "ListenerArn: web-alb:8080", "ListenerArn: api-alb:8080"),
            add={"api-alb.yaml": OTHER_LOAD_BALANCER, "api-listener.yaml": OTHER_LISTENER},
        ),
        "service.yaml",
        26,
        "the production rule is on listener web-alb:80, the test rule on api-alb:8080: both must be listeners "
        "of one load balancer",
    ),
    Case(
        "fargate-alternate-target-group-instance",
        strategy_estate(("tg-green.yaml", "TargetType: ip", "TargetType: instance")),
        "tg-green.yaml",
        9,
        "spec.TargetType: must be ip, not 'instance': Fargate service 'web'",
    ),
]
