"""The base infrastructure that the example desired state refers to, created in the emulator.

The example estate (``desired-state/``) declares clusters, task definitions, services, load balancers and
their scaling; like a real account, it expects a network, roles, log groups, parameters, a file system and a
TLS certificate to exist already (made by Terraform or
by hand, as the field reports do). ``seed_base_infrastructure`` makes them in an empty emulator and returns
the variables (``PRIVATE_SUBNET_A``, ``EXECUTION_ROLE_ARN``...) that override ``vars.yaml``'s
real-account defaults. ``create_events_queue`` makes the events queue and its EventBridge rule, which the
emulator's CloudTrail events (``sandbox/cloudtrail.py``) reach.

It uses aiobotocore, as every AWS call of the product does.
"""

from __future__ import annotations

import datetime
import functools
import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from aiobotocore.session import get_session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reconciler.events.pattern import event_pattern

SYSTEM = "myapp-prod"
VPC_CIDR = "10.0.0.0/16"
ANYWHERE = "0.0.0.0/0"
CODEDEPLOY_POLICY_ARN = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
CODEDEPLOY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "codedeploy.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
# ECS's infrastructure role for load balancers: ECS moves a blue/green, linear or canary service's listener rules
# with it (Amazon ECS Developer Guide: "Amazon ECS infrastructure IAM role for load balancers").
ECS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
ECS_LOAD_BALANCERS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
LOG_GROUPS = (
    "/ecs/catalog",
    "/ecs/frontapp",
    "/ecs/frontapp/firelens",
    "/ecs/wordpress",
    "/ecs/scorekeep-frontend",
    "/ecs/scorekeep-api",
)
LOG_RETENTION_DAYS = 30
WWW_DATA_UID = 33  # the wordpress image's www-data user and group
FRONTAPP_DOMAIN = "frontapp.example.com"
CERTIFICATE_DAYS = 365

# (variable holding the ARN, SSM parameter name, sandbox value): SecureStrings the task definitions read.
SECRET_PARAMETERS = (
    ("WORDPRESS_DB_PASSWORD_ARN", "/wordpress/db/password", "sandbox-db-password"),
    ("WORDPRESS_AUTH_KEY_ARN", "/wordpress/auth-key", "sandbox-auth-key"),
    ("WORDPRESS_SECURE_AUTH_KEY_ARN", "/wordpress/secure-auth-key", "sandbox-secure-auth-key"),
    ("WORDPRESS_LOGGED_IN_KEY_ARN", "/wordpress/logged-in-key", "sandbox-logged-in-key"),
    ("WORDPRESS_NONCE_KEY_ARN", "/wordpress/nonce-key", "sandbox-nonce-key"),
)


@dataclass(frozen=True)
class Clients:
    ec2: Any
    iam: Any
    logs: Any
    ssm: Any
    efs: Any
    sts: Any
    acm: Any
    servicediscovery: Any


async def seed_base_infrastructure(*, endpoint_url: str, region: str) -> dict[str, str]:
    """Create the base infrastructure in an empty emulator; return the variables the example estate uses."""
    async with _OpenClients(endpoint_url=endpoint_url, region=region) as clients:
        variables = {"AWS_REGION": region, "AWS_ACCOUNT_ID": await _account_id(clients)}
        variables |= await _create_network(clients.ec2, region=region)
        variables |= await _create_security_groups(clients.ec2, vpc_id=variables["VPC_ID"])
        variables |= await _create_roles(clients.iam)
        await _create_log_groups(clients.logs)
        variables |= await _create_secret_parameters(clients.ssm)
        variables |= await _create_wordpress_file_system(
            clients.efs,
            subnets=[variables["PRIVATE_SUBNET_A"], variables["PRIVATE_SUBNET_B"]],
            security_group=variables["EFS_SECURITY_GROUP"],
        )
        variables |= await _import_frontapp_certificate(clients.acm)
        variables |= await _create_private_namespace(clients.servicediscovery, vpc_id=variables["VPC_ID"])
        return variables


EVENTS_QUEUE = "reconciler-events"
EVENTS_RULE = "reconciler-drift-events"
EVENTS_TARGET_ID = "reconciler-events-queue"


