"""GitCheckouts against real repositories on disk: a bare "remote" reached by a ``file://`` URL, and a working
clone the tests commit to and push from. Failures to connect use local ports: nothing leaves the machine."""

from __future__ import annotations

import asyncio
import base64
import http.server
import os
import shlex
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.seed import self_signed_certificate
from reconciler.source.git import (
    Checkout,
    GitAuth,
    GitCheckouts,
    GitError,
    git_environment,
    redact,
    redacted_url,
    ssh_command,
)
from tests.source.conftest import GitRecorder, Remote, git, subcommand

TOKEN = "s3cr3t-token"
TOKEN_AS_BASIC = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()


def names_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def checkout_names(cache: Path) -> list[str]:
    return names_in(cache / "checkouts")


def assert_current(cache: Path, checkout: Checkout) -> None:
    assert (cache / "current").is_symlink()
    assert (cache / "current").resolve() == checkout.path.resolve()


# --- syncing a branch ---------------------------------------------------------------------------------------


async def test_first_sync_checks_out_the_branch_head(remote: Remote, cache: Path) -> None:
    sha = remote.commit({"app.yaml": "one"})
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    assert checkouts.current is None

    checkout = await checkouts.sync()

    assert checkout.sha == sha == remote.rev_parse("refs/heads/main")
    assert checkout.path == cache / "checkouts" / sha
    assert (checkout.path / "app.yaml").read_text() == "one"
    assert sorted(path.name for path in checkout.path.iterdir()) == ["app.yaml"]  # no .git
    assert checkouts.current == checkout
    assert_current(cache, checkout)
    assert names_in(cache) == ["checkouts", "current", "repo.git"]


async def test_no_ref_follows_the_remote_default_branch(remote: Remote, cache: Path) -> None:
    main = remote.commit({"app.yaml": "main"})
    remote.commit({"app.yaml": "elsewhere"}, push_to="other")

    checkout = await GitCheckouts(remote.url, allow_local=True, ref=None, cache_dir=cache).sync()

    assert checkout.sha == main
    assert (checkout.path / "app.yaml").read_text() == "main"


async def test_plain_path_url_works_too(remote: Remote, cache: Path) -> None:
    sha = remote.commit({"app.yaml": "one"})
    checkout = await GitCheckouts(str(remote.bare), allow_local=True, ref="main", cache_dir=cache).sync()
    assert checkout.sha == sha


async def test_new_commits_are_checked_out_and_only_the_last_two_kept(remote: Remote, cache: Path) -> None:
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache, keep=2)
    first_sha = remote.commit({"app.yaml": "one"})
    first = await checkouts.sync()
    second_sha = remote.commit({"app.yaml": "two"})

    second = await checkouts.sync()

    assert (first.sha, second.sha) == (first_sha, second_sha)
    assert (second.path / "app.yaml").read_text() == "two"
    assert (first.path / "app.yaml").read_text() == "one"  # the previous one is kept: a reader may be in it
    assert checkouts.current == second
    assert_current(cache, second)

    third = remote.commit({"app.yaml": "three"})
    await checkouts.sync()
    assert checkout_names(cache) == sorted([second_sha, third])
    fourth = remote.commit({"app.yaml": "four"})
    latest = await checkouts.sync()
    assert checkout_names(cache) == sorted([third, fourth])  # no hidden temporaries either
    assert_current(cache, latest)
    assert names_in(cache) == ["checkouts", "current", "repo.git"]


async def test_keep_three_keeps_three(remote: Remote, cache: Path) -> None:
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache, keep=3)
    shas = []
    for text in ("one", "two", "three", "four"):
        shas.append(remote.commit({"app.yaml": text}))
        await checkouts.sync()
    assert checkout_names(cache) == sorted(shas[1:])


def test_keep_below_two_is_refused(cache: Path) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        GitCheckouts("file:///nowhere", ref=None, cache_dir=cache, keep=1)


async def test_sync_without_a_new_commit_touches_nothing(
    remote: Remote, cache: Path, recorder: GitRecorder
) -> None:
    remote.commit({"app.yaml": "one"})
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    first = await checkouts.sync()
    (first.path / "marker").write_text("left by a reader")
    link_inode = (cache / "current").lstat().st_ino
    recorder.clear()

    again = await checkouts.sync()

    assert again is first
    assert "fetch" in recorder.subcommands()
    assert "archive" not in recorder.subcommands()
    assert (first.path / "marker").read_text() == "left by a reader"
    assert (cache / "current").lstat().st_ino == link_inode  # the symlink was not replaced


