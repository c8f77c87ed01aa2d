"""Token pagination for list calls that moto answers in one page (or pages wrongly): ECS's List* calls,
ELBv2's Marker/PageSize, Application Auto Scaling's NextToken/MaxResults."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from moto.ecs.exceptions import InvalidParameterException

Item = TypeVar("Item")


def paginate(
    items: list[Item], *, next_token: str | None, max_results: int | None, default_page: int, max_page: int
) -> tuple[list[Item], str | None]:
    """One page of ``items`` and the token of the next page (None on the last page)."""
    size = default_page if max_results is None else int(max_results)
    if not 1 <= size <= max_page:
        raise InvalidParameterException(f"maxResults must be between 1 and {max_page}.")
    start = _decode(next_token) if next_token else 0
    end = start + size
    return items[start:end], (_encode(end) if end < len(items) else None)


def paginate_request(
    response: Any, items: list[Item], *, default_page: int, max_page: int
) -> tuple[list[Item], str | None]:
    """``paginate`` with the ``nextToken`` and ``maxResults`` of the request ``response`` is answering."""
    return paginate(
        items,
        next_token=response._get_param("nextToken"),
        max_results=response._get_param("maxResults"),
        default_page=default_page,
        max_page=max_page,
    )


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        return int(text.removeprefix("offset:"))
    except (ValueError, binascii.Error) as error:
        raise InvalidParameterException("Invalid nextToken.") from error


def offset_page(items: list[Item], *, token: str | None, size: int) -> tuple[list[Item], str | None]:
    """One page of ``items`` from an opaque token (None: the first page) and the next page's token (None
    after the last page). A token that is not ours raises ``ValueError``; the caller turns it into the
    service's own error."""
    start = _decode_offset(token) if token else 0
    end = start + size
    return items[start:end], (_encode(end) if end < len(items) else None)


def _decode_offset(token: str) -> int:
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ValueError(f"invalid token {token!r}") from error
    if offset < 0:
        raise ValueError(f"invalid token {token!r}")
    return offset
