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
