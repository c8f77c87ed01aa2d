"""Real Git repositories on disk for the source tests: a bare "remote" reached by a ``file://`` URL and a working
clone to commit in, with no user or system Git configuration leaking in."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.source import git as git_module


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config, a fixed identity, no proxies, no token in the environment."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    for name in ("RECONCILER_GIT_TOKEN", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)


def git(*arguments: str, cwd: Path) -> str:
    done = subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@dataclass
class Remote:
    bare: Path
    work: Path

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit(self, files: dict[str, str], *, push_to: str = "main") -> str:
        """Commit ``files`` (written over the work tree) and push to branch ``push_to``; returns the SHA."""
        for name, text in files.items():
            (self.work / name).write_text(text, encoding="utf-8")
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", f"change {sorted(files)}", cwd=self.work)
        git("push", "-q", "--force", "origin", f"HEAD:refs/heads/{push_to}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def rev_parse(self, name: str) -> str:
        return git("rev-parse", name, cwd=self.bare)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=work)
    return Remote(bare, work)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@dataclass
class GitRecorder:
    """Every git command GitCheckouts starts: its argv and env, and how many ran at once at most."""

    argvs: list[list[str]] = field(default_factory=list)
    environments: list[dict[str, str]] = field(default_factory=list)
    processes: list[Any] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0

    def subcommands(self) -> list[str]:
        return [subcommand(argv) for argv in self.argvs]

    def clear(self) -> None:
        self.argvs.clear()
        self.environments.clear()


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> GitRecorder:
    record = GitRecorder()
    real_exec = asyncio.create_subprocess_exec

    async def recording_exec(*argv: Any, **options: Any) -> Any:
        record.argvs.append([str(word) for word in argv])
        record.environments.append(dict(options["env"]))
        process = await real_exec(*argv, **options)
        record.processes.append(process)
        real_communicate = process.communicate

        async def counted_communicate(*args: Any, **kwargs: Any) -> Any:
            record.running += 1
            record.most_at_once = max(record.most_at_once, record.running)
            try:
                return await real_communicate(*args, **kwargs)
            finally:
                record.running -= 1

        process.communicate = counted_communicate
        return process

    monkeypatch.setattr(git_module.asyncio, "create_subprocess_exec", recording_exec)
    return record


def subcommand(argv: list[str]) -> str:
    """The git command of ``argv``: the word after ``--git-dir=...`` (the options come before it)."""
    return next(argv[index + 1] for index, word in enumerate(argv) if word.startswith("--git-dir="))
