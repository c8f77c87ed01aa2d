"""The command line: parse, build settings, call into the layers below, map results to exit codes.

Exit codes: ``validate`` 0 valid / 1 invalid; ``plan`` 0 no changes / 2 changes / 1 error; ``apply`` 0 converged /
1 error; ``run`` and ``sandbox`` 0 after SIGTERM/SIGINT; ``status`` 0 / 1 daemon unreachable (or no resource of the
name asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from reconciler.desired.allowed_targets import allowed, unknown_target_problems
from reconciler.desired.secrets import secret_warnings
from reconciler.errors import InvalidDesiredState, echoed
from reconciler.importer import NotFound, OtherAccount, import_estate
from reconciler.live.clients import AwsClients
from reconciler.live.credentials import RoleToAssume
from reconciler.logs import configure_logging
from reconciler.model.resource import DesiredState, Mode
from reconciler.model.secrets import redact
from reconciler.model.targets import Target, default_target
from reconciler.plan.markdown import plans_as_markdown
from reconciler.plan.render import plan_as_json, plan_as_text, plans_as_json, plans_as_text
from reconciler.plan.types import Plan
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.runtime.one_shot import clients_of, plan_options
from reconciler.runtime.options import daemon_options, fleet_of, notices_of
from reconciler.runtime.status import print_status
from reconciler.settings import Settings
from reconciler.shapes.json_schema import schema_document
from reconciler.source.directory import DirectorySource

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
log = structlog.get_logger(__name__)


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
    ours = {"command", "emulator_port", "import_cluster", "import_services", "import_out", "import_target",
            "status_name", "status_target"}  # fmt: skip
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ours}
    return Settings(**given)


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_command(argv))


def run_command(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    if args.command in {"run", "sandbox"}:
        configure_logging(fmt=settings.log_format)
    else:  # stdout carries the plan; logs go to stderr
        configure_logging(fmt="auto", stream=sys.stderr)
    if args.command in {"run", "sandbox"} and not _options_usable(settings):
        return EXIT_ERROR
    if args.command in {"validate", "schema"}:
        return _validate(settings) if args.command == "validate" else _schema()
    if args.command == "status":
        return asyncio.run(print_status(settings.url, args.status_name, args.status_target))
    if args.command == "import":
        return asyncio.run(
            _import(settings, args.import_cluster, args.import_services, args.import_out, args.import_target)
        )
    if args.command == "sandbox":
        from reconciler.sandbox.runner import run_sandbox  # noqa: PLC0415 - needs the [sandbox] extra

        return asyncio.run(run_sandbox(settings, emulator_port=args.emulator_port))
    handler = {"plan": _plan, "apply": _apply, "run": _run}[args.command]
    return asyncio.run(_with_source(handler, settings))


def _schema() -> int:
    print(json.dumps(schema_document(), indent=1))
    return EXIT_OK


def _options_usable(settings: Settings) -> bool:
    """The daemon's options that read files or name URLs (``--webhook-secret-file``, ``--ui-token-file``, the
    notification options), checked before anything starts: False, with the reason printed, when one cannot be used."""
    try:
        daemon_options(settings)
        notices_of(settings)  # the notification options: files, URLs, a repository for commit statuses
    except (OSError, ValueError) as exc:  # StartupError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def _load(settings: Settings) -> DesiredState:
    """The desired state of ``settings.dir``; invalid, too, when ``--allowed-targets`` names a target it does not
    declare."""
    desired = _source(settings).load()
    allowed(desired, settings.allowed_targets)
    return desired


def _source(settings: Settings) -> DirectorySource:
    return DirectorySource(
        root=settings.dir,
        vars_files=tuple(settings.vars),
        allowed_clusters=frozenset(settings.allowed_clusters),
    )


def _validate(settings: Settings) -> int:
    try:
        desired = _load(settings)
    except InvalidDesiredState as exc:
        _print_problems(exc)
        return EXIT_ERROR
    for warning in secret_warnings(desired):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{settings.dir}: {len(desired.resources)} resources valid (revision {desired.revision})")
    for part in desired.parts:  # none without targets.yaml
        count = len(part.resources)
        print(f"  target {part.target}: {count} resource{'' if count == 1 else 's'}")
    return EXIT_OK


def _print_problems(exc: InvalidDesiredState) -> None:
    for problem in exc.problems:
        print(redact(str(problem)), file=sys.stderr)
    print(f"desired state invalid: {len(exc.problems)} problem(s); nothing was applied", file=sys.stderr)


async def _with_source(handler: Any, settings: Settings) -> int:
    try:
        desired = _load(settings) if handler is not _run else None
    except InvalidDesiredState as exc:
        _print_problems(exc)
        return EXIT_ERROR
    try:
        if desired is None:
            async with clients_of(settings) as home:
                return await _run(settings, home)
        return await _each_target(handler, settings, desired)
    except InvalidDesiredState as exc:  # found invalid against live AWS (an ALB's subnets in one zone)
        _print_problems(exc)
        return EXIT_ERROR
    except Exception as exc:  # AWS unreachable, no credentials, access denied: one clear line, exit 1
        print(redact(f"error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_ERROR


async def _each_target(handler: Any, settings: Settings, desired: DesiredState) -> int:
    """``plan`` or ``apply`` over every target (``--allowed-targets``: those only), each with its own clients,
    all at once; then what they did, in the order targets.yaml declares them (``plans_as_text``, …). The exit
    code is the worst: 1 if a target failed (named on stderr), else 2 if one has changes (``plan``). Without
    targets.yaml, the one default target, exactly as before targets existed."""
    if not desired.targets:
        async with clients_of(settings) as clients:
            engine = Engine(clients, options=plan_options(settings), mode=settings.mode, health=False)
            done = await handler(engine, desired)
        return _report(settings, desired, [done])
    parts = allowed(desired, settings.allowed_targets)
    declared = {target.name: target for target in desired.targets}
    for name in declared.keys() - parts.keys():
        print(f"target {name}: not in --allowed-targets, not planned", file=sys.stderr)

    async def one(name: str) -> Plan | PassOutcome | Exception:
        try:
            async with clients_of(settings, declared[name]) as clients:
                engine = Engine(clients, options=plan_options(settings), mode=settings.mode, health=False,
                                identity=name)  # fmt: skip
                done: Plan | PassOutcome = await handler(engine, parts[name])
                return done
        except Exception as exc:  # this target only: the others are planned (or applied) still
            return exc

    outcomes = dict(zip(parts, await asyncio.gather(*(one(name) for name in parts)), strict=True))
    failed = []
    for name, outcome in outcomes.items():
        if isinstance(outcome, InvalidDesiredState):
            print(f"target {name}:", file=sys.stderr)
            _print_problems(outcome)
        elif isinstance(outcome, Exception):
            print(redact(f"error: target {name}: {type(outcome).__name__}: {outcome}"), file=sys.stderr)
        else:
            continue
        failed.append(name)
    done = [outcome for outcome in outcomes.values() if not isinstance(outcome, Exception)]
    code = _report(settings, desired, done) if done else EXIT_OK
    if failed:
        print(f"error: {len(failed)} target(s) failed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_ERROR
    return code


def _report(settings: Settings, desired: DesiredState, done: Sequence[Plan | PassOutcome]) -> int:
    """Print what ``plan`` (plans) or ``apply`` (outcomes) did, over one target or several; the exit code."""
    plans = [item if isinstance(item, Plan) else item.plan for item in done]
    outcomes = [item for item in done if isinstance(item, PassOutcome)]
    if outcomes or settings.output not in ("json", "markdown"):
        print(plan_as_text(plans[0], desired) if not desired.targets else plans_as_text(plans, desired))
    elif settings.output == "markdown":  # it ends in a newline, and its size is the comment's
        print(plans_as_markdown(plans, desired), end="")
    else:
        print(plan_as_json(plans[0], desired) if not desired.targets else plans_as_json(plans, desired))
    if not outcomes:
        return EXIT_CHANGES if any(plan.has_changes for plan in plans) else EXIT_OK
    for outcome in outcomes:
        if desired.targets:
            print(f"target {outcome.plan.target}:")
        _print_apply_result(outcome)
    failing = any(outcome.result.failed or _blocked(outcome, settings) for outcome in outcomes)
    return EXIT_ERROR if failing else EXIT_OK


async def _plan(engine: Engine, desired: DesiredState) -> Plan:
    return await engine.plan(desired)


async def _apply(engine: Engine, desired: DesiredState) -> PassOutcome:
    return await engine.reconcile(desired)


def _blocked(outcome: PassOutcome, settings: Settings) -> bool:
    """Not converged: a change that should have been written was held or skipped (detect mode aside)."""
    if settings.mode is Mode.DETECT:
        return False
    return any(change.mode is Mode.ENFORCE for change, _ in outcome.result.skipped)


def _print_apply_result(outcome: PassOutcome) -> None:
    result = outcome.result
    applied = [c for c in result.applied if not c.restamp]
    for change in applied:
        print(f"applied: {change.kind} {change.name} ({change.action.value}, cause: {change.cause.value})")
    for change, error in result.failed:
        print(
            redact(f"failed: {change.kind} {change.name} ({change.action.value}): {error}"), file=sys.stderr
        )
    for change, why in result.skipped:
        print(redact(f"not applied: {change.kind} {change.name}: {why}"))
    restamped = len(result.applied) - len(applied)
    print(
        f"Apply: {len(applied)} applied, {len(result.failed)} failed, {len(result.skipped)} not applied."
        + (f" {restamped} spec-hash tags refreshed." if restamped else "")
    )


async def _import(
    settings: Settings, cluster: str, services: list[str], out: Path, target_name: str | None = None
) -> int:
    try:
        target = _import_target(settings, target_name) if target_name is not None else None
    except InvalidDesiredState as exc:
        _print_problems(exc)
        return EXIT_ERROR
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        async with _clients_of(settings, target) as clients:
            written = await import_estate(clients, cluster=cluster, services=services, out=out, target=target)
    except (NotFound, FileExistsError, OtherAccount) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # AWS unreachable, no credentials, access denied: one clear line, exit 1
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for path in written:
        print(f"wrote {path}")
    print(f"Imported cluster {cluster} into {out}: {len(written)} files. Run `reconciler plan {out}` next.")
    return EXIT_OK


def _import_target(settings: Settings, name: str) -> Target:
    """The target ``import --target NAME`` reads: declared in the desired state of ``--desired`` (loaded and
    validated), and among ``--allowed-targets`` when that is given."""
    if settings.allowed_targets and name not in settings.allowed_targets:
        allowed_names = ", ".join(sorted(settings.allowed_targets))
        raise ValueError(f"target {echoed(name)} is not in --allowed-targets ({allowed_names})")
    desired = _load(settings)
    if problems := unknown_target_problems(desired, [name], option="--target"):
        raise InvalidDesiredState(problems, revision=desired.revision)
    return next((t for t in desired.targets if t.name == name), default_target(settings.region))


def _clients_of(settings: Settings, target: Target | None) -> AwsClients:
    """The clients ``import`` reads with: the target's Region, else ``--region``; its role's credentials when it
    has a role (``live/credentials.py``)."""
    region = target.region if target is not None and target.region else settings.region
    role = RoleToAssume.of(target, instance=settings.instance) if target is not None else None
    return AwsClients(region=region, endpoint_url=settings.endpoint_url, role=role)


async def _run(settings: Settings, home: AwsClients) -> int:
    """The daemon: a loop per target (``runtime/fleet.py``); ``home``, the process's own clients, hold the lease
    and the events queue."""
    await fleet_of(settings, home).run()
    return EXIT_OK


if __name__ == "__main__":
    main()
