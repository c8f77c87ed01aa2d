"""The emulator's own process: patch moto, then serve every moto backend on one port.

Run as ``python -m reconciler.sandbox.server --host 127.0.0.1 --port 0``. Once bound it prints
``LISTENING <port>`` on stdout, so that port 0 (the OS picks a free port) works without a race. It exits
when its stdin reaches end of file: the parent holds the other end of that pipe, so the server never
outlives the process that started it, even when that process is killed with SIGKILL.

Write calls to ECS, ELBv2 and Application Auto Scaling that do not come from the reconciler put the event
CloudTrail would have produced on the default event bus (``cloudtrail``), as they would in AWS.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from reconciler.sandbox.child import READY_PREFIX
from reconciler.sandbox.cloudtrail import CloudTrailEvents, deliver_account_in_envelopes
from reconciler.sandbox.patches import apply_patches
from reconciler.sandbox.patches.sqs_long_poll import EMULATOR_LOCK
from reconciler.sandbox.timing import TimePasses


def main(argv: list[str] | None = None) -> int:
    args = _parse_arguments(argv)
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    apply_patches()
    deliver_account_in_envelopes()
    server = make_server(
        args.host,
        args.port,
        # inside the lock: the CloudTrail events go through moto's EventBridge and SQS backends, and what has
        # come due on the timeline changes the backends
        OneRequestAtATime(TimePasses(CloudTrailEvents(DomainDispatcherApplication(create_backend_app)))),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    if args.exit_on_stdin_eof:
        threading.Thread(target=_exit_when_stdin_closes, daemon=True, name="parent-watch").start()
    print(f"{READY_PREFIX}{server.server_port}", flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads our stdout after this line
    server.serve_forever()
    return 0


class OneRequestAtATime:
    """moto's backends are not thread-safe: concurrent requests race on plain dicts ("dictionary changed size
    during iteration" when 1000 services are created 8 at a time). AWS is safe under concurrency, so the emulator
    takes connections on many threads but runs one request at a time through moto."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = EMULATOR_LOCK  # an SQS long poll lets go of it while it waits (patches/sqs_long_poll.py)

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="moto's server with reconciler's patches")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="exit when stdin closes (the parent died or let go of us)",
    )
    return parser.parse_args(argv)


def _exit_when_stdin_closes() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
