"""The web UI's pages, rendered from the ``GET /status`` body (docs/ui.md): the estate, the applications (filtered
by state, health and name, a page at a time), one application, the shared resources.

With several targets (accounts and Regions; ``targets`` of the body), the estate page gets a panel of them, the
lists a target column and a ``target`` filter, and every link to an application or a resource names its target
(``?target=``), since names are unique per target only. Each resource entry and each application names its
target (``target``), and so does each entry of ``shared`` (``{target, kind, name}``; a bare ``Kind/name`` is
looked up in every target). With one target the pages are as they were before targets: no column, no filter, no
``?target=``.

Pure: a status dict in, a string out. The status body is already masked (``runtime/report.py``: secrets in
diffs, errors and reasons); every value of it is escaped here through ``markup.html``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from reconciler.ui.markup import Markup, escape, href, html, join

PAGE_SIZE = 100  # applications per page of the list
ATTENTION_LIMIT = 50  # resources listed on the estate page as needing attention
HISTORY_LIMIT = 20  # changes and drift episodes shown for one application
REFRESH_SECONDS = 5
STATES = ("Synced", "Drifted", "Pending", "Error")
HEALTHS = ("Healthy", "Progressing", "Suspended", "Degraded", "Missing", "Unknown")
_STATE_RANK = {"Synced": 0, "Pending": 1, "Drifted": 2, "Error": 3}  # an application's state: its worst
# Unknown (mostly "not read yet") ranks low, so that it does not hide what is known to be wrong.
_HEALTH_RANK = {"Healthy": 0, "Unknown": 1, "Suspended": 2, "Progressing": 3, "Missing": 4, "Degraded": 5}
_SHA = re.compile(r"[0-9a-f]{7,40}")
_URL = re.compile(
    r"(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[A-Za-z0-9.-]+)(?::\d+)?/(?P<path>[^?#]+?)(?:\.git)?/?"
)
_SCP = re.compile(r"(?:[^@/]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/][^?#]*?)(?:\.git)?/?")
Entry = Mapping[str, Any]


@dataclass(frozen=True)
class Options:
    """What the daemon was started with that the pages show: the "Sync now" form (``--ui-sync``)."""

    sync: bool = False


@dataclass
class Estate:
    """The status body, indexed once per page: entries by target and ``Kind/name``, the applications by target
    and name, the shared resources as target and ``Kind/name`` (the target ``None`` when the body does not say),
    the targets' names."""

    status: Mapping[str, Any]
    entries: dict[tuple[str | None, str], Entry] = field(default_factory=dict)
    # (target, name) → its keys, the service first
    applications: dict[tuple[str | None, str], list[str]] = field(default_factory=dict)
    shared: list[tuple[str | None, str]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # in the body's order; more than one: the pages say them

    @classmethod
    def of(cls, status: Mapping[str, Any]) -> Estate:
        resources = status.get("resources") or ()
        named = [
            str(t["name"]) for t in status.get("targets") or () if isinstance(t, Mapping) and t.get("name")
        ]
        targets = list(dict.fromkeys([*named, *(t for e in resources if (t := _target(e)) is not None)]))
        of = _target if len(targets) > 1 else _no_target  # one target: nothing is told apart by it
        entries = {(of(e), f"{e.get('kind')}/{e.get('name')}"): e for e in resources}
        applications = {
            (of(a), str(a.get("name"))): list(a.get("resources") or ())
            for a in status.get("applications") or ()
        }
        shared = [
            (of(k), _key(k)) if isinstance(k, Mapping) else (None, str(k)) for k in status.get("shared") or ()
        ]
        return cls(status, entries, applications, shared, targets)

    @property
    def several(self) -> bool:
        """More than one target: the pages name them."""
        return len(self.targets) > 1

    def entry(self, key: str, target: str | None = None) -> Entry:
        """A resource's status entry (in any target when ``target`` is None); one grouped but not planned yet is
        Pending and of unknown health."""
        found = self.entries.get((target, key))
        if found is None and target is None and self.several:
            found = next((e for (_, k), e in self.entries.items() if k == key), None)
        if found is not None:
            return found
        kind, _, name = key.partition("/")
        pending = {"kind": kind, "name": name, "state": "Pending", "health": "Unknown"}
        return pending | ({"target": target} if target is not None else {})

    def shared_entries(self) -> list[Entry]:
        """The shared resources: each of its target (Pending when not read yet), in the body's order; a key that
        names no target, in every target that has it (Pending when none has it yet)."""
        if not self.several:
            return [self.entry(key) for _, key in self.shared]
        found = []
        for target, key in dict.fromkeys(self.shared):
            matching = [e for (t, k), e in self.entries.items() if k == key and target in (None, t)]
            found += matching or [self.entry(key, target)]
        return found

    def is_shared(self, key: str, target: str | None = None) -> bool:
        """``key`` is a shared resource (of ``target``, when there are several targets and it is given)."""
        return any(k == key and (None in (t, target) or t == target) for t, k in self.shared)

    def summary(self, app: tuple[str | None, str]) -> Summary:
        entries = [self.entry(key, app[0]) for key in self.applications.get(app, ())]
        return Summary(app[1], entries, app[0])

    def find(self, name: str, target: str | None) -> tuple[str | None, str] | None:
        """The application ``name`` of ``target`` (of the first target that has one when ``target`` is None)."""
        return next(
            (app for app in self.applications if app[1] == name and (target is None or app[0] == target)),
            None,
        )


def _target(entry: Mapping[str, Any]) -> str | None:
    target = entry.get("target")
    return str(target) if target is not None else None


def _no_target(_: Mapping[str, Any]) -> None:
    return None


def _key(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('kind')}/{entry.get('name')}"


@dataclass(frozen=True)
class Summary:
    """One application at a glance: its worst state and health, its service's revision and deployment."""

    name: str
    entries: list[Entry]
    target: str | None = None

    @property
    def state(self) -> str:
        return max((str(e.get("state")) for e in self.entries), key=_state_rank, default="Pending")

    @property
    def health(self) -> str:
        return max((str(e.get("health")) for e in self.entries), key=_health_rank, default="Unknown")

    @property
    def service(self) -> Entry:
        return next((e for e in self.entries if e.get("kind") == "Service"), {})

    @property
    def last_change(self) -> str:
        return max((str(e.get("lastChange")) for e in self.entries if e.get("lastChange")), default="")


def _state_rank(state: str) -> int:
    return _STATE_RANK.get(state, 1)


def _health_rank(health: str) -> int:
    return _HEALTH_RANK.get(health, 1)


# ---------------------------------------------------------------- pages


def estate_page(status: Mapping[str, Any], options: Options = Options()) -> str:
    estate = Estate.of(status)
    entries = list(estate.entries.values())
    cards = [
        _card("Resources", _counts_of(entries)),
        _card("Revision", _revision(status)),
        _card("Source", _source(status.get("source") or {})),
        _card("Last pass", _last_pass(status.get("lastPass"))),
        _card("Writer", _coordination(status.get("coordination"))),
    ]
    targets = [t for t in status.get("targets") or () if isinstance(t, Mapping)]
    attention = [e for e in entries if e.get("state") != "Synced" or e.get("health") not in ("Healthy", None)]
    app_of = {(target, key): name for (target, name), keys in estate.applications.items() for key in keys}
    panel = [html("<h2>Targets</h2>"), _targets(targets)] if len(targets) > 1 else []
    body = [
        html("<h1>Estate</h1>"),
        html('<section class="cards">{}</section>', join(cards)),
        *panel,
        html(
            '<h2>Applications</h2><p><a href="{}">{} applications</a>; {} shared resources (<a href="{}">shared</a>)'
            "</p>",
            href("/applications"),
            len(estate.applications),
            len(estate.shared),
            href("/shared"),
        ),
        html("<h2>Needing attention</h2>"),
        _attention(attention, app_of, several=estate.several)
        if attention
        else html('<p class="muted">every resource is Synced and Healthy</p>'),
    ]
    return _layout("Estate", join(body), status, options, active="estate")


def applications_page(
    status: Mapping[str, Any], query: Mapping[str, str], options: Options = Options()
) -> str:
    estate = Estate.of(status)
    state, health, name = query.get("state", ""), query.get("health", ""), query.get("q", "").strip()
    target = query.get("target", "") if estate.several else ""
    summaries = [estate.summary(app) for app in estate.applications]
    chosen = [
        s
        for s in summaries
        if (not state or s.state == state)
        and (not health or s.health == health)
        and (not name or name in s.name)
        and (not target or s.target == target)
    ]
    page = _page_number(query.get("page", ""), len(chosen))
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    filters = {"state": state, "health": health, "q": name} | ({"target": target} if estate.several else {})
    headings = ("application", "state", "health", "resources", "revision", "last change", "deployment")
    table = (
        _table(
            _with_target(headings, estate.several),
            (
                _with_target(
                    (
                        html(
                            '<a href="{}">{}</a>',
                            _app_href(a.name, a.target if estate.several else None),
                            a.name,
                        ),
                        _badge("s", a.state),
                        _badge("h", a.health),
                        len(a.entries),
                        _code(_short(a.service.get("revision") or status.get("revision"))),
                        a.last_change or "-",
                        a.service.get("deployment") or "",
                    ),
                    estate.several,
                    a.target,
                )
                for a in shown
            ),
        )
        if shown
        else _none("no application matches")
    )
    body = [
        html("<h1>Applications</h1>"),
        _filters(filters, estate.targets if estate.several else ()),
        _pager(page, len(chosen), len(summaries), filters),
        table,
    ]
    return _layout("Applications", join(body), status, options, active="applications")


def application_page(
    status: Mapping[str, Any], name: str, options: Options = Options(), *, target: str | None = None
) -> str | None:
    """One application's page (of ``target``: with several targets, ``?target=``; None: the first target that
    has one of that name); None when the estate has no application ``name`` there."""
    estate = Estate.of(status)
    found = estate.find(name, (target or None) if estate.several else None)
    if found is None:
        return None
    summary = estate.summary(found)
    service = summary.service
    head = html(
        '<h1>{} <span class="kind">application</span></h1><p>{}{} {} · revision <code>{}</code>{}</p>',
        name,
        html("target <strong>{}</strong> · ", summary.target) if estate.several else "",
        _badge("s", summary.state),
        _badge("h", summary.health),
        _short(service.get("revision") or status.get("revision")),
        html(" · deployment {}", service["deployment"]) if service.get("deployment") else "",
    )
    body = [head, *_resource_sections(summary.entries, deployments=service.get("deployments"))]
    return _layout(name, join(body), status, options, active="applications")


def shared_page(status: Mapping[str, Any], options: Options = Options(), *, target: str | None = None) -> str:
    """The shared resources (of ``target`` only, with several targets and ``?target=``)."""
    estate = Estate.of(status)
    entries = estate.shared_entries()
    if estate.several and target:
        entries = [e for e in entries if _target(e) == target]
    body = [
        html("<h1>Shared resources</h1>"),
        html(
            '<p class="muted">used by several applications, or by none: clusters, load balancers, listeners…</p>'
        ),
        *([_target_filter("/shared", estate.targets, target or "")] if estate.several else []),
        *_resource_sections(entries, deployments=None, several=estate.several),
    ]
    return _layout("Shared", join(body), status, options, active="shared")


def resource_page_path(
    status: Mapping[str, Any], kind: str, name: str, target: str | None = None
) -> str | None:
    """The page that shows the resource ``kind``/``name`` (its application's, or the shared resources'), for links
    made outside the UI (a notification names a resource, not its application); None when there is none. With
    several targets, the resource of ``target`` (``?target=``; None: of any target), and the page's link names
    the target."""
    key = f"{kind}/{name}"
    estate = Estate.of(status)
    for application in status.get("applications") or ():
        mine = not target or not estate.several or _target(application) in (None, target)
        if mine and key in (application.get("resources") or ()):
            where = _target(application) or target
            return _app_href(str(application.get("name")), where if estate.several else None)
    if not estate.is_shared(key, target if estate.several else None):
        return None
    return href("/shared", {"target": target or ""}) if estate.several else "/shared"


def not_found_page(status: Mapping[str, Any], what: str, options: Options = Options()) -> str:
    body = html(
        '<h1>Not found</h1><p>{}</p><p><a href="{}">all applications</a></p>', what, href("/applications")
    )
    return _layout("Not found", body, status, options, active="")


# ---------------------------------------------------------------- parts


def _layout(title: str, body: Markup, status: Mapping[str, Any], options: Options, *, active: str) -> str:
    nav = join(
        html('<a href="{}"{}>{}</a>', path, Markup(' aria-current="page"') if key == active else "", label)
        for key, path, label in (
            ("estate", "/", "Estate"),
            ("applications", "/applications", "Applications"),
            ("shared", "/shared", "Shared"),
        )
    )
    sync = (
        html(
            '<form id="sync-form" method="post" action="/ui/sync"><input type="password" name="token" '
            'placeholder="token" autocomplete="off" required aria-label="sync token">'
            '<button type="submit">Sync now</button><span id="sync-result"></span></form>'
        )
        if options.sync
        else ""
    )
    page = html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{} · reconciler</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<noscript><meta http-equiv="refresh" content="{}"></noscript>'
        '<link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/ui/static/ui.css"></head><body>'
        '<header><a href="/">reconciler</a><nav>{}</nav><span class="spacer"></span>'
        '<span class="meta">revision <code>{}</code> · <span id="refresh-state">refreshes every {} s</span></span>'
        "{}</header><main>{}</main>"
        '<script src="/ui/static/ui.js"></script></body></html>',
        title,
        REFRESH_SECONDS * 2,
        nav,
        _short(status.get("revision")),
        REFRESH_SECONDS,
        sync,
        body,
    )
    return str(page)


