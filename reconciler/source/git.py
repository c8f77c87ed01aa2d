"""The desired state from a Git repository: one complete directory per commit, switched to atomically.

Why the ``git`` command through asyncio subprocesses: it speaks every transport and credential setup operators
already use (HTTPS, SSH, local paths), the event loop keeps answering HTTP meanwhile, and a command stuck on the
network is killed, with its helpers (ssh, git-remote-https), once its timeout runs out.

Layout under ``cache_dir``: ``repo.git`` is a bare mirror; ``checkouts/<sha>`` holds one commit's tree, written
by ``git archive`` into a hidden temporary directory and then renamed, so a directory with its final name is
always complete; ``current`` is a symlink replaced atomically to point at the last checkout. The previous
checkout is always kept: a reader may still be inside it. ``git archive`` honours ``export-ignore`` attributes,
so a repository can leave files out of its checkouts.

Fetch strategy (as observed with git 2.39): each pass fetches every branch and tag with forced refspecs
(``+refs/heads/*:refs/heads/*``, ``+refs/tags/*:refs/tags/*``) and ``--prune``, plus the remote's ``HEAD`` when
no ref is configured, then resolves the ref in the mirror: branch first, then tag, then commit SHA. Fetching only
the one ref would not do: asked for a short name ``v1``, a remote with both a branch and a tag ``v1`` hands over
the tag (git's own lookup order), and an explicit refspec for a ref the remote lacks fails the whole fetch. The
``+`` follows a force-push to an older commit, which git otherwise rejects as non-fast-forward. A full SHA not
reachable from any branch or tag is then fetched by itself: protocol v2 (git's default, over ``file://`` too,
and GitHub's) serves it; a server speaking only protocol v0 refuses ("unadvertised object") and the GitError says
so. A full SHA already in the mirror is not fetched again, since a commit never changes.

Transports and what git may run: ``--git-url`` is checked when the source is built (``git_protocol``): https,
ssh (``ssh://`` or scp-like ``user@host:path``), and ``file://`` or a local path only with ``--git-allow-local``;
``ext::`` (which runs a command), plain ``http://``, ``git://`` and every other transport are refused. Every git
command then runs with that one transport allowed (``protocol.allow=never`` plus the chosen one, and
``GIT_ALLOW_PROTOCOL``, which would otherwise win if inherited), hooks off (``core.hooksPath=/dev/null``) and
submodules never fetched (``hardening``).

Links in a commit: ``git archive`` keeps symbolic links, and a link leading out of the checkout is written as a
link, never followed here; loading the desired state refuses it at its path (``desired.tree``), so that the
commit is an invalid revision named by the file, like any other.

Secrets: a token reaches git as an ``http.extraHeader`` through ``GIT_CONFIG_*`` environment variables, never
on a command line (visible in ``ps``) nor in the URL, and every error message goes through :func:`redact`. Git
never prompts: no terminal (a new session), no askpass program, ssh in batch mode.

One instance per cache directory: the lock keeps the passes of one instance apart, not those of two processes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import re
import secrets
import shlex
import shutil
import signal
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import structlog

from reconciler.errors import echoed, printable

log = structlog.get_logger(__name__)

TOKEN_ENVIRONMENT_VARIABLE = "RECONCILER_GIT_TOKEN"
STDERR_LIMIT = 500
REDACTED = "***"
REMOTE_HEAD = "refs/reconciler/remote-head"
PINNED_COMMIT = "refs/reconciler/pinned"
BRANCHES_AND_TAGS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
# Inherited variables that would point git at another repository than the mirror (when run from a git hook).
REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
)
FULL_SHA = re.compile(r"[0-9a-f]{40}")
URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s'\"]*@")
LOCAL = "file"  # git's name for the transport of file:// and local paths
_SCHEMES = {"https": "https", "ssh": "ssh", "git+ssh": "ssh", "ssh+git": "ssh", "file": LOCAL}
_URL_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.DOTALL)
_REMOTE_HELPER = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.-]*::")  # git's <transport>::<address>
_REFUSED_SCHEMES = {
    "http": "plain http:// is not encrypted: a token would travel in clear, and anyone on the way could serve "
    "other commits; use https://",
    "git": "git:// is neither encrypted nor authenticated; use https:// or ssh://",
}
_ACCEPTED = "https://, ssh:// and scp-like user@host:path are followed (file:// and local paths with --git-allow-local)"


class GitUrlRefused(ValueError):
    """``--git-url`` names a transport the reconciler does not use; the message says why, and what it takes."""


def git_protocol(url: str, *, allow_local: bool) -> str:
    """The one transport git may use to fetch ``url``: ``https``, ``ssh``, or ``file`` when ``allow_local``.
    Raises ``GitUrlRefused`` for anything else, before git ever sees the URL."""

    def refused(why: str) -> GitUrlRefused:
        return GitUrlRefused(f"--git-url '{echoed(redacted_url(url))}' is refused: {why}")

    if not url or url.startswith("-") or printable(url) != url:
        raise refused("not a repository URL (empty, starting with '-', or with control characters)")
    if _REMOTE_HELPER.match(url):
        raise refused(
            f"'{url.split('::', 1)[0]}::' hands the URL to a helper program (ext:: runs a command); {_ACCEPTED}"
        )
    scheme_url = _URL_SCHEME.fullmatch(url)
    if scheme_url is not None:
        scheme = scheme_url["scheme"].lower()
        if scheme not in _SCHEMES:
            raise refused(
                _REFUSED_SCHEMES.get(
                    scheme, f"{scheme}:// is not a transport the reconciler uses; {_ACCEPTED}"
                )
            )
        protocol = _SCHEMES[scheme]
        if protocol == "ssh" and scheme_url["rest"].rsplit("@", 1)[-1].startswith("-"):
            raise refused("a host name cannot start with '-'")
    elif ":" in url and "/" not in url.split(":", 1)[0]:  # git's rule: a colon before any slash is scp-like
        if url.split(":", 1)[0].rsplit("@", 1)[-1].startswith("-"):
            raise refused("a host name cannot start with '-'")
        protocol = "ssh"
    else:
        protocol = LOCAL
    if protocol == LOCAL and not allow_local:
        raise refused("a local repository (file:// or a path) is followed only with --git-allow-local")
    return protocol


def hardening(protocol: str) -> tuple[list[str], dict[str, str]]:
    """The options and environment of every git command: ``protocol`` the only transport, no hooks (the
    mirror's, or a template's), no submodules. ``GIT_ALLOW_PROTOCOL`` is set too: inherited, it would win over
    any configuration."""
    options = {
        "protocol.allow": "never",
        f"protocol.{protocol}.allow": "always",
        "core.hooksPath": "/dev/null",
        "submodule.recurse": "false",
        "fetch.recurseSubmodules": "false",
    }
    arguments = [word for name, value in options.items() for word in ("-c", f"{name}={value}")]
    return arguments, {"GIT_ALLOW_PROTOCOL": protocol}


class GitError(Exception):
    """A git step (fetch, resolve, checkout) failed; the message, already redacted, says which, for which URL,
    and what git said."""


@dataclass(frozen=True)
class GitAuth:
    token: str | None = field(default=None, repr=False)
    ssh_key_file: Path | None = None
    known_hosts_file: Path | None = None

    @classmethod
    def from_files(
        cls,
        *,
        token_file: Path | None,
        ssh_key_file: Path | None,
        known_hosts_file: Path | None,
        environ: Mapping[str, str],
    ) -> GitAuth:
        """The token from ``token_file`` if given, else from ``$RECONCILER_GIT_TOKEN``; blank means none."""
        if token_file is not None:
            token = token_file.read_text(encoding="utf-8").strip()
        else:
            token = environ.get(TOKEN_ENVIRONMENT_VARIABLE, "").strip()
        return cls(token=token or None, ssh_key_file=ssh_key_file, known_hosts_file=known_hosts_file)


NO_AUTH = GitAuth()


@dataclass(frozen=True)
class Checkout:
    sha: str
    path: Path


class _Completed(NamedTuple):
    returncode: int
    stdout: bytes
    stderr: bytes


def redacted_url(url: str) -> str:
    """``url`` (or any text holding URLs) with the userinfo of each URL replaced: ``https://***@host/...``."""
    return URL_USERINFO.sub(rf"\g<scheme>{REDACTED}@", url)


