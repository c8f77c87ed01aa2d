"""The command line: parse, build settings, and hand each command to its module in ``commands/``, imported only
when that command runs: parsing and ``--help`` import no AWS library, nor the desired state's validation.

Exit codes: ``validate`` 0 valid / 1 invalid; ``plan`` 0 no changes / 2 changes / 1 error; ``apply`` 0 converged /
1 error; ``run`` and ``sandbox`` 0 after SIGTERM/SIGINT; ``status`` 0 / 1 daemon unreachable (or no resource of the
name asked for).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from reconciler.commands import EXIT_CHANGES, EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from reconciler.settings import Settings

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "build_parser", "main", "run_command", "settings_from"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reconciler", description="GitOps for Amazon ECS on Fargate.")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="load and validate the desired state, offline")
    _add_source_options(validate)
    validate.add_argument("--allowed-clusters", dest="allowed_clusters",
                          help="documents touching any other cluster are invalid")  # fmt: skip
    _add_allowed_targets(validate)
    for name, text in (("plan", "diff desired against live AWS"), ("apply", "one reconcile pass")):
        sub = commands.add_parser(name, help=text)
        _add_source_options(sub)
        _add_aws_options(sub)
        if name == "plan":
            sub.add_argument("--output", choices=["text", "json", "markdown"], default=None)
        sub.add_argument("--cache-dir", type=Path, dest="cache_dir",
                         help="where the task definition revisions described are kept for the next run (default "
                              "$TMPDIR/reconciler-cache; against an endpoint other than AWS's, none unless given)")  # fmt: skip
    for name, text in (
        ("run", "the daemon"),
        ("sandbox", "the emulator, its base infrastructure, and the daemon"),
    ):
        sub = commands.add_parser(name, help=text)
        _add_source_options(sub)
        _add_aws_options(sub)
        sub.add_argument("--interval", type=float, help="seconds between passes (default 30)")
        sub.add_argument("--listen", help="HOST:PORT of /metrics, /healthz, /readyz, /status, /sync")
        sub.add_argument("--pass-timeout", type=float, dest="pass_timeout")
        sub.add_argument(
            "--debounce-ms", type=int, dest="debounce_ms", help="coalesce bursts of events (500)"
        )
        sub.add_argument("--log-format", choices=["auto", "json", "console"], dest="log_format")
        sub.add_argument("--webhook-secret-file", type=Path, dest="webhook_secret_file",
                         help="POST /sync must then carry a valid X-Hub-Signature-256")  # fmt: skip
        sub.add_argument("--ui-sync", action="store_true", default=None, dest="ui_sync",
                         help="the web UI gets a 'Sync now' button (needs --ui-token-file)")  # fmt: skip
        sub.add_argument("--ui-token-file", type=Path, dest="ui_token_file",
                         help="the token the web UI's 'Sync now' must be given")  # fmt: skip
        sub.add_argument("--events-queue-url", dest="events_queue_url",
                         help="SQS queue of AWS events (EventBridge): the resources they name are reconciled at once")  # fmt: skip
        _add_git_options(sub)
        _add_lease_options(sub)
        _add_notify_options(sub)
        if name == "run":
            sub.add_argument("--cache-dir", type=Path, dest="cache_dir",
                             help="where the task definitions, tags and histories read are kept across restarts, without "
                                  "--lease-table (default $TMPDIR/reconciler-cache)")  # fmt: skip
        if name == "sandbox":
            sub.add_argument("--emulator-port", type=int, default=5055, dest="emulator_port")
    status = commands.add_parser("status", help="print a running daemon's /status as a table")
    status.add_argument("--url", help="the daemon's address (default http://127.0.0.1:8080)")
    status.add_argument("status_name", nargs="?", metavar="NAME",
                        help="one resource in detail, a service with its deployments (NAME or KIND/NAME)")  # fmt: skip
    status.add_argument("--target", dest="status_target", metavar="TARGET",
                        help="with NAME and several targets: that target's resource only (default: each's)")  # fmt: skip
    adopt = commands.add_parser("import", help="write desired-state YAML for live resources of a cluster")
    adopt.add_argument("--cluster", required=True, dest="import_cluster", help="the ECS cluster to import")
    adopt.add_argument("--service", action="append", default=[], dest="import_services",
                       help="a service to import (repeatable; default: every service of the cluster)")  # fmt: skip
    adopt.add_argument("--out", required=True, type=Path, dest="import_out", help="directory to write into")
    adopt.add_argument("--target", dest="import_target", metavar="NAME",
                       help="read this target of targets.yaml (its account, Region and role); documents say so")  # fmt: skip
    adopt.add_argument("--desired", type=Path, dest="dir", metavar="DIR",
                       help="the desired state whose targets.yaml names --target (default ./desired-state)")  # fmt: skip
    _add_aws_options(adopt)
    commands.add_parser("schema", help="print the JSON Schema of every kind (for editors)")
    return parser


def _add_lease_options(parser: argparse.ArgumentParser) -> None:
    lease = parser.add_argument_group("leader lease (several replicas, one writer)")
    lease.add_argument(
        "--lease-table", dest="lease_table", help="DynamoDB table of the lease (created if missing)"
    )
    lease.add_argument(
        "--lease-duration", type=float, dest="lease_duration", help="seconds a lease lasts (30)"
    )
    lease.add_argument("--lease-renew", type=float, dest="lease_renew", help="seconds between renewals (10)")
    lease.add_argument("--replica-id", dest="replica_id", help="this replica's name (default host-pid)")
    lease.add_argument(
        "--shards", choices=["1", "auto"], help="auto: replicas split the estate (needs --lease-table)"
    )


def _add_notify_options(parser: argparse.ArgumentParser) -> None:
    notify = parser.add_argument_group("notifications and commit statuses (docs/notifications.md)")
    notify.add_argument("--notify-url", action="append", dest="notify_url",
                        help="POST each notification here as JSON (repeatable)")  # fmt: skip
    notify.add_argument("--notify-slack-url-file", type=Path, dest="notify_slack_url_file",
                        help="a file holding a Slack incoming webhook's URL")  # fmt: skip
    notify.add_argument("--notify-rate-limit", type=int, dest="notify_rate_limit",
                        help="messages a minute per sink; the rest go out as one digest (20)")  # fmt: skip
    notify.add_argument("--github-token-file", type=Path, dest="github_token_file",
                        help="post a commit status per revision of a Git source on GitHub")  # fmt: skip
    notify.add_argument("--github-api-url", dest="github_api_url",
                        help="GitHub's API (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3)")  # fmt: skip
    notify.add_argument("--ui-url", dest="ui_url", help="the UI's public address, for links in messages")


def _add_git_options(parser: argparse.ArgumentParser) -> None:
    git = parser.add_argument_group("Git source (instead of DIR)")
    git.add_argument("--git-url", dest="git_url", help="clone and follow this repository")
    git.add_argument(
        "--git-ref", dest="git_ref", help="branch, tag or commit SHA (default: the remote's HEAD)"
    )
    git.add_argument("--git-path", dest="git_path", help="the desired state's folder inside the repository")
    git.add_argument("--git-interval", type=float, dest="git_interval", help="seconds between fetches (30)")
    git.add_argument("--git-cache-dir", type=Path, dest="git_cache_dir", help="where checkouts are kept")
    git.add_argument(
        "--git-token-file", type=Path, dest="git_token_file", help="HTTPS token (or RECONCILER_GIT_TOKEN)"
    )
    git.add_argument("--git-ssh-key-file", type=Path, dest="git_ssh_key_file")
    git.add_argument("--git-known-hosts-file", type=Path, dest="git_known_hosts_file")
    git.add_argument("--git-allow-local", action="store_true", default=None, dest="git_allow_local",
                     help="also follow file:// URLs and local paths (only https, ssh and user@host:path otherwise)")  # fmt: skip


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir", nargs="?", type=Path, help="the desired-state directory (default ./desired-state)"
    )
    parser.add_argument(
        "--vars", action="append", type=Path, help="a variables file; repeatable, later ones win"
    )


def _add_aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["enforce", "detect"])
    parser.add_argument("--instance")
    parser.add_argument("--max-deletions", type=int, dest="max_deletions")
    parser.add_argument("--deployment-deadline", type=float, dest="deployment_deadline",
                        help="seconds drift waits for the reconciler's own ECS deployment to finish (1800)")  # fmt: skip
    parser.add_argument("--allowed-clusters", dest="allowed_clusters")
    _add_allowed_targets(parser)
    parser.add_argument("--region")
    parser.add_argument("--endpoint-url", dest="endpoint_url")
    parser.add_argument("--aws-read-timeout", type=float, dest="aws_read_timeout",
                        help="seconds to wait for an AWS answer before retrying (30)")  # fmt: skip
    parser.add_argument("--api-budget", type=float, dest="api_budget",
                        help="share of AWS's API rates to use, per throttling group (0.5; 0: no limit)")  # fmt: skip


def _add_allowed_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allowed-targets", dest="allowed_targets", metavar="A,B",
                        help="reconcile only these targets of targets.yaml; the others are still validated")  # fmt: skip


def settings_from(args: argparse.Namespace) -> Settings:
    from reconciler.settings import Settings  # noqa: PLC0415 - pydantic: not for --help

    ours = {"command", "emulator_port", "import_cluster", "import_services", "import_out", "import_target",
            "status_name", "status_target"}  # fmt: skip
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ours}
    return Settings(**given)


# Offline commands that print their result and log nothing (tests/test_startup_imports.py holds it).
QUIET = frozenset({"validate", "schema"})


def main(argv: Sequence[str] | None = None) -> None:
    """The ``reconciler`` command: the process ends with the command's exit code."""
    code = run_command(argv)
    end_process(code)