def _card(title: str, content: Markup) -> Markup:
    return html('<div class="card"><h2>{}</h2>{}</div>', title, content)


def _dl(rows: Iterable[tuple[str, object]]) -> Markup:
    return html("<dl>{}</dl>", join(html("<dt>{}</dt><dd>{}</dd>", k, v) for k, v in rows))


def _badge(prefix: str, value: object) -> Markup:
    text = str(value or "-")
    css = re.sub(r"[^A-Za-z]", "", text)  # a class name from a known word; the text itself is escaped
    return html('<span class="badge {}-{}">{}</span>', prefix, css, text)


def _counts_of(entries: Sequence[Entry]) -> Markup:
    def line(field_: str, prefix: str, known: Sequence[str]) -> Markup:
        counts: dict[str, int] = {}
        for entry in entries:
            value = str(entry.get(field_) or "-")
            counts[value] = counts.get(value, 0) + 1
        ordered = [v for v in known if v in counts] + sorted(set(counts) - set(known))
        return join(
            html(
                '<a href="{}">{} {}</a>',
                href("/applications", {field_: value}),
                counts[value],
                _badge(prefix, value),
            )
            for value in ordered
        )

    return html(
        '<p>{} resources</p><p class="counts">{}</p><p class="counts">{}</p>',
        len(entries),
        line("state", "s", STATES),
        line("health", "h", HEALTHS),
    )