async def create_events_queue(*, endpoint_url: str, region: str) -> str:
    """The SQS queue the daemon long-polls and the EventBridge rule on the default bus that feeds it (the
    pattern of ``reconciler.events.pattern``), as ``deploy/`` makes them in AWS; returns the queue URL.
    Calling it again changes nothing."""
    options = _client_options(endpoint_url=endpoint_url, region=region)
    session = get_session()
    async with (
        session.create_client("sqs", **options) as sqs,
        session.create_client("events", **options) as events,
    ):
        queue_url = str((await sqs.create_queue(QueueName=EVENTS_QUEUE))["QueueUrl"])
        attributes = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        queue_arn = str(attributes["Attributes"]["QueueArn"])
        rule = await events.put_rule(
            Name=EVENTS_RULE,
            EventPattern=json.dumps(event_pattern()),
            State="ENABLED",
            Description="changes to ECS, ELBv2 and Application Auto Scaling, for the reconciler",
        )
        await events.put_targets(Rule=EVENTS_RULE, Targets=[{"Id": EVENTS_TARGET_ID, "Arn": queue_arn}])
        # AWS delivers to the queue only if its policy lets the rule send (moto does not check; AWS does)
        statement = {
            "Sid": "events-to-queue",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule["RuleArn"]}},
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        await sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    return queue_url


def _client_options(*, endpoint_url: str, region: str) -> dict[str, str]:
    return {
        "endpoint_url": endpoint_url,
        "region_name": region,
        "aws_access_key_id": "testing",  # the emulator accepts any credentials
        "aws_secret_access_key": "testing",
    }


class _OpenClients:
    """The aiobotocore clients seeding needs, opened together and closed together."""

    def __init__(self, *, endpoint_url: str, region: str) -> None:
        self._stack = AsyncExitStack()
        self._options = _client_options(endpoint_url=endpoint_url, region=region)

    async def __aenter__(self) -> Clients:
        session = get_session()
        opened = {}
        for name in ("ec2", "iam", "logs", "ssm", "efs", "sts", "acm", "servicediscovery"):
            opened[name] = await self._stack.enter_async_context(session.create_client(name, **self._options))
        return Clients(**opened)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()


PRIVATE_NAMESPACE = "myapp.local"


async def _create_private_namespace(servicediscovery: Any, *, vpc_id: str) -> dict[str, str]:
    """The Cloud Map namespace that backends register in (``api.myapp.local``); made once, by the platform team."""
    operation = await servicediscovery.create_private_dns_namespace(
        Name=PRIVATE_NAMESPACE, Vpc=vpc_id, Description="service discovery for myapp"
    )
    done = await servicediscovery.get_operation(OperationId=operation["OperationId"])
    return {"PRIVATE_NAMESPACE_ID": str(done["Operation"]["Targets"]["NAMESPACE"])}


async def _account_id(clients: Clients) -> str:
    identity = await clients.sts.get_caller_identity()
    return str(identity["Account"])


def _name_tags(resource_type: str, name: str) -> list[dict[str, Any]]:
    tags = [{"Key": "Name", "Value": name}, {"Key": "System", "Value": SYSTEM}]
    return [{"ResourceType": resource_type, "Tags": tags}]


async def _create_network(ec2: Any, *, region: str) -> dict[str, str]:
    """A VPC with a public and a private subnet in each of two Availability Zones, and an internet gateway."""
    vpc = await ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_name_tags("vpc", f"{SYSTEM}-vpc"))
    vpc_id = vpc["Vpc"]["VpcId"]
    await ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    gateway = await ec2.create_internet_gateway(
        TagSpecifications=_name_tags("internet-gateway", f"{SYSTEM}-igw")
    )
    await ec2.attach_internet_gateway(
        InternetGatewayId=gateway["InternetGateway"]["InternetGatewayId"], VpcId=vpc_id
    )
    variables = {"VPC_ID": vpc_id}
    layout = {"PUBLIC_SUBNET_A": "10.0.0.0/24", "PUBLIC_SUBNET_B": "10.0.1.0/24"}
    layout |= {"PRIVATE_SUBNET_A": "10.0.10.0/24", "PRIVATE_SUBNET_B": "10.0.11.0/24"}
    for variable, cidr in layout.items():
        zone = f"{region}{variable[-1].lower()}"
        name = f"{SYSTEM}-{variable.split('_')[0].lower()}-{zone[-1]}"
        subnet = await ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone, TagSpecifications=_name_tags("subnet", name)
        )
        variables[variable] = subnet["Subnet"]["SubnetId"]
    return variables


