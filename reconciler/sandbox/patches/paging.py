"""Token pagination as ECS's List* calls do it, for list calls that moto answers in one page."""

from __future__ import annotations

import base64
import binascii

from moto.ecs.exceptions import InvalidParameterException


def paginate(
    items: list[str], *, next_token: str | None, max_results: int | None, default_page: int, max_page: int
) -> tuple[list[str], str | None]:
    """One page of ``items`` and the token of the next page (None on the last page)."""
    size = default_page if max_results is None else int(max_results)
    if not 1 <= size <= max_page:
        raise InvalidParameterException(f"maxResults must be between 1 and {max_page}.")
    start = _decode(next_token) if next_token else 0
    end = start + size
    return items[start:end], (_encode(end) if end < len(items) else None)


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        return int(text.removeprefix("offset:"))
    except (ValueError, binascii.Error) as error:
        raise InvalidParameterException("Invalid nextToken.") from error