def _revision(status: Mapping[str, Any]) -> Markup:
    revision = status.get("revision")
    if not revision:
        return html('<p class="muted">no valid desired state loaded yet</p>')
    source = status.get("source") or {}
    url = commit_url(str(source["git"]), str(revision)) if source.get("git") else None
    if url is None:
        return html("<p><code>{}</code></p>", revision)
    return html('<p><a href="{}"><code>{}</code></a></p>', url, revision)


def _source(source: Mapping[str, Any]) -> Markup:
    if "git" not in source:
        return _dl([("directory", source.get("dir", "-"))])
    rows: list[tuple[str, object]] = [
        ("git", source["git"]),
        ("checked out", _short(source.get("revision"))),
        ("last fetch", source.get("lastFetch") or "never"),
    ]
    if source.get("lastError"):
        rows.append(("fetch error", html('<span class="error">{}</span>', source["lastError"])))
    return _dl(rows)


def _last_pass(last: Mapping[str, Any] | None) -> Markup:
    if not last:
        return html('<p class="muted">no pass yet</p>')
    return _dl(
        [
            ("at", last.get("at", "-")),
            ("kind", "targeted" if last.get("targeted") else "full"),
            ("took", _took(last)),
            ("revision", _short(last.get("revision"))),
            ("changes", _changes_counted(last)),
        ]
    )


