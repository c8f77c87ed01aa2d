"""A disabled EventBridge rule delivers nothing.

AWS: a rule in state ``DISABLED`` matches no event until enabled again. moto 5.2 sends to a rule's targets
whatever its state, so switching off the rule that feeds the events queue (as ``bench/latency.py`` does to measure
drift detection without events) changed nothing. Patched: ``Rule.send_to_targets`` returns at once for a rule
that is not ``ENABLED``.
"""

from __future__ import annotations

from typing import Any

from moto.events.models import Rule


def apply() -> None:
    original = Rule.send_to_targets

    def send_to_targets(self: Rule, *args: Any, **kwargs: Any) -> None:
        if self.state != "DISABLED":
            original(self, *args, **kwargs)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
