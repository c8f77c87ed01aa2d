"""Settings → what the daemon is built from (shared by the CLI and the sandbox): the daemon's options, the fleet,
the lease, the notifier and the desired-state source (a directory, or a Git repository). The planner's options
and a target's clients, all that ``plan`` and ``apply`` need, are in ``runtime/one_shot.py``."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.events.queue import EventQueue
from reconciler.live.clients import AwsClients
from reconciler.model.targets import Target
from reconciler.notify.github import repository_of
from reconciler.notify.sender import GitHubTarget, Notifier
from reconciler.runtime.cache_snapshot import DirectoryStore, SnapshotStore, TableStore
from reconciler.runtime.daemon import DaemonOptions, DesiredSource
from reconciler.runtime.engine import Engine
from reconciler.runtime.fleet import EngineFactory, Fleet
from reconciler.runtime.lease import Lease, LeaseTiming
from reconciler.runtime.notices import Notices
from reconciler.runtime.one_shot import clients_of, plan_options
from reconciler.runtime.shards import Shards
from reconciler.settings import Settings
from reconciler.source.directory import DirectorySource
from reconciler.source.git import GitAuth, GitCheckouts, redacted_url
from reconciler.source.git_source import GitSource


def daemon_options(settings: Settings) -> DaemonOptions:
    """Raises ``OSError`` when the webhook secret file cannot be read, ``ValueError`` when ``--ui-sync`` has no
    token."""
    secret = settings.webhook_secret_file.read_bytes().strip() if settings.webhook_secret_file else None
    return DaemonOptions(
        interval=settings.interval,
        pass_timeout=settings.pass_timeout,
        debounce_ms=settings.debounce_ms,
        host=settings.listen_host,
        port=settings.listen_port,
        webhook_secret=secret,
        ui_sync_token=ui_sync_token(settings),
        instance=settings.instance,
    )


def ui_sync_token(settings: Settings) -> bytes | None:
    """``--ui-sync``: the token of ``--ui-token-file``, which must exist and hold one; None without ``--ui-sync``."""
    if not settings.ui_sync:
        return None
    path = settings.ui_token_file
    if path is None:
        raise ValueError(
            "--ui-sync needs --ui-token-file (RECONCILER_UI_TOKEN_FILE): the token 'Sync now' takes"
        )
    try:
        token = path.read_bytes().strip()
    except OSError as exc:
        raise ValueError(f"--ui-token-file {path}: cannot read it: {exc.strerror or exc}") from None
    if not token:
        raise ValueError(
            f"--ui-token-file {path}: the file is empty; it must hold the token 'Sync now' takes"
        )
    return token


def engine_factory(
    settings: Settings,
    *,
    health: bool = True,
    shards: Shards | None = None,
    snapshots: SnapshotStore | None = None,
) -> EngineFactory:
    """Each target's engine, on clients of its own (``clients_of``). Its identity, for what it keeps between
    passes and processes, is ``Engine.identity``: the target's name. ``snapshots``: where each keeps its caches
    across restarts (under ``Engine.cache_identity``)."""

    def make(target: Target) -> Engine:
        engine = Engine(clients_of(settings, target), options=plan_options(settings), mode=settings.mode,
                        health=health, identity=target.name, snapshots=snapshots)  # fmt: skip
        engine.shards = shards
        return engine

    return make


def fleet_of(
    settings: Settings,
    home: AwsClients,
    *,
    extra_vars: Mapping[str, str] | None = None,
    keep_caches: bool = True,
) -> Fleet:
    """``reconciler run`` and ``sandbox``: a loop per target of the desired state, and, once, the lease on
    ``home`` (the process's own clients: the lease table and the events queue are in its own account), the events
    queue and the notifier. ``extra_vars``: as ``desired_source`` takes them. ``keep_caches``: each engine keeps
    what it read across restarts (``snapshot_store``); not the sandbox's, whose emulator starts empty and gives
    the same task definition ARNs to other content. Raises ``StartupError`` for options that cannot work."""
    coordinator = coordinator_of(settings, home)
    shards = coordinator if isinstance(coordinator, Shards) else None
    notices = notices_of(settings)

    def target_queue(url: str) -> EventQueue:  # in the target's account, read with the task role
        may_consume = coordinator.may_write if coordinator is not None else (lambda: True)
        return EventQueue(home, url, may_consume=may_consume)

    return Fleet(
        source=desired_source(settings, extra_vars=extra_vars),
        make_engine=engine_factory(
            settings, shards=shards, snapshots=snapshot_store(settings, home) if keep_caches else None
        ),
        options=daemon_options(settings),
        lease=coordinator,
        events=events_queue(settings, home, coordinator),
        notifier=notices.notifier if notices is not None else None,
        allowed=frozenset(settings.allowed_targets),
        region=home.region,
        make_events=target_queue,
    )


def coordinator_of(settings: Settings, clients: AwsClients) -> Lease | Shards | None:
    """With ``--lease-table``: the leader lease, or with ``--shards auto`` the shard leases, on ``clients``;
    either then guards every AWS write of those clients (and of every target's: ``Fleet``)."""
    if not settings.lease_table:
        if settings.shards == "auto":
            raise ValueError("--shards auto needs --lease-table (the members and shards are kept there)")
        return None
    timing = LeaseTiming(
        duration=settings.lease_duration,
        renew_every=settings.lease_renew,
        safety=min(5.0, settings.lease_duration / 6),
    )
    holder = settings.replica_id
    coordinator: Lease | Shards
    if settings.shards == "auto":
        coordinator = Shards(clients, table=settings.lease_table, holder=holder, timing=timing)
    else:
        coordinator = Lease(clients, table=settings.lease_table, holder=holder, timing=timing)
    clients.write_guard = coordinator.check_write
    return coordinator


def snapshot_store(settings: Settings, clients: AwsClients) -> SnapshotStore:
    """Where the daemon keeps its caches across restarts: the lease table when there is one (every replica, and
    the next task, reach it), else ``--cache-dir`` (against an emulator only when given: ``Engine._kept``). ``clients``: the home account's, where the lease table is."""
    if settings.lease_table:
        return TableStore(clients, settings.lease_table)
    return DirectoryStore(settings.cache_dir, aws_only="cache_dir" not in settings.model_fields_set)


def events_queue(settings: Settings, clients: AwsClients, lease: Lease | Shards | None) -> EventQueue | None:
    """``--events-queue-url``: consumed by the replica that may write (all of them with one replica)."""
    if not settings.events_queue_url:
        return None
    may_consume = lease.may_write if lease is not None else (lambda: True)
    return EventQueue(clients, settings.events_queue_url, may_consume=may_consume)


def desired_source(settings: Settings, *, extra_vars: Mapping[str, str] | None = None) -> DesiredSource:
    """``--git-url`` if given, else the directory ``dir``. Raises ``GitUrlRefused`` for a URL whose transport is
    not followed (``ext::``, ``http://``, a local one without ``--git-allow-local``)."""
    variables = dict(extra_vars or {})
    allowed = frozenset(settings.allowed_clusters)
    if not settings.git_url:
        return DirectorySource(
            root=settings.dir, vars_files=tuple(settings.vars), extra_vars=variables, allowed_clusters=allowed
        )
    auth = GitAuth.from_files(
        token_file=settings.git_token_file,
        ssh_key_file=settings.git_ssh_key_file,
        known_hosts_file=settings.git_known_hosts_file,
        environ=os.environ,
    )
    # One cache folder per repository and ref, so that two daemons on one machine never share a checkout.
    key = hashlib.sha256(f"{settings.git_url}#{settings.git_ref}".encode()).hexdigest()[:16]
    checkouts = GitCheckouts(
        settings.git_url,
        ref=settings.git_ref,
        cache_dir=settings.git_cache_dir / key,
        auth=auth,
        allow_local=settings.git_allow_local,
    )
    return GitSource(
        checkouts=checkouts,
        description=f"{redacted_url(settings.git_url)}@{settings.git_ref or 'HEAD'}",
        subdir=settings.git_path,
        interval=settings.git_interval,
        vars_files=tuple(settings.vars),
        extra_vars=variables,
        allowed_clusters=allowed,
    )


class StartupError(ValueError):
    """An option that cannot work, named: the daemon does not start."""


def secret_file(option: str, path: Path) -> str:
    """The first line of ``path``, which holds a secret; a missing, unreadable or empty file is an error naming
    the option and the file (never the content)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StartupError(
            f"{option} {path}: cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    if not text:
        raise StartupError(f"{option} {path}: the file is empty")
    return text.splitlines()[0].strip()


def notices_of(settings: Settings) -> Notices | None:
    """``--notify-url``, ``--notify-slack-url-file``, ``--github-token-file``: None when none is given. Raises
    ``StartupError`` for a missing or empty file, or commit statuses without a Git source to post them to."""
    limit = settings.notify_rate_limit
    notifier = Notifier(instance=settings.instance, ui_url=settings.ui_url)
    for number, url in enumerate(settings.notify_url, 1):
        notifier.webhook(_http_url(url, f"--notify-url (the {_nth(number)})"), limit=limit)
    if settings.notify_slack_url_file is not None:
        option = f"--notify-slack-url-file {settings.notify_slack_url_file}"
        url = secret_file("--notify-slack-url-file", settings.notify_slack_url_file)
        notifier.slack(_http_url(url, option), limit=limit)
    if settings.ui_url is not None:
        _http_url(settings.ui_url, "--ui-url")
    if settings.github_token_file is not None:
        if settings.shards == "auto":  # each replica plans its share: none can say a revision converged
            raise StartupError("--github-token-file needs one writer: use --lease-table, not --shards")
        token = secret_file("--github-token-file", settings.github_token_file)
        repository = repository_of(settings.git_url) if settings.git_url else None
        if repository is None:
            raise StartupError("--github-token-file needs --git-url naming a repository (…/OWNER/REPO)")
        target = GitHubTarget(*repository, context=f"reconciler/{settings.instance}")
        notifier.commit_statuses(_http_url(settings.github_api_url, "--github-api-url"), token, target)
    if not notifier.sinks and notifier.github is None:
        return None
    return Notices(notifier)


def _http_url(url: str, option: str) -> str:
    """``url`` if it is an http(s) URL with a host; else an error naming the option, never the URL (a webhook's
    URL may carry a token)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StartupError(f"{option}: not an http:// or https:// URL with a host")
    if option == "--ui-url" and (parts.username or parts.password):  # it is put into every message
        raise StartupError(f"{option}: a user or password in the URL would be sent in every notification")
    return url


def _nth(number: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(number, f"{number}th")