def _coordination(coordination: Mapping[str, Any] | None) -> Markup:
    if not coordination:
        return html("<p>one replica: it writes</p>")
    if coordination.get("kind") == "shards":
        held = ", ".join(str(s) for s in coordination.get("held") or ()) or "none"
        return _dl(
            [
                ("replica", coordination.get("replica", "-")),
                ("members", ", ".join(str(m) for m in coordination.get("members") or ()) or "-"),
                ("shards held", f"{held} of {coordination.get('count', '-')}"),
            ]
        )
    return _dl(
        [
            ("replica", coordination.get("replica", "-")),
            ("leader", "this replica" if coordination.get("leader") else "another replica"),
        ]
    )


def _targets(targets: Sequence[Mapping[str, Any]]) -> Markup:
    """The targets panel: each target's account and Region, whether it answered (or why not), its last pass."""
    instances = any(t.get("instance") for t in targets)
    headings = ("target", "account", "Region", *(("instance",) if instances else ()), "answered", "last pass")
    return _table(
        headings,
        (
            (
                html(
                    '<a href="{}">{}</a>',
                    href("/applications", {"target": str(t.get("name") or "")}),
                    t["name"],
                )
                if t.get("name")
                else "-",
                t.get("account") or "-",
                t.get("region") or "-",
                *((t.get("instance") or "-",) if instances else ()),
                _answered(t),
                _target_pass(t.get("lastPass")),
            )
            for t in targets
        ),
    )


