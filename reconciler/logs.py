"""structlog set-up: JSON lines to stdout (a console renderer on a TTY), the pass id bound through contextvars.

No log line shows a secret (``model.secrets``): ``mask_secrets`` masks every value under a secret-looking key
(``password=…``, an environment entry ``{"name": "DB_PASSWORD", "value": …}``, a plan diff of
``…environment[DB_PASSWORD]``), and every known secret value in any other string (an AWS error message that
echoes a request, a formatted exception). The standard library's log records (botocore, asyncio) get the same
treatment of known values.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog

from reconciler.model.secrets import is_secret_name, mask_at, mask_tree, masked, redact

_PLAIN = (str, int, float, bool, type(None), Mapping, list, tuple)


def configure_logging(*, fmt: str = "auto", level: int = logging.INFO, stream: TextIO = sys.stdout) -> None:
    """JSON lines (or a console rendering) to ``stream``: stdout for the daemon, stderr for one-shot commands."""
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStream(stream))),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def mask_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The structlog processor: ``event_dict`` with no secret left in it (see the module's docstring)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _masked_value(key, value)
    return event_dict


def _masked_value(key: str, value: Any) -> Any:
    if isinstance(value, str) and value and key != "event" and is_secret_name(key):
        return masked(value)
    if isinstance(value, list | tuple):
        return [_masked_item(item, key) for item in value]
    if isinstance(value, _PLAIN):
        return _masked_item(value, key)
    shown = repr(value)  # rendered by repr: mask what the renderer would print
    hidden = redact(shown)
    return value if hidden == shown else hidden


def _masked_item(value: Any, key: str) -> Any:
    """A plan diff (``{"path", "desired", "live"}``) is masked by its path, as the plan prints it; anything
    else by its keys and known values."""
    if isinstance(value, Mapping) and isinstance(value.get("path"), str) and "desired" in value:
        path = value["path"]
        return {k: mask_at(path, item) if k in ("desired", "live") else item for k, item in value.items()}
    return mask_tree(value, parent=key)


class RedactingFilter(logging.Filter):
    """Masks known secrets in a standard library log record's message (formatted first, so that arguments
    cannot smuggle one through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = redact(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


class _CurrentStream:
    """Writes to whatever ``sys.stdout``/``sys.stderr`` is at the time of writing, not at configuration time
    (a redirected or replaced stream, as under test capture, must not leave loggers holding a closed file)."""

    def __init__(self, stream: TextIO) -> None:
        self._name = "stderr" if stream is sys.stderr else "stdout"

    def write(self, text: str) -> int:
        return getattr(sys, self._name).write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        getattr(sys, self._name).flush()
