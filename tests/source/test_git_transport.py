"""Which ``--git-url`` is followed, and what git may do while following it: one transport (the URL's), no hooks,
no submodules. Real git against repositories on disk; a refused URL never reaches git."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.runtime.options import desired_source
from reconciler.settings import Settings
from reconciler.source.git import GitCheckouts, GitUrlRefused, git_protocol
from reconciler.source.git_source import GitSource
from tests.source.conftest import GitRecorder, Remote, subcommand

ACCEPTED = [
    ("https://github.com/acme/estate.git", "https"),
    ("https://x-access-token:t0ken@github.com/acme/estate.git", "https"),
    ("ssh://git@github.com/acme/estate.git", "ssh"),
    ("git+ssh://git@github.com:22/acme/estate.git", "ssh"),
    ("git@github.com:acme/estate.git", "ssh"),
    ("github.com:acme/estate.git", "ssh"),
]
LOCAL = ["file:///srv/git/estate.git", "/srv/git/estate.git", "./estate.git", "../mirrors/a:b.git"]
REFUSED = [
    ("ext::sh -c touch% /tmp/pwned", "hands the URL to a helper program"),
    ("fd::17", "hands the URL to a helper program"),
    ("http://git.example.com/estate.git", "plain http:// is not encrypted"),
    ("git://git.example.com/estate.git", "neither encrypted nor authenticated"),
    ("ftp://git.example.com/estate.git", "ftp:// is not a transport the reconciler uses"),
    ("ssh://-oProxyCommand=touch%20x/estate.git", "cannot start with '-'"),
    ("-oProxyCommand=x:estate.git", "starting with '-'"),
    ("https://github.com/acme/estate.git\nfatal: forged", "control characters"),
    ("", "empty"),
]


@pytest.mark.parametrize(("url", "protocol"), ACCEPTED)
def test_https_ssh_and_scp_like_urls_are_followed(url: str, protocol: str) -> None:
    assert git_protocol(url, allow_local=False) == protocol


@pytest.mark.parametrize("url", LOCAL)
def test_local_repositories_need_the_explicit_option(url: str) -> None:
    with pytest.raises(GitUrlRefused, match="followed only with --git-allow-local"):
        git_protocol(url, allow_local=False)
    assert git_protocol(url, allow_local=True) == "file"


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_other_transports_are_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(GitUrlRefused) as raised:
        git_protocol(url, allow_local=True)
    assert why in str(raised.value) and "is refused" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_refused_url_never_shows_its_credentials() -> None:
    with pytest.raises(GitUrlRefused) as raised:
        git_protocol("http://bob:pw123@git.example.com/estate.git", allow_local=False)
    assert "pw123" not in str(raised.value) and "http://***@git.example.com/estate.git" in str(raised.value)


def test_a_refused_url_is_refused_before_git_runs_even_if_the_environment_allows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inherited ``GIT_ALLOW_PROTOCOL`` wins over git's configuration: with it, ``ext::`` runs its command."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext:file:https")
    ran = tmp_path / "ran"
    with pytest.raises(GitUrlRefused, match="ext::"):
        GitCheckouts(f"ext::sh -c touch% {ran}", ref="main", cache_dir=tmp_path / "cache", allow_local=True)
    assert not ran.exists()


async def test_every_git_command_allows_one_transport_and_no_hooks_or_submodules(
    remote: Remote, cache: Path, recorder: GitRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext:file:https")  # inherited: overridden
    remote.commit({"app.yaml": "one"})
    await GitCheckouts(remote.url, ref="main", cache_dir=cache, allow_local=True).sync()
    assert {"init", "fetch", "rev-parse", "archive"} <= set(recorder.subcommands())
    for argv, environment in zip(recorder.argvs, recorder.environments, strict=True):
        options = argv[1 : argv.index(f"--git-dir={cache / 'repo.git'}")]
        assert options == [
            "-c", "protocol.allow=never",
            "-c", "protocol.file.allow=always",
            "-c", "core.hooksPath=/dev/null",
            "-c", "submodule.recurse=false",
            "-c", "fetch.recurseSubmodules=false",
        ], subcommand(argv)  # fmt: skip
        assert environment["GIT_ALLOW_PROTOCOL"] == "file"


async def test_hooks_in_the_mirror_never_run(remote: Remote, cache: Path, tmp_path: Path) -> None:
    """A hook in the mirror (left there, or copied from a template directory by ``git init``) runs on fetch
    unless hooks are off: ``reference-transaction`` runs whenever a fetch moves a ref."""
    remote.commit({"app.yaml": "one"})
    checkouts = GitCheckouts(remote.url, ref="main", cache_dir=cache, allow_local=True)
    await checkouts.sync()
    ran = tmp_path / "hook-ran"
    hook = cache / "repo.git" / "hooks" / "reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\ntouch {ran}\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    second = remote.commit({"app.yaml": "two"})
    assert (await checkouts.sync()).sha == second
    assert not ran.exists()


def test_run_refuses_an_ext_url_at_start_with_a_clear_message(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    environment = dict(os.environ, GIT_ALLOW_PROTOCOL="ext", AWS_REGION="us-east-1")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "run", "--git-url", f"ext::sh -c touch% {ran}",
         "--git-cache-dir", str(tmp_path / "cache"), "--listen", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=60, env=environment, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error: GitUrlRefused: --git-url 'ext::sh -c touch% " in done.stderr
    assert "hands the URL to a helper program (ext:: runs a command)" in done.stderr
    assert not ran.exists()


def test_a_local_url_needs_git_allow_local_given_or_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = (tmp_path / "nowhere.git").as_uri()
    environment = dict(os.environ, AWS_REGION="us-east-1")
    command = [sys.executable, "-m", "reconciler", "run", "--git-url", url,
               "--git-cache-dir", str(tmp_path / "cache"), "--listen", "127.0.0.1:0"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment, check=False)
    assert done.returncode == 1
    assert "is followed only with --git-allow-local" in done.stderr

    monkeypatch.setenv("RECONCILER_GIT_ALLOW_LOCAL", "true")
    assert isinstance(desired_source(Settings(git_url=url, git_cache_dir=tmp_path / "cache")), GitSource)