_NO_ANSWER = Markup('<span class="badge s-Error">no answer</span>')


def _answered(target: Mapping[str, Any]) -> Markup:
    """Whether the target answered on its last pass (``answered``: true, false, or when), or why not (``error``)."""
    if target.get("error"):
        return html('{} <span class="error">{}</span>', _NO_ANSWER, target["error"])
    answered = target.get("answered")
    if answered is None:
        return html('<span class="muted">not asked yet</span>')
    if answered is False:
        return _NO_ANSWER
    yes = Markup('<span class="badge h-Healthy">answered</span>')
    return html("{}{}", yes, "" if answered is True else html(" at {}", answered))


def _target_pass(last: object) -> Markup:
    if not last:
        return html('<span class="muted">no pass yet</span>')
    if not isinstance(last, Mapping):
        return escape(last)
    return html(
        "{} · {}, took {} · {}",
        last.get("at", "-"),
        "targeted" if last.get("targeted") else "full",
        _took(last),
        _changes_counted(last),
    )


def _took(last: Mapping[str, Any]) -> str:
    return f"{last.get('seconds', 0)} s"


def _changes_counted(last: Mapping[str, Any]) -> str:
    return (
        f"{last.get('applied', 0)} applied, {last.get('failed', 0)} failed, "
        f"{last.get('notApplied', 0)} not applied"
    )


