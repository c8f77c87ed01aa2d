"""``reconciler status``: a running daemon's ``GET /status`` as a table, for a person at a terminal; with a name, one
resource in detail (a service with its deployment history): with several targets, that of each target that has one
(names are unique per target only), or of the one ``--target`` names."""

from __future__ import annotations

import sys
from typing import Any

import aiohttp

from reconciler.model.principal import Principal, PrincipalType

COLUMNS = ("kind", "name", "state", "health", "revision", "lastChange", "lastError")
HEADINGS = ("KIND", "NAME", "STATE", "HEALTH", "REVISION", "LAST CHANGE", "LAST ERROR")
DEPLOYMENT_COLUMNS = (
    "id",
    "revision",
    "startedBy",
    "strategy",
    "status",
    "startedAt",
    "finishedAt",
    "reason",
)
DEPLOYMENT_HEADINGS = ("ID", "REVISION", "STARTED BY", "STRATEGY", "STATUS", "STARTED", "FINISHED", "REASON")
REVISION_WIDTH = 12  # a Git SHA's usual short form
TIMEOUT_SECONDS = 10


async def print_status(url: str, name: str | None = None, target: str | None = None) -> int:
    """Print the table, or ``name``'s detail (of ``target`` only, when given); 0, or 1 when the daemon cannot be
    reached or answers with an error, or has no resource of that name (there)."""
    address = url.rstrip("/") + "/status"
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(address) as response:
            response.raise_for_status()
            body: dict[str, Any] = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        print(f"error: cannot read {address}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    if name is None:
        print(status_table(body))
        return 0
    detail = status_details(body, name, target)
    if detail is None:
        where = f" in target {target!r}" if target else ""
        print(f"error: {address} has no resource named {name!r}{where}", file=sys.stderr)
        return 1
    print(detail)
    return 0


def status_table(body: dict[str, Any]) -> str:
    """The resources of a ``GET /status`` body as aligned columns, under the revision and the source's state;
    with more than one target, a TARGET column first, and a line for each target that did not answer."""
    entries: list[dict[str, Any]] = body.get("resources") or []
    several = len(_target_names(body)) > 1
    columns, headings = (("target", *COLUMNS), ("TARGET", *HEADINGS)) if several else (COLUMNS, HEADINGS)
    rows = [headings] + [tuple(_cell(entry, column) for column in columns) for entry in entries]
    summary = ", ".join(f"{n} {state}" for state, n in _counts(entries, "state")) or "no resources yet"
    healths = ", ".join(f"{n} {health}" for health, n in _counts(entries, "health"))
    failing = [
        f"target {t.get('name') or '-'} did not answer: {t['error']}".replace("\n", " ")
        for t in body.get("targets") or ()
        if isinstance(t, dict) and t.get("error")
    ]
    header = [
        f"revision {body.get('revision') or '-'}",
        *_source_lines(body.get("source") or {}),
        *failing,
        "",
    ]
    footer = f"{len(entries)} resources: {summary}" + (f"; health: {healths}" if healths else "")
    return "\n".join([*header, *_aligned(rows), "", footer])


def _target_names(body: dict[str, Any]) -> set[str]:
    """The targets a body names: its ``targets``' names and its resources' ``target``."""
    named = {str(t["name"]) for t in body.get("targets") or () if isinstance(t, dict) and t.get("name")}
    return named | {str(e["target"]) for e in body.get("resources") or () if e.get("target")}


def find(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The resource called ``name`` (``KIND/NAME``, or a name: a service's first), of the first target that has
    one."""
    return next(iter(find_each(body, name)), None)


def find_each(body: dict[str, Any], name: str, target: str | None = None) -> list[dict[str, Any]]:
    """The resource called ``name`` (``KIND/NAME``, or a name: a service's first) of each target that has one, in
    the body's order (of ``target`` only, when given)."""
    entries: list[dict[str, Any]] = body.get("resources") or []
    kind, _, bare = name.rpartition("/")
    named = [e for e in entries if e.get("name") == bare and (not kind or e.get("kind") == kind)]
    if target:
        named = [e for e in named if e.get("target") == target]
    found = []
    for where in dict.fromkeys(e.get("target") for e in named):
        theirs = [e for e in named if e.get("target") == where]
        found.append(next((e for e in theirs if e.get("kind") == "Service"), theirs[0]))
    return found


def status_details(body: dict[str, Any], name: str, target: str | None = None) -> str | None:
    """``name`` in detail (``status_detail``): with several targets, that of each target that has one, each saying
    its target; None when there is none."""
    found = find_each(body, name, target)
    several = len(_target_names(body)) > 1
    return "\n\n".join(status_detail(entry, target=several) for entry in found) if found else None


def status_detail(entry: dict[str, Any], *, target: bool = False) -> str:
    """One resource: its sync and its health, and a service's deployments, newest first; with ``target``, the
    target it is in after its name."""
    where = f" in target {entry.get('target') or '-'}" if target else ""
    lines = [
        f"{entry.get('kind')}/{entry.get('name')}{where}",
        f"state        {entry.get('state')} at revision {_cell(entry, 'revision')}, last change "
        f"{_cell(entry, 'lastChange')}",
        f"health       {entry.get('health', '-')}: {entry.get('healthReason') or '-'}",
    ]
    for label, field in (("deployment", "deployment"), ("last error", "lastError")):
        if entry.get(field):
            lines.append(f"{label:<12} {_cell(entry, field)}")
    for owned in entry.get("owned") or ():
        lines.append(f"owned        {owned.get('path')}: {owned.get('owner')}")
    for pending in entry.get("diff") or ():
        lines.append(
            f"pending      {pending.get('path')}: {pending.get('live')!r} → {pending.get('desired')!r}"
        )
    if by := entry.get("lastDriftBy"):
        lines.append(f"drift by     {_who(by)}, found by {by.get('foundBy')} at {by.get('at')}")
    if "deployments" in entry:
        deployments: list[dict[str, Any]] = entry["deployments"] or []
        lines += ["", "deployments, newest first" if deployments else "no deployments read yet"]
        if deployments:
            rows = [DEPLOYMENT_HEADINGS] + [
                tuple(_cell(d, column) for column in DEPLOYMENT_COLUMNS) for d in deployments
            ]
            lines += _aligned(rows)
    return "\n".join(lines)


def _who(principal: dict[str, Any]) -> str:
    """``role Deployer/jane (arn:…)``, ``user of account 123456789012``, or ``unknown``: as the daemon's log says it
    (``Principal.__str__``), with the ARN when there is one."""
    try:
        kind = PrincipalType(str(principal.get("type")))
    except ValueError:  # a type this version does not know
        kind = PrincipalType.UNKNOWN
    text = str(Principal(kind, str(principal.get("name") or ""), account=str(principal.get("account") or "")))
    return f"{text} ({principal['arn']})" if principal.get("arn") else text


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as columns as wide as their widest cell; the last column as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    ]


def _counts(entries: list[dict[str, Any]], field: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.get(field):
            counts[str(entry[field])] = counts.get(str(entry[field]), 0) + 1
    return sorted(counts.items())


def _source_lines(source: dict[str, Any]) -> list[str]:
    if "git" not in source:
        return [f"source {source.get('dir', '-')}"]
    lines = [f"source {source['git']} (checked out {source.get('revision') or '-'}, "
             f"last fetch {source.get('lastFetch') or 'never'})"]  # fmt: skip
    if source.get("lastError"):
        lines.append(f"last fetch failed: {source['lastError']}")
    return lines


def _cell(entry: dict[str, Any], column: str) -> str:
    value = entry.get(column)
    if value in (None, ""):
        return "-"
    text = str(value)
    return text[:REVISION_WIDTH] if column == "revision" else text.replace("\n", " ")
