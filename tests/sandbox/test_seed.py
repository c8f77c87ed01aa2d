"""Seeding the base infrastructure: every variable is returned, and each names a resource that exists."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.seed import seed_base_infrastructure
from tests.conftest import REGION, BotoFactory

EXPECTED_VARIABLES = {
    "AWS_REGION",
    "AWS_ACCOUNT_ID",
    "VPC_ID",
    "PUBLIC_SUBNET_A",
    "PUBLIC_SUBNET_B",
    "PRIVATE_SUBNET_A",
    "PRIVATE_SUBNET_B",
    "WEB_SECURITY_GROUP",
    "APP_SECURITY_GROUP",
    "EFS_SECURITY_GROUP",
    "DB_SECURITY_GROUP",
    "SCOREKEEP_FRONTEND_SECURITY_GROUP",
    "SCOREKEEP_API_SECURITY_GROUP",
    "CODEDEPLOY_ROLE_ARN",
    "EXECUTION_ROLE_ARN",
    "ECS_INFRASTRUCTURE_ROLE_ARN",
    "FRONTAPP_TASK_ROLE_ARN",
    "WORDPRESS_TASK_ROLE_ARN",
    "WORDPRESS_DB_PASSWORD_ARN",
    "WORDPRESS_AUTH_KEY_ARN",
    "WORDPRESS_SECURE_AUTH_KEY_ARN",
    "WORDPRESS_LOGGED_IN_KEY_ARN",
    "WORDPRESS_NONCE_KEY_ARN",
    "WORDPRESS_EFS_ID",
    "WORDPRESS_EFS_ACCESS_POINT_ID",
    "FRONTAPP_CERTIFICATE_ARN",
    "PRIVATE_NAMESPACE_ID",
}


async def test_seed_returns_every_variable_and_the_resources_exist(aws: str, boto: BotoFactory) -> None:
    variables = await seed_base_infrastructure(endpoint_url=aws, region=REGION)

    assert set(variables) == EXPECTED_VARIABLES
    assert (variables["AWS_REGION"], variables["AWS_ACCOUNT_ID"]) == (REGION, "123456789012")
    _assert_network(boto("ec2"), variables)
    _assert_roles(boto("iam"), variables)
    log_groups = boto("logs").describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]
    assert {group["logGroupName"] for group in log_groups} == {
        "/ecs/catalog",
        "/ecs/frontapp",
        "/ecs/frontapp/firelens",
        "/ecs/wordpress",
        "/ecs/scorekeep-frontend",
        "/ecs/scorekeep-api",
    }
    password = boto("ssm").get_parameter(Name="/wordpress/db/password", WithDecryption=True)["Parameter"]
    assert (password["Type"], password["ARN"]) == ("SecureString", variables["WORDPRESS_DB_PASSWORD_ARN"])
    _assert_file_system(boto("efs"), variables)
    _assert_certificate(boto("acm"), variables)
    api = boto("ec2").describe_security_groups(GroupIds=[variables["SCOREKEEP_API_SECURITY_GROUP"]])
    rules = api["SecurityGroups"][0]["IpPermissions"]
    assert [(r["FromPort"], [g["GroupId"] for g in r["UserIdGroupPairs"]], r["IpRanges"]) for r in rules] == [
        (5000, [variables["SCOREKEEP_FRONTEND_SECURITY_GROUP"]], [])
    ]  # only the scorekeep front end reaches the API
    namespace = boto("servicediscovery").get_namespace(Id=variables["PRIVATE_NAMESPACE_ID"])["Namespace"]
    assert (namespace["Name"], namespace["Type"]) == ("myapp.local", "DNS_PRIVATE")


def _assert_network(ec2: Any, variables: dict[str, str]) -> None:
    subnet_ids = [variables[f"{kind}_SUBNET_{zone}"] for kind in ("PUBLIC", "PRIVATE") for zone in "AB"]
    subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert {subnet["VpcId"] for subnet in subnets} == {variables["VPC_ID"]}
    zones = {subnet["SubnetId"]: subnet["AvailabilityZone"] for subnet in subnets}
    assert zones[variables["PRIVATE_SUBNET_A"]] == "us-east-1a"
    assert zones[variables["PRIVATE_SUBNET_B"]] == "us-east-1b"
    [efs_group] = ec2.describe_security_groups(GroupIds=[variables["EFS_SECURITY_GROUP"]])["SecurityGroups"]
    [nfs] = efs_group["IpPermissions"]
    assert nfs["FromPort"] == 2049
    assert nfs["UserIdGroupPairs"][0]["GroupId"] == variables["APP_SECURITY_GROUP"]


def _assert_roles(iam: Any, variables: dict[str, str]) -> None:
    role = iam.get_role(RoleName="ecsTaskExecutionRole")["Role"]
    assert role["Arn"] == variables["EXECUTION_ROLE_ARN"]
    attached = iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"]
    assert [policy["PolicyName"] for policy in attached] == ["AmazonECSTaskExecutionRolePolicy"]
    for variable in ("FRONTAPP_TASK_ROLE_ARN", "WORDPRESS_TASK_ROLE_ARN"):
        assert (
            iam.get_role(RoleName=variables[variable].rsplit("/", 1)[-1])["Role"]["Arn"]
            == variables[variable]
        )
    codedeploy = iam.get_role(RoleName="myapp-prod-codedeploy-role")["Role"]
    assert codedeploy["Arn"] == variables["CODEDEPLOY_ROLE_ARN"]
    trusted = codedeploy["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    attached = iam.list_attached_role_policies(RoleName="myapp-prod-codedeploy-role")["AttachedPolicies"]
    assert (trusted, [p["PolicyName"] for p in attached]) == (
        "codedeploy.amazonaws.com",
        ["AWSCodeDeployRoleForECS"],
    )
    infrastructure = iam.get_role(RoleName="myapp-prod-ecs-infrastructure-role")["Role"]
    assert infrastructure["Arn"] == variables["ECS_INFRASTRUCTURE_ROLE_ARN"]
    trusted = infrastructure["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    attached = iam.list_attached_role_policies(RoleName="myapp-prod-ecs-infrastructure-role")[
        "AttachedPolicies"
    ]
    assert (trusted, [p["PolicyName"] for p in attached]) == (
        "ecs.amazonaws.com",
        ["AmazonECSInfrastructureRolePolicyForLoadBalancers"],
    )


def _assert_file_system(efs: Any, variables: dict[str, str]) -> None:
    file_system_id = variables["WORDPRESS_EFS_ID"]
    mount_targets = efs.describe_mount_targets(FileSystemId=file_system_id)["MountTargets"]
    assert {target["SubnetId"] for target in mount_targets} == {
        variables["PRIVATE_SUBNET_A"],
        variables["PRIVATE_SUBNET_B"],
    }
    [access_point] = efs.describe_access_points(FileSystemId=file_system_id)["AccessPoints"]
    assert access_point["AccessPointId"] == variables["WORDPRESS_EFS_ACCESS_POINT_ID"]
    assert access_point["RootDirectory"]["Path"] == "/wp-content"


def _assert_certificate(acm: Any, variables: dict[str, str]) -> None:
    certificate = acm.describe_certificate(CertificateArn=variables["FRONTAPP_CERTIFICATE_ARN"])[
        "Certificate"
    ]
    assert certificate["DomainName"] == "frontapp.example.com"
    assert certificate["Status"] == "ISSUED"
    assert "*.frontapp.example.com" in certificate["SubjectAlternativeNames"]


async def test_the_seeded_network_takes_an_https_alb_for_frontapp(aws: str, boto: BotoFactory) -> None:
    """Public subnets in two zones, the web security group and the certificate are what the example's ALB needs."""
    variables = await seed_base_infrastructure(endpoint_url=aws, region=REGION)
    elbv2 = boto("elbv2")
    [balancer] = elbv2.create_load_balancer(
        Name="frontapp-alb",
        Subnets=[variables["PUBLIC_SUBNET_A"], variables["PUBLIC_SUBNET_B"]],
        SecurityGroups=[variables["WEB_SECURITY_GROUP"]],
        Scheme="internet-facing",
    )["LoadBalancers"]
    assert {zone["ZoneName"] for zone in balancer["AvailabilityZones"]} == {"us-east-1a", "us-east-1b"}
    [listener] = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": variables["FRONTAPP_CERTIFICATE_ARN"]}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"]
    assert listener["Certificates"] == [{"CertificateArn": variables["FRONTAPP_CERTIFICATE_ARN"]}]
    [web] = boto("ec2").describe_security_groups(GroupIds=[variables["WEB_SECURITY_GROUP"]])["SecurityGroups"]
    assert {permission["FromPort"] for permission in web["IpPermissions"]} == {80, 443}
