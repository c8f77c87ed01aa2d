"""AWS's error codes → the project's errors (``live/aws_errors.py``), from errors as botocore makes them: AWS's
answer on the wire in each service's protocol, parsed by botocore's parser into the exception class its client
raises. The table against botocore's models: every error an operation the reconciler calls can answer is
classified there, none left to the HTTP status. And over HTTP against the emulator: a call made through
``AwsClients`` that fails raises the typed error, after botocore's retries, each attempt counted as before."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import create_parser

from reconciler.errors import (
    AlreadyExists,
    AwsError,
    ConditionFailed,
    Conflict,
    InUse,
    NotFound,
    Retriable,
    Terminal,
    TerminalError,
    Throttled,
    TransientError,
    Unreachable,
)
from reconciler.live.aws_errors import BY_SERVICE, COMMON, error_class, translated
from reconciler.live.clients import AwsClients
from reconciler.live.paging import paginate
from reconciler.sandbox.fault_rules import FaultRules, OperationFaults
from reconciler.sandbox.faults import FaultProxy
from reconciler.shapes.models import service_model
from tests.conftest import REGION, BotoFactory
from tests.deploy.test_iam_policy import AUTHORISED_AS, IAM_PREFIX, code_actions


def _wire(protocol: str, code: str, message: str, fields: dict[str, Any]) -> bytes:
    """AWS's error body for ``code`` in ``protocol``, as its API sends it."""
    if protocol == "json":
        body = {"__type": f"com.amazonaws.example#{code}", "message": message, **fields}
        return json.dumps(body).encode()
    if protocol == "query":
        return (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>r-1</RequestId></ErrorResponse>"
        ).encode()
    assert protocol == "ec2"
    return (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>r-1</RequestID></Response>"
    ).encode()


def aws_answered(
    service: str,
    operation: str,
    code: str,
    *,
    status: int = 400,
    message: str = "as AWS says it",
    fields: dict[str, Any] | None = None,
) -> ClientError:
    """The exception botocore's client raises when ``operation`` of ``service`` is answered with ``code``: the
    answer parsed as botocore's endpoint does (the error, then the fields its modeled shape adds)."""
    model = service_model(service)
    body = _wire(model.protocol, code, message, fields or {})
    response = {"status_code": status, "headers": {"x-amzn-requestid": "r-1"}, "body": body}
    parser = create_parser(model.protocol)
    parsed = parser.parse(response, model.operation_model(operation).output_shape)
    if (shape := model.shape_for_error_code(parsed["Error"]["Code"])) is not None:
        parsed.update(parser.parse(response, shape))
    exceptions = ClientExceptionsFactory().create_client_exceptions(model)
    error: ClientError = exceptions.from_code(parsed["Error"]["Code"])(parsed, operation)
    return error