def end_process(code: int) -> NoReturn:
    """End the process with ``code`` once what it printed and logged is out, without tearing the interpreter
    down: freeing every object and module one by one (botocore's service models, the modules a command imported)
    takes ~0.15 s after a ``plan``, and nobody waits for it. Every command has finished its work by then: files
    written and renamed, AWS clients and the daemon's server closed, threads joined (``asyncio.run``)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe (``reconciler plan | head``)
            stream.flush()
    if (logging := sys.modules.get("logging")) is not None:  # imported by a command, not here
        logging.shutdown()  # the standard library's handlers flushed (botocore's warnings)
    os._exit(code)


def run_command(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    if args.command in QUIET:  # nothing on their way logs: structlog is not even imported
        return _COMMANDS[args.command](settings, args)
    from reconciler.logs import configure_logging  # noqa: PLC0415 - structlog: not for --help

    if args.command in {"run", "sandbox"}:
        configure_logging(fmt=settings.log_format, stream=sys.stdout)  # as it is now, not at an import
    else:  # stdout carries the plan; logs go to stderr
        configure_logging(fmt="auto", stream=sys.stderr)
    if args.command in {"run", "sandbox"}:
        from reconciler.commands.daemon import options_usable  # noqa: PLC0415 - each command's, when it runs

        if not options_usable(settings):
            return EXIT_ERROR
    return _COMMANDS[args.command](settings, args)


# Each command's module is imported by its function here, when it runs (commands/__init__.py says why).
def _validate(settings: Settings, _args: argparse.Namespace) -> int:
    from reconciler.commands.validate import validate  # noqa: PLC0415

    return validate(settings)


def _schema(_settings: Settings, _args: argparse.Namespace) -> int:
    from reconciler.commands.schema import schema  # noqa: PLC0415

    return schema()


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from reconciler.commands.status import status  # noqa: PLC0415

    return status(settings.url, args.status_name, args.status_target)


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from reconciler.commands.importing import import_command  # noqa: PLC0415

    return import_command(
        settings, args.import_cluster, args.import_services, args.import_out, args.import_target
    )


def _plan(settings: Settings, _args: argparse.Namespace) -> int:
    from reconciler.commands.passes import plan_command  # noqa: PLC0415

    return plan_command(settings)


def _apply(settings: Settings, _args: argparse.Namespace) -> int:
    from reconciler.commands.passes import apply_command  # noqa: PLC0415

    return apply_command(settings)


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    from reconciler.commands.daemon import run  # noqa: PLC0415

    return run(settings)


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from reconciler.commands.sandbox import sandbox  # noqa: PLC0415 - needs the [sandbox] extra

    return sandbox(settings, emulator_port=args.emulator_port)


_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "validate": _validate,
    "schema": _schema,
    "status": _status,
    "import": _import,
    "plan": _plan,
    "apply": _apply,
    "run": _run,
    "sandbox": _sandbox,
}


if __name__ == "__main__":
    main()
