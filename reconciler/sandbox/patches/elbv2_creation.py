"""ELBv2 load balancers and target groups: idempotent creation, the two-zone rule, and attribute defaults.

The reconciler creates a load balancer or a target group when it finds none by name, and retries a create
whose answer it lost. AWS makes that safe (a create with the same name and settings returns the existing
resource) and refuses an ALB in a single Availability Zone; moto made a second load balancer, refused every
repeated target group, and accepted the single-zone ALB. The attribute defaults matter because a user who
writes a default value in ``Attributes`` must see no drift before the first modify.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.exceptions import DuplicateLoadBalancerName, DuplicateTargetGroupName, ValidationError
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer, FakeTargetGroup

from reconciler.sandbox.patches._wrapping import Method, replace_method

TWO_ZONES_MESSAGE = "At least two subnets in two different Availability Zones must be specified"

# DescribeLoadBalancerAttributes of a new application load balancer in AWS.
ALB_DEFAULT_ATTRIBUTES = {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "health_check_logs.s3.enabled": "false",
    "health_check_logs.s3.bucket": "",
    "health_check_logs.s3.prefix": "",
    "client_keep_alive.seconds": "3600",
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "load_balancing.cross_zone.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
    "zonal_shift.config.enabled": "false",
}
# DescribeTargetGroupAttributes keys AWS returns for an HTTP/HTTPS target group and moto lacked.
HTTP_TARGET_GROUP_EXTRA_ATTRIBUTES = {
    "stickiness.lb_cookie.duration_seconds": "86400",
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
    "load_balancing.algorithm.anomaly_mitigation": "off",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}
# CreateTargetGroup keyword (as moto's handler passes it) → the FakeTargetGroup attribute it ends up in.
TARGET_GROUP_SETTINGS = {
    "vpc_id": "vpc_id",
    "protocol": "protocol",
    "protocol_version": "protocol_version",
    "port": "port",
    "target_type": "target_type",
    "ip_address_type": "ip_address_type",
    "healthcheck_protocol": "health_check_protocol",
    "healthcheck_port": "health_check_port",
    "healthcheck_path": "health_check_path",
    "healthcheck_interval_seconds": "health_check_interval_seconds",
    "healthcheck_timeout_seconds": "health_check_timeout_seconds",
    "healthcheck_enabled": "health_check_enabled",
    "healthy_threshold_count": "healthy_threshold_count",
    "unhealthy_threshold_count": "unhealthy_threshold_count",
    "matcher": "matcher",
}


def apply() -> None:
    replace_method(ELBv2Backend, "create_load_balancer", _create_load_balancer_like_aws)
    replace_method(ELBv2Backend, "create_target_group", _create_target_group_idempotently)
    replace_method(FakeLoadBalancer, "__init__", _load_balancer_attribute_defaults)
    replace_method(FakeTargetGroup, "__init__", _target_group_attribute_defaults)


def _create_load_balancer_like_aws(original: Method) -> Method:
    """AWS's CreateLoadBalancer with the name of an existing load balancer and the same settings returns that
    load balancer; with other settings it fails with DuplicateLoadBalancerName. An application load balancer
    needs subnets in two Availability Zones (ValidationError). A missing Scheme is ``internet-facing``.
    moto created a second load balancer of the same name, accepted a one-zone ALB and left Scheme out."""

    def create_load_balancer(
        self: Any, name: str, security_groups: list[str], subnet_ids: list[str], *args: Any, **kwargs: Any
    ) -> Any:
        kwargs["scheme"] = kwargs.get("scheme") or "internet-facing"
        kwargs["loadbalancer_type"] = kwargs.get("loadbalancer_type") or "application"
        wanted_subnets = list(subnet_ids or []) + [
            mapping["SubnetId"] for mapping in kwargs.get("subnet_mappings") or []
        ]
        existing = next((lb for lb in self.load_balancers.values() if lb.name == name), None)
        if existing is not None:
            if _same_load_balancer(existing, security_groups, wanted_subnets, kwargs):
                return existing
            raise DuplicateLoadBalancerName(
                f"A load balancer with the same name '{name}' exists, but with different settings"
            )
        if kwargs["loadbalancer_type"] == "application":
            _require_two_zones(self, wanted_subnets)
        return original(self, name, security_groups, subnet_ids, *args, **kwargs)

    return create_load_balancer


def _same_load_balancer(
    existing: Any, security_groups: list[str], subnets: list[str], kwargs: dict[str, Any]
) -> bool:
    return (
        existing.type == kwargs["loadbalancer_type"]
        and existing.scheme == kwargs["scheme"]
        and existing.ip_address_type == (kwargs.get("ip_address_type") or "ipv4")
        and {subnet.id for subnet in existing.subnets} == set(subnets)
        and set(existing.security_groups or []) == set(security_groups or [])
    )


def _require_two_zones(backend: Any, subnet_ids: list[str]) -> None:
    subnets = [backend.ec2_backend.get_subnet(subnet_id) for subnet_id in subnet_ids]
    zones = {subnet.availability_zone for subnet in subnets if subnet is not None}
    if None not in subnets and len(zones) < 2:  # an unknown subnet gets moto's own SubnetNotFound
        raise ValidationError(TWO_ZONES_MESSAGE)


def _create_target_group_idempotently(original: Method) -> Method:
    """AWS's CreateTargetGroup with the name of an existing target group and the same settings returns that
    target group; with other settings it fails with DuplicateTargetGroupName. moto refused every repeat."""

    def create_target_group(self: Any, name: str, **kwargs: Any) -> Any:
        existing = next((tg for tg in self.target_groups.values() if tg.name == name), None)
        if existing is None:
            return original(self, name, **kwargs)
        if _same_target_group(existing, kwargs):
            return existing
        raise DuplicateTargetGroupName(
            f"A target group with the same name '{name}' exists, but with different settings"
        )

    return create_target_group


def _same_target_group(existing: Any, given: dict[str, Any]) -> bool:
    for keyword, attribute in TARGET_GROUP_SETTINGS.items():
        wanted = given.get(keyword)
        if wanted is not None and _comparable(wanted) != _comparable(getattr(existing, attribute, None)):
            return False
    return True


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    return str(value).lower()


def _load_balancer_attribute_defaults(original: Method) -> Method:
    """AWS's DescribeLoadBalancerAttributes of a new ALB returns every attribute with its default
    (idle_timeout.timeout_seconds 60, routing.http2.enabled true, load_balancing.cross_zone.enabled true,
    ...). moto returned four of them, with cross-zone ``false``."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.type == "application":
            self.attrs = dict(ALB_DEFAULT_ATTRIBUTES)

    return init


def _target_group_attribute_defaults(original: Method) -> Method:
    """AWS's DescribeTargetGroupAttributes of an HTTP/HTTPS target group also returns the cookie durations,
    anomaly mitigation and the target group health thresholds; moto returned only the first six keys."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.protocol in ("HTTP", "HTTPS") and self.target_type != "lambda":
            for key, value in HTTP_TARGET_GROUP_EXTRA_ATTRIBUTES.items():
                self.attributes.setdefault(key, value)

    return init
