"""Tags on ECS and ELBv2 resources: the keys, values and counts AWS accepts.

| AWS (ECS API Reference: Tag; Elastic Load Balancing API Reference: Tag, AddTags) | moto 5.2 |
|---|---|
| a key is 1 to 128 characters, a value 0 to 256 | anything |
| keys and values use letters, numbers and spaces representable in UTF-8, and ``+ - = . _ : / @`` (both services' ``TagKey``/``TagValue`` pattern, ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*``) | anything (``;`` too) |
| the ``aws:`` prefix, in any case, is reserved for AWS in keys (ECS: in values too) | accepted |
| at most 50 tags per resource | ECS: any number; ELBv2: 10 |

Each write that carries tags is checked before moto sees it: ECS CreateCluster, CreateService, CreateTaskSet,
RegisterTaskDefinition, TagResource; ELBv2 CreateLoadBalancer, CreateTargetGroup, CreateListener, CreateRule,
AddTags. ECS answers InvalidParameterException, ELBv2 ValidationError (TooManyTags over 50); the message texts
are the sandbox's own, as AWS documents none.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.exceptions import ELBClientError, TooManyTagsError
from moto.elbv2.models import ELBv2Backend
from moto.elbv2.responses import ELBV2Response

from reconciler.sandbox.patches._wrapping import Method, replace_method

KEY_LENGTH, VALUE_LENGTH, TAGS_PER_RESOURCE = 128, 256, 50
PUNCTUATION = frozenset("_.:/=+-@")
RESERVED_PREFIX = "aws:"
ECS_TAGGED_CALLS = (
    "create_cluster",
    "create_service",
    "create_task_set",
    "register_task_definition",
    "tag_resource",
)
ELBV2_TAGGED_CALLS = (
    "create_load_balancer",
    "create_target_group",
    "create_listener",
    "create_rule",
    "add_tags",
)


class ValidationError(ELBClientError):
    def __init__(self, message: str) -> None:
        super().__init__("ValidationError", message)


def apply() -> None:
    for name in ECS_TAGGED_CALLS:
        replace_method(EC2ContainerServiceResponse, name, _checked(_ecs_tags, InvalidParameterException))
    for name in ELBV2_TAGGED_CALLS:
        replace_method(ELBV2Response, name, _checked(_elbv2_tags, ValidationError))
    replace_method(ELBv2Backend, "add_tags", _elbv2_allows_fifty)
    replace_method(EC2ContainerServiceBackend, "tag_resource", _ecs_allows_fifty)


def tag_problem(key: str, value: str, *, reserved_values: bool) -> str | None:
    """What AWS refuses in this tag, or None."""
    if not 1 <= len(key) <= KEY_LENGTH:
        return f"Tag key {key!r} must be 1 to {KEY_LENGTH} characters long."
    if len(value) > VALUE_LENGTH:
        return f"Tag value of {key!r} must be at most {VALUE_LENGTH} characters long."
    for what, text in (("key", key), ("value", value)):
        bad = sorted({character for character in text if not _allowed(character)})
        if bad:
            return f"Tag {what} {text!r} has characters AWS does not allow in tags: {''.join(bad)!r}."
    if key.lower().startswith(RESERVED_PREFIX) or (
        reserved_values and value.lower().startswith(RESERVED_PREFIX)
    ):
        return f"Tag {key!r}: the prefix {RESERVED_PREFIX!r} is reserved for AWS."
    return None


def _allowed(character: str) -> bool:
    return unicodedata.category(character)[0] in "LZN" or character in PUNCTUATION


def _ecs_tags(response: Any) -> list[tuple[str, str]]:
    return [(str(tag.get("key", "")), str(tag.get("value", ""))) for tag in response._get_param("tags") or []]


def _elbv2_tags(response: Any) -> list[tuple[str, str]]:
    tags = response._get_params().get("Tags") or []
    return [(str(tag.get("Key", "")), str(tag.get("Value", "") or "")) for tag in tags]


def _checked(
    read: Callable[[Any], list[tuple[str, str]]], error: Callable[[str], Exception]
) -> Callable[[Method], Method]:
    reserved_values = read is _ecs_tags

    def make(original: Method) -> Method:
        def call(self: Any) -> Any:
            tags = read(self)
            if len(tags) > TAGS_PER_RESOURCE:
                raise error(f"A resource can have at most {TAGS_PER_RESOURCE} tags (got {len(tags)}).")
            for key, value in tags:
                problem = tag_problem(key, value, reserved_values=reserved_values)
                if problem:
                    raise error(problem)
            return original(self)

        return call

    return make


def _elbv2_allows_fifty(original: Method) -> Method:
    """ELBv2 allows 50 tags per resource, not moto's 10."""

    def add_tags(self: Any, resource_arns: list[str], tags: list[dict[str, str]]) -> None:
        given = {tag["Key"] for tag in tags}
        for arn in resource_arns:
            existing = set(self.tagging_service.get_tag_dict_for_resource(arn))
            if len(existing | given) > TAGS_PER_RESOURCE:
                raise TooManyTagsError()
        for arn in resource_arns:
            self._get_resource_by_arn(arn)
            self.tagging_service.tag_resource(arn, tags)

    return add_tags


def _ecs_allows_fifty(original: Method) -> Method:
    """ECS counts the tags a resource would have after TagResource against the 50 allowed."""

    def tag_resource(self: Any, arn: str, tags: dict[str, str]) -> None:
        existing = {tag["key"] for tag in self.list_tags_for_resource(arn) or []}
        if len(existing | set(tags)) > TAGS_PER_RESOURCE:
            raise InvalidParameterException(f"A resource can have at most {TAGS_PER_RESOURCE} tags.")
        original(self, arn, tags)

    return tag_resource
