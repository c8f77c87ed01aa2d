"""How a CodeDeploy deployment we start says what it deploys: its description names the revision and the service's
spec hash. The writer composes it; the planner reads it back from a failed deployment to hold that same document
(pure, shared by ``apply`` and ``plan``)."""

from __future__ import annotations

DESCRIPTION_PREFIX = "reconciler"


def description(revision: str, spec_hash: str) -> str:
    return f"{DESCRIPTION_PREFIX} revision {revision} spec-hash {spec_hash}"


def spec_hash_of_description(text: str) -> str | None:
    """The spec hash a deployment we made was for; None for one made by someone else."""
    words = (text or "").split()
    if words[:1] != [DESCRIPTION_PREFIX] or "spec-hash" not in words:
        return None
    index = words.index("spec-hash")
    return words[index + 1] if index + 1 < len(words) else None


def revision_of_description(text: str) -> str | None:
    """The revision a deployment we made deployed; None for one made by someone else."""
    words = (text or "").split()
    if words[:2] != [DESCRIPTION_PREFIX, "revision"] or len(words) < 3:
        return None
    return words[2]
