"""The corpus: for an output of AWS's CLI examples, the document a user would write for that resource (from the
request of the same example where the page has one), and one field of it changed.

IDs, names and ARNs are the example's own. Where an example's request and output disagree, or a page has no usable
output, the case says so (``note``) or the block is listed in ``SKIPPED`` with the reason.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from tests.conformance.harness import Output


@dataclass(frozen=True)
class Case:
    id: str
    live: tuple[Output, ...]  # what AWS holds: these outputs, as a pass reads them
    documents: str  # the user's documents (the subject and what the loader needs beside it)
    subject: tuple[str, str]  # (kind, metadata.name) of the resource under test
    edit: tuple[str, Any]  # one field of the subject's spec (dotted path) and the value the user gives it
    expect: tuple[str, Any, Any]  # the one difference that edit must plan: path, desired, live
    action: str = "update"
    also: tuple[tuple[str, Any, Any], ...] = ()  # lines the kind always adds (a new revision's ``revision``)
    attributes: Output | None = None  # the Describe*Attributes output of the subject
    validate: bool = True  # False: the loader refuses the document on purpose (``note`` says why)
    note: str = ""
    drift: str = ""  # a false drift this case shows that the product does not fix yet: its tests must fail


def doc(kind: str, name: str, *spec: str) -> str:
    """A document of the project's format; ``spec`` in parts (each dedented on its own)."""
    parts = "\n".join(textwrap.dedent(part).strip("\n") for part in spec)
    body = textwrap.indent(parts, "  ")
    return f"apiVersion: reconciler/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{body}\n"


def docs(*documents: str) -> str:
    return "---\n".join(documents)


ARN = "arn:aws:elasticloadbalancing:us-west-2:123456789012"
LB = f"{ARN}:loadbalancer/app/my-load-balancer/50dc6c495c0c9188"
LISTENER_80 = f"{ARN}:listener/app/my-load-balancer/50dc6c495c0c9188/f2f7dc8efc522ab2"
MY_TARGETS = f"{ARN}:targetgroup/my-targets/73e2d6bc24d8a067"
MY_NEW_TARGETS = f"{ARN}:targetgroup/my-new-targets/2453ed029918f21f"
SERVER_CERT = "arn:aws:iam::123456789012:server-certificate/my-server-cert"
NEW_SERVER_CERT = "arn:aws:iam::123456789012:server-certificate/my-new-server-cert"
NAMESPACE_ARN = "arn:aws:servicediscovery:us-west-2:123456789012:namespace/ns-abcd1234xmpl5678"

MY_TARGETS_REQUEST = """
Protocol: HTTP
Port: 80
TargetType: instance
VpcId: vpc-3ac0fb5f
"""
IP_TARGETS_REQUEST = """
Protocol: TCP
Port: 80
TargetType: ip
VpcId: vpc-3ac0fb5f
"""
NLB_REQUEST = """
Type: network
SubnetMappings: [{SubnetId: subnet-5264e837, AllocationId: eipalloc-64d5890a}]
"""


def listener(port: int, protocol: str, default_actions: str, *lines: str) -> str:
    """A listener of my-load-balancer (the examples' ``50dc6c495c0c9188``), named after its port."""
    spec = [f"LoadBalancerArn: {LB}", f"Protocol: {protocol}", f"Port: {port}", *lines]
    return doc("Listener", f"my-load-balancer-{port}", *spec, f"DefaultActions: {default_actions}")


LOAD_BALANCER = Output("elbv2/describe-load-balancers", 0)
LISTENERS = Output("elbv2/describe-listeners", 1)  # 443 and 80 of my-load-balancer
WEB_APP_TARGET = doc(
    "ScalableTarget",
    "web-app",
    """
    ServiceNamespace: ecs
    ScalableDimension: ecs:service:DesiredCount
    ResourceId: service/default/web-app
    MinCapacity: 1
    MaxCapacity: 10
    Tags: {environment: production}
    """,
)
MY_TABLE_TARGET = doc(
    "ScalableTarget",
    "my-table-writes",
    """
    ServiceNamespace: dynamodb
    ScalableDimension: dynamodb:table:WriteCapacityUnits
    ResourceId: table/my-table
    MinCapacity: 5
    MaxCapacity: 20
    """,
)
SCALABLE_TARGETS = Output("application-autoscaling/describe-scalable-targets", 0)
SCALING_POLICIES = Output("application-autoscaling/describe-scaling-policies", 0)
SCHEDULED_ACTIONS = Output("application-autoscaling/describe-scheduled-actions", 0)

