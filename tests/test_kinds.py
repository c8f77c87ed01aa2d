"""What every registered kind must provide, in every layer: a kind is its ``KindInfo`` in ``KINDS``
(``model/kinds.py``), its planning (``PLANNING`` in ``plan/planner.py``, or the entry planning), one reader
(``live/readers.py``), one writer with an action for everything the kind can be planned for
(``apply/writers.py``), and its JSON Schema entry. Each test runs per kind, and fails naming the piece it lacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.writers import make_writers
from reconciler.desired import load_desired_state
from reconciler.live.clients import AwsClients
from reconciler.live.ecs import EcsReader
from reconciler.live.readers import make_readers
from reconciler.model.kinds import KINDS, KindInfo
from reconciler.model.resource import DesiredState
from reconciler.plan.planner import ENTRY, PLANNING
from reconciler.plan.types import Action
from reconciler.shapes import BotocoreSpecChecker
from reconciler.shapes.json_schema import schema_document
from reconciler.shapes.models import input_shape

EXAMPLE = Path(__file__).resolve().parents[1] / "desired-state"
# Unranked today, and planned so on purpose (see ``KindInfo.rank``): ranking them changes plans. A kind leaves this
# list when it gets a rank; no other kind may join it.
UNRANKED = frozenset({"DiscoveryService", "DeploymentGroup"})
# what references may name without its being a kind: Cloud Map namespaces
NOT_KINDS = frozenset({"Namespace"})

# never called: the readers and writers are only built, to ask them what they read and write
CLIENTS = AwsClients(region="us-east-1", endpoint_url=None)
ECS = EcsReader(CLIENTS, instance="default")
READERS = make_readers(CLIENTS, ECS, instance="default", tag_refresh_passes=3)
WRITERS = make_writers(CLIENTS, ECS)

kinds = pytest.mark.parametrize("kind", sorted(KINDS))


@pytest.fixture(scope="module")
def example() -> DesiredState:
    return load_desired_state(EXAMPLE, check_spec=BotocoreSpecChecker())


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return schema_document()


def plannable(info: KindInfo) -> set[Action]:
    """What a plan may ask of the kind's writer: create, update and adopt (``assess``), for every kind; replace
    when it has replace fields; delete when its orphans are pruned, which ``plan/prune.py`` finds among the
    entries, the services and the clusters (task definition revisions are never deleted)."""
    actions = {Action.CREATE, Action.UPDATE, Action.ADOPT}
    if info.replace_fields:
        actions.add(Action.REPLACE)
    if info.read_as_entry or info.kind in {"Cluster", "Service"}:
        actions.add(Action.DELETE)
    return actions


@kinds
def test_its_kind_info_names_a_botocore_request(kind: str) -> None:
    info = KINDS[kind]
    assert info.kind == kind, f"{kind}: registered under another name than its KindInfo's ({info.kind})"
    shape = input_shape(info.aws_service, info.create_operation)  # raises for an unknown service or operation
    assert not info.name_field or info.name_field in shape.members, (
        f"{kind}: name_field {info.name_field!r} is not a member of {info.aws_service} {info.create_operation}"
    )


@kinds
def test_it_has_a_canonical_form_and_tags_that_take_its_example_document(
    kind: str, example: DesiredState
) -> None:
    documents = example.of_kind(kind)
    assert documents, f"{kind}: no example document in desired-state/"
    info = KINDS[kind]
    for document in documents:
        assert isinstance(info.canonical(document.spec), dict), f"{kind}: canonical does not give a dict"
        tags = info.tags(document.spec)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()), (
            f"{kind}: tags does not give a map of strings"
        )
        info.unread(document.spec)


@kinds
def test_it_has_a_creation_rank(kind: str) -> None:
    if kind in UNRANKED:
        assert KINDS[kind].rank is None, f"{kind} has a rank now: take it out of UNRANKED"
    else:
        assert KINDS[kind].rank is not None, f"{kind}: no creation rank (KindInfo.rank)"


@kinds
def test_its_references_name_kinds(kind: str) -> None:
    unknown = [r.path for r in KINDS[kind].references if r.target_kind not in KINDS.keys() | NOT_KINDS]
    assert not unknown, f"{kind}: references to no registered kind at {unknown}"


@kinds
def test_it_is_planned(kind: str) -> None:
    planning = PLANNING.get(kind, ENTRY)
    if not KINDS[kind].read_as_entry:  # the entry planning reads LiveState.entries, which it is not in
        assert planning.plan is not ENTRY.plan, f"{kind}: not read as an entry, and no planning in PLANNING"


@kinds
def test_one_reader_reads_it(kind: str) -> None:
    readers = [type(reader).__name__ for reader in READERS if kind in reader.kinds]
    assert len(readers) == 1, f"{kind}: read by {readers or 'no reader'} (a reader's kinds, live/readers.py)"


@kinds
def test_one_writer_writes_every_action_it_can_be_planned_for(kind: str) -> None:
    writers = [writer for writer in WRITERS if kind in writer.actions]
    names = [type(writer).__name__ for writer in writers]
    assert len(writers) == 1, (
        f"{kind}: written by {names or 'no writer'} (a writer's ACTIONS, apply/writers.py)"
    )
    missing = sorted(plannable(KINDS[kind]) - writers[0].actions[kind].keys())
    assert not missing, f"{kind}: {names[0]} has no action for {', '.join(missing)}"


@kinds
def test_it_has_a_json_schema_entry(kind: str, schema: dict[str, Any]) -> None:
    assert f"kind.{kind}" in schema["$defs"], f"{kind}: no spec schema (shapes/json_schema.py)"
    assert kind in schema["properties"]["kind"]["enum"], f"{kind}: not in the schema's kinds"


def test_the_tables_name_registered_kinds_only() -> None:
    stale = {
        "PLANNING": set(PLANNING) - KINDS.keys(),
        "readers": {k for reader in READERS for k in reader.kinds} - KINDS.keys(),
        "writers": {k for writer in WRITERS for k in writer.actions} - KINDS.keys(),
    }
    assert not any(stale.values()), f"kinds no KindInfo registers: {stale}"