async def test_concurrent_syncs_run_git_one_command_at_a_time(
    remote: Remote, cache: Path, recorder: GitRecorder
) -> None:
    remote.commit({"app.yaml": "one"})
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)

    # return_exceptions: no sibling is cancelled while spawning git, which can hang Python 3.11 (CPython #103847).
    syncs = [checkouts.sync() for _ in range(3)]
    results = await asyncio.gather(*syncs, return_exceptions=True)

    assert isinstance(results[0], Checkout)
    assert results[0] == results[1] == results[2]
    assert recorder.most_at_once == 1
    assert recorder.subcommands().count("archive") == 1


async def test_a_new_instance_keeps_the_checkout_current_pointed_at(remote: Remote, cache: Path) -> None:
    before_restart = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    remote.commit({"app.yaml": "one"})
    await before_restart.sync()
    second = remote.commit({"app.yaml": "two"})
    await before_restart.sync()
    os.utime(cache / "checkouts" / second, (0, 0))  # kept because `current` points at it, whatever its mtime
    (cache / "checkouts" / ".deadbeef.tmp-crashed").mkdir()  # what a process killed mid-extraction leaves
    (cache / ".current.tmp-crashed").symlink_to("checkouts/nowhere")

    after_restart = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    third = remote.commit({"app.yaml": "three"})
    checkout = await after_restart.sync()

    assert checkout.sha == third
    assert checkout_names(cache) == sorted([second, third])
    assert not (cache / ".current.tmp-crashed").is_symlink()


# --- tags, SHAs, force-pushes ----------------------------------------------------------------------------------


async def test_ref_as_an_annotated_tag(remote: Remote, cache: Path) -> None:
    tagged = remote.commit({"app.yaml": "one"})
    git("tag", "-a", "v1", "-m", "release 1", cwd=remote.work)
    git("push", "-q", "origin", "v1", cwd=remote.work)
    remote.commit({"app.yaml": "two"})

    checkout = await GitCheckouts(remote.url, allow_local=True, ref="v1", cache_dir=cache).sync()

    assert checkout.sha == tagged == remote.rev_parse("v1^{commit}")
    assert (checkout.path / "app.yaml").read_text() == "one"


async def test_a_branch_wins_over_a_tag_of_the_same_name(remote: Remote, cache: Path) -> None:
    remote.commit({"app.yaml": "tagged"})
    git("tag", "release", cwd=remote.work)
    git("push", "-q", "origin", "refs/tags/release", cwd=remote.work)
    branch_head = remote.commit({"app.yaml": "branch"}, push_to="release")

    checkout = await GitCheckouts(remote.url, allow_local=True, ref="release", cache_dir=cache).sync()

    assert checkout.sha == branch_head
    assert (checkout.path / "app.yaml").read_text() == "branch"


async def test_ref_as_a_full_sha_needs_no_fetch_once_present(
    remote: Remote, cache: Path, recorder: GitRecorder
) -> None:
    older = remote.commit({"app.yaml": "one"})
    remote.commit({"app.yaml": "two"})
    pinned = GitCheckouts(remote.url, allow_local=True, ref=older, cache_dir=cache)

    checkout = await pinned.sync()

    assert checkout.sha == older
    assert (checkout.path / "app.yaml").read_text() == "one"
    assert recorder.subcommands().count("fetch") == 1  # reachable from main: no fetch of the SHA by itself
    shutil.rmtree(remote.bare)
    recorder.clear()
    assert await pinned.sync() == checkout  # a commit never changes: no fetch, no failure
    assert "fetch" not in recorder.subcommands()


async def test_a_sha_on_no_branch_or_tag_is_fetched_by_itself(
    remote: Remote, cache: Path, recorder: GitRecorder
) -> None:
    remote.commit({"app.yaml": "one"})
    orphan = remote.commit({"app.yaml": "orphan"}, push_to="scratch")
    git("push", "-q", "origin", "--delete", "scratch", cwd=remote.work)  # its objects stay in the remote

    checkout = await GitCheckouts(remote.url, allow_local=True, ref=orphan, cache_dir=cache).sync()

    assert checkout.sha == orphan
    assert (checkout.path / "app.yaml").read_text() == "orphan"
    fetches = [argv for argv in recorder.argvs if subcommand(argv) == "fetch"]
    assert len(fetches) == 2
    assert fetches[1][-1] == f"+{orphan}:refs/reconciler/pinned"


async def test_a_force_push_to_an_older_commit_is_followed(
    remote: Remote, cache: Path, recorder: GitRecorder
) -> None:
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    older = remote.commit({"app.yaml": "one"})
    await checkouts.sync()
    newer = remote.commit({"app.yaml": "two"})
    assert (await checkouts.sync()).sha == newer
    git("reset", "-q", "--hard", older, cwd=remote.work)
    git("push", "-q", "--force", "origin", "HEAD:refs/heads/main", cwd=remote.work)
    recorder.clear()

    checkout = await checkouts.sync()

    assert checkout.sha == older
    assert (checkout.path / "app.yaml").read_text() == "one"
    assert_current(cache, checkout)
    assert "archive" not in recorder.subcommands()  # its directory was still there: reused


