"""structlog set-up: JSON lines to stdout (a console renderer on a TTY), the pass id bound through contextvars."""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog


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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStream(stream))),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


class _CurrentStream:
    """Writes to whatever ``sys.stdout``/``sys.stderr`` is at the time of writing, not at configuration time
    (a redirected or replaced stream, as under test capture, must not leave loggers holding a closed file)."""

    def __init__(self, stream: TextIO) -> None:
        self._name = "stderr" if stream is sys.stderr else "stdout"

    def write(self, text: str) -> int:
        return getattr(sys, self._name).write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        getattr(sys, self._name).flush()