# (service, operation, AWS's code, HTTP status, the class it is)
CASES: list[tuple[str, str, str, int, type[AwsError]]] = [
    ("ecs", "DescribeServices", "ClusterNotFoundException", 400, NotFound),
    ("ecs", "UpdateService", "ServiceNotFoundException", 400, NotFound),
    ("ecs", "DeleteService", "ServiceNotFoundException", 400, NotFound),
    ("ecs", "TagResource", "ResourceNotFoundException", 400, NotFound),
    ("ecs", "UpdateService", "ServiceNotActiveException", 400, Conflict),
    ("ecs", "PutClusterCapacityProviders", "UpdateInProgressException", 400, Conflict),
    ("ecs", "DeleteCluster", "ClusterContainsServicesException", 400, InUse),
    ("ecs", "DeleteCluster", "ClusterContainsTasksException", 400, InUse),
    ("ecs", "CreateService", "InvalidParameterException", 400, Terminal),
    ("ecs", "CreateService", "ClientException", 400, Terminal),
    ("ecs", "RegisterTaskDefinition", "LimitExceededException", 400, Terminal),  # ECS's: a quota
    ("ecs", "ListClusters", "AccessDeniedException", 400, Terminal),
    ("ecs", "ListClusters", "ThrottlingException", 400, Throttled),
    ("ecs", "ListClusters", "ServerException", 500, Retriable),
    ("elbv2", "DescribeTargetGroups", "TargetGroupNotFound", 400, NotFound),
    ("elbv2", "DescribeLoadBalancers", "LoadBalancerNotFound", 400, NotFound),
    ("elbv2", "ModifyRule", "RuleNotFound", 400, NotFound),
    ("elbv2", "DeleteTargetGroup", "ResourceInUse", 400, InUse),
    ("elbv2", "SetRulePriorities", "PriorityInUse", 400, InUse),
    ("elbv2", "CreateTargetGroup", "DuplicateTargetGroupName", 400, AlreadyExists),
    ("elbv2", "CreateRule", "TooManyRules", 400, Terminal),
    ("elbv2", "CreateLoadBalancer", "ValidationError", 400, Terminal),
    ("elbv2", "DescribeTags", "Throttling", 400, Throttled),
    ("elbv2", "DescribeTags", "AccessDenied", 403, Terminal),
    ("application-autoscaling", "DeregisterScalableTarget", "ObjectNotFoundException", 400, NotFound),
    ("application-autoscaling", "PutScalingPolicy", "ConcurrentUpdateException", 400, Conflict),
    ("application-autoscaling", "RegisterScalableTarget", "LimitExceededException", 400, Terminal),
    ("application-autoscaling", "RegisterScalableTarget", "ValidationException", 400, Terminal),
    ("application-autoscaling", "DescribeScalableTargets", "InternalServiceException", 500, Retriable),
    ("servicediscovery", "DeleteService", "ResourceInUse", 400, InUse),
    ("servicediscovery", "GetService", "ServiceNotFound", 400, NotFound),
    ("servicediscovery", "CreateService", "ServiceAlreadyExists", 400, AlreadyExists),
    ("servicediscovery", "CreateService", "NamespaceNotFound", 400, NotFound),
    ("servicediscovery", "CreateService", "InvalidInput", 400, Terminal),
    ("codedeploy", "UpdateDeploymentGroup", "DeploymentGroupDoesNotExistException", 400, NotFound),
    ("codedeploy", "CreateApplication", "ApplicationAlreadyExistsException", 400, AlreadyExists),
    ("codedeploy", "CreateDeployment", "DeploymentLimitExceededException", 400, Conflict),
    ("codedeploy", "CreateDeploymentGroup", "InvalidRoleException", 400, Terminal),
    ("codedeploy", "CreateDeployment", "ThrottlingException", 400, Throttled),
    ("dynamodb", "PutItem", "ConditionalCheckFailedException", 400, ConditionFailed),
    ("dynamodb", "CreateTable", "ResourceInUseException", 400, InUse),
    ("dynamodb", "CreateTable", "LimitExceededException", 400, Throttled),  # DynamoDB's: table operations
    ("dynamodb", "PutItem", "ProvisionedThroughputExceededException", 400, Throttled),
    ("dynamodb", "DescribeTable", "ResourceNotFoundException", 400, NotFound),
    ("dynamodb", "Scan", "InternalServerError", 500, Retriable),
    ("sqs", "ReceiveMessage", "QueueDoesNotExist", 400, NotFound),
    ("sqs", "ReceiveMessage", "KmsAccessDenied", 400, Terminal),
    ("sts", "GetCallerIdentity", "InvalidClientTokenId", 403, Terminal),
    ("sts", "GetCallerIdentity", "ExpiredToken", 400, Terminal),
    ("ec2", "DescribeSubnets", "UnauthorizedOperation", 403, Terminal),
    ("ec2", "DescribeSubnets", "RequestLimitExceeded", 503, Throttled),
    # a code no table knows: the status decides, else it is reported as it is
    ("ecs", "ListClusters", "SomethingAwsAddsLater", 400, AwsError),
    ("ecs", "ListClusters", "SomethingAwsAddsLater", 429, Throttled),
    ("ecs", "ListClusters", "SomethingAwsAddsLater", 503, Retriable),
    ("elbv2", "DescribeListeners", "SomethingAwsAddsLater", 502, Retriable),
]


