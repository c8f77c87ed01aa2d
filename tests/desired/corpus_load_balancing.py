"""Bad inputs of the load-balancing and autoscaling kinds, each at its FILE:LINE.

Every case is a valid estate (``ESTATE``: a Fargate service behind an ALB, scaled by a target-tracking policy and
a scheduled action) with one change, so that the expected problem is the one that change causes. Line numbers
are in the comments under each document.
"""

from __future__ import annotations

from tests.desired.corpus import TASK, Case, doc

CLUSTER = doc(
    """
    apiVersion: reconciler/v1
    kind: Cluster
    metadata:
      name: prod
    spec: {}
    """
)


SERVICE = doc(
    """
    apiVersion: reconciler/v1
    kind: Service
    metadata:
      name: web
    spec:
      cluster: prod
      taskDefinition: web
      launchType: FARGATE
      networkConfiguration:
        awsvpcConfiguration:
          subnets: [subnet-a]
      loadBalancers:
        - targetGroupArn: web-tg
          containerName: web
          containerPort: 80
    """
)  # 6 cluster · 7 taskDefinition · 8 launchType · 12 loadBalancers · 13 - targetGroupArn

TARGET_GROUP = doc(
    """
    apiVersion: reconciler/v1
    kind: TargetGroup
    metadata:
      name: web-tg
    spec:
      Protocol: HTTP
      Port: 80
      VpcId: vpc-1
      TargetType: ip
      HealthCheckPath: /health
      Attributes:
        - Key: deregistration_delay.timeout_seconds
          Value: "30"
    """
)  # 5 spec · 6 Protocol · 7 Port · 8 VpcId · 9 TargetType · 10 HealthCheckPath · 11 Attributes · 12 - Key · 13 Value

LOAD_BALANCER = doc(
    """
    apiVersion: reconciler/v1
    kind: LoadBalancer
    metadata:
      name: web-alb
    spec:
      Type: application
      Scheme: internet-facing
      Subnets: [subnet-a, subnet-b]
      SecurityGroups: [sg-1]
    """
)  # 6 Type · 7 Scheme · 8 Subnets · 9 SecurityGroups

LISTENER = doc(
    """
    apiVersion: reconciler/v1
    kind: Listener
    metadata:
      name: web-http
    spec:
      LoadBalancerArn: web-alb
      Protocol: HTTP
      Port: 80
      DefaultActions:
        - Type: forward
          TargetGroupArn: web-tg
    """
)  # 6 LoadBalancerArn · 7 Protocol · 8 Port · 9 DefaultActions · 10 - Type · 11 TargetGroupArn

RULE = doc(
    """
    apiVersion: reconciler/v1
    kind: ListenerRule
    metadata:
      name: web-api
    spec:
      ListenerArn: web-alb:80
      Priority: 10
      Conditions:
        - Field: path-pattern
          Values: [/api/*]
      Actions:
        - Type: forward
          TargetGroupArn: web-tg
    """
)  # 6 ListenerArn · 7 Priority · 8 Conditions · 11 Actions · 12 - Type · 13 TargetGroupArn

SCALABLE_TARGET = doc(
    """
    apiVersion: reconciler/v1
    kind: ScalableTarget
    metadata:
      name: web
    spec:
      ServiceNamespace: ecs
      ResourceId: service/prod/web
      ScalableDimension: ecs:service:DesiredCount
      MinCapacity: 2
      MaxCapacity: 4
    """
)  # 6 ServiceNamespace · 7 ResourceId · 8 ScalableDimension · 9 MinCapacity · 10 MaxCapacity

SCALING_POLICY = doc(
    """
    apiVersion: reconciler/v1
    kind: ScalingPolicy
    metadata:
      name: web-cpu
    spec:
      ServiceNamespace: ecs
      ResourceId: service/prod/web
      ScalableDimension: ecs:service:DesiredCount
      PolicyType: TargetTrackingScaling
      TargetTrackingScalingPolicyConfiguration:
        TargetValue: 60.0
        PredefinedMetricSpecification:
          PredefinedMetricType: ECSServiceAverageCPUUtilization
    """
)  # 7 ResourceId · 9 PolicyType · 11 TargetValue