async def _create_security_groups(ec2: Any, *, vpc_id: str) -> dict[str, str]:
    """web: 443/80 from anywhere · app: 8080 and 80 from web · efs: NFS from app · db: MySQL from app ·
    scorekeep front end: 80 from web · scorekeep API: 5000 from the scorekeep front end only."""
    web = await _security_group(ec2, vpc_id=vpc_id, role="web", description="load balancers")
    app = await _security_group(ec2, vpc_id=vpc_id, role="app", description="ECS tasks")
    efs = await _security_group(ec2, vpc_id=vpc_id, role="efs", description="EFS mount targets")
    db = await _security_group(ec2, vpc_id=vpc_id, role="db", description="the WordPress database")
    await _allow(ec2, group=web, ports=(443, 80), cidr=ANYWHERE)
    await _allow(ec2, group=app, ports=(8080, 80), source_group=web)
    await _allow(ec2, group=efs, ports=(2049,), source_group=app)
    await _allow(ec2, group=db, ports=(3306,), source_group=app)
    frontend = await _security_group(
        ec2, vpc_id=vpc_id, role="scorekeep-frontend", description="scorekeep web tasks"
    )
    api = await _security_group(ec2, vpc_id=vpc_id, role="scorekeep-api", description="scorekeep API tasks")
    await _allow(ec2, group=frontend, ports=(80,), source_group=web)
    await _allow(ec2, group=api, ports=(5000,), source_group=frontend)
    return {
        "SCOREKEEP_FRONTEND_SECURITY_GROUP": frontend,
        "SCOREKEEP_API_SECURITY_GROUP": api,
        "WEB_SECURITY_GROUP": web,
        "APP_SECURITY_GROUP": app,
        "EFS_SECURITY_GROUP": efs,
        "DB_SECURITY_GROUP": db,
    }


async def _security_group(ec2: Any, *, vpc_id: str, role: str, description: str) -> str:
    name = f"{SYSTEM}-{role}-sg"
    group = await ec2.create_security_group(
        GroupName=name,
        Description=f"{SYSTEM} {description}",
        VpcId=vpc_id,
        TagSpecifications=_name_tags("security-group", name),
    )
    return str(group["GroupId"])


async def _allow(
    ec2: Any, *, group: str, ports: tuple[int, ...], cidr: str | None = None, source_group: str | None = None
) -> None:
    source: dict[str, Any] = (
        {"IpRanges": [{"CidrIp": cidr}]} if cidr else {"UserIdGroupPairs": [{"GroupId": source_group}]}
    )
    permissions = [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **source} for port in ports]
    await ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permissions)


async def _create_roles(iam: Any) -> dict[str, str]:
    """The task execution role (pulls images, writes logs, reads the SSM secrets), one task role per app."""
    execution = await _role(iam, name="ecsTaskExecutionRole", description="ECS task execution")
    await iam.attach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=EXECUTION_POLICY_ARN)
    await _inline_policy(
        iam,
        role="ecsTaskExecutionRole",
        name="read-wordpress-secrets",
        statement={"Effect": "Allow", "Action": ["ssm:GetParameters", "kms:Decrypt"], "Resource": "*"},
    )
    frontapp = await _role(iam, name=f"{SYSTEM}-frontapp-task-role", description="frontapp tasks")
    wordpress = await _role(iam, name=f"{SYSTEM}-wordpress-task-role", description="wordpress tasks")
    await _inline_policy(
        iam,
        role=f"{SYSTEM}-wordpress-task-role",
        name="mount-wp-content",
        statement={
            "Effect": "Allow",
            "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
            "Resource": "*",
        },
    )
    codedeploy = await _role(
        iam, name=f"{SYSTEM}-codedeploy-role", description="CodeDeploy blue/green", trust=CODEDEPLOY_TRUST
    )
    await iam.attach_role_policy(RoleName=f"{SYSTEM}-codedeploy-role", PolicyArn=CODEDEPLOY_POLICY_ARN)
    infrastructure = await _role(
        iam, name=f"{SYSTEM}-ecs-infrastructure-role", description="ECS traffic shifting", trust=ECS_TRUST
    )
    await iam.attach_role_policy(
        RoleName=f"{SYSTEM}-ecs-infrastructure-role", PolicyArn=ECS_LOAD_BALANCERS_POLICY_ARN
    )
    return {
        "CODEDEPLOY_ROLE_ARN": codedeploy,
        "ECS_INFRASTRUCTURE_ROLE_ARN": infrastructure,
        "EXECUTION_ROLE_ARN": execution,
        "FRONTAPP_TASK_ROLE_ARN": frontapp,
        "WORDPRESS_TASK_ROLE_ARN": wordpress,
    }