def _attention(
    entries: Sequence[Entry], app_of: Mapping[tuple[str | None, str], str], *, several: bool = False
) -> Markup:
    def where(entry: Entry) -> Markup:
        target = _target(entry) if several else None
        app = app_of.get((target, f"{entry.get('kind')}/{entry.get('name')}"))
        if app:
            return html('<a href="{}">{}</a>', _app_href(app, target if several else None), app)
        return html(
            '<a href="{}">shared</a>', href("/shared", {"target": target or ""}) if several else "/shared"
        )

    table = _table(
        _with_target(("resource", "application", "state", "health", "why"), several),
        (
            _with_target(
                (
                    _resource_name(e),
                    where(e),
                    _badge("s", e.get("state")),
                    _badge("h", e.get("health")),
                    e.get("lastError") or e.get("healthReason") or "",
                ),
                several,
                _target(e),
            )
            for e in entries[:ATTENTION_LIMIT]
        ),
    )
    if len(entries) <= ATTENTION_LIMIT:
        return table
    return html(
        '{}<p class="muted">the first {} of {}: filter the <a href="/applications">applications</a></p>',
        table,
        ATTENTION_LIMIT,
        len(entries),
    )


def _filters(filters: Mapping[str, str], targets: Sequence[str] = ()) -> Markup:
    def choices(field_: str, values: Sequence[str]) -> Markup:
        links = []
        for value in ("", *values):
            query = {**filters, field_: value, "page": ""}
            on = Markup(' class="on"') if filters.get(field_, "") == value else ""
            links.append(html('<a href="{}"{}>{}</a>', href("/applications", query), on, value or "all"))
        return html("<span>{}: {}</span>", field_, join(links))

    return html(
        '<div class="filters">{}{}{}<label>name <input id="name-filter" value="{}" placeholder="part of a name, '
        'Enter"></label></div>',
        choices("target", targets) if targets else "",
        choices("state", STATES),
        choices("health", HEALTHS),
        filters.get("q", ""),
    )


def _target_filter(path: str, targets: Sequence[str], chosen: str) -> Markup:
    """``target: all | prod-eu | …``, each a link to ``path`` with that ``?target=``."""
    links = [
        html(
            '<a href="{}"{}>{}</a>',
            href(path, {"target": value}),
            Markup(' class="on"') if chosen == value else "",
            value or "all",
        )
        for value in ("", *targets)
    ]
    return html('<div class="filters"><span>target: {}</span></div>', join(links))


def _with_target(row: Sequence[object], several: bool, target: object = "target") -> tuple[object, ...]:
    """``row`` with the target after its first cell, when there are several targets."""
    return (row[0], target or "-", *row[1:]) if several else tuple(row)