SCHEDULED_ACTION = doc(
    """
    apiVersion: reconciler/v1
    kind: ScheduledAction
    metadata:
      name: web-night
    spec:
      ServiceNamespace: ecs
      ResourceId: service/prod/web
      ScalableDimension: ecs:service:DesiredCount
      Schedule: "cron(0 22 * * ? *)"
      ScalableTargetAction:
        MinCapacity: 1
        MaxCapacity: 1
    """
)  # 7 ResourceId · 9 Schedule · 10 ScalableTargetAction · 11 MinCapacity · 12 MaxCapacity

ESTATE: dict[str, str] = {
    "cluster.yaml": CLUSTER,
    "task.yaml": TASK,
    "service.yaml": SERVICE,
    "tg.yaml": TARGET_GROUP,
    "alb.yaml": LOAD_BALANCER,
    "listener.yaml": LISTENER,
    "rule.yaml": RULE,
    "scaling/target.yaml": SCALABLE_TARGET,
    "scaling/policy.yaml": SCALING_POLICY,
    "scaling/night.yaml": SCHEDULED_ACTION,
}

_SCALING_FILES = ("scaling/target.yaml", "scaling/policy.yaml", "scaling/night.yaml")


def estate(
    *changes: tuple[str, str, str], add: dict[str, str] | None = None, base: dict[str, str] = ESTATE
) -> dict[str, str | bytes]:
    """``base`` (``ESTATE``) with each ``(file, old, new)`` replacement made once, plus the files in ``add``."""
    files: dict[str, str | bytes] = dict(base)
    for name, old, new in changes:
        text = str(files[name])
        assert old in text, (name, old)
        files[name] = text.replace(old, new, 1)
    return files | (add or {})


def without(*names: str) -> dict[str, str | bytes]:
    return {name: text for name, text in ESTATE.items() if name not in names}


def everywhere_in_scaling(old: str, new: str) -> list[tuple[str, str, str]]:
    """The same change in the scalable target, the policy and the scheduled action (they share a triple)."""
    return [(name, old, new) for name in _SCALING_FILES]


SECOND_LISTENER = LISTENER.replace("name: web-http", "name: web-http-again")
SECOND_RULE = RULE.replace("name: web-api", "name: web-api-again")
SECOND_TARGET = SCALABLE_TARGET.replace("name: web", "name: web-again")

