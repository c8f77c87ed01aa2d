"""A notice as the messages sinks receive: the JSON of ``docs/notification.schema.json``, and Slack Block Kit.

Block Kit's limits (Slack's reference, "Block Kit: blocks"): a header's text at most 150 characters, a section's
3000, a context block's elements at most 10, a message's blocks at most 50. Text from outside (names, errors,
diffs) is escaped as Slack's "Formatting message text" asks: ``&``, ``<`` and ``>`` as HTML entities, and
nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote

from reconciler.model.resource import ResourceKey
from reconciler.model.secrets import redact
from reconciler.notify.episodes import SEVERITY, Notice

HEADER_MAX = 150
SECTION_MAX = 3000
BLOCKS_MAX = 50
FALLBACK_MAX = 3000
SECTIONS_MAX = 8  # detail sections of one Slack message; the rest is said to be left out
ICONS = {"error": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}


def resource_url(ui_url: str, key: ResourceKey | None) -> str:
    base = ui_url.rstrip("/")
    if key is None:
        return base + "/"
    return f"{base}/resources/{quote(key.kind, safe='')}/{quote(key.name, safe='')}"


def as_json(notice: Notice, *, instance: str, version: str, ui_url: str | None) -> dict[str, object]:
    """The JSON a webhook receives. Its strings are redacted once more: nothing secret leaves."""
    body: dict[str, object] = {
        "event": notice.event.value,
        "severity": SEVERITY[notice.event],
        "at": notice.at,
        "summary": redact(notice.summary),
        "details": _redacted(dict(notice.details)),
        "reconciler": {"instance": instance, "version": version},
    }
    if notice.revision:
        body["revision"] = notice.revision
    if notice.resource is not None:
        body["resource"] = {"kind": notice.resource.kind, "name": notice.resource.name}
    if notice.by is not None:
        body["by"] = _redacted(dict(notice.by))
    if ui_url:
        body["url"] = resource_url(ui_url, notice.resource)
    return body


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def escape(text: str) -> str:
    """Slack's escaping of control characters in text: only ``&``, ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escaped_cut(text: str, limit: int) -> str:
    """Escaped, then cut within ``limit`` without splitting an entity."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def as_slack(message: Mapping[str, object]) -> dict[str, object]:
    """The Slack incoming-webhook body of a message of ``as_json``: a fallback ``text`` and Block Kit blocks."""
    severity = str(message["severity"])
    summary = str(message["summary"])
    header = f"{message['event']}" + (f": {_name(message)}" if "resource" in message else "")
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(header, HEADER_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": _escaped_cut(f"{ICONS.get(severity, '')} {summary}".strip(), SECTION_MAX)}},
    ]  # fmt: skip
    details = message.get("details")
    if isinstance(details, Mapping) and details:
        sections = [f"*{escape(str(k))}*\n{_value(v)}" for k, v in details.items()]
        for text in sections[:SECTIONS_MAX]:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}})
        if len(sections) > SECTIONS_MAX:
            blocks.append(_context([f"{len(sections) - SECTIONS_MAX} more details left out"]))
    context = [f"severity {severity}", f"at {message['at']}"]
    if "revision" in message:
        context.append(f"revision {message['revision']}")
    by = message.get("by")
    if isinstance(by, Mapping):
        context.append(f"by {by.get('type', 'unknown')} {by.get('name', '')}".strip())
    reconciler = message.get("reconciler")
    if isinstance(reconciler, Mapping):
        context.append(f"reconciler {reconciler.get('instance', '')}")
    blocks.append(_context(context))
    if "url" in message:
        link = str(message["url"]).replace("|", "%7C")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"<{escape(link)}|Open in the UI>", SECTION_MAX)},
            }
        )
    return {"text": _escaped_cut(summary, FALLBACK_MAX), "blocks": blocks[:BLOCKS_MAX]}


def _name(message: Mapping[str, object]) -> str:
    resource = message["resource"]
    assert isinstance(resource, Mapping)
    return f"{resource['kind']}/{resource['name']}"


def _context(texts: list[str]) -> dict[str, object]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _escaped_cut(t, SECTION_MAX)} for t in texts[:10]],
    }


def _value(value: object) -> str:
    """A detail's value, escaped and within a section: text as is, anything else as compact JSON in a code block."""
    if isinstance(value, str | int | float | bool):
        return _escaped_cut(str(value), SECTION_MAX - 200)
    return f"```{_escaped_cut(json.dumps(value, sort_keys=True, default=str), SECTION_MAX - 200)}```"