def _page_number(text: str, total: int) -> int:
    last = max(1, -(-total // PAGE_SIZE))
    return min(max(int(text), 1), last) if text.isdigit() else 1


def _pager(page: int, matching: int, total: int, filters: Mapping[str, str]) -> Markup:
    first, last = (page - 1) * PAGE_SIZE + 1, min(page * PAGE_SIZE, matching)
    shown = (
        html("{} to {} of {} matching ({} applications)", first, last, matching, total) if matching else ""
    )
    links = []
    if page > 1:
        links.append(
            html('<a href="{}">← previous</a>', href("/applications", {**filters, "page": str(page - 1)}))
        )
    if last < matching:
        links.append(
            html('<a href="{}">next →</a>', href("/applications", {**filters, "page": str(page + 1)}))
        )
    note = html(" ({} a page)", PAGE_SIZE) if matching > PAGE_SIZE else ""
    return html('<div class="pager"><span>{}{}</span>{}</div>', shown, note, join(links))


_KIND_GROUPS = (
    ("task definition", ("TaskDefinition",)),
    ("load balancing", ("LoadBalancer", "TargetGroup", "Listener", "ListenerRule")),
    ("scaling", ("ScalableTarget", "ScalingPolicy", "ScheduledAction")),
    ("service discovery", ("DiscoveryService",)),
    ("deployments", ("DeploymentGroup",)),
)


def _resource_sections(
    entries: Sequence[Entry], *, deployments: object, several: bool = False
) -> list[Markup]:
    """The tree, the diff, the fields left to others, the last changes, the deployments, the drift episodes."""
    sections = [html("<h2>Resources</h2>"), _tree(entries, several=several)]
    diffs = [(e, d) for e in entries for d in e.get("diff") or ()]
    sections += [html("<h2>Diff (live → desired)</h2>"), _diff(diffs) if diffs else _none("no difference")]
    owned = [(e, o) for e in entries for o in e.get("owned") or ()]
    if owned:
        sections += [html("<h2>Fields left to another owner</h2>"), _owned(owned)]
    sections += [html("<h2>Last changes</h2>"), _changes(entries)]
    if deployments is not None:
        sections += [html("<h2>Deployments</h2>"), _deployments(deployments)]
    sections += [html("<h2>Drift episodes</h2>"), _episodes(entries)]
    return sections


def _none(text: str) -> Markup:
    return html('<p class="muted">{}</p>', text)


def _tree(entries: Sequence[Entry], *, several: bool = False) -> Markup:
    services = [e for e in entries if e.get("kind") == "Service"]
    rest = [e for e in entries if e.get("kind") != "Service"]
    branches = []
    for label, kinds in _KIND_GROUPS:
        members = [e for e in rest if e.get("kind") in kinds]
        if members:
            leaves = join(_leaf(e, several=several) for e in members)
            branches.append(html('<li><span class="kind">{}</span><ul>{}</ul></li>', label, leaves))
    others = [e for e in rest if not any(e.get("kind") in kinds for _, kinds in _KIND_GROUPS)]
    branches += [_leaf(e, several=several) for e in others]
    if services:
        roots = [html("{}<ul>{}</ul>", _leaf(s, tag=False), join(branches)) for s in services]
        return html('<ul class="tree">{}</ul>', join(html("<li>{}</li>", r) for r in roots))
    return html('<ul class="tree">{}</ul>', join(branches))


def _leaf(entry: Entry, *, tag: bool = True, several: bool = False) -> Markup:
    details = []
    if entry.get("healthReason"):
        details.append(html('<span class="muted">{}</span>', entry["healthReason"]))
    if entry.get("lastError"):
        details.append(html('<span class="error">{}</span>', entry["lastError"]))
    if entry.get("lastChange"):
        details.append(
            html(
                '<span class="muted">changed {} at revision <code>{}</code></span>',
                entry["lastChange"],
                _short(entry.get("revision")),
            )
        )
    if entry.get("lastDriftBy"):
        by = entry["lastDriftBy"]
        details.append(
            html(
                "<span>last drift by {}, found by {} at {}</span>",
                _principal(by),
                by.get("foundBy", "-"),
                by.get("at", "-"),
            )
        )
    text = html(
        "{}{} {} {}{}",
        html('<span class="muted">{}</span> ', _target(entry) or "-") if several else "",
        _resource_name(entry),
        _badge("s", entry.get("state")),
        _badge("h", entry.get("health")),
        join(html("<br>{}", d) for d in details),
    )
    return html("<li>{}</li>", text) if tag else text


def _resource_name(entry: Entry) -> Markup:
    return html('<span class="kind">{}</span> <strong>{}</strong>', entry.get("kind"), entry.get("name"))


def _principal(by: object) -> Markup:
    """Who: ``name (type)``, or ``type of account N`` when CloudTrail named no one; the ARN on hover."""
    if not isinstance(by, Mapping):
        return escape("-")
    kind = by.get("type") or "unknown"
    if by.get("name"):
        who = html("{} ({})", by["name"], kind)
    else:
        who = html("{} of account {}", kind, by["account"]) if by.get("account") else escape(kind)
    return html('<span title="{}">{}</span>', by["arn"], who) if by.get("arn") else who


def _value(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _diff(diffs: Sequence[tuple[Entry, Mapping[str, Any]]]) -> Markup:
    return _table(
        ("resource", "path", "live", "desired"),
        (
            (
                _resource_name(e),
                _code(d.get("path")),
                _code(_value(d.get("live"))),
                _code(_value(d.get("desired"))),
            )
            for e, d in diffs
        ),
    )


def _owned(owned: Sequence[tuple[Entry, Mapping[str, Any]]]) -> Markup:
    return _table(
        ("resource", "path", "owner"),
        ((_resource_name(e), _code(o.get("path")), o.get("owner")) for e, o in owned),
    )


def _changes(entries: Sequence[Entry]) -> Markup:
    changes = [(e, c) for e in entries for c in e.get("changes") or ()]
    if not changes:  # no history kept: each resource's last change
        changes = [
            (e, {"at": e["lastChange"], "revision": e.get("revision")})
            for e in entries
            if e.get("lastChange")
        ]
    if not changes:
        return _none("no change applied since the daemon started")
    changes.sort(key=lambda pair: str(pair[1].get("at") or ""), reverse=True)
    return _table(
        ("at", "resource", "action", "cause", "revision", "paths"),
        (
            (
                c.get("at", "-"),
                _resource_name(e),
                c.get("action", "-"),
                c.get("cause", "-"),
                _code(_short(c.get("revision"))),
                _code(_paths(c)),
            )
            for e, c in changes[:HISTORY_LIMIT]
        ),
    )


def _deployments(deployments: object) -> Markup:
    if not isinstance(deployments, Sequence) or not deployments:
        return _none("no deployments read yet")
    columns = ("id", "revision", "startedBy", "strategy", "status", "startedAt", "finishedAt", "reason")
    return _table(
        columns, ([d.get(c) or "-" for c in columns] for d in deployments if isinstance(d, Mapping))
    )


def _episodes(entries: Sequence[Entry]) -> Markup:
    episodes = [(e, ep) for e in entries for ep in e.get("driftEpisodes") or ()]
    if not episodes:
        return _none("no drift since the daemon started")
    episodes.sort(key=lambda pair: str(pair[1].get("detectedAt") or ""), reverse=True)
    return _table(
        ("detected", "corrected", "resource", "by", "paths"),
        (
            (
                ep.get("detectedAt", "-"),
                ep.get("correctedAt") or "not corrected",
                _resource_name(e),
                _principal(ep.get("by")),
                _code(_paths(ep)),
            )
            for e, ep in episodes[:HISTORY_LIMIT]
        ),
    )


def _table(headings: Sequence[object], rows: Iterable[Sequence[object]]) -> Markup:
    """A table of ``rows``, each cell escaped unless it is ``Markup``."""
    return html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        join(html("<th>{}</th>", heading) for heading in headings),
        join(html("<tr>{}</tr>", join(html("<td>{}</td>", cell) for cell in row)) for row in rows),
    )


def _code(text: object) -> Markup:
    return html("<code>{}</code>", text)


def _paths(record: Mapping[str, Any]) -> str:
    return ", ".join(str(p) for p in record.get("paths") or ())


def _short(revision: object) -> str:
    text = str(revision or "-")
    return text[:12]


def _app_href(name: str, target: str | None = None) -> str:
    """An application's page; with several targets, ``target``'s (``?target=``)."""
    return "/applications/" + quote(name, safe="") + ("?" + urlencode({"target": target}) if target else "")


def commit_url(git: str, sha: str) -> str | None:
    """The commit's page at its Git host, for a source shown as ``URL@REF`` (``source.git`` of ``/status``), when
    the host is GitHub, GitLab (gitlab.com, or a host named gitlab…) or Bitbucket; https and ssh forms alike."""
    if not _SHA.fullmatch(sha):
        return None
    url = _without_ref(git)
    match = _URL.fullmatch(url) or _SCP.fullmatch(url)
    if match is None:
        return None
    host, path = match["host"].lower(), quote(match["path"].strip("/"), safe="/")
    if host == "github.com":
        return f"https://{host}/{path}/commit/{sha}"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"https://{host}/{path}/-/commit/{sha}"
    if host == "bitbucket.org":
        return f"https://{host}/{path}/commits/{sha}"
    return None


def _without_ref(git: str) -> str:
    """``URL@REF`` → ``URL``. A ref may hold ``/`` (``feature/x``, ``refs/tags/v1``) and a URL an ``@`` (its user),
    so the cut is at the last ``@`` whose left side is a URL."""
    at = len(git)
    while (at := git.rfind("@", 0, at)) > 0:
        if _URL.fullmatch(git[:at]) or _SCP.fullmatch(git[:at]):
            return git[:at]
    return git