CASES: tuple[Case, ...] = (
    # --- ECS services ----------------------------------------------------------------------------------------
    Case(
        id="describe-services: my-http-service",
        live=(Output("ecs/describe-services", 0),),
        documents=doc(
            "Service",
            "my-http-service",
            """
            cluster: default
            taskDefinition: amazon-ecs-sample:1
            desiredCount: 10
            """,
        ),
        subject=("Service", "my-http-service"),
        edit=("desiredCount", 5),
        expect=("desiredCount", 5, 10),
        note="the page has no request: the document names what the output shows was asked for",
    ),
    Case(
        id="create-service: MyService on Fargate",
        live=(Output("ecs/create-service", 0),),
        documents=doc(
            "Service",
            "MyService",
            """
            cluster: MyCluster
            taskDefinition: sample-fargate:1
            desiredCount: 2
            launchType: FARGATE
            platformVersion: LATEST
            networkConfiguration:
              awsvpcConfiguration:
                subnets: [subnet-12344321]
                securityGroups: [sg-12344321]
                assignPublicIp: ENABLED
            tags:
              - {key: key1, value: value1}
              - {key: key2, value: value2}
              - {key: key3, value: value3}
            """,
        ),
        subject=("Service", "MyService"),
        edit=("networkConfiguration.awsvpcConfiguration.assignPublicIp", "DISABLED"),
        expect=("networkConfiguration.awsvpcConfiguration.assignPublicIp", "DISABLED", "ENABLED"),
    ),
    Case(
        id="create-service: ecs-simple-service on EC2",
        live=(Output("ecs/create-service", 1),),
        documents=doc(
            "Service",
            "ecs-simple-service",
            """
            cluster: MyCluster
            taskDefinition: sleep360:2
            desiredCount: 1
            """,
        ),
        subject=("Service", "ecs-simple-service"),
        edit=("propagateTags", "TASK_DEFINITION"),
        expect=("propagateTags", "TASK_DEFINITION", "NONE"),
    ),
    # --- ECS task definitions --------------------------------------------------------------------------------
    Case(
        id="describe-task-definition: hello_world:8",
        live=(Output("ecs/describe-task-definition", 0),),
        documents=doc(
            "TaskDefinition",
            "hello_world",
            """
            containerDefinitions:
              - name: wordpress
                image: wordpress
                cpu: 10
                memory: 500
                essential: true
                links: [mysql]
                portMappings:
                  - {containerPort: 80, hostPort: 80}
              - name: mysql
                image: mysql
                cpu: 10
                memory: 500
                essential: true
                environment:
                  - {name: MYSQL_ROOT_PASSWORD, value: password}
            """,
        ),
        subject=("TaskDefinition", "hello_world"),
        edit=("containerDefinitions[0].image", "wordpress:6"),
        expect=("containerDefinitions[wordpress].image", "wordpress:6", "wordpress"),
        action="create",
        also=(("revision", "(new)", "hello_world:8"),),
        note="the page has no request: the document is the output less what AWS adds",
    ),
    Case(
        id="register-task-definition: sleep360",
        live=(Output("ecs/register-task-definition", 0),),
        documents=doc(
            "TaskDefinition",
            "sleep360",
            """
            containerDefinitions:
              - name: sleep
                image: busybox
                cpu: 10
                command: [sleep, "360"]
                memory: 10
                essential: true
            """,
        ),
        subject=("TaskDefinition", "sleep360"),
        edit=("containerDefinitions[0].command", ["sleep", "720"]),
        expect=("containerDefinitions[sleep].command", ["sleep", "720"], ["sleep", "360"]),
        action="create",
        also=(("revision", "(new)", "sleep360:1"),),
    ),
    # --- ECS clusters ----------------------------------------------------------------------------------------
    Case(
        id="describe-clusters: default",
        live=(Output("ecs/describe-clusters", 0),),
        documents=doc("Cluster", "default", "{}"),
        subject=("Cluster", "default"),
        edit=("settings", [{"name": "containerInsights", "value": "enabled"}]),
        expect=("settings.containerInsights", "enabled", None),
    ),
    Case(
        id="describe-clusters: sampleCluster with a capacity provider",
        live=(Output("ecs/describe-clusters", 1),),
        documents=doc("Cluster", "sampleCluster", "capacityProviders: [sampleCapacityProvider]"),
        subject=("Cluster", "sampleCluster"),
        edit=("capacityProviders", ["sampleCapacityProvider", "FARGATE"]),
        expect=("capacityProviders", ["FARGATE", "sampleCapacityProvider"], ["sampleCapacityProvider"]),
    ),
    Case(
        id="create-cluster: MyCluster with Container Insights",
        live=(Output("ecs/create-cluster", 0),),
        documents=doc("Cluster", "MyCluster", "settings: [{name: containerInsights, value: enhanced}]"),
        subject=("Cluster", "MyCluster"),
        edit=("settings[0].value", "enabled"),
        expect=("settings.containerInsights", "enabled", "enhanced"),
    ),
    Case(
        id="create-cluster: MyCluster with capacity providers",
        live=(Output("ecs/create-cluster", 1),),
        documents=doc(
            "Cluster",
            "MyCluster",
            """
            capacityProviders: [MyCapacityProvider1, MyCapacityProvider2]
            defaultCapacityProviderStrategy:
              - {capacityProvider: MyCapacityProvider1, weight: 1}
              - {capacityProvider: MyCapacityProvider2, weight: 1}
            """,
        ),
        subject=("Cluster", "MyCluster"),
        edit=("defaultCapacityProviderStrategy[1].weight", 2),
        expect=("defaultCapacityProviderStrategy[MyCapacityProvider2].weight", 2, 1),
    ),
    Case(
        id="create-cluster: MyCluster with tags",
        live=(Output("ecs/create-cluster", 2),),
        documents=doc(
            "Cluster", "MyCluster", "tags: [{key: key1, value: value1}, {key: key2, value: value2}]"
        ),
        subject=("Cluster", "MyCluster"),
        edit=("tags[1].value", "value3"),
        expect=("tags.key2", "value3", "value2"),
    ),
    # --- ELBv2 target groups ---------------------------------------------------------------------------------
    Case(
        id="describe-target-groups: my-targets",
        live=(Output("elbv2/describe-target-groups", 0),),
        documents=doc(
            "TargetGroup",
            "my-targets",
            MY_TARGETS_REQUEST,
        ),
        subject=("TargetGroup", "my-targets"),
        edit=("HealthCheckPath", "/health"),
        expect=("HealthCheckPath", "/health", "/"),
        note="the request is create-target-group's first example",
    ),
    Case(
        id="create-target-group: my-targets",
        live=(Output("elbv2/create-target-group", 0),),
        documents=doc(
            "TargetGroup",
            "my-targets",
            MY_TARGETS_REQUEST,
        ),
        subject=("TargetGroup", "my-targets"),
        edit=("Port", 8080),
        expect=("Port", 8080, 80),
        action="replace",
    ),
    Case(
        id="create-target-group: my-lambda-target",
        live=(Output("elbv2/create-target-group", 1),),
        documents=doc("TargetGroup", "my-lambda-target", "TargetType: lambda"),
        subject=("TargetGroup", "my-lambda-target"),
        edit=("HealthCheckEnabled", True),
        expect=("HealthCheckEnabled", True, False),
    ),
    Case(
        id="create-target-group: my-ip-targets (TCP)",
        live=(Output("elbv2/create-target-group", 2),),
        documents=doc(
            "TargetGroup",
            "my-ip-targets",
            IP_TARGETS_REQUEST,
        ),
        subject=("TargetGroup", "my-ip-targets"),
        edit=("HealthCheckIntervalSeconds", 10),
        expect=("HealthCheckIntervalSeconds", 10, 30),
    ),
    Case(
        id="create-target-group: my-glb-targetgroup (GENEVE)",
        live=(Output("elbv2/create-target-group", 4),),
        documents=doc(
            "TargetGroup",
            "my-glb-targetgroup",
            """
            Protocol: GENEVE
            Port: 6081
            TargetType: instance
            VpcId: vpc-838475fe
            """,
        ),
        subject=("TargetGroup", "my-glb-targetgroup"),
        edit=("HealthCheckPort", "8080"),
        expect=("HealthCheckPort", "8080", "80"),
    ),
    Case(
        id="describe-target-group-attributes: HTTP, instance",
        live=(Output("elbv2/describe-target-groups", 0),),
        attributes=Output("elbv2/describe-target-group-attributes", 0, 1),
        documents=doc(
            "TargetGroup",
            "my-targets",
            MY_TARGETS_REQUEST,
            """
            Attributes:
              - {Key: stickiness.enabled, Value: "false"}
              - {Key: deregistration_delay.timeout_seconds, Value: "300"}
              - {Key: stickiness.type, Value: lb_cookie}
              - {Key: stickiness.lb_cookie.duration_seconds, Value: "86400"}
              - {Key: slow_start.duration_seconds, Value: "0"}
            """,
        ),
        subject=("TargetGroup", "my-targets"),
        edit=("Attributes[1].Value", "30"),
        expect=("Attributes.deregistration_delay.timeout_seconds", "30", "300"),
    ),
    Case(
        id="describe-target-group-attributes: lambda",
        live=(Output("elbv2/create-target-group", 1),),
        attributes=Output("elbv2/describe-target-group-attributes", 0, 2),
        documents=doc(
            "TargetGroup",
            "my-lambda-target",
            """
            TargetType: lambda
            Attributes: [{Key: lambda.multi_value_headers.enabled, Value: "false"}]
            """,
        ),
        subject=("TargetGroup", "my-lambda-target"),
        edit=("Attributes[0].Value", "true"),
        expect=("Attributes.lambda.multi_value_headers.enabled", "true", "false"),
    ),
    Case(
        id="describe-target-group-attributes: TCP",
        live=(Output("elbv2/create-target-group", 2),),
        attributes=Output("elbv2/describe-target-group-attributes", 0, 3),
        documents=doc(
            "TargetGroup",
            "my-ip-targets",
            IP_TARGETS_REQUEST,
            """
            Attributes:
              - {Key: proxy_protocol_v2.enabled, Value: "false"}
              - {Key: deregistration_delay.timeout_seconds, Value: "300"}
            """,
        ),
        subject=("TargetGroup", "my-ip-targets"),
        edit=("Attributes[0].Value", "true"),
        expect=("Attributes.proxy_protocol_v2.enabled", "true", "false"),
    ),
    # --- ELBv2 load balancers --------------------------------------------------------------------------------
    Case(
        id="describe-load-balancers: my-load-balancer",
        live=(LOAD_BALANCER,),
        documents=doc("LoadBalancer", "my-load-balancer", "Subnets: [subnet-b7d581c0, subnet-8360a9e7]"),
        subject=("LoadBalancer", "my-load-balancer"),
        edit=("IpAddressType", "dualstack"),
        expect=("IpAddressType", "dualstack", "ipv4"),
        note="the request is create-load-balancer's first example",
    ),
    Case(
        id="create-load-balancer: my-load-balancer",
        live=(Output("elbv2/create-load-balancer", 0),),
        documents=doc("LoadBalancer", "my-load-balancer", "Subnets: [subnet-b7d581c0, subnet-8360a9e7]"),
        subject=("LoadBalancer", "my-load-balancer"),
        edit=("Scheme", "internal"),
        expect=("Scheme", "internal", "internet-facing"),
        action="replace",
    ),
    Case(
        id="create-load-balancer: my-internal-load-balancer",
        live=(Output("elbv2/create-load-balancer", 1),),
        documents=doc(
            "LoadBalancer",
            "my-internal-load-balancer",
            """
            Scheme: internal
            Subnets: [subnet-b7d581c0, subnet-8360a9e7]
            """,
        ),
        subject=("LoadBalancer", "my-internal-load-balancer"),
        edit=("SecurityGroups", ["sg-5943793c", "sg-0a1b2c3d"]),
        expect=("SecurityGroups", ["sg-0a1b2c3d", "sg-5943793c"], ["sg-5943793c"]),
    ),
    Case(
        id="create-load-balancer: my-network-load-balancer",
        live=(Output("elbv2/create-load-balancer", 2),),
        documents=doc(
            "LoadBalancer",
            "my-network-load-balancer",
            NLB_REQUEST,
        ),
        subject=("LoadBalancer", "my-network-load-balancer"),
        edit=("IpAddressType", "dualstack"),
        expect=("IpAddressType", "dualstack", "ipv4"),
        note="the request maps subnet-b7d581c0, the output shows subnet-5264e837: the document uses the output's",
    ),
    Case(
        id="create-load-balancer: my-gateway-load-balancer",
        live=(Output("elbv2/create-load-balancer", 3),),
        documents=doc(
            "LoadBalancer",
            "my-gateway-load-balancer",
            """
            Type: gateway
            Subnets: [subnet-dc83f691, subnet-a62583f9]
            """,
        ),
        subject=("LoadBalancer", "my-gateway-load-balancer"),
        edit=("Subnets", ["subnet-dc83f691"]),
        expect=("Subnets", ["subnet-dc83f691"], ["subnet-a62583f9", "subnet-dc83f691"]),
    ),
    Case(
        id="describe-load-balancer-attributes: application",
        live=(LOAD_BALANCER,),
        attributes=Output("elbv2/describe-load-balancer-attributes", 0, 1),
        documents=doc(
            "LoadBalancer",
            "my-load-balancer",
            """
            Subnets: [subnet-b7d581c0, subnet-8360a9e7]
            Attributes:
              - {Key: access_logs.s3.enabled, Value: "false"}
              - {Key: idle_timeout.timeout_seconds, Value: "60"}
              - {Key: deletion_protection.enabled, Value: "false"}
              - {Key: routing.http2.enabled, Value: "true"}
            """,
        ),
        subject=("LoadBalancer", "my-load-balancer"),
        edit=("Attributes[1].Value", "120"),
        expect=("Attributes.idle_timeout.timeout_seconds", "120", "60"),
    ),
    Case(
        id="describe-load-balancer-attributes: network",
        live=(Output("elbv2/create-load-balancer", 2),),
        attributes=Output("elbv2/describe-load-balancer-attributes", 0, 2),
        documents=doc(
            "LoadBalancer",
            "my-network-load-balancer",
            NLB_REQUEST,
            """
            Attributes:
              - {Key: deletion_protection.enabled, Value: "false"}
              - {Key: load_balancing.cross_zone.enabled, Value: "false"}
            """,
        ),
        subject=("LoadBalancer", "my-network-load-balancer"),
        edit=("Attributes[1].Value", "true"),
        expect=("Attributes.load_balancing.cross_zone.enabled", "true", "false"),
        note="the load balancer is create-load-balancer's third example (see its case)",
    ),
    # --- ELBv2 listeners -------------------------------------------------------------------------------------
    Case(
        id="describe-listeners: HTTP 80",
        live=(LOAD_BALANCER, Output("elbv2/describe-listeners", 0)),
        documents=listener(80, "HTTP", f'[{{Type: forward, TargetGroupArn: "{MY_TARGETS}"}}]'),
        subject=("Listener", "my-load-balancer-80"),
        edit=("DefaultActions[0].TargetGroupArn", MY_NEW_TARGETS),
        expect=("DefaultActions[0].ForwardConfig.TargetGroups[0].TargetGroupArn", MY_NEW_TARGETS, MY_TARGETS),
        note="the request is create-listener's first example",
    ),
    Case(
        id="describe-listeners: HTTPS 443",
        live=(LOAD_BALANCER, LISTENERS),
        documents=listener(
            443,
            "HTTPS",
            f'[{{Type: forward, TargetGroupArn: "{MY_TARGETS}"}}]',
            "SslPolicy: ELBSecurityPolicy-2015-05",
            f'Certificates: [{{CertificateArn: "{SERVER_CERT}"}}]',
        ),
        subject=("Listener", "my-load-balancer-443"),
        edit=("SslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
        expect=("SslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-2015-05"),
    ),
    Case(
        id="modify-listener: forward to my-new-targets",
        live=(LOAD_BALANCER, Output("elbv2/modify-listener", 0)),
        documents=listener(80, "HTTP", f'[{{Type: forward, TargetGroupArn: "{MY_NEW_TARGETS}"}}]'),
        subject=("Listener", "my-load-balancer-80"),
        edit=("Protocol", "HTTPS"),
        expect=("Protocol", "HTTPS", "HTTP"),
    ),
    Case(
        id="modify-listener: redirect to HTTPS",
        live=(LOAD_BALANCER, Output("elbv2/modify-listener", 1)),
        documents=listener(
            80, "HTTP", "[{Type: redirect, RedirectConfig: {Protocol: HTTPS, StatusCode: HTTP_302}}]"
        ),
        subject=("Listener", "my-load-balancer-80"),
        edit=("DefaultActions[0].RedirectConfig.StatusCode", "HTTP_301"),
        expect=("DefaultActions[0].RedirectConfig.StatusCode", "HTTP_301", "HTTP_302"),
        note="the output has a comma before a closing brace (read leniently, see extract.py)",
    ),
    Case(
        id="modify-listener: new server certificate",
        live=(LOAD_BALANCER, Output("elbv2/modify-listener", 2)),
        documents=listener(
            443,
            "HTTPS",
            f'[{{Type: forward, TargetGroupArn: "{MY_TARGETS}"}}]',
            f'Certificates: [{{CertificateArn: "{NEW_SERVER_CERT}"}}]',
        ),
        subject=("Listener", "my-load-balancer-443"),
        edit=("Certificates[0].CertificateArn", SERVER_CERT),
        expect=("Certificates[0].CertificateArn", SERVER_CERT, NEW_SERVER_CERT),
        note="the output has a comma before a closing brace (read leniently, see extract.py)",
    ),
    # --- ELBv2 rules (describe-rules' page shows no output: modify-rule's and set-rule-priorities' are Rules) ---
    Case(
        id="modify-rule: path /images/* (describe-rules' shape)",
        live=(LOAD_BALANCER, Output("elbv2/describe-listeners", 0), Output("elbv2/modify-rule", 0)),
        documents=doc(
            "ListenerRule",
            "images",
            f"""
            ListenerArn: {LISTENER_80}
            Priority: 10
            Conditions: [{{Field: path-pattern, Values: [/images/*]}}]
            Actions: [{{Type: forward, TargetGroupArn: "{MY_TARGETS}"}}]
            """,
        ),
        subject=("ListenerRule", "images"),
        edit=("Conditions[0].Values", ["/img/*"]),
        expect=("Conditions[0].Values", ["/img/*"], ["/images/*"]),
    ),
    Case(
        id="set-rule-priorities: path /img/* at 5 (describe-rules' shape)",
        live=(LOAD_BALANCER, Output("elbv2/describe-listeners", 0), Output("elbv2/set-rule-priorities", 0)),
        documents=doc(
            "ListenerRule",
            "img",
            f"""
            ListenerArn: {LISTENER_80}
            Priority: 5
            Conditions: [{{Field: path-pattern, Values: [/img/*]}}]
            Actions: [{{Type: forward, TargetGroupArn: "{MY_TARGETS}"}}]
            """,
        ),
        subject=("ListenerRule", "img"),
        edit=("Priority", 6),
        expect=("Priority", "6", "5"),
    ),
    # --- Application Auto Scaling ----------------------------------------------------------------------------
    Case(
        id="describe-scalable-targets: service/default/web-app",
        live=(SCALABLE_TARGETS,),
        documents=WEB_APP_TARGET,
        subject=("ScalableTarget", "web-app"),
        edit=("MaxCapacity", 20),
        expect=("MaxCapacity", 20, 10),
        note="the request is register-scalable-target's first example",
    ),
    Case(
        id="describe-scaling-policies: web-app-cpu-gt-75",
        live=(SCALABLE_TARGETS, SCALING_POLICIES),
        documents=docs(
            WEB_APP_TARGET,
            doc(
                "ScalingPolicy",
                "web-app-cpu-gt-75",
                """
                ServiceNamespace: ecs
                ScalableDimension: ecs:service:DesiredCount
                ResourceId: service/default/web-app
                PolicyType: StepScaling
                StepScalingPolicyConfiguration:
                  AdjustmentType: PercentChangeInCapacity
                  Cooldown: 60
                  StepAdjustments: [{MetricIntervalLowerBound: 0, ScalingAdjustment: 200}]
                """,
            ),
        ),
        subject=("ScalingPolicy", "web-app-cpu-gt-75"),
        edit=("StepScalingPolicyConfiguration.Cooldown", 120),
        expect=("StepScalingPolicyConfiguration.Cooldown", 120, 60),
    ),
    Case(
        id="describe-scaling-policies: web-app-cpu-lt-25",
        live=(SCALABLE_TARGETS, SCALING_POLICIES),
        documents=docs(
            WEB_APP_TARGET,
            doc(
                "ScalingPolicy",
                "web-app-cpu-lt-25",
                """
                ServiceNamespace: ecs
                ScalableDimension: ecs:service:DesiredCount
                ResourceId: service/default/web-app
                PolicyType: StepScaling
                StepScalingPolicyConfiguration:
                  AdjustmentType: PercentChangeInCapacity
                  Cooldown: 1
                  StepAdjustments: [{MetricIntervalUpperBound: 0, ScalingAdjustment: -50}]
                """,
            ),
        ),
        subject=("ScalingPolicy", "web-app-cpu-lt-25"),
        edit=("StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment", -25),
        expect=("StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment", -25, -50),
    ),
    Case(
        id="describe-scheduled-actions: my-first-scheduled-action",
        live=(SCHEDULED_ACTIONS,),
        documents=docs(
            MY_TABLE_TARGET,
            doc(
                "ScheduledAction",
                "my-first-scheduled-action",
                """
                ServiceNamespace: dynamodb
                ScalableDimension: dynamodb:table:WriteCapacityUnits
                ResourceId: table/my-table
                Schedule: at(2019-05-20T18:35:00)
                ScalableTargetAction: {MinCapacity: 15, MaxCapacity: 20}
                """,
            ),
        ),
        subject=("ScheduledAction", "my-first-scheduled-action"),
        edit=("Schedule", "at(2019-05-20T19:00:00)"),
        expect=("Schedule", "at(2019-05-20T19:00:00)", "at(2019-05-20T18:35:00)"),
        note="the table's scalable target is not among the examples' outputs: only the action is compared",
    ),
    Case(
        id="describe-scheduled-actions: my-second-scheduled-action",
        live=(SCHEDULED_ACTIONS,),
        documents=docs(
            MY_TABLE_TARGET,
            doc(
                "ScheduledAction",
                "my-second-scheduled-action",
                """
                ServiceNamespace: dynamodb
                ScalableDimension: dynamodb:table:WriteCapacityUnits
                ResourceId: table/my-table
                Schedule: at(2019-05-20T18:40:00)
                ScalableTargetAction: {MinCapacity: 5, MaxCapacity: 10}
                """,
            ),
        ),
        subject=("ScheduledAction", "my-second-scheduled-action"),
        edit=("ScalableTargetAction.MaxCapacity", 12),
        expect=("ScalableTargetAction.MaxCapacity", 12, 10),
        note="the table's scalable target is not among the examples' outputs: only the action is compared",
    ),
    # --- CodeDeploy --------------------------------------------------------------------------------------------
    Case(
        id="get-deployment-group: WordPress_DG",
        live=(Output("deploy/get-deployment-group", 0),),
        documents=doc(
            "DeploymentGroup",
            "WordPress_DG",
            """
            applicationName: WordPress_App
            autoScalingGroups: [CodeDeployDemo-ASG]
            deploymentConfigName: CodeDeployDefault.OneAtATime
            ec2TagFilters: [{Key: Name, Value: CodeDeployDemo, Type: KEY_AND_VALUE}]
            serviceRoleArn: arn:aws:iam::123456789012:role/CodeDeployDemoRole
            """,
        ),
        subject=("DeploymentGroup", "WordPress_DG"),
        edit=("deploymentConfigName", "CodeDeployDefault.AllAtOnce"),
        expect=("deploymentConfigName", "CodeDeployDefault.AllAtOnce", "CodeDeployDefault.OneAtATime"),
        validate=False,
        note="an EC2 (Server) group, from create-deployment-group's request: the loader asks a DeploymentGroup "
        "for ecsServices and loadBalancerInfo (ECS blue/green only), so it is planned without the loader",
    ),
    *(
        Case(
            id=f"batch-get-deployment-groups: my-deployment-group-{n}",
            live=(Output("deploy/batch-get-deployment-groups", 0),),
            documents=doc(
                "DeploymentGroup",
                f"my-deployment-group-{n}",
                """
                applicationName: my-codedeploy-application
                serviceRoleArn: arn:aws:iam::123456789012:role/CodeDeployServiceRole
                deploymentConfigName: CodeDeployDefault.AllAtOnce
                deploymentStyle: {deploymentType: IN_PLACE, deploymentOption: WITHOUT_TRAFFIC_CONTROL}
                autoRollbackConfiguration: {enabled: false}
                ec2TagSet:
                  ec2TagSetList: [[{Type: KEY_AND_VALUE, Key: Name, Value: my-EC2-instance}]]
                """,
            ),
            subject=("DeploymentGroup", f"my-deployment-group-{n}"),
            edit=("autoRollbackConfiguration.enabled", True),
            expect=("autoRollbackConfiguration.enabled", True, False),
            validate=False,
            note="EC2 (Server) groups as the reader gets them (BatchGetDeploymentGroups); no request on the page; "
            "planned without the loader, as for get-deployment-group",
        )
        for n in (1, 2)
    ),
    # --- Cloud Map ---------------------------------------------------------------------------------------------
    Case(
        id="get-service: test-service (HTTP)",
        live=(Output("servicediscovery/get-service", 0),),
        documents=doc("DiscoveryService", "test-service", "NamespaceId: ns-abcd1234xmpl5678"),
        subject=("DiscoveryService", "test-service"),
        edit=("Description", "the test service"),
        expect=("Description", "the test service", None),
    ),
    Case(
        id="get-service: test-service in a shared namespace, by ARN",
        live=(Output("servicediscovery/get-service", 1),),
        documents=doc("DiscoveryService", "test-service", f"NamespaceId: {NAMESPACE_ARN}"),
        subject=("DiscoveryService", "test-service"),
        edit=("Description", "the test service"),
        expect=("Description", "the test service", None),
        note="a service in a namespace shared with the account is created with the namespace's ARN "
        "(create-service's second example)",
    ),
    Case(
        id="create-service: myservice (DNS)",
        live=(Output("servicediscovery/create-service", 0),),
        documents=doc(
            "DiscoveryService",
            "myservice",
            """
            NamespaceId: ns-abcd1234xmpl5678
            DnsConfig:
              RoutingPolicy: MULTIVALUE
              DnsRecords: [{Type: A, TTL: 60}]
            """,
        ),
        subject=("DiscoveryService", "myservice"),
        edit=("DnsConfig.DnsRecords[0].TTL", 300),
        expect=("DnsConfig.DnsRecords[A].TTL", 300, 60),
        note="the request names ns-ylexjili4cdxy3xm, the output ns-abcd1234xmpl5678: the document uses the output's",
    ),
    Case(
        id="create-service: myservice-arn, namespace by ARN",
        live=(Output("servicediscovery/create-service", 1),),
        documents=doc(
            "DiscoveryService",
            "myservice-arn",
            f"""
            NamespaceId: {NAMESPACE_ARN}
            DnsConfig:
              RoutingPolicy: MULTIVALUE
              DnsRecords: [{{Type: A, TTL: 60}}]
            """,
        ),
        subject=("DiscoveryService", "myservice-arn"),
        edit=("DnsConfig.DnsRecords[0].TTL", 300),
        expect=("DnsConfig.DnsRecords[A].TTL", 300, 60),
    ),
)


# Output blocks of the corpus pages that no case reads, and why.
SKIPPED: dict[Output, str] = {
    Output(
        "ecs/create-service", 2
    ): "an EXTERNAL deployment controller's service has no task definition, which "
    "a Service document requires",
    Output("ecs/create-service", 3): "inconsistent: the request's container is simple-demo, the output's "
    "ecs-demo; and a Classic Load Balancer, which the reconciler does not manage",
    Output(
        "ecs/create-service", 4
    ): "inconsistent: the request asks FARGATE, assignPublicIp ENABLED and volume "
    "myEbsVolume; the output shows EC2, DISABLED and myEBSVolume",
    Output("elbv2/create-target-group", 3): "inconsistent: the request's VPC is vpc-3ac0fb5f, the output's "
    "vpc-838475fe",
    Output("elbv2/describe-target-groups", 1): "a --query of the names only, not a description",
    Output(
        "elbv2/create-listener", 5
    ): "inconsistent: the request's load balancer and target group are not the "
    "output's; and a Gateway Load Balancer listener has no port, by which a Listener document is known",
    Output("elbv2/create-rule", 1, 2): "a request file only (the page shows no output)",
    Output("elbv2/create-rule", 2, 2): "a request file only (the page shows no output)",
    Output("application-autoscaling/register-scalable-target", 0): "the output is the ARN only",
    Output("application-autoscaling/register-scalable-target", 1): "the output is the ARN only",
    Output("application-autoscaling/register-scalable-target", 2): "the output is the ARN only",
    **{
        Output(
            "application-autoscaling/put-scaling-policy", n
        ): "the output is the policy's ARN and alarms only"
        for n in (0, 1, 2)
    },
    Output(
        "deploy/create-deployment-group", 0
    ): "the output is the ID only (its request is get-deployment-group's document)",
}