@pytest.mark.parametrize(("service", "operation", "code", "status", "expected"), CASES)
def test_an_aws_answer_is_the_class_its_code_means(
    service: str, operation: str, code: str, status: int, expected: type[AwsError]
) -> None:
    answer = aws_answered(service, operation, code, status=status, message=f"{code} happened")
    error = translated(service, operation, answer)
    assert type(error) is expected
    assert (error.service, error.operation, error.code, error.message) == (
        service, operation, code, f"{code} happened",
    )  # fmt: skip
    assert str(error) == str(answer)  # botocore's wording: names the operation and AWS's code
    assert f"({code})" in str(error) and f"the {operation} operation" in str(error)


def test_the_answer_beyond_code_and_message_is_kept() -> None:
    """DynamoDB's failed condition carries the item as it is (``ReturnValuesOnConditionCheckFailure``)."""
    item = {"expires": {"N": "12.5"}}
    answer = aws_answered("dynamodb", "PutItem", "ConditionalCheckFailedException", fields={"Item": item})
    error = translated("dynamodb", "PutItem", answer)
    assert isinstance(error, ConditionFailed)
    assert error.response["Item"] == item


@pytest.mark.parametrize(
    "cause",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1/"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1/"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1/"),
    ],
)
def test_no_answer_is_unreachable_and_names_the_operation(cause: Any) -> None:
    error = translated("ecs", "ListClusters", cause)
    assert type(error) is Unreachable and isinstance(error, Retriable)
    assert error.code == type(cause).__name__
    assert str(error) == f"{type(cause).__name__} when calling the ListClusters operation: {cause}"


def test_what_each_class_means_for_a_pass() -> None:
    """Terminal fails the same way until something changes; throttling, AWS's own failures and conflicts may
    pass later; a missing resource is for the caller to judge."""
    assert issubclass(Terminal, TerminalError)
    assert all(
        issubclass(cls, TransientError) for cls in (Throttled, Retriable, Unreachable, Conflict, InUse)
    )
    assert not issubclass(NotFound, TransientError | TerminalError)
    assert not issubclass(AwsError, TransientError | TerminalError)


def _called_operations() -> dict[str, set[str]]:
    """service → the operations the reconciler's code calls (the static analysis the IAM policy is held to)."""
    service_of = {prefix: service for service, prefix in IAM_PREFIX.items()}
    called: dict[str, set[str]] = {}
    for action in code_actions().actions:
        names = {action} | {call for call, authorised in AUTHORISED_AS.items() if authorised == action}
        for name in names:
            prefix, operation = name.split(":")
            called.setdefault(service_of[prefix], set()).add(operation)
    return called


def _classified(service: str) -> set[str]:
    return set().union(*BY_SERVICE.get(service, {}).values(), *COMMON.values())


def test_every_error_an_operation_called_can_answer_is_in_the_table() -> None:
    unclassified: list[str] = []
    for service, operations in sorted(_called_operations().items()):
        model = service_model(service)
        for operation in sorted(operations & set(model.operation_names)):
            for shape in model.operation_model(operation).error_shapes:
                code = shape.metadata.get("error", {}).get("code", shape.name)
                if code not in _classified(service):
                    unclassified.append(f"{service}:{operation} {code}")
    assert unclassified == []


def test_the_tables_name_codes_the_models_have() -> None:
    """A code in a service's table that its model does not know is a typo (the common codes aside)."""
    unknown = []
    for service, codes in BY_SERVICE.items():
        model = service_model(service)
        modeled = {s.metadata.get("error", {}).get("code", s.name) for s in model.error_shapes}
        unknown += [f"{service} {code}" for code in sorted(set().union(*codes.values()) - modeled)]
    assert unknown == []


