"""Loading a valid desired-state tree: files found and skipped, variables and their precedence, lines,
revision."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.desired.loader import FileCache
from reconciler.model.resource import DeletionPolicy, DesiredState, Mode
from reconciler.shapes import BotocoreSpecChecker
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()

VARS_YAML = """\
IMAGE: nginx:1.0
COUNT: 2
ENVIRONMENT: from-vars-yaml
OVERRIDDEN: from-vars-yaml
PUBLIC: false
"""

ECS_YAML = """\
apiVersion: reconciler/v1
kind: Cluster
metadata:
  name: prod
spec:
  settings:
    - name: containerInsights
      value: enabled
---
---
apiVersion: reconciler/v1
kind: TaskDefinition
metadata:
  name: web
  labels: {team: web}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: 1 vCPU
  memory: 2 GB
  containerDefinitions:
    - name: web
      image: ${IMAGE}
      portMappings:
        - containerPort: 80
          hostPort: 80
      environment:
        - {name: ENVIRONMENT, value: "${ENVIRONMENT}-1"}
        - {name: OVERRIDDEN, value: "${OVERRIDDEN}"}
        - {name: LITERAL, value: "$${NOT_A_VARIABLE}"}
        - {name: DEFAULTED, value: "${MISSING:=fallback}"}
        - {name: PUBLIC, value: "public=${PUBLIC}"}
"""

SERVICE_YML = """\
apiVersion: reconciler/v1
kind: Service
metadata:
  name: web
  mode: detect
  deletionPolicy: Delete
spec:
  cluster: prod
  taskDefinition: web
  desiredCount: ${COUNT}
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-a, subnet-b]
"""

BROKEN = "this: is: not: yaml: ["


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_tree(
        tmp_path,
        {
            "ds/vars.yaml": VARS_YAML,
            "ds/ecs/cluster-and-task.yaml": ECS_YAML,
            "ds/services/web.yml": SERVICE_YML,
            "ds/_drafts/broken.yaml": BROKEN,
            "ds/.hidden/broken.yaml": BROKEN,
            "ds/.broken.yaml": BROKEN,
            "ds/_broken.yml": BROKEN,
            "ds/notes.txt": BROKEN,
            "overrides/prod.yaml": "IMAGE: nginx:2.0\nOVERRIDDEN: from-vars-file\n",
        },
    )
    return tmp_path


def load(root: Path, **kwargs: object) -> DesiredState:
    return load_desired_state(
        root / "ds",
        vars_files=[root / "overrides/prod.yaml"],
        extra_vars={"OVERRIDDEN": "from-extra-vars"},
        check_spec=CHECKER,
        **kwargs,  # type: ignore[arg-type]
    )


def test_loads_every_document_in_file_then_line_order(tree: Path) -> None:
    state = load(tree)
    assert [(r.kind, r.name, r.file, r.line) for r in state] == [
        ("Cluster", "prod", "ds/ecs/cluster-and-task.yaml", 1),
        ("TaskDefinition", "web", "ds/ecs/cluster-and-task.yaml", 11),
        ("Service", "web", "ds/services/web.yml", 1),
    ]


def test_metadata_is_carried_with_defaults(tree: Path) -> None:
    state = load(tree)
    task, service = state.get("TaskDefinition", "web"), state.get("Service", "web")
    assert task is not None and service is not None
    assert (task.mode, task.deletion_policy, task.labels) == (
        Mode.ENFORCE,
        DeletionPolicy.RETAIN,
        {"team": "web"},
    )
    assert (service.mode, service.deletion_policy, service.labels) == (Mode.DETECT, DeletionPolicy.DELETE, {})


def test_variables_precedence_escape_default_and_types(tree: Path) -> None:
    state = load(tree)
    task, service = state.get("TaskDefinition", "web"), state.get("Service", "web")
    assert task is not None and service is not None
    container = task.spec["containerDefinitions"][0]
    assert container["image"] == "nginx:2.0"  # the --vars file beats vars.yaml
    assert {item["name"]: item["value"] for item in container["environment"]} == {
        "ENVIRONMENT": "from-vars-yaml-1",
        "OVERRIDDEN": "from-extra-vars",  # extra_vars beat both files
        "LITERAL": "${NOT_A_VARIABLE}",
        "DEFAULTED": "fallback",
        "PUBLIC": "public=false",
    }
    assert service.spec["desiredCount"] == 2  # exactly one reference keeps the vars.yaml type


def test_lines_map_every_key_and_list_item_of_spec(tree: Path) -> None:
    task = load(tree).get("TaskDefinition", "web")
    assert task is not None
    assert task.lines["requiresCompatibilities"] == 17
    assert task.lines["requiresCompatibilities[0]"] == 17
    assert task.lines["containerDefinitions"] == 21
    assert task.lines["containerDefinitions[0]"] == 22
    assert task.lines["containerDefinitions[0].image"] == 23
    assert task.lines["containerDefinitions[0].portMappings[0].hostPort"] == 26
    assert task.lines["containerDefinitions[0].environment[2].value"] == 30
    assert task.line_of("containerDefinitions[0].portMappings[0].protocol") == 25
    assert not any(path.startswith(("metadata", "spec")) for path in task.lines)


def test_revision_is_stable_for_the_same_content(tree: Path) -> None:
    first, second = load(tree), load(tree)
    assert first.revision == second.revision
    assert len(first.revision) == 16 and int(first.revision, 16) >= 0


@pytest.mark.parametrize(
    "changed_file", ["ds/services/web.yml", "ds/vars.yaml", "overrides/prod.yaml"], ids=lambda name: name
)
def test_revision_changes_with_any_file_read(tree: Path, changed_file: str) -> None:
    before = load(tree).revision
    with (tree / changed_file).open("a", encoding="utf-8") as stream:
        stream.write("# a comment changes the content\n")
    assert load(tree).revision != before


def test_revision_ignores_skipped_files(tree: Path) -> None:
    before = load(tree).revision
    (tree / "ds/_drafts/broken.yaml").write_text("changed", encoding="utf-8")
    assert load(tree).revision == before


def test_empty_directory_is_an_empty_state(tmp_path: Path) -> None:
    state = load_desired_state(tmp_path, check_spec=CHECKER)
    assert state.is_empty


def test_anchors_and_merge_keys_are_expanded(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "task.yaml": textwrap.dedent(
                """\
                apiVersion: reconciler/v1
                kind: TaskDefinition
                metadata: {name: web}
                spec:
                  containerDefinitions:
                    - &base {name: web, image: nginx, essential: true}
                    - <<: *base
                      name: sidecar
                """
            )
        },
    )
    task = load_desired_state(tmp_path, check_spec=CHECKER).get("TaskDefinition", "web")
    assert task is not None
    assert task.spec["containerDefinitions"][1] == {"name": "sidecar", "image": "nginx", "essential": True}
    assert task.lines["containerDefinitions[1].name"] == 8


def test_the_spec_checker_is_injected(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"c.yaml": "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {name: c}\nspec: {}\n"}
    )
    seen = []

    def record(kind: object, spec: object) -> list[object]:
        seen.append((kind, spec))
        return []

    load_desired_state(tmp_path, check_spec=record)  # type: ignore[arg-type]
    assert len(seen) == 1


TWO_SERVICES_ONE_SHAPE = """\
apiVersion: reconciler/v1
kind: TaskDefinition
metadata:
  name: {name}