LOAD_BALANCING_CASES = [
    Case(
        "target-group-unknown-field",
        estate(("tg.yaml", "HealthCheckPath:", "HealthCheckPth:")),
        "tg.yaml",
        10,
        "spec.HealthCheckPth: unknown field (did you mean 'HealthCheckPath'?)",
    ),
    Case(
        "target-group-bad-protocol",
        estate(("tg.yaml", "Protocol: HTTP", "Protocol: HTTPX")),
        "tg.yaml",
        6,
        "spec.Protocol: 'HTTPX' is not one of: HTTP, HTTPS",
    ),
    Case(
        "target-group-attribute-value-not-a-string",
        estate(("tg.yaml", 'Value: "30"', "Value: 30")),
        "tg.yaml",
        13,
        'spec.Attributes[0].Value: expected a string, got an integer (quote it: "30")',
    ),
    Case(
        "target-group-attribute-without-value",
        estate(("tg.yaml", '      Value: "30"\n', "")),
        "tg.yaml",
        12,
        "spec.Attributes[0].Value: required field is missing",
    ),
    Case(
        "target-group-attribute-set-twice",
        estate(
            ("tg.yaml", '"30"\n', '"30"\n    - {Key: deregistration_delay.timeout_seconds, Value: "5"}\n')
        ),
        "tg.yaml",
        14,
        "spec.Attributes[1].Key: attribute 'deregistration_delay.timeout_seconds' is already set",
    ),
    Case(
        "load-balancer-attributes-not-a-list",
        estate(("alb.yaml", "[sg-1]\n", "[sg-1]\n  Attributes: {idle_timeout.timeout_seconds: 60}\n")),
        "alb.yaml",
        10,
        "spec.Attributes: expected a list, got a mapping",
    ),
    Case(
        "fargate-target-group-instance",
        estate(("tg.yaml", "TargetType: ip", "TargetType: instance")),
        "tg.yaml",
        9,
        "spec.TargetType: must be ip, not 'instance': Fargate service 'web' (ds/service.yaml:4) registers tasks",
    ),
    Case(
        "fargate-target-group-default-type",
        estate(("tg.yaml", "  TargetType: ip\n", "")),
        "tg.yaml",
        5,
        "spec: TargetType must be set to ip (AWS's default is instance): Fargate service 'web'",
    ),
    Case(
        "fargate-by-task-definition-target-group-instance",
        estate(
            ("service.yaml", "  launchType: FARGATE\n", ""),
            ("tg.yaml", "TargetType: ip", "TargetType: instance"),
        ),
        "tg.yaml",
        9,
        "spec.TargetType: must be ip, not 'instance'",
    ),
    Case(
        "listener-port-twice-on-one-load-balancer",
        estate(add={"listener2.yaml": SECOND_LISTENER}),
        "listener2.yaml",
        8,
        "spec.Port: port 80 of 'web-alb' is already used by Listener 'web-http' (ds/listener.yaml:4)",
    ),
    Case(
        "rule-priority-twice-on-one-listener",
        estate(add={"rule2.yaml": SECOND_RULE}),
        "rule2.yaml",
        7,
        "spec.Priority: priority 10 of 'web-alb:80' is already used by ListenerRule 'web-api' (ds/rule.yaml:4)",
    ),
    Case(
        "listener-undeclared-load-balancer",
        {
            **without("rule.yaml"),
            "listener.yaml": LISTENER.replace("LoadBalancerArn: web-alb", "LoadBalancerArn: api-alb"),
        },
        "listener.yaml",
        6,
        "spec.LoadBalancerArn: no LoadBalancer named 'api-alb' is declared",
    ),
    Case(
        "rule-undeclared-listener",
        estate(("rule.yaml", "ListenerArn: web-alb:80", "ListenerArn: web-alb:8443")),
        "rule.yaml",
        6,
        "spec.ListenerArn: no Listener named 'web-alb:8443' is declared",
    ),
    Case(
        "rule-undeclared-target-group",
        estate(("rule.yaml", "TargetGroupArn: web-tg", "TargetGroupArn: api-tg")),
        "rule.yaml",
        13,
        "spec.Actions[0].TargetGroupArn: no TargetGroup named 'api-tg' is declared",
    ),
    Case(
        "service-undeclared-target-group",
        estate(("service.yaml", "targetGroupArn: web-tg", "targetGroupArn: api-tg")),
        "service.yaml",
        13,
        "spec.loadBalancers[0].targetGroupArn: no TargetGroup named 'api-tg' is declared",
    ),
    Case(
        "scalable-target-min-above-max",
        estate(("scaling/target.yaml", "MinCapacity: 2", "MinCapacity: 5")),
        "scaling/target.yaml",
        9,
        "spec.MinCapacity: MinCapacity (5) is greater than MaxCapacity (4)",
    ),
    Case(
        "scheduled-action-min-above-max",
        estate(("scaling/night.yaml", "MinCapacity: 1", "MinCapacity: 3")),
        "scaling/night.yaml",
        11,
        "spec.ScalableTargetAction.MinCapacity: MinCapacity (3) is greater than MaxCapacity (1)",
    ),
    Case(
        "scaling-policy-without-scalable-target",
        estate(("scaling/policy.yaml", "service/prod/web", "service/prod/api")),
        "scaling/policy.yaml",
        7,
        "spec.ResourceId: no ScalableTarget is declared for ecs service/prod/api ecs:service:DesiredCount",
    ),
    Case(
        "scheduled-action-without-scalable-target",
        estate(("scaling/night.yaml", "service/prod/web", "service/staging/web")),
        "scaling/night.yaml",
        7,
        "spec.ResourceId: no ScalableTarget is declared for ecs service/staging/web",
    ),
    Case(
        "scalable-target-undeclared-service",
        estate(*everywhere_in_scaling("service/prod/web", "service/prod/api")),
        "scaling/target.yaml",
        7,
        "spec.ResourceId: no Service named 'api' is declared in cluster 'prod'",
    ),
    Case(
        "scalable-target-bad-ecs-resource-id",
        estate(*everywhere_in_scaling("service/prod/web", "prod/web")),
        "scaling/target.yaml",
        7,
        "spec.ResourceId: an ecs ResourceId is written service/<cluster>/<service>, not 'prod/web'",
    ),
    Case(
        "scalable-target-declared-twice",
        estate(add={"scaling/target2.yaml": SECOND_TARGET}),
        "scaling/target2.yaml",
        7,
        "is already declared by ScalableTarget 'web' (ds/scaling/target.yaml:4)",
    ),
]
