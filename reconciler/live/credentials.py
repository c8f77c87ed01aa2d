"""A target's credentials: the process's own, or a role of the target's account assumed with them.

A target of ``targets.yaml`` with a ``role_arn`` is reached through STS ``AssumeRole`` (its ``external_id`` when
given; ``RoleSessionName`` its ``session_name``, else ``reconciler-<instance>``), called with the process's own
credentials (the task role on ECS). aiobotocore's deferred refreshable credentials and its assume-role fetcher do
the work: the first call of a client assumes the role, and the credentials are assumed again before they expire
(botocore refreshes 15 minutes before the expiry, and must 10 minutes before), with one refresh at a time. A
refusal (the role missing, its trust policy not matching the external ID) is raised as the project's error from
``live/aws_errors.py``, naming the target and the role, from every call of the target's clients until it works.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioAssumeRoleCredentialFetcher, AioDeferredRefreshableCredentials
from aiobotocore.session import get_session
from botocore.exceptions import ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from reconciler.live.aws_errors import assume_role_failed
from reconciler.model.targets import Target

_SESSION_NAME = re.compile(r"[^\w+=,.@-]")  # what RoleSessionName may not hold


@dataclass(frozen=True, slots=True)
class RoleToAssume:
    """How a target's clients get their credentials: this role, assumed with the process's own."""

    target: str
    role_arn: str
    session_name: str
    external_id: str | None = None

    @classmethod
    def of(cls, target: Target, *, instance: str) -> RoleToAssume | None:
        """The role ``target`` is reached through; None: the process's own credentials."""
        if target.role_arn is None:
            return None
        name = target.session_name or _SESSION_NAME.sub("-", f"reconciler-{instance}")[:64]
        return cls(target.name, target.role_arn, name, target.external_id)


class _Uncached(dict[str, Any]):
    """The fetcher's cache, kept empty: the refreshable credentials around it already decide when to assume the
    role again (by their own clock), and a cache would answer with the credentials about to expire."""

    def __setitem__(self, key: str, value: Any) -> None:
        pass


def assumed_credentials(
    role: RoleToAssume,
    *,
    region: str | None,
    endpoint_url: str | None,
    config: AioConfig,
    now: Callable[[], datetime.datetime] | None = None,
) -> AioDeferredRefreshableCredentials:
    """Credentials that assume ``role`` on first use and again before they expire. The source credentials are
    the process's own, found by botocore's usual chain in a session of their own. ``now``: botocore's clock,
    unless a test gives one."""
    source_session = get_session()
    fetcher: AioAssumeRoleCredentialFetcher | None = None

    def sts_client(service: str, **kwargs: Any) -> Any:
        return source_session.create_client(
            service, region_name=region, endpoint_url=endpoint_url, config=config, **kwargs
        )

    async def refresh() -> Any:
        nonlocal fetcher
        try:
            if fetcher is None:
                source = await source_session.get_credentials()
                if source is None:
                    raise NoCredentialsError()
                extra: dict[str, str] = {"RoleSessionName": role.session_name}
                if role.external_id is not None:
                    extra["ExternalId"] = role.external_id
                fetcher = AioAssumeRoleCredentialFetcher(
                    client_creator=sts_client, source_credentials=source, role_arn=role.role_arn,
                    extra_args=extra, cache=_Uncached(),
                )  # fmt: skip
            return await fetcher.fetch_credentials()
        except (ClientError, BotocoreConnectionError, HTTPClientError, NoCredentialsError) as error:
            raise assume_role_failed(role.target, role.role_arn, error) from error

    if now is None:
        return AioDeferredRefreshableCredentials(refresh_using=refresh, method="assume-role")
    return AioDeferredRefreshableCredentials(refresh_using=refresh, method="assume-role", time_fetcher=now)
