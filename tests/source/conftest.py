"""Real Git repositories on disk for the source tests: a bare "remote" reached by a ``file://`` URL and a working
clone to commit in, with no user or system Git configuration leaking in."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


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
