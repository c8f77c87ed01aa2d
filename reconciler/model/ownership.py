"""The tags through which the reconciler knows what it owns and what it last applied (docs/desired-state.md,
"How drift is decided").

``reconciler:spec-hash`` is what tells drift (someone changed AWS: the hash still matches Git) from a desired change
(Git changed: the hash differs). ``reconciler:deletion-policy`` remembers the last document's policy so that a
resource whose document is gone can be pruned only when that document allowed it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from reconciler.model.resource import DeletionPolicy

INSTANCE_TAG = "reconciler:instance"
SPEC_HASH_TAG = "reconciler:spec-hash"
DELETION_POLICY_TAG = "reconciler:deletion-policy"
# The revision (Git SHA or content hash) whose pass last wrote the resource; written with every change, never compared.
REVISION_TAG = "reconciler:revision"
# The document's metadata.name, on kinds whose AWS identity is not that name (listeners, rules).
NAME_TAG = "reconciler:name"
# On a Cloud Map service that a replace has created another beside (in another namespace): the successor's
# namespace. The old one is deleted once no task is registered in it any more.
REPLACED_BY_TAG = "reconciler:replaced-by"
RESERVED_PREFIXES = ("reconciler:", "aws:")


def ownership_tags(*, instance: str, spec_hash: str, deletion_policy: DeletionPolicy) -> dict[str, str]:
    return {INSTANCE_TAG: instance, SPEC_HASH_TAG: spec_hash, DELETION_POLICY_TAG: deletion_policy.value}


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags that belong to the user, without ours and AWS's."""
    return {k: v for k, v in tags.items() if not k.startswith(RESERVED_PREFIXES)}


def owner_of(tags: Mapping[str, str]) -> str | None:
    return tags.get(INSTANCE_TAG)


def may_prune(tags: Mapping[str, str]) -> bool:
    return tags.get(DELETION_POLICY_TAG) == DeletionPolicy.DELETE.value


# The reconciler's own AWS calls carry this and the instance name in their User-Agent, and so in CloudTrail's
# ``userAgent``: the events of its own writes are skipped, and the sandbox emits events only for others' calls.
USER_AGENT_MARK = "reconciler-instance/"


# Besides letters, digits and spaces, what ECS and ELBv2 tag keys and values may hold (ECS API Reference and
# Elastic Load Balancing API Reference, Tag: ``^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$``).
TAG_PUNCTUATION = frozenset("_.:/=+-@")
MAX_TAG_VALUE = 256


def tag_character(ch: str) -> bool:
    return ch.isalnum() or ch in TAG_PUNCTUATION or unicodedata.category(ch).startswith("Z")


_ASCII_TAG = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")


def fits_tag(text: str) -> bool:
    """Whether ``text`` may be an ECS or ELBv2 tag key or value, as far as its characters go."""
    if _ASCII_TAG.fullmatch(text):  # the usual case, at a fraction of the cost of a look at each character
        return True
    return not text.isascii() and all(tag_character(ch) for ch in text)
