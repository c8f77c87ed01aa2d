"""``plan --output markdown``: the plan as a pull-request comment.

The comment opens with a hidden marker (``MARKER``, so a workflow finds its own comment again and edits it), a
title and one summary line: the count of each action, how many changes are drift (AWS changed) and how many come
from Git, how many are held and how many resources another instance owns, and the revision. Then one collapsible
section (``<details>``) per application with something to show (``applications.py``: a service and everything it
uses), in name order, then one for the shared resources and those whose document is gone, each with its changes
(``path``, live → desired, masked as the text and JSON plans mask them: ``render.masked_diffs``), the fields of a
changed resource left to other owners, conflicts, rules added by hand and orphans.

Every value is user-controlled (names, paths, values, AWS's messages), so none can break the comment's structure
or inject anything: diff lines go into fenced code blocks whose fence is longer than any backtick run in them;
names and free text go into code spans delimited the same way (nothing in a code span is Markdown, HTML or a
@mention); names inside ``<summary>`` (raw HTML) are HTML-escaped; and every value is first made one line (control
characters and line separators written as escapes), so no line of a value can end a block or start one.

With targets.yaml (``plans_as_markdown``: one plan per target), the summary counts over all of them, and each
target gets a heading (its name, account and Region, what its plan does) above its own sections, the
applications grouped within each target (names are unique per target only), even when only one of them is
planned (``--allowed-targets``). Without targets.yaml the comment is ``plan_as_markdown``'s.

A comment holds at most ``COMMENT_LIMIT`` characters (GitHub's limit on a comment's body; counted here in UTF-8
bytes, never fewer than characters). When the whole plan is longer, whole sections are left out, in order, until
the rest fits, and a note under the summary says how many applications and changes were left out and to run
``reconciler plan`` for all of them. The targets' headings are never left out.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.secrets import SecretWarning, secret_warnings
from reconciler.model.resource import DesiredState, Mode, ResourceKey
from reconciler.model.secrets import redact
from reconciler.plan.applications import applications
from reconciler.plan.diff import FieldDiff
from reconciler.plan.render import SYMBOL, masked_diffs, owned_by_resource, target_named
from reconciler.plan.types import Action, Cause, Change, Conflict, Orphan, Owned, Plan, Unmanaged

MARKER = "<!-- reconciler-plan -->"
COMMENT_LIMIT = 65_536
_BACKTICKS = re.compile(r"`+")
_BREAKING = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]"
)  # control characters, line and paragraph separators


@dataclass
class _Group:
    """What one section shows."""

    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Section:
    text: str
    changes: int
    application: bool  # an application's (else the shared resources' or the warnings')
    title: str  # what the cut note calls it when it is not an application's
    kept: bool = False  # never left out (a target's heading)


def plan_as_markdown(plan: Plan, desired: DesiredState, *, limit: int = COMMENT_LIMIT) -> str:
    """The comment (module docstring); ``desired`` is the desired state planned: it groups the changes into
    applications and adds a section of secret-looking values written in clear."""
    diffs = masked_diffs(plan)  # before any text: a secret seen in one diff is masked in all the rest
    owned = owned_by_resource(plan)
    groups = _grouped(plan, desired)
    sections: list[_Section] = []
    if warnings := secret_warnings(desired):
        sections.append(_warnings_section(warnings))
    sections += _sections(groups, diffs, owned, shared="the shared resources")
    return _fit(_head(plan), sections, limit)


def plans_as_markdown(plans: Sequence[Plan], desired: DesiredState, *, limit: int = COMMENT_LIMIT) -> str:
    """The comment for one plan per target of ``desired``, in that order (module docstring): a heading per
    target above its sections. Without targets.yaml (one plan): ``plan_as_markdown``."""
    parts = desired.by_target()
    if len(plans) == 1 and not desired.targets:  # no targets.yaml
        return plan_as_markdown(plans[0], desired, limit=limit)
    diffs = masked_diffs(*plans)
    sections: list[_Section] = []
    if warnings := secret_warnings(desired):
        sections.append(_warnings_section(warnings))
    for plan in plans:
        empty = DesiredState(resources=(), revision=plan.revision, target=plan.target)
        groups = _grouped(plan, parts.get(plan.target, empty))
        sections.append(_target_heading(plan, desired))
        shared = f"the shared resources of {_code(plan.target)}"
        sections += _sections(groups, diffs, owned_by_resource(plan), shared=shared)
    every = Plan(
        revision=plans[0].revision if plans else desired.revision,
        changes=[change for plan in plans for change in plan.changes],
        conflicts=[conflict for plan in plans for conflict in plan.conflicts],
    )
    return _fit(_head(every, targets=len(plans)), sections, limit)


def _sections(
    groups: dict[str | None, _Group],
    diffs: dict[int, list[FieldDiff]],
    owned: dict[ResourceKey, list[Owned]],
    *,
    shared: str,
) -> list[_Section]:
    sections = []
    for name, group in groups.items():
        title = f"<code>{_html(name)}</code>" if name is not None else "shared resources"
        text = _section(title, group, diffs, owned)
        sections.append(_Section(text, len(group.changes), name is not None, shared))
    return sections


def _target_heading(plan: Plan, desired: DesiredState) -> _Section:
    """A target's heading: its name, account and Region, and what its plan does in a few words."""
    target = target_named(desired, plan.target)
    where = " ".join(_code(part) for part in (target.account, target.region) if part)
    changes = plan.reported_changes
    counts = Counter(c.action for c in changes)
    about = ", ".join(f"{counts[a]} to {a.value}" for a in Action if counts[a]) or "no changes"
    if drifted := sum(1 for c in changes if c.cause is Cause.DRIFT):
        about += f", {drifted} drifted"
    lines = [f"#### target {_code(target.name)}" + (f" · {where}" if where else "") + f" · {about}", ""]
    if plan.deletions_blocked:
        lines += [
            f"> **{plan.deletions_blocked} deletions held**: more than `--max-deletions`; nothing of this target "
            "is deleted.",
            "",
        ]
    return _Section("\n".join(lines) + "\n", 0, False, "", kept=True)