def redact(text: str, auth: GitAuth) -> str:
    """``text`` without the token, as given or as the Basic credential sent, and without userinfo in URLs."""
    for secret in _secrets_of(auth):
        text = text.replace(secret, REDACTED)
    return redacted_url(text)


def _secrets_of(auth: GitAuth) -> list[str]:
    return [auth.token, _basic_credentials(auth.token)] if auth.token else []


def _basic_credentials(token: str) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


def git_environment(auth: GitAuth, inherited: Mapping[str, str]) -> dict[str, str]:
    """The environment of every git command: never prompting, untranslated messages, credentials from ``auth``."""
    environment = {name: value for name, value in inherited.items() if name not in REPOSITORY_VARIABLES}
    environment.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", LC_ALL="C")
    if auth.token:
        environment.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Basic {_basic_credentials(auth.token)}",
        )
    command = ssh_command(auth)
    if command is not None:
        environment["GIT_SSH_COMMAND"] = command
    return environment


def ssh_command(auth: GitAuth) -> str | None:
    """``GIT_SSH_COMMAND`` for ``auth``'s key and known hosts, or None to leave ssh as the host configures it."""
    if auth.ssh_key_file is None and auth.known_hosts_file is None:
        return None
    words = ["ssh"]
    if auth.ssh_key_file is not None:
        words += ["-i", str(auth.ssh_key_file), "-o", "IdentitiesOnly=yes"]
    words += ["-o", "BatchMode=yes"]
    if auth.known_hosts_file is None:
        words += ["-o", "StrictHostKeyChecking=accept-new"]
    else:
        # Quoted for ssh too: an unquoted value with spaces would be read as several files.
        words += ["-o", "StrictHostKeyChecking=yes", "-o", f'UserKnownHostsFile="{auth.known_hosts_file}"']
    return shlex.join(words)


