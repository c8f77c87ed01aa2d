"""The documented shapes every test checks messages against: ours (docs/notification.schema.json) and the
subset of Slack's Block Kit we send (slack_block_kit.schema.json, written from Slack's reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parents[2]
NOTIFICATION = json.loads((REPO / "docs" / "notification.schema.json").read_text())
SLACK = json.loads((Path(__file__).parent / "slack_block_kit.schema.json").read_text())


def check_notification(message: Any) -> None:
    jsonschema.validate(message, NOTIFICATION, format_checker=jsonschema.FormatChecker())


def check_slack(message: Any) -> None:
    jsonschema.validate(message, SLACK)
