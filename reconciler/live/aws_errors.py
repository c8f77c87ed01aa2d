"""What each AWS error code means for the reconciler, written as data, and the translation of botocore's
exceptions into the classes of ``reconciler.errors``, made once, where calls are made (``clients.py``).

A code is looked up in its service's table first (services give one name different meanings: ECS's and
Application Auto Scaling's ``LimitExceededException`` is a quota, DynamoDB's a burst of table operations),
then among the codes any service may answer, and last the HTTP status decides (429 throttled, 5xx retriable).
A code none of them knows stays a plain ``AwsError``: reported as it is, and nothing decides on it. The tables
cover every error that botocore's service models list for the operations the reconciler calls
(``tests/live/test_aws_errors.py`` holds them to it), and the common errors of AWS's API references, which the
models mostly leave out.
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

from reconciler.errors import (
    AlreadyExists,
    AwsError,
    ConditionFailed,
    Conflict,
    InUse,
    NotFound,
    Retriable,
    Terminal,
    Throttled,
    Unreachable,
)

Codes = Mapping[type[AwsError], frozenset[str]]

# What botocore's retries take for throttling and for transient: a code it retried and gave up on is
# classified the way it saw it (``PriorRequestNotComplete`` is in both lists; it answers 429: throttling).
BOTOCORE_THROTTLED = frozenset(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
BOTOCORE_TRANSIENT = frozenset(TransientRetryableChecker._TRANSIENT_ERROR_CODES) - BOTOCORE_THROTTLED

# Any service may answer these: the "Common Errors" of AWS's API references (the models mostly omit them).
COMMON: Codes = {
    Terminal: frozenset({
        "AccessDenied", "AccessDeniedException", "NotAuthorized", "UnauthorizedOperation", "OptInRequired",
        "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
        "RequestExpired", "IncompleteSignature", "InvalidSignatureException", "SignatureDoesNotMatch",
        "MissingAuthenticationToken", "MissingAuthenticationTokenException", "ValidationError",
        "ValidationException", "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter",
        "MissingAction", "InvalidAction", "InvalidQueryParameter", "MalformedQueryString",
    }),
    Throttled: BOTOCORE_THROTTLED,
    Retriable: BOTOCORE_TRANSIENT | {"InternalFailure", "InternalError", "ServiceUnavailable"},
}  # fmt: skip

BY_SERVICE: Mapping[str, Codes] = {
    "ecs": {
        NotFound: frozenset({
            "ClusterNotFoundException", "ServiceNotFoundException", "ResourceNotFoundException",
            "NamespaceNotFoundException", "ServiceDeploymentNotFoundException", "TaskSetNotFoundException",
        }),
        Conflict: frozenset({"ServiceNotActiveException", "UpdateInProgressException", "ConflictException"}),
        InUse: frozenset({
            "ResourceInUseException", "ClusterContainsServicesException", "ClusterContainsTasksException",
            "ClusterContainsContainerInstancesException", "ClusterContainsCapacityProviderException",
        }),
        Terminal: frozenset({
            "InvalidParameterException", "ClientException", "LimitExceededException",
            "UnsupportedFeatureException", "PlatformUnknownException",
            "PlatformTaskDefinitionIncompatibilityException", "BlockedException",
        }),
        Retriable: frozenset({"ServerException"}),
    },
    "elbv2": {
        NotFound: frozenset({
            "LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound",
            "CertificateNotFound", "SSLPolicyNotFound", "ALPNPolicyNotFound", "SubnetNotFound",
            "AllocationIdNotFound", "TrustStoreNotFound",
        }),
        Conflict: frozenset({"CapacityReservationPending", "TrustStoreNotReady"}),
        InUse: frozenset({"ResourceInUse", "PriorityInUse"}),
        AlreadyExists: frozenset({
            "DuplicateLoadBalancerName", "DuplicateTargetGroupName", "DuplicateListener",
        }),
        Terminal: frozenset({
            "AvailabilityZoneNotSupported", "DuplicateTagKeys", "IncompatibleProtocols",
            "InvalidConfigurationRequest", "InvalidLoadBalancerAction", "InvalidScheme",
            "InvalidSecurityGroup", "InvalidSubnet", "InvalidTarget", "OperationNotPermitted",
            "TargetGroupAssociationLimit",
            "TooManyActions", "TooManyCertificates", "TooManyListeners", "TooManyLoadBalancers",
            "TooManyRegistrationsForTargetId", "TooManyRules", "TooManyTags", "TooManyTargetGroups",
            "TooManyTargets", "TooManyUniqueTargetGroupsPerLoadBalancer", "UnsupportedProtocol",
        }),
        Retriable: frozenset({"HealthUnavailable"}),
    },
    "application-autoscaling": {
        NotFound: frozenset({"ObjectNotFoundException", "ResourceNotFoundException"}),
        Conflict: frozenset({"ConcurrentUpdateException"}),
        Terminal: frozenset({
            "LimitExceededException", "FailedResourceAccessException", "InvalidNextTokenException",
            "TooManyTagsException",
        }),
        Retriable: frozenset({"InternalServiceException"}),
    },
    "servicediscovery": {
        NotFound: frozenset({
            "ServiceNotFound", "NamespaceNotFound", "InstanceNotFound", "OperationNotFound",
            "ResourceNotFoundException",
        }),
        Conflict: frozenset({"DuplicateRequest"}),  # the same operation is under way
        InUse: frozenset({"ResourceInUse"}),
        AlreadyExists: frozenset({"ServiceAlreadyExists", "NamespaceAlreadyExists"}),
        Terminal: frozenset({"InvalidInput", "ResourceLimitExceeded", "TooManyTagsException"}),
    },
    "codedeploy": {
        NotFound: frozenset({
            "ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException",
            "DeploymentConfigDoesNotExistException", "DeploymentDoesNotExistException",
            "RevisionDoesNotExistException",
        }),
        # a group takes one deployment at a time: the next waits for the running one to end
        Conflict: frozenset({"DeploymentLimitExceededException"}),
        AlreadyExists: frozenset({
            "ApplicationAlreadyExistsException", "DeploymentGroupAlreadyExistsException",
        }),
        Terminal: frozenset({
            "AlarmsLimitExceededException", "ApplicationLimitExceededException",
            "ApplicationNameRequiredException", "ArnNotSupportedException", "BatchLimitExceededException",
            "DeploymentGroupLimitExceededException", "DeploymentGroupNameRequiredException",
            "DeploymentIdRequiredException", "DescriptionTooLongException",
            "ECSServiceMappingLimitExceededException", "InvalidAlarmConfigException",
            "InvalidApplicationNameException", "InvalidArnException", "InvalidAutoRollbackConfigException",
            "InvalidAutoScalingGroupException", "InvalidAutoScalingGroupProcessToSuspendException",
            "InvalidBlueGreenDeploymentConfigurationException", "InvalidComputePlatformException",
            "InvalidDeploymentConfigNameException", "InvalidDeploymentGroupNameException",
            "InvalidDeploymentIdException", "InvalidDeploymentStatusException",
            "InvalidDeploymentStyleException", "InvalidEC2TagCombinationException", "InvalidEC2TagException",
            "InvalidECSServiceException", "InvalidExternalIdException", "InvalidFileExistsBehaviorException",
            "InvalidGitHubAccountTokenException", "InvalidIgnoreApplicationStopFailuresValueException",
            "InvalidInputException", "InvalidLoadBalancerInfoException", "InvalidNextTokenException",
            "InvalidOnPremisesTagCombinationException", "InvalidRevisionException", "InvalidRoleException",
            "InvalidTagException", "InvalidTagsToAddException", "InvalidTargetGroupPairException",
            "InvalidTargetInstancesException", "InvalidTimeRangeException",
            "InvalidTrafficRoutingConfigurationException", "InvalidTriggerConfigException",
            "InvalidUpdateOutdatedInstancesOnlyValueException", "LifecycleHookLimitExceededException",
            "ResourceArnRequiredException", "RevisionRequiredException", "RoleRequiredException",
            "TagRequiredException", "TagSetListLimitExceededException",
            "TriggerTargetsLimitExceededException",
        }),
    },
    "dynamodb": {
        NotFound: frozenset({"ResourceNotFoundException"}),
        Conflict: frozenset({"TransactionConflictException", "ReplicatedWriteConflictException"}),
        InUse: frozenset({"ResourceInUseException"}),  # CreateTable: the table exists, or is being created
        ConditionFailed: frozenset({"ConditionalCheckFailedException"}),
        # DynamoDB's LimitExceededException: too many table operations at once (botocore retries it too)
        Throttled: frozenset({"LimitExceededException"}),
        Terminal: frozenset({"ItemCollectionSizeLimitExceededException"}),
        Retriable: frozenset({"InternalServerError"}),
    },
    # AssumeRole, called for a target's credentials (``live/credentials.py``); AccessDenied is a common code
    "sts": {
        Terminal: frozenset({"MalformedPolicyDocument", "PackedPolicyTooLarge", "RegionDisabledException"}),
    },
    "sqs": {
        NotFound: frozenset({"QueueDoesNotExist", "KmsNotFound"}),
        Throttled: frozenset({"KmsThrottled"}),
        Terminal: frozenset({
            "BatchEntryIdsNotDistinct", "EmptyBatchRequest", "InvalidAddress", "InvalidBatchEntryId",
            "InvalidIdFormat", "InvalidSecurity", "KmsAccessDenied", "KmsDisabled", "KmsInvalidKeyUsage",
            "KmsInvalidState", "KmsOptInRequired", "OverLimit", "ReceiptHandleIsInvalid",
            "TooManyEntriesInBatchRequest", "UnsupportedOperation",
        }),
    },
}  # fmt: skip


def _by_code(codes: Codes) -> dict[str, type[AwsError]]:
    """code → class, from class → codes; a code under two classes is a mistake in the table."""
    found: dict[str, type[AwsError]] = {}
    for cls, names in codes.items():
        for name in names:
            if found.setdefault(name, cls) is not cls:
                raise ValueError(f"{name} is both {found[name].__name__} and {cls.__name__}")
    return found


_COMMON = _by_code(COMMON)
_SERVICES = {service: _by_code(codes) for service, codes in BY_SERVICE.items()}


def error_class(service: str, code: str, status: int) -> type[AwsError]:
    """The class of AWS's ``code`` from ``service`` (botocore's name), answered with HTTP ``status``."""
    known = _SERVICES.get(service, {}).get(code) or _COMMON.get(code)
    if known is not None:
        return known
    if status == 429:
        return Throttled
    return Retriable if status >= 500 else AwsError


def translated(
    service: str, operation: str, error: ClientError | BotocoreConnectionError | HTTPClientError
) -> AwsError:
    """The project's error for botocore's ``error`` from ``operation`` of ``service``. AWS's answer (a
    ``ClientError``) by its code; no answer (a connection error, a timeout) is ``Unreachable``."""
    if isinstance(error, ClientError):
        info = error.response.get("Error") or {}
        code, message = str(info.get("Code", "")), str(info.get("Message", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        cls = error_class(service, code, status)
        return cls(service, operation, code, message, text=str(error), response=error.response)
    code = type(error).__name__
    text = f"{code} when calling the {operation} operation: {error}"
    return Unreachable(service, operation, code, str(error), text=text)


def assume_role_failed(
    target: str,
    role_arn: str,
    error: ClientError | BotocoreConnectionError | HTTPClientError | NoCredentialsError,
) -> AwsError:
    """The error for a target whose role could not be assumed: the class its code means (AccessDenied:
    ``Terminal``; throttled, or STS unreachable: transient), worded with the target and the role first, as
    ``/status``, the log and ``reconciler plan`` say it."""
    if isinstance(error, NoCredentialsError):
        cause: AwsError = Terminal("sts", "AssumeRole", "NoCredentials", str(error))
    else:
        cause = translated("sts", "AssumeRole", error)
    text = f"target {target}: cannot assume role {role_arn}: {cause}"
    return type(cause)("sts", "AssumeRole", cause.code, cause.message, text=text, response=cause.response)
