"""The load-balancing and autoscaling kinds on the happy path, and the edges of their cross-document rules.

The bad inputs themselves (each rule broken, at its FILE:LINE) are in ``corpus_load_balancing``; here: a realistic
estate loads without a problem, and what the rules must *not* reject.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.errors import InvalidDesiredState
from reconciler.model.references import declared_by_reference, dependencies, reference_name
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus import doc
from tests.desired.corpus_load_balancing import ESTATE, LISTENER, RULE, SCALABLE_TARGET, SERVICE, TARGET_GROUP
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()

FRONTAPP = doc(
    """
    apiVersion: reconciler/v1
    kind: LoadBalancer
    metadata:
      name: frontapp-alb
      deletionPolicy: Delete
    spec:
      Type: application
      Scheme: internet-facing
      IpAddressType: ipv4
      Subnets: [subnet-a, subnet-b]
      SecurityGroups: [sg-alb]
      Tags: [{Key: team, Value: web}]
      Attributes:
        - {Key: idle_timeout.timeout_seconds, Value: "120"}
        - {Key: routing.http.drop_invalid_header_fields.enabled, Value: "true"}
    ---
    apiVersion: reconciler/v1
    kind: TargetGroup
    metadata:
      name: frontapp-tg01
    spec:
      Protocol: HTTP
      Port: 8080
      VpcId: vpc-1
      TargetType: ip
      HealthCheckEnabled: true
      HealthCheckPath: /healthz
      HealthCheckIntervalSeconds: 15
      HealthyThresholdCount: 2
      Matcher: {HttpCode: "200,302"}
      Attributes:
        - {Key: deregistration_delay.timeout_seconds, Value: "30"}
    ---
    apiVersion: reconciler/v1
    kind: Listener
    metadata:
      name: frontapp-https
    spec:
      LoadBalancerArn: frontapp-alb
      Protocol: HTTPS
      Port: 443
      SslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06
      Certificates: [{CertificateArn: "${CERTIFICATE_ARN}"}]
      DefaultActions:
        - Type: forward
          ForwardConfig:
            TargetGroups: [{TargetGroupArn: frontapp-tg01, Weight: 1}]
    ---
    apiVersion: reconciler/v1
    kind: Listener
    metadata:
      name: frontapp-http
    spec:
      LoadBalancerArn: frontapp-alb
      Protocol: HTTP
      Port: 80
      DefaultActions:
        - Type: redirect
          RedirectConfig: {Protocol: HTTPS, Port: "443", StatusCode: HTTP_301}
    ---
    apiVersion: reconciler/v1
    kind: ListenerRule
    metadata:
      name: frontapp-api
    spec:
      ListenerArn: frontapp-alb:443
      Priority: 10
      Conditions:
        - Field: path-pattern
          PathPatternConfig: {Values: [/api/*]}
        - Field: host-header
          HostHeaderConfig: {Values: [www.example.com]}
      Actions:
        - {Type: forward, TargetGroupArn: frontapp-tg01}
    """
)

SCALING = doc(
    """
    apiVersion: reconciler/v1
    kind: ScalableTarget
    metadata:
      name: frontapp
    spec:
      ServiceNamespace: ecs
      ResourceId: service/myapp-prod/frontapp
      ScalableDimension: ecs:service:DesiredCount
      MinCapacity: 2
      MaxCapacity: 4
      SuspendedState: {DynamicScalingInSuspended: false}
    ---
    apiVersion: reconciler/v1
    kind: ScalingPolicy
    metadata:
      name: frontapp-cpu60
    spec:
      ServiceNamespace: ecs
      ResourceId: service/myapp-prod/frontapp
      ScalableDimension: ecs:service:DesiredCount
      PolicyType: TargetTrackingScaling
      TargetTrackingScalingPolicyConfiguration:
        TargetValue: 60
        PredefinedMetricSpecification: {PredefinedMetricType: ECSServiceAverageCPUUtilization}
        ScaleInCooldown: 300
        ScaleOutCooldown: 60
        DisableScaleIn: false
    ---
    apiVersion: reconciler/v1
    kind: ScheduledAction
    metadata:
      name: frontapp-night
    spec:
      ServiceNamespace: ecs
      ResourceId: service/myapp-prod/frontapp
      ScalableDimension: ecs:service:DesiredCount
      Schedule: cron(0 22 * * ? *)
      Timezone: Europe/Paris
      ScalableTargetAction: {MinCapacity: 1, MaxCapacity: 1}
    """
)

APP = doc(
    """
    apiVersion: reconciler/v1
    kind: Cluster
    metadata: {name: myapp-prod}
    spec: {}
    ---
    apiVersion: reconciler/v1
    kind: TaskDefinition
    metadata: {name: frontapp}
    spec:
      requiresCompatibilities: [FARGATE]
      networkMode: awsvpc
      cpu: "512"
      memory: 1 GB
      containerDefinitions:
        - {name: frontapp, image: nginx, portMappings: [{containerPort: 8080}]}
    ---
    apiVersion: reconciler/v1
    kind: Service
    metadata: {name: frontapp}
    spec:
      cluster: arn:aws:ecs:us-east-1:123456789012:cluster/myapp-prod
      taskDefinition: frontapp
      desiredCount: 2
      capacityProviderStrategy: [{capacityProvider: FARGATE_SPOT, weight: 1}]
      networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-a, subnet-b]}}
      loadBalancers: [{targetGroupArn: frontapp-tg01, containerName: frontapp, containerPort: 8080}]
    """
)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(files: dict[str, str | bytes]) -> DesiredState:
    write_tree(Path("ds"), files)
    return load_desired_state(Path("ds"), check_spec=CHECKER)


def problems(files: dict[str, str | bytes]) -> list[str]:
    with pytest.raises(InvalidDesiredState) as raised:
        load(files)
    return [str(problem) for problem in raised.value.problems]


def test_a_realistic_estate_loads(in_tmp: Path) -> None:
    files: dict[str, str | bytes] = {
        "vars.yaml": "CERTIFICATE_ARN: arn:aws:acm:us-east-1:123456789012:certificate/abc\n",
        "frontapp/alb.yaml": FRONTAPP,
        "frontapp/scaling.yaml": SCALING,
        "app.yaml": APP,
    }
    state = load(files)
    assert sorted(str(resource.key) for resource in state) == [
        "Cluster/myapp-prod",
        "Listener/frontapp-http",
        "Listener/frontapp-https",
        "ListenerRule/frontapp-api",
        "LoadBalancer/frontapp-alb",
        "ScalableTarget/frontapp",
        "ScalingPolicy/frontapp-cpu60",
        "ScheduledAction/frontapp-night",
        "Service/frontapp",
        "TargetGroup/frontapp-tg01",
        "TaskDefinition/frontapp",
    ]
    https = state.get("Listener", "frontapp-https")
    rule = state.get("ListenerRule", "frontapp-api")
    assert https is not None and rule is not None
    assert https.spec["Certificates"] == [
        {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}
    ]
    assert reference_name(https) == "frontapp-alb:443"
    assert dependencies(rule, declared_by_reference(state)) == {
        ResourceKey("Listener", "frontapp-https"),
        ResourceKey("TargetGroup", "frontapp-tg01"),
    }


def test_the_corpus_estate_is_valid(in_tmp: Path) -> None:
    assert len(load(dict(ESTATE)).resources) == len(ESTATE)


def test_ports_and_priorities_repeat_freely_across_load_balancers_and_listeners(in_tmp: Path) -> None:
    other_alb = "apiVersion: reconciler/v1\nkind: LoadBalancer\nmetadata: {name: api-alb}\nspec: {}\n"
    other_listener = LISTENER.replace("name: web-http", "name: api-http").replace(": web-alb", ": api-alb")
    other_rule = RULE.replace("name: web-api", "name: api-api").replace("web-alb:80", "api-alb:80")
    files = {**ESTATE, "alb2.yaml": other_alb, "listener2.yaml": other_listener, "rule2.yaml": other_rule}
    assert len(load(files).resources) == len(ESTATE) + 3


def test_a_listener_given_by_arn_is_not_checked(in_tmp: Path) -> None:
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
    files = {**ESTATE, "rule.yaml": RULE.replace("ListenerArn: web-alb:80", f"ListenerArn: {arn}")}
    assert load(files).get("ListenerRule", "web-api") is not None


def test_a_scalable_target_may_scale_a_service_of_an_undeclared_cluster(in_tmp: Path) -> None:
    files = {
        "target.yaml": SCALABLE_TARGET.replace("service/prod/web", "service/existing/web"),
        "target2.yaml": SCALABLE_TARGET.replace("name: web", "name: db").replace(
            "ServiceNamespace: ecs\n  ResourceId: service/prod/web\n  ScalableDimension: ecs:service:DesiredCount",
            "ServiceNamespace: rds\n  ResourceId: cluster:db\n  ScalableDimension: rds:cluster:ReadReplicaCount",
        ),
    }
    assert {resource.name for resource in load(files)} == {"web", "db"}


def test_an_ec2_service_may_use_an_instance_target_group(in_tmp: Path) -> None:
    task = "apiVersion: reconciler/v1\nkind: TaskDefinition\nmetadata: {name: web}\n"
    task += "spec: {containerDefinitions: [{name: web, image: nginx}]}\n"
    files = {
        "task.yaml": task,
        "service.yaml": SERVICE.replace("launchType: FARGATE", "launchType: EC2"),
        "tg.yaml": TARGET_GROUP.replace("TargetType: ip", "TargetType: instance"),
    }
    assert load(files).get("TargetGroup", "web-tg") is not None


def test_a_target_group_shared_by_two_fargate_services_is_reported_once(in_tmp: Path) -> None:
    second = SERVICE.replace("name: web", "name: web2")
    files = {
        **ESTATE,
        "service2.yaml": second,
        "tg.yaml": TARGET_GROUP.replace("TargetType: ip", "TargetType: alb"),
    }
    assert problems(files) == [
        "ds/tg.yaml:9: spec.TargetType: must be ip, not 'alb': Fargate services 'web' (ds/service.yaml:4), "
        "'web2' (ds/service2.yaml:4) register tasks by IP address"
    ]


def test_a_fargate_spot_service_needs_ip_targets(in_tmp: Path) -> None:
    files = {"alb.yaml": FRONTAPP.replace("TargetType: ip", "TargetType: instance"), "app.yaml": APP}
    files["vars.yaml"] = "CERTIFICATE_ARN: arn:aws:acm:us-east-1:123456789012:certificate/abc\n"
    assert [problem.split(": ")[0] for problem in problems(files)] == ["ds/alb.yaml:25"]
