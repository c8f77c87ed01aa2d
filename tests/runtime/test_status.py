"""``reconciler status``: the table of every resource with its health, and one service in detail with its history."""

from __future__ import annotations

from typing import Any

from reconciler.runtime.status import find, status_detail, status_details, status_table

DEPLOYMENTS = [
    {"id": "sd-2", "revision": None, "startedBy": "outside the reconciler", "strategy": "ROLLING",
     "status": "ROLLBACK_SUCCESSFUL", "reason": "Service deployment rolled back", "startedAt": "2026-12-05T12:10:00+00:00",
     "finishedAt": "2026-12-05T12:14:00+00:00"},
    {"id": "sd-1", "revision": "0123456789abcdef", "startedBy": "reconciler", "strategy": "ROLLING",
     "status": "SUCCESSFUL", "reason": "", "startedAt": "2026-12-05T12:00:00+00:00", "finishedAt": None},
]  # fmt: skip
BODY: dict[str, Any] = {
    "revision": "0123456789abcdef",
    "source": {"dir": "/estate"},
    "resources": [
        {"kind": "Service", "name": "web", "state": "Synced", "revision": "0123456789abcdef", "lastChange": None,
         "lastError": "", "health": "Degraded", "healthReason": "deployment sd-2 is rolling back",
         "deployments": DEPLOYMENTS},
        {"kind": "TargetGroup", "name": "web", "state": "Synced", "revision": "", "lastChange": None,
         "lastError": "", "health": "Healthy", "healthReason": "2 of 2 targets healthy"},
    ],
}  # fmt: skip


def test_the_table_has_a_health_column_and_counts_healths() -> None:
    lines = status_table(BODY).splitlines()
    assert lines[3].split() == [
        "KIND",
        "NAME",
        "STATE",
        "HEALTH",
        "REVISION",
        "LAST",
        "CHANGE",
        "LAST",
        "ERROR",
    ]
    assert lines[4].split()[:5] == ["Service", "web", "Synced", "Degraded", "0123456789ab"]
    assert lines[-1] == "2 resources: 2 Synced; health: 1 Degraded, 1 Healthy"


def test_a_target_column_when_the_body_has_several_targets() -> None:
    failed = "cannot assume role arn:aws:iam::333333333333:role/reconciler: AccessDenied"
    body = BODY | {
        "targets": [
            {
                "name": "prod-eu",
                "account": "111111111111",
                "region": "eu-west-1",
                "answered": True,
                "error": None,
            },
            {
                "name": "dr",
                "account": "333333333333",
                "region": "eu-central-1",
                "answered": False,
                "error": failed,
            },
        ],
        "resources": [
            BODY["resources"][0] | {"target": "prod-eu"},
            BODY["resources"][1] | {"target": "prod-eu"},
        ],
    }
    lines = status_table(body).splitlines()
    assert lines[2] == f"target dr did not answer: {failed}"
    assert lines[4].split()[:3] == ["TARGET", "KIND", "NAME"]
    assert lines[5].split()[:5] == ["prod-eu", "Service", "web", "Synced", "Degraded"]
    one = BODY | {"targets": [{"name": "default", "answered": True}],
                  "resources": [r | {"target": "default"} for r in BODY["resources"]]}  # fmt: skip
    assert status_table(one) == status_table(BODY)  # one target: no column


def test_one_service_in_detail_with_its_deployments_newest_first() -> None:
    entry = find(BODY, "web")
    assert entry is not None and entry["kind"] == "Service"  # a service first, of resources of one name
    lines = status_detail(entry).splitlines()
    assert lines[0] == "Service/web"
    assert lines[2] == "health       Degraded: deployment sd-2 is rolling back"
    table = lines[lines.index("deployments, newest first") + 1 :]
    assert table[0].split()[:3] == ["ID", "REVISION", "STARTED"]
    assert table[1].split()[:2] == ["sd-2", "-"] and "outside the reconciler" in table[1]
    assert "ROLLBACK_SUCCESSFUL" in table[1] and table[1].endswith("Service deployment rolled back")
    assert table[2].split()[:3] == ["sd-1", "0123456789ab", "reconciler"]


def test_a_resource_by_kind_and_name() -> None:
    assert find(BODY, "TargetGroup/web") == BODY["resources"][1]
    assert "deployments" not in status_detail(BODY["resources"][1])
    assert find(BODY, "nothing") is None


def test_one_resource_in_detail_says_what_is_pending_and_who_made_its_drift() -> None:
    entry = BODY["resources"][0] | {
        "state": "Drifted",
        "diff": [{"path": "desiredCount", "live": 5, "desired": 1}],
        "lastDriftBy": {"type": "role", "name": "Deployer/jane", "arn": "arn:aws:sts::123456789012:assumed-role/Deployer/jane",
                        "foundBy": "event", "at": "2026-12-05T12:00:00Z"},
    }  # fmt: skip
    lines = status_detail(entry).splitlines()
    assert "pending      desiredCount: 5 → 1" in lines
    assert (
        "drift by     role Deployer/jane (arn:aws:sts::123456789012:assumed-role/Deployer/jane), found by event at "
        "2026-12-05T12:00:00Z"
    ) in lines
    periodic = entry | {"lastDriftBy": {"type": "unknown", "name": "", "foundBy": "periodic pass", "at": "t"}}
    assert "drift by     unknown, found by periodic pass at t" in status_detail(periodic).splitlines()
    unnamed = entry | {"lastDriftBy": {"type": "user", "name": "", "account": "123456789012", "foundBy": "event",
                                       "at": "t"}}  # fmt: skip
    assert (
        "drift by     user of account 123456789012, found by event at t"
        in status_detail(unnamed).splitlines()
    )


def test_a_name_in_two_targets_is_shown_in_each_or_in_the_one_asked_for() -> None:
    """Names are unique per target only: ``web`` of prod-eu and ``web`` of staging are two services."""
    web, group = BODY["resources"]
    body = BODY | {
        "targets": [{"name": "prod-eu"}, {"name": "staging"}],
        "resources": [
            web | {"target": "prod-eu"},
            group | {"target": "prod-eu"},
            web | {"target": "staging", "health": "Healthy", "healthReason": "1 of 1 tasks running"},
        ],
    }
    both = (status_details(body, "web") or "").split("\n\n")
    assert [part.splitlines()[0] for part in both if part.startswith("Service")] == [
        "Service/web in target prod-eu",
        "Service/web in target staging",
    ]
    assert "Degraded: deployment sd-2" in both[0] and "Healthy: 1 of 1 tasks running" in "".join(both[1:])
    staging = status_details(body, "web", "staging") or ""
    assert staging.startswith("Service/web in target staging\n") and "Degraded" not in staging
    assert status_details(body, "TargetGroup/web", "staging") is None
    assert (status_details(body, "TargetGroup/web") or "").startswith("TargetGroup/web in target prod-eu\n")
    assert status_details(BODY, "web") == status_detail(BODY["resources"][0])  # one target: as it was
