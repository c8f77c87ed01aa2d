"""Every option of the command line, also settable as ``RECONCILER_<OPTION>`` (docs/commands.md).

The command line wins over the environment; the environment wins over the defaults. AWS settings come from the
usual AWS environment (``AWS_REGION``, ``AWS_ENDPOINT_URL``, the credential chain) unless given here.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from reconciler.model.resource import Mode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECONCILER_", extra="ignore")

    dir: Path = Path("desired-state")
    vars: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    mode: Mode = Mode.ENFORCE
    instance: str = "default"
    max_deletions: int = Field(default=5, ge=0)
    deployment_deadline: float = Field(default=1800.0, gt=0)
    allowed_clusters: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # the targets (targets.yaml) reconciled; the others' documents are still validated. Empty: every target
    allowed_targets: Annotated[frozenset[str], NoDecode] = Field(default_factory=frozenset)
    region: str | None = None
    endpoint_url: str | None = None
    output: str = "text"
    # the daemon
    interval: float = Field(default=30.0, gt=0)
    listen: str = "0.0.0.0:8080"
    pass_timeout: float = Field(default=300.0, gt=0)
    debounce_ms: int = Field(default=500, ge=0)
    log_format: str = "auto"  # auto (console on a TTY, else JSON) | json | console
    webhook_secret_file: Path | None = None  # POST /sync then needs a valid X-Hub-Signature-256
    ui_sync: bool = False  # the web UI gets a "Sync now" button (needs ui_token_file)
    ui_token_file: Path | None = None  # the token "Sync now" must be given (POST /ui/sync)
    # the daemon's Git source (instead of ``dir``)
    git_url: str | None = None
    git_ref: str | None = None  # branch, tag or commit SHA; default the remote's HEAD
    git_path: str = ""  # the desired state's folder inside the repository
    git_interval: float = Field(default=30.0, gt=0)
    git_cache_dir: Path = Path(tempfile.gettempdir()) / "reconciler-git"
    git_token_file: Path | None = None  # HTTPS token; or RECONCILER_GIT_TOKEN
    git_ssh_key_file: Path | None = None
    git_known_hosts_file: Path | None = None
    git_allow_local: bool = (
        False  # follow file:// URLs and local paths too (tests, a mirror on the same host)
    )
    # ``run``: where the caches a restarted process would read again are kept without --lease-table
    cache_dir: Path = Path(tempfile.gettempdir()) / "reconciler-cache"
    # seconds to wait for an AWS answer before retrying (botocore's read timeout)
    aws_read_timeout: float = Field(default=30.0, gt=0)
    # the share of AWS's API rates (per throttling group) this process allows itself; 0 turns the budget off
    api_budget: float = Field(default=0.5, ge=0, le=1)
    # SQS queue fed by the EventBridge rule of deploy/ (``run``, ``sandbox``): named resources are reconciled at once
    events_queue_url: str | None = None
    # leader lease on DynamoDB (``run``): only the holder writes
    lease_table: str | None = None
    shards: Literal["1", "auto"] = "1"  # auto: replicas on the lease table split the estate
    lease_duration: float = Field(default=30.0, gt=0)
    lease_renew: float = Field(default=10.0, gt=0)
    replica_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    # notifications and commit statuses (``run``, ``sandbox``; docs/notifications.md)
    notify_url: Annotated[list[str], NoDecode] = Field(default_factory=list)  # JSON POSTs
    notify_slack_url_file: Path | None = None  # a Slack incoming webhook's URL: a secret
    notify_rate_limit: int = Field(default=20, ge=1)  # messages a minute per sink; then one digest
    github_token_file: Path | None = None  # commit statuses of a Git source on GitHub
    github_api_url: str = "https://api.github.com"
    ui_url: str | None = None  # the UI's public address, for links
    # ``status``
    url: str = "http://127.0.0.1:8080"

    @field_validator("vars", "allowed_clusters", "allowed_targets", "notify_url", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def listen_host(self) -> str:
        return self.listen.rsplit(":", 1)[0] or "0.0.0.0"

    @property
    def listen_port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])