class GitCheckouts:
    """The checkouts of one repository at one ref under ``cache_dir``; ``sync`` brings them up to date."""

    def __init__(
        self,
        url: str,
        *,
        ref: str | None,
        cache_dir: Path,
        auth: GitAuth = NO_AUTH,
        keep: int = 2,
        timeout: float = 60.0,
        allow_local: bool = False,
    ) -> None:
        """Raises ``GitUrlRefused`` for a URL of a transport not followed (``git_protocol``)."""
        if keep < 2:
            raise ValueError("keep must be at least 2: the previous checkout may still be being read")
        self._options, hardened = hardening(git_protocol(url, allow_local=allow_local))
        self.current: Checkout | None = None
        self._url = url
        self._ref = ref
        self._auth = auth
        self._keep = keep
        self._timeout = timeout
        self._cache_dir = cache_dir
        self._mirror = cache_dir / "repo.git"
        self._checkouts = cache_dir / "checkouts"
        self._current_link = cache_dir / "current"
        self._environment = git_environment(auth, os.environ) | hardened
        self._lock = asyncio.Lock()
        self._leftovers_removed = False

    async def sync(self) -> Checkout:
        """Fetch, resolve the ref, and make its commit's checkout ``current``. Raises GitError, leaving
        ``current`` (and its directory) as it was, when a step fails."""
        async with self._lock:
            sha = await self._fetch_and_resolve()
            current = self.current
            if current is not None and current.sha == sha and current.path.is_dir():
                return current
            checkout = await self._materialise(sha)
            previous = self._switch_to(checkout)
            await self._remove_old_checkouts(previous)
            return checkout

    async def _fetch_and_resolve(self) -> str:
        await self._prepare()
        pinned = self._pinned_sha()
        if pinned is not None and await self._commit_of(pinned) is not None:
            return pinned
        await self._fetch(self._refspecs())
        sha = await self._resolve()
        if sha is None and pinned is not None:
            await self._fetch([f"+{pinned}:{PINNED_COMMIT}"])
            sha = await self._commit_of(pinned)
        if sha is None:
            raise self._error("resolve", f"no branch, tag or commit named {self._ref or 'HEAD'!r}")
        return sha

    def _pinned_sha(self) -> str | None:
        """The ref when it is a full commit SHA."""
        if self._ref is None or FULL_SHA.fullmatch(self._ref.lower()) is None:
            return None
        return self._ref.lower()

    def _refspecs(self) -> list[str]:
        head = [f"+HEAD:{REMOTE_HEAD}"] if self._ref is None else []
        return [*BRANCHES_AND_TAGS, *head]

    async def _resolve(self) -> str | None:
        for name in self._candidate_names():
            sha = await self._commit_of(name)
            if sha is not None:
                return sha
        return None

    def _candidate_names(self) -> list[str]:
        """What the ref may name in the mirror, in order of preference: a branch wins over a tag."""
        if self._ref is None:
            return [REMOTE_HEAD]
        pinned = self._pinned_sha()
        return [f"refs/heads/{self._ref}", f"refs/tags/{self._ref}", *([pinned] if pinned else [])]

    async def _commit_of(self, name: str) -> str | None:
        result = await self._run("resolve", ["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"])
        return result.stdout.decode("ascii").strip() if result.returncode == 0 else None

    async def _prepare(self) -> None:
        if not self._leftovers_removed:
            await asyncio.to_thread(self._remove_leftovers)
            self._leftovers_removed = True
        if not (self._mirror / "HEAD").is_file():
            await self._git("init", ["init", "--bare", "--quiet"])

    def _remove_leftovers(self) -> None:
        """Create the layout, and remove what an interrupted earlier process left half-written."""
        self._checkouts.mkdir(parents=True, exist_ok=True)
        for staging in self._checkouts.glob(".*.tmp-*"):
            shutil.rmtree(staging, ignore_errors=True)
        for link in self._cache_dir.glob(".current.tmp-*"):
            link.unlink(missing_ok=True)

    async def _fetch(self, refspecs: Sequence[str]) -> None:
        await self._git("fetch", ["fetch", "--prune", "--force", "--no-tags", "--", self._url, *refspecs])

    async def _materialise(self, sha: str) -> Checkout:
        """The checkout of ``sha``: reused when an earlier pass wrote it, else extracted from the mirror."""
        path = self._checkouts / sha
        if not path.is_dir():
            archive = await self._git("checkout", ["archive", "--format=tar", sha])
            try:
                await asyncio.to_thread(_extract_into_place, archive, path)
            except (tarfile.TarError, OSError) as exc:
                raise self._error("checkout", f"cannot write {sha}: {exc}") from exc
        return Checkout(sha=sha, path=path)

    def _switch_to(self, checkout: Checkout) -> str | None:
        """Point ``current`` at ``checkout``; returns the name of the checkout it pointed at before, if any."""
        try:
            previous = self._current_link.readlink().name if self._current_link.is_symlink() else None
            # Its mtime now says when it was last switched to: pruning keeps the newest.
            os.utime(checkout.path)
            staging = self._cache_dir / f".current.tmp-{secrets.token_hex(8)}"
            staging.symlink_to(Path(self._checkouts.name) / checkout.sha)
            staging.replace(self._current_link)
        except OSError as exc:
            raise self._error("checkout", f"cannot switch to {checkout.sha}: {exc}") from exc
        self.current = checkout
        log.info("git checkout switched", sha=checkout.sha, repository=redacted_url(self._url), ref=self._ref)
        return previous

    async def _remove_old_checkouts(self, previous: str | None) -> None:
        assert self.current is not None
        protected = {self.current.sha} | ({previous} if previous else set())
        try:
            for stale in await asyncio.to_thread(_stale_checkouts, self._checkouts, protected, self._keep):
                await asyncio.to_thread(shutil.rmtree, stale)
        except OSError as exc:
            log.warning("cannot remove an old git checkout", error=str(exc))

    async def _git(self, operation: str, arguments: Sequence[str]) -> bytes:
        result = await self._run(operation, arguments)
        if result.returncode != 0:
            raise self._error(operation, result.stderr.decode("utf-8", "replace"))
        return result.stdout

    async def _run(self, operation: str, arguments: Sequence[str]) -> _Completed:
        """Run git on the mirror; kill it (and its helpers, in the same session) on timeout or cancellation."""
        try:
            process = await asyncio.create_subprocess_exec(
                "git",
                *self._options,
                f"--git-dir={self._mirror}",
                *arguments,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._environment,
                start_new_session=True,
            )
        except OSError as exc:
            raise self._error(operation, f"cannot run git: {exc}") from exc
        try:
            async with asyncio.timeout(self._timeout):
                stdout, stderr = await process.communicate()
        except TimeoutError:
            raise self._error(operation, f"timed out after {self._timeout:g} s") from None
        finally:
            await _kill_if_running(process)
        return _Completed(await process.wait(), stdout, stderr)

    def _error(self, operation: str, detail: str) -> GitError:
        text = redact(detail.strip(), self._auth)
        if len(text) > STDERR_LIMIT:
            text = "..." + text[-STDERR_LIMIT:]  # the end of git's stderr says why it stopped
        return GitError(f"git {operation} failed for {redacted_url(self._url)}: {text}")


def _extract_into_place(archive: bytes, destination: Path) -> None:
    """Extract a tar into a hidden sibling, then rename it: ``destination`` appears only once complete."""
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.tmp-", dir=destination.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            tar.extractall(staging, filter=_commit_filter)
        staging.chmod(0o755)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _commit_filter(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
    """tarfile's ``data`` filter (nothing written outside the directory, no special files or modes), except
    that a symbolic link leading outside is kept as a link: writing one follows nothing, and the load refuses it
    at its path. A member written through such a link is still refused (the filter resolves its path)."""
    try:
        return tarfile.data_filter(member, destination)
    except (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError):
        if not member.issym():
            raise
        return member.replace(uid=None, gid=None, uname=None, gname=None, deep=False)  # type: ignore[arg-type]


def _stale_checkouts(checkouts: Path, protected: set[str], keep: int) -> list[Path]:
    """The checkout directories beyond the ``keep`` most recently switched to, never one in ``protected``."""
    names = {path.name for path in checkouts.iterdir() if not path.name.startswith(".")} - protected
    others = [checkouts / name for name in names]
    others.sort(key=lambda path: path.lstat().st_mtime, reverse=True)
    return others[max(keep - len(protected), 0) :]


async def _kill_if_running(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
