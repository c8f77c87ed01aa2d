"""The notification options: what they build, and a missing or empty secret file as an error at start that names
the option and the file (and never the content)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import run_command
from reconciler.runtime.options import StartupError, notices_of
from reconciler.settings import Settings


def test_no_option_no_notices() -> None:
    assert notices_of(Settings()) is None


def test_each_option_makes_its_sink(tmp_path: Path) -> None:
    (tmp_path / "slack").write_text("https://hooks.slack.com/services/T0/B0/SECRET\n")
    (tmp_path / "token").write_text("ghp_abc\n")
    settings = Settings(notify_url=["https://a.example.com/x", "https://b.example.com/y"],
                        notify_slack_url_file=tmp_path / "slack", github_token_file=tmp_path / "token",
                        git_url="git@github.com:acme/deploy.git", instance="prod", notify_rate_limit=7)  # fmt: skip
    notices = notices_of(settings)
    assert notices is not None
    sinks = notices.notifier.sinks
    assert [(s.kind, s.name, s.limit) for s in sinks] == [("webhook", "webhook 1", 7), ("webhook", "webhook 2", 7),
                                                          ("slack", "slack", 7)]  # fmt: skip
    assert sinks[2].url == "https://hooks.slack.com/services/T0/B0/SECRET"
    github, target = notices.notifier.github, notices.notifier.target
    assert github is not None and target is not None
    assert github.url == "https://api.github.com" and github.headers["Authorization"] == "Bearer ghp_abc"
    assert (target.path("abc"), target.context) == ("/repos/acme/deploy/statuses/abc", "reconciler/prod")


def test_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_NOTIFY_URL", "https://a.example.com/x,https://b.example.com/y")
    monkeypatch.setenv("RECONCILER_UI_URL", "https://ui.example.com")
    settings = Settings()
    assert settings.notify_url == ["https://a.example.com/x", "https://b.example.com/y"]
    assert settings.ui_url == "https://ui.example.com"


@pytest.mark.parametrize("content", [None, "", "  \n"])
@pytest.mark.parametrize("option", ["notify_slack_url_file", "github_token_file"])
def test_a_missing_or_empty_file_is_an_error_naming_it(
    tmp_path: Path, option: str, content: str | None
) -> None:
    path = tmp_path / "secret"
    if content is not None:
        path.write_text(content)
    settings = Settings(**{option: path, "git_url": "https://github.com/acme/deploy.git"})  # type: ignore[arg-type]
    with pytest.raises(StartupError) as error:
        notices_of(settings)
    assert str(path) in str(error.value) and "--" + option.replace("_", "-") in str(error.value)


def test_commit_statuses_need_a_git_source(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("ghp_abc")
    with pytest.raises(StartupError, match="--github-token-file needs --git-url"):
        notices_of(Settings(github_token_file=tmp_path / "token"))


def test_run_stops_at_start_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "slack-url"
    code = run_command(["run", str(tmp_path), "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9",
                        "--notify-slack-url-file", str(missing)])  # fmt: skip
    assert code == 1
    assert f"--notify-slack-url-file {missing}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "settings, option",
    [
        (
            {"notify_url": ["https://ok.example.com/", "ftp://hooks.example.com/t0ken"]},
            "--notify-url (the second)",
        ),
        ({"notify_url": ["hooks.example.com/t0ken"]}, "--notify-url (the first)"),
        ({"ui_url": "reconciler.example.com"}, "--ui-url"),
    ],
)
def test_a_url_that_is_not_http_is_an_error_naming_the_option_not_the_url(
    settings: dict[str, object], option: str
) -> None:
    with pytest.raises(StartupError) as error:
        notices_of(Settings(**settings))  # type: ignore[arg-type]
    assert option in str(error.value) and "t0ken" not in str(error.value)


def test_a_slack_file_without_a_url_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "slack").write_text("not-a-url-but-a-secret\n")
    with pytest.raises(StartupError) as error:
        notices_of(Settings(notify_slack_url_file=tmp_path / "slack"))
    assert str(tmp_path / "slack") in str(error.value) and "not-a-url" not in str(error.value)


def test_a_ui_url_with_a_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="--ui-url: a user or password") as error:
        notices_of(Settings(ui_url="https://admin:hunter2@reconciler.example.com"))
    assert "hunter2" not in str(error.value)


def test_commit_statuses_need_one_writer_not_shards(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("ghp_abc")
    settings = Settings(github_token_file=tmp_path / "token", git_url="https://github.com/acme/deploy.git",
                        shards="auto", lease_table="reconciler")  # fmt: skip
    with pytest.raises(StartupError, match="needs one writer"):
        notices_of(settings)


def test_the_sandbox_stops_before_starting_anything_on_a_bad_notification_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_command(["sandbox", str(tmp_path), "--notify-url", "hooks.example.com/t0ken"])
    assert code == 1
    err = capsys.readouterr().err
    assert "--notify-url (the first)" in err and "t0ken" not in err