def test_a_services_own_meaning_wins_over_the_common_one() -> None:
    assert error_class("ecs", "LimitExceededException", 400) is Terminal
    assert error_class("application-autoscaling", "LimitExceededException", 400) is Terminal
    assert error_class("dynamodb", "LimitExceededException", 400) is Throttled
    assert error_class("codedeploy", "LimitExceededException", 400) is Throttled  # botocore's throttling list


# ---- over HTTP, against the emulator: what a call made through AwsClients raises -------------------------------


async def test_a_call_on_a_missing_cluster_raises_not_found_and_is_counted(aws: str) -> None:
    async with AwsClients(region=REGION, endpoint_url=aws) as clients:
        ecs = await clients.client("ecs")
        with pytest.raises(NotFound) as raised:
            await ecs.describe_services(cluster="nowhere", services=["web"])
        with pytest.raises(NotFound):  # a paginated call too
            await paginate(ecs, "list_services", "serviceArns", cluster="nowhere")
    error = raised.value
    assert (error.service, error.operation, error.code) == (
        "ecs",
        "DescribeServices",
        "ClusterNotFoundException",
    )
    assert isinstance(error.__cause__, ClientError)
    assert str(error) == str(error.__cause__)
    assert clients.calls[("ecs", "DescribeServices", "error")] == 1  # counted as before, once: not retried


async def test_deleting_a_cloud_map_service_with_instances_raises_in_use(aws: str, boto: BotoFactory) -> None:
    cloud_map = boto("servicediscovery")
    cloud_map.create_http_namespace(Name="internal")
    namespace = cloud_map.list_namespaces()["Namespaces"][0]["Id"]
    service = cloud_map.create_service(Name="web", NamespaceId=namespace)["Service"]["Id"]
    cloud_map.register_instance(
        ServiceId=service, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1"}
    )
    async with AwsClients(region=REGION, endpoint_url=aws) as clients:
        with pytest.raises(InUse) as raised:
            await (await clients.client("servicediscovery")).delete_service(Id=service)
    assert (raised.value.service, raised.value.operation) == ("servicediscovery", "DeleteService")
    assert raised.value.code == "ResourceInUse" and isinstance(raised.value, Conflict)
    assert [s["Id"] for s in cloud_map.list_services()["Services"]] == [service]


async def test_a_waiter_still_reads_error_answers(aws: str) -> None:
    """DynamoDB's table_not_exists waits for a ResourceNotFoundException: it reads it from botocore's error."""
    async with AwsClients(region=REGION, endpoint_url=aws) as clients:
        dynamodb = await clients.client("dynamodb")
        await dynamodb.get_waiter("table_not_exists").wait(
            TableName="absent", WaiterConfig={"MaxAttempts": 1}
        )
        with pytest.raises(NotFound):  # the same call outside the waiter
            await dynamodb.describe_table(TableName="absent")


async def test_throttling_past_the_retries_raises_throttled_after_every_attempt_is_counted(aws: str) -> None:
    rules = FaultRules(operations=[OperationFaults(match="ecs:ListClusters", throttle=1.0)])
    async with (
        FaultProxy(aws, rules) as proxy,
        AwsClients(region=REGION, endpoint_url=proxy.url, max_attempts=1) as clients,
    ):
        with pytest.raises(Throttled) as raised:
            await (await clients.client("ecs")).list_clusters()
    assert raised.value.code == "ThrottlingException" and raised.value.operation == "ListClusters"
    # the first attempt and botocore's retry (max_attempts counts retries), each counted
    assert clients.calls[("ecs", "ListClusters", "throttled")] == 2


@pytest.mark.usefixtures("aws")  # credentials
async def test_no_answer_raises_unreachable() -> None:
    with socket.socket() as free:  # a port nothing listens on: the connection is refused
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    async with AwsClients(region=REGION, endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1) as clients:
        with pytest.raises(Unreachable) as raised:
            await (await clients.client("ecs")).list_clusters()
    assert raised.value.code == "EndpointConnectionError" and "ListClusters" in str(raised.value)
    assert isinstance(raised.value.__cause__, EndpointConnectionError)