spec:
  networkMode: awsvpc
  containerDefinitions:
    - name: app
      image: {name}:1
"""


def test_documents_of_one_shape_share_their_line_map_but_keep_their_own_lines(tmp_path: Path) -> None:
    """Thousands of services written from one template hold one map of relative lines (memory)."""
    first = TWO_SERVICES_ONE_SHAPE.format(name="a")
    write_tree(tmp_path, {"ds/a.yaml": first + "---\n" + TWO_SERVICES_ONE_SHAPE.format(name="b")})
    state = load_desired_state(tmp_path / "ds", check_spec=CHECKER)
    a, b = state.get("TaskDefinition", "a"), state.get("TaskDefinition", "b")
    assert a is not None and b is not None
    assert a.line_offsets is b.line_offsets
    offset = first.count("\n") + 1  # b starts after a and the separator
    assert a.line_of("containerDefinitions[0].image") == 9
    assert b.line_of("containerDefinitions[0].image") == 9 + offset
    assert b.lines["networkMode"] == 6 + offset


def test_an_unchanged_directory_loads_as_the_same_object_and_a_changed_one_does_not(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ds/a.yaml": TWO_SERVICES_ONE_SHAPE.format(name="a")})
    cache = FileCache()
    first = load_desired_state(tmp_path / "ds", check_spec=CHECKER, cache=cache)
    assert load_desired_state(tmp_path / "ds", check_spec=CHECKER, cache=cache) is first
    other_clusters = load_desired_state(
        tmp_path / "ds", check_spec=CHECKER, cache=cache, allowed_clusters={"x"}
    )
    assert other_clusters is not first  # another --allowed-clusters: the checks across documents run again
    write_tree(tmp_path, {"ds/b.yaml": TWO_SERVICES_ONE_SHAPE.format(name="b")})
    changed = load_desired_state(tmp_path / "ds", check_spec=CHECKER, cache=cache)
    assert changed is not first and changed.revision != first.revision
    assert {r.name for r in changed} == {"a", "b"}