def _grouped(plan: Plan, desired: DesiredState) -> dict[str | None, _Group]:
    """Each application's group (by name, in name order), then the shared one (None), leaving out the empty."""
    found = applications(desired)
    groups: dict[str | None, _Group] = {name: _Group() for name in found.by_name}
    groups[None] = _Group()
    for change in plan.reported_changes:
        groups[found.of(change.key)].changes.append(change)
    for conflict in plan.conflicts:
        groups[found.of(ResourceKey(conflict.kind, conflict.name))].conflicts.append(conflict)
    for unmanaged in plan.unmanaged:
        groups[found.of(ResourceKey("Listener", unmanaged.parent))].unmanaged.append(unmanaged)
    groups[None].orphans.extend(plan.orphans)
    return {name: g for name, g in groups.items() if g.changes or g.conflicts or g.unmanaged or g.orphans}


def _head(plan: Plan, *, targets: int = 0) -> str:
    lines = [MARKER, "### reconciler plan", "", _summary(plan, targets=targets), ""]
    if plan.deletions_blocked:
        lines += [
            f"> **{plan.deletions_blocked} deletions held**: more than `--max-deletions`; nothing is deleted.",
            "",
        ]
    return "\n".join(lines) + "\n"


def _summary(plan: Plan, *, targets: int = 0) -> str:
    changes = plan.reported_changes
    causes = Counter(c.cause for c in changes)
    held = sum(1 for c in changes if c.held)
    parts = []
    if changes:
        actions = Counter(c.action for c in changes)
        parts.append("**Plan:** " + ", ".join(f"{actions[a]} to {a.value}" for a in Action))
        origins = [f"{causes[Cause.DRIFT]} drifted in AWS", f"{causes[Cause.DESIRED]} changed in Git"]
        origins += [f"{causes[c]} {c.value}" for c in (Cause.MISSING, Cause.ORPHAN) if causes[c]]
        parts.append(", ".join(origins))
    else:
        parts.append("**No changes.** Live AWS matches the desired state")
    parts.append(f"{held} held, {len(plan.conflicts)} conflicts")
    if plan.restamps:
        parts.append(f"{len(plan.restamps)} tags refreshed")
    if targets:
        parts.append(f"{targets} target" + ("" if targets == 1 else "s"))
    parts.append(f"revision {_code(plan.revision)}")
    return " · ".join(parts)


def _section(
    title: str, group: _Group, diffs: dict[int, list[FieldDiff]], owned: dict[ResourceKey, list[Owned]]
) -> str:
    counts = Counter(c.action for c in group.changes)
    about = [", ".join(f"{counts[a]} to {a.value}" for a in Action if counts[a])]
    if drifted := sum(1 for c in group.changes if c.cause is Cause.DRIFT):
        about.append(f"{drifted} drifted")
    if held := sum(1 for c in group.changes if c.held):
        about.append(f"{held} held")
    if group.conflicts:
        about.append(f"{len(group.conflicts)} conflicts")
    if group.unmanaged or group.orphans:
        about.append(f"{len(group.unmanaged) + len(group.orphans)} left in place")
    summary = " · ".join(part for part in about if part)
    blocks = [f"<details><summary><b>{title}</b> · {summary}</summary>", ""]
    for change in group.changes:
        blocks += _change(change, diffs[id(change)], owned.get(change.key, []))
    blocks += [f"- ! {_resource(c.kind, c.name)}: owned by reconciler instance {_code(c.owner)}, left alone"
               for c in group.conflicts]  # fmt: skip
    blocks += [
        f"- ? {_resource(u.kind, u.name)}: unmanaged, on listener {_code(u.parent)}, left in place: "
        + _code(redact(u.reason))
        for u in group.unmanaged
    ]
    blocks += [f"- ? {_resource(o.kind, o.name)}: orphaned (deletionPolicy Retain), left in place"
               for o in group.orphans]  # fmt: skip
    while blocks[-1] == "":  # one blank line before the end, whatever came last
        blocks.pop()
    return "\n".join([*blocks, "", "</details>", "", ""])


