"""Conformance with AWS's own examples: the outputs printed in the AWS CLI's documentation, read as a pass reads
them, against the documents a user writes for those resources.

For each case: the document plans no change against the output when the reconciler manages the resource (our
tags on it), and only an adoption (our tags, no field) when it does not; one field changed in the document plans
exactly that difference, as a change from Git.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model.ownership import RESERVED_PREFIXES
from reconciler.model.resource import ResourceKey
from reconciler.plan.types import Action, Cause, Change, Plan
from tests.conformance import harness
from tests.conformance.cases import CASES, SKIPPED, Case
from tests.conformance.harness import Output


def change_of(plan: Plan, case: Case) -> Change | None:
    return next((c for c in plan.changes if (c.kind, c.name) == case.subject), None)


def described(change: Change | None) -> list[tuple[str, object, object]]:
    return [(d.path, d.desired, d.live) for d in change.diff] if change else []


def _params() -> list[object]:
    return [
        pytest.param(
            case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=case.drift)] if case.drift else []
        )
        for case in CASES
    ]


@pytest.fixture(params=_params())
def case(request: pytest.FixtureRequest) -> Case:
    found: Case = request.param
    return found


def test_the_document_plans_no_change_against_the_output(case: Case, tmp_path: Path) -> None:
    desired = harness.load(case.documents, tmp_path, validate=case.validate)
    live = harness.live_state(desired, case.live, owned=True, attributes=case.attributes)
    plan = harness.plan(desired, live)
    assert described(change_of(plan, case)) == []
    assert ResourceKey(*case.subject) in plan.in_sync
    assert plan.families_to_read == []


def test_a_resource_made_elsewhere_is_adopted_without_a_field_change(case: Case, tmp_path: Path) -> None:
    desired = harness.load(case.documents, tmp_path, validate=case.validate)
    live = harness.live_state(desired, case.live, owned=False, attributes=case.attributes)
    change = change_of(harness.plan(desired, live), case)
    assert change is not None
    fields = [path for path, _, _ in described(change) if not path.startswith(f"tags.{RESERVED_PREFIXES[0]}")]
    assert (change.action, fields) == (Action.ADOPT, [])


def test_one_changed_field_plans_exactly_that_change(case: Case, tmp_path: Path) -> None:
    desired = harness.load(case.documents, tmp_path, validate=case.validate)
    live = harness.live_state(desired, case.live, owned=True, attributes=case.attributes)
    documents = harness.edited(case.documents, case.subject, *case.edit)
    changed = harness.load(documents, tmp_path / "edited", validate=case.validate)
    change = change_of(harness.plan(changed, live), case)
    assert change is not None
    assert sorted(described(change), key=str) == sorted([*case.also, case.expect], key=str)
    assert (change.action.value, change.cause) == (case.action, Cause.DESIRED)


def test_the_corpus_is_large_enough_and_reads_every_page() -> None:
    pages = {output.page.split("/", 1)[1] for case in CASES for output in case.live}
    pages |= {case.attributes.page.split("/", 1)[1] for case in CASES if case.attributes}
    assert len(CASES) >= 25
    assert {
        "describe-services", "describe-task-definition", "describe-clusters", "describe-target-groups",
        "describe-target-group-attributes", "describe-load-balancers", "describe-load-balancer-attributes",
        "describe-listeners", "describe-scalable-targets", "describe-scaling-policies", "describe-scheduled-actions",
        "get-deployment-group", "get-service",
    } <= pages  # fmt: skip
    # describe-rules' page shows commands only: the rules are those of modify-rule and set-rule-priorities
    assert {"modify-rule", "set-rule-priorities"} <= pages


def output_blocks() -> list[Output]:
    """Every JSON block of the corpus that the page calls an output."""
    found = []
    for path in sorted(harness.EXAMPLES.glob("*/*.json")):
        name = f"{path.parent.name}/{path.stem}"
        for e, example in enumerate(harness.page(name)["examples"]):
            for b, block in enumerate(example["blocks"]):
                if "json" in block and "output" in block["intro"].lower():
                    found.append(Output(name, e, b))
    return found


def test_every_output_of_the_corpus_is_read_by_a_case_or_skipped_with_a_reason() -> None:
    def normal(output: Output) -> tuple[str, int, int]:
        blocks = harness.page(output.page)["examples"][output.example]["blocks"]
        return output.page, output.example, output.block % len(blocks)

    used = {
        normal(o) for case in CASES for o in (*case.live, *([case.attributes] if case.attributes else []))
    }
    skipped = {normal(o) for o in SKIPPED}
    assert not used & skipped
    assert [o for o in output_blocks() if normal(o) not in used | skipped] == []