async def _role(iam: Any, *, name: str, description: str, trust: dict[str, Any] = ECS_TASKS_TRUST) -> str:
    role = await iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description=f"{SYSTEM} {description}",
    )
    return str(role["Role"]["Arn"])


async def _inline_policy(iam: Any, *, role: str, name: str, statement: dict[str, Any]) -> None:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    await iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


async def _create_log_groups(logs: Any) -> None:
    for name in LOG_GROUPS:
        await logs.create_log_group(logGroupName=name, tags={"System": SYSTEM})
        await logs.put_retention_policy(logGroupName=name, retentionInDays=LOG_RETENTION_DAYS)


async def _create_secret_parameters(ssm: Any) -> dict[str, str]:
    variables = {}
    for variable, name, value in SECRET_PARAMETERS:
        await ssm.put_parameter(
            Name=name, Value=value, Type="SecureString", Tags=[{"Key": "System", "Value": SYSTEM}]
        )
        parameter = await ssm.get_parameter(Name=name)
        variables[variable] = str(parameter["Parameter"]["ARN"])
    return variables


async def _create_wordpress_file_system(
    efs: Any, *, subnets: list[str], security_group: str
) -> dict[str, str]:
    """An encrypted EFS file system for wp-content, a mount target per private subnet, and an access point
    that maps every client to www-data and roots it at /wp-content."""
    file_system = await efs.create_file_system(
        CreationToken=f"{SYSTEM}-wordpress",
        PerformanceMode="generalPurpose",
        Encrypted=True,
        Tags=[{"Key": "Name", "Value": f"{SYSTEM}-wordpress"}, {"Key": "System", "Value": SYSTEM}],
    )
    file_system_id = str(file_system["FileSystemId"])
    for subnet in subnets:
        await efs.create_mount_target(
            FileSystemId=file_system_id, SubnetId=subnet, SecurityGroups=[security_group]
        )
    access_point = await efs.create_access_point(
        ClientToken=f"{SYSTEM}-wp-content",
        FileSystemId=file_system_id,
        PosixUser={"Uid": WWW_DATA_UID, "Gid": WWW_DATA_UID},
        RootDirectory={
            "Path": "/wp-content",
            "CreationInfo": {"OwnerUid": WWW_DATA_UID, "OwnerGid": WWW_DATA_UID, "Permissions": "0755"},
        },
        Tags=[{"Key": "Name", "Value": f"{SYSTEM}-wp-content"}],
    )
    return {
        "WORDPRESS_EFS_ID": file_system_id,
        "WORDPRESS_EFS_ACCESS_POINT_ID": str(access_point["AccessPointId"]),
    }


async def _import_frontapp_certificate(acm: Any) -> dict[str, str]:
    """An ISSUED certificate for frontapp's HTTPS listeners. A real account requests it from ACM and validates
    it through DNS; the emulator keeps requested certificates PENDING_VALIDATION for a minute, so the sandbox
    imports a self-signed one instead (an imported certificate is ISSUED at once)."""
    certificate, private_key = self_signed_certificate(FRONTAPP_DOMAIN)
    imported = await acm.import_certificate(
        Certificate=certificate,
        PrivateKey=private_key,
        Tags=[{"Key": "Name", "Value": FRONTAPP_DOMAIN}, {"Key": "System", "Value": SYSTEM}],
    )
    return {"FRONTAPP_CERTIFICATE_ARN": str(imported["CertificateArn"])}


@functools.cache
def self_signed_certificate(domain: str) -> tuple[bytes, bytes]:
    """A PEM certificate for ``domain`` (and ``*.domain``) and its PEM private key (ECDSA P-256, which ACM
    imports; made once per process)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(domain), x509.DNSName(f"*.{domain}")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    private_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), private_key