# --- failures -----------------------------------------------------------------------------------------------


async def test_an_unreachable_remote_raises_and_leaves_current_alone(remote: Remote, cache: Path) -> None:
    remote.commit({"app.yaml": "one"})
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    before = await checkouts.sync()
    remote.bare.rename(remote.bare.with_name("moved.git"))

    with pytest.raises(GitError, match=r"git fetch failed for file://.*remote\.git") as raised:
        await checkouts.sync()

    assert "does not appear to be a git repository" in str(raised.value)  # git's own stderr is included
    assert checkouts.current is before
    assert (before.path / "app.yaml").read_text() == "one"
    assert_current(cache, before)


async def test_an_unknown_ref_is_a_resolve_error(remote: Remote, cache: Path) -> None:
    remote.commit({"app.yaml": "one"})
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="nope", cache_dir=cache)
    with pytest.raises(GitError, match=r"git resolve failed .*'nope'"):
        await checkouts.sync()
    assert checkouts.current is None
    assert not (cache / "current").exists()


async def test_a_symlink_out_of_the_checkout_is_kept_as_a_link_and_never_followed(
    remote: Remote, cache: Path, tmp_path: Path
) -> None:
    """A commit is checked out whole, a link leading out of it included, as a link: writing it follows nothing,
    and the load refuses it at its path (``test_git_source``). A member written through it would be refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s3cr3t")
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    (remote.work / "escape").symlink_to("../../../outside")
    (remote.work / "absolute.yaml").symlink_to(outside / "secret")
    remote.commit({"app.yaml": "one"})

    checkout = await checkouts.sync()

    assert (checkout.path / "escape").readlink() == Path("../../../outside")
    assert (checkout.path / "absolute.yaml").readlink() == outside / "secret"
    assert sorted(path.name for path in outside.iterdir()) == ["secret"]  # nothing written out there
    assert_current(cache, checkout)


async def test_a_symlink_within_the_checkout_is_kept(remote: Remote, cache: Path) -> None:
    (remote.work / "link.yaml").symlink_to("app.yaml")
    remote.commit({"app.yaml": "one"})

    checkout = await GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache).sync()

    assert (checkout.path / "link.yaml").is_symlink()
    assert (checkout.path / "link.yaml").readlink() == Path("app.yaml")
    assert (checkout.path / "link.yaml").read_text() == "one"


async def test_a_stuck_remote_is_killed_at_the_timeout(cache: Path, recorder: GitRecorder) -> None:
    with socket.socket() as listener:  # accepts connections (the backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/x.git"
        checkouts = GitCheckouts(url, ref="main", cache_dir=cache, timeout=0.5)
        started = time.monotonic()
        async with asyncio.timeout(5):  # fails rather than hangs should git outlive its timeout
            with pytest.raises(GitError, match=r"git fetch failed .*timed out after 0\.5 s"):
                await checkouts.sync()
    assert time.monotonic() - started < 5
    assert all(process.returncode is not None for process in recorder.processes)
    assert recorder.processes[-1].returncode == -9  # SIGKILL


# --- secrets ------------------------------------------------------------------------------------------------


@pytest.fixture
def https_remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str | None]]]:
    """A local HTTPS server answering 404 to everything, with a certificate git is told to trust; yields its URL
    and the Authorization headers it saw."""
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_error(404)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate, key = self_signed_certificate("localhost")  # the sandbox's, for ACM
    cert_file.write_bytes(certificate)
    key_file.write_bytes(key)
    monkeypatch.setenv("GIT_SSL_CAINFO", str(cert_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}/x.git", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_the_token_reaches_the_server_as_a_header_through_the_environment(
    https_remote: tuple[str, list[str | None]], cache: Path, recorder: GitRecorder
) -> None:
    url, seen = https_remote
    checkouts = GitCheckouts(url, ref="main", cache_dir=cache, auth=GitAuth(token=TOKEN))

    with pytest.raises(GitError) as raised:
        await checkouts.sync()

    assert seen and seen[0] == f"Basic {TOKEN_AS_BASIC}"
    assert TOKEN not in str(raised.value) and TOKEN_AS_BASIC not in str(raised.value)
    words = [word for argv in recorder.argvs for word in argv]
    assert words and all(TOKEN not in word and TOKEN_AS_BASIC not in word for word in words)
    for environment in recorder.environments:
        assert environment["GIT_CONFIG_COUNT"] == "1"
        assert environment["GIT_CONFIG_KEY_0"] == "http.extraHeader"
        assert environment["GIT_CONFIG_VALUE_0"] == f"Authorization: Basic {TOKEN_AS_BASIC}"


@pytest.mark.parametrize(
    ("url", "secrets", "shown"),
    [
        ("https://127.0.0.1:9/x.git", [TOKEN, TOKEN_AS_BASIC], "https://127.0.0.1:9/x.git"),
        ("https://bob:pw123@127.0.0.1:9/x.git", [TOKEN, "bob", "pw123"], "https://***@127.0.0.1:9/x.git"),
    ],
)
async def test_secrets_never_appear_in_errors(url: str, secrets: list[str], shown: str, cache: Path) -> None:
    checkouts = GitCheckouts(url, ref="main", cache_dir=cache, auth=GitAuth(token=TOKEN), timeout=10)
    with pytest.raises(GitError, match="git fetch failed") as raised:
        await checkouts.sync()
    message = str(raised.value)
    assert shown in message
    assert "unable to access" in message  # git's own words follow
    for secret in secrets:
        assert secret not in message


def test_git_environment_never_prompts_and_carries_the_token() -> None:
    inherited = {"PATH": "/bin", "GIT_DIR": "/elsewhere/.git", "GIT_INDEX_FILE": "/elsewhere/index"}
    environment = git_environment(GitAuth(token=TOKEN), inherited)
    assert environment == {
        "PATH": "/bin",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "LC_ALL": "C",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {TOKEN_AS_BASIC}",
    }
    without_token = git_environment(GitAuth(), {})
    assert "GIT_CONFIG_COUNT" not in without_token
    assert "GIT_SSH_COMMAND" not in without_token


def test_ssh_command_with_a_key_and_known_hosts() -> None:
    auth = GitAuth(ssh_key_file=Path("/keys/deploy key"), known_hosts_file=Path("/keys/known hosts"))
    command = ssh_command(auth)
    assert command is not None
    assert shlex.split(command) == [
        "ssh",
        "-i",
        "/keys/deploy key",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        'UserKnownHostsFile="/keys/known hosts"',
    ]
    assert git_environment(auth, {})["GIT_SSH_COMMAND"] == command


def test_ssh_command_without_known_hosts_accepts_new_hosts_only() -> None:
    command = ssh_command(GitAuth(ssh_key_file=Path("/keys/id")))
    assert (
        command
        == "ssh -i /keys/id -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
    )
    assert ssh_command(GitAuth(token=TOKEN)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://bob:pw123@github.com/o/r.git", "https://***@github.com/o/r.git"),
        ("https://x-access-token@github.com/o/r", "https://***@github.com/o/r"),
        ("fatal: 'ssh://git@host:22/r.git' said no", "fatal: 'ssh://***@host:22/r.git' said no"),
        ("https://u:p@ss@h/x", "https://***@h/x"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),  # scp-like: the user is no secret
        ("https://h/path?email=a@b", "https://h/path?email=a@b"),
    ],
)
def test_redacted_url(text: str, expected: str) -> None:
    assert redacted_url(text) == expected


def test_redact_removes_the_token_in_every_form() -> None:
    auth = GitAuth(token=TOKEN)
    text = f"token {TOKEN}; header Authorization: Basic {TOKEN_AS_BASIC}; url https://a:{TOKEN}@h/r"
    assert redact(text, auth) == "token ***; header Authorization: Basic ***; url https://***@h/r"
    assert redact("nothing secret here", auth) == "nothing secret here"
    assert redact(f"token {TOKEN}", GitAuth()) == f"token {TOKEN}"  # no token configured, nothing to hide


# --- GitAuth ------------------------------------------------------------------------------------------------


def test_token_from_a_file_is_stripped_and_wins_over_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}\n")
    auth = GitAuth.from_files(
        token_file=token_file,
        ssh_key_file=Path("/k"),
        known_hosts_file=None,
        environ={"RECONCILER_GIT_TOKEN": "from-env"},
    )
    assert auth == GitAuth(token=TOKEN, ssh_key_file=Path("/k"))


def test_token_from_the_environment_or_none() -> None:
    def from_environ(environ: dict[str, str]) -> GitAuth:
        return GitAuth.from_files(token_file=None, ssh_key_file=None, known_hosts_file=None, environ=environ)

    assert from_environ({"RECONCILER_GIT_TOKEN": "from-env\n"}).token == "from-env"
    assert from_environ({}).token is None
    assert from_environ({"RECONCILER_GIT_TOKEN": "  "}).token is None


def test_the_token_never_shows_in_repr_or_str() -> None:
    auth = GitAuth(token=TOKEN, ssh_key_file=Path("/k"))
    assert TOKEN not in repr(auth)
    assert TOKEN not in str(auth)
    assert "/k" in repr(auth)
