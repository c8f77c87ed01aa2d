"""The one way the web UI makes HTML: templates whose every value is escaped unless it is already ``Markup``.

Names, tags, images, error messages and diffs are user-controlled. A value reaches the page only through
``html(template, *values)``, which escapes each value (``html.escape``, quotes included) before it is put into the
template, so no page builds HTML by concatenating raw text. Templates are literals of this package.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable
from urllib.parse import quote, urlencode


class Markup(str):
    """Text that is already HTML: made by ``html`` or ``join`` only."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(_html.escape("" if value is None else str(value), quote=True))


def html(template: str, *values: object) -> Markup:
    """``template`` (a literal with ``{}`` fields) with each value escaped."""
    return Markup(template.format(*(escape(value) for value in values)))


def join(parts: Iterable[Markup], separator: str = "") -> Markup:
    return Markup(separator.join(escape(part) for part in parts))


def href(path: str, query: dict[str, str] | None = None) -> str:
    """A link of the UI: ``path`` with its segments percent-encoded (``/`` kept), and the non-empty query
    parameters; still to be escaped where it is put (``html`` does)."""
    given = {k: v for k, v in (query or {}).items() if v}
    return quote(path, safe="/") + ("?" + urlencode(given) if given else "")
