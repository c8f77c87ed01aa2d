"""The bad-input corpus through the real commands: FILE:LINE on stderr, exit 1, and not one AWS call.

The cases are the desired layer's corpus (tests/desired); here each goes through ``plan`` and ``apply`` with the
emulator up, to show that an invalid revision never reaches AWS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.desired.test_desired_bad_inputs import CASES, Case
from tests.e2e.conftest import CLI, count_api_calls
from tests.files import write_tree


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_costs_nothing(
    aws: str, cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "ds", case.files)
    calls_before = count_api_calls()
    for command in ("validate", "plan", "apply"):
        result = cli(command, "ds")
        assert result.code == 1, (command, result.out, result.err)
        assert f"ds/{case.file}:{case.line}: " in result.err, result.err
        assert "nothing was applied" in result.err
    assert count_api_calls() == calls_before
