"""The web UI's stylesheet and script, served by the daemon at ``/ui/static/`` (no build step, nothing from the
internet): the pages' Content-Security-Policy allows scripts and styles from the daemon itself only."""

from __future__ import annotations

CSS = """
:root { --fg: #1d2430; --muted: #5b6472; --line: #d8dde5; --bg: #f6f7f9; --card: #fff;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .6rem 1.2rem;
  background: #24292f; color: #fff; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header nav { display: flex; gap: 1rem; }
header .spacer { flex: 1; }
header .meta { color: #c9d1d9; font-size: 12px; }
header form { display: flex; gap: .4rem; align-items: center; }
header input { padding: .2rem .4rem; }
main { padding: 1rem 1.2rem 2rem; max-width: 1400px; }
h1 { font-size: 20px; margin: .2rem 0 1rem; }
h2 { font-size: 16px; margin: 1.4rem 0 .5rem; }
section.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: .8rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; }
.card h2 { margin-top: 0; font-size: 14px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #eef1f4; font-weight: 600; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 10px; font-size: 12px; font-weight: 600;
  border: 1px solid currentColor; white-space: nowrap; }
.s-Synced, .h-Healthy { color: var(--ok); }
.s-Drifted, .h-Progressing, .s-Pending, .h-Suspended { color: var(--warn); }
.s-Error, .h-Degraded, .h-Missing { color: var(--bad); }
.h-Unknown { color: var(--muted); }
.muted { color: var(--muted); }
.error { color: var(--bad); }
.filters { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; margin-bottom: .8rem; }
.filters a { padding: .1rem .5rem; border-radius: 4px; text-decoration: none; color: var(--info); }
.filters a.on { background: var(--info); color: #fff; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; }
.counts a { text-decoration: none; }
ul.tree { list-style: none; padding-left: 0; margin: 0; }
ul.tree ul { list-style: none; padding-left: 1.2rem; border-left: 1px solid var(--line); margin: .2rem 0 .4rem .4rem; }
ul.tree li { padding: .15rem 0; }
.kind { color: var(--muted); }
.pager { margin: .6rem 0; display: flex; gap: 1rem; }
#refresh-state { font-size: 12px; }
"""

# Refreshes <main> from the same address every few seconds (the header, and a token being typed, stay); the
# name filter navigates on Enter; "Sync now" posts without leaving the page. Without JavaScript a <noscript>
# meta refresh reloads the page, and the sync form posts as a plain form.
JS = """
(function () {
  "use strict";
  var REFRESH_MS = 5000;
  var stateEl = document.getElementById("refresh-state");

  function say(text) { if (stateEl) { stateEl.textContent = text; } }

  function refresh() {
    if (document.hidden) { return later(); }
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin",
                                  cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("main");
        var old = document.querySelector("main");
        if (fresh && old) { old.replaceWith(document.adoptNode(fresh)); }
        say("refreshed " + new Date().toLocaleTimeString());
      })
      .catch(function (error) { say("not refreshed: " + error.message); })
      .then(later);
  }

  function later() { window.setTimeout(refresh, REFRESH_MS); }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input || input.id !== "name-filter") { return; }
    var url = new URL(window.location.href);
    if (input.value) { url.searchParams.set("q", input.value); } else { url.searchParams.delete("q"); }
    url.searchParams.delete("page");
    window.location.assign(url.toString());
  });

  var sync = document.getElementById("sync-form");
  if (sync) {
    sync.addEventListener("submit", function (event) {
      event.preventDefault();
      var result = document.getElementById("sync-result");
      fetch(sync.action, { method: "POST", body: new URLSearchParams(new FormData(sync)),
                           credentials: "same-origin" })
        .then(function (response) {
          result.textContent = response.status === 202 ? "sync requested"
            : response.status === 401 ? "wrong token" : "failed: HTTP " + response.status;
        })
        .catch(function (error) { result.textContent = "failed: " + error.message; });
    });
  }

  later();
})();
"""

# A small icon, so that browsers asking for one get it rather than a 404.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<circle cx="8" cy="8" r="7" fill="#1a7f37"/><path d="M4 8l3 3 5-6" stroke="#fff" stroke-width="2" fill="none"/>'
    "</svg>"
)