def _change(change: Change, diff: list[FieldDiff], owned: list[Owned]) -> list[str]:
    symbol = "+/-" if change.create_first else SYMBOL[change.action]
    head = f"**{_html(symbol)}** {_resource(change.kind, change.name)} ({change.action.value}, cause: "
    head += f"{change.cause.value})"
    if change.mode is Mode.DETECT:
        head += " · mode: detect, not applied"
    lines = [head, ""]
    if change.reason:
        lines += [f"> {_code(redact(change.reason))}", ""]
    if change.held:
        lines += [f"> **held:** {_code(redact(change.held))}", ""]
    shown = []
    for d in diff:
        if d.live is not None:
            shown.append(f"- {_one_line(d.path)}: {_value(d.live)}")
        if d.desired is not None:
            shown.append(f"+ {_one_line(d.path)}: {_value(d.desired)}")
    if shown:
        lines += [*_fenced(shown, "diff"), ""]
    if owned:
        fields = ", ".join(f"{_code(row.path)} ({_code(row.owner)})" for row in owned)
        lines += [f"Left to other owners: {fields}", ""]
    return lines


def _warnings_section(warnings: Iterable[SecretWarning]) -> _Section:
    rows = [f"- {_code(str(w))}" for w in warnings]
    title = f"<details><summary><b>secret-looking values written in clear</b> · {len(rows)}</summary>"
    text = "\n".join([title, "", *rows, "", "</details>", "", ""])
    return _Section(text, 0, False, "the secret warnings")


def _fit(head: str, sections: list[_Section], limit: int) -> str:
    """``head`` and as many whole ``sections`` as fit in ``limit``, with a note of what was left out."""
    whole = head + "".join(s.text for s in sections)
    if _size(whole) <= limit:
        return whole
    worst = _note([s for s in sections if not s.kept], sections)  # the longest the note can be
    budget = limit - _size(head) - _size(worst) - sum(_size(s.text) for s in sections if s.kept)
    kept, left = [], []
    for section in sections:
        size = _size(section.text)
        if section.kept:
            kept.append(section)
        elif size <= budget:
            kept.append(section)
            budget -= size
        else:
            left.append(section)
    return head + _note(left, sections) + "".join(s.text for s in kept)


def _note(left: list[_Section], sections: list[_Section]) -> str:
    applications, cut = (sum(1 for s in among if s.application) for among in (sections, left))
    what = [f"{cut} of {applications} applications"] if cut else []
    what += [s.title for s in left if not s.application]
    changes = sum(s.changes for s in left)
    total = sum(s.changes for s in sections)
    return (
        f"> **Cut to fit a comment ({COMMENT_LIMIT:,} characters):** {' and '.join(what)} left out "
        f"({changes} of {total} changes). Run `reconciler plan` for the whole plan.\n\n"
    )


def _size(text: str) -> int:
    return len(text.encode())


def _resource(kind: str, name: str) -> str:
    return f"{_html(kind)} {_code(name)}"


def _fenced(lines: list[str], info: str) -> list[str]:
    """A fenced code block of ``lines`` (each one line already), its fence longer than any backtick run in them."""
    runs = [len(run) for line in lines for run in _BACKTICKS.findall(line)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [fence + info, *lines, fence]


def _code(text: str) -> str:
    """``text`` as a code span: delimited by more backticks than any run in it, padded with a space each side
    (which CommonMark strips), so that it may begin or end with a backtick."""
    text = _one_line(text)
    ticks = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{ticks} {text} {ticks}"


def _html(text: str) -> str:
    return html.escape(_one_line(text))


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, str):
        return _one_line(value)
    return _one_line(json.dumps(value, default=str, ensure_ascii=False))


def _one_line(text: str) -> str:
    """``text`` with every control character and line or paragraph separator written as its escape (``\\n``)."""
    return _BREAKING.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)
