"""The bad-input corpus: every validation rule and every safety limit, each pointing at its FILE:LINE.

Each case is its own small directory; the expected line is the line of the offending node, counted by hand.
The load balancer and autoscaling cases live in ``corpus_load_balancing``, those of services ECS deploys
blue/green, linear or canary in ``corpus_strategies``; ``CASES`` holds them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.desired.limits import MAX_DOCUMENTS
from reconciler.errors import InvalidDesiredState, Problem
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus import TASK, Case, doc
from tests.desired.corpus_load_balancing import LOAD_BALANCING_CASES
from tests.desired.corpus_strategies import STRATEGY_CASES
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()


SERVICE = doc(
    """
    apiVersion: reconciler/v1
    kind: Service
    metadata:
      name: web
    spec:
      cluster: prod
      taskDefinition: web
      launchType: FARGATE
      networkConfiguration:
        awsvpcConfiguration:
          subnets: [subnet-a]
    """
)  # 6 cluster · 7 taskDefinition · 8 launchType · 11 subnets


def task(old: str, new: str) -> str:
    assert old in TASK, old
    return TASK.replace(old, new, 1)


def service(old: str, new: str) -> str:
    assert old in SERVICE, old
    return SERVICE.replace(old, new, 1)


def nested(levels: int) -> str:
    lines = ["  " * level + "a:" for level in range(levels - 1)]
    return "\n".join([*lines, "  " * (levels - 1) + "a: leaf"]) + "\n"


BILLION_LAUGHS = doc(
    """
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
    """
)

CLUSTER = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata:\n  name: prod\nspec: {}\n"


CASES = [
    Case("yaml-syntax", {"a.yaml": task("  name: web", "  name: web: twice")}, "a.yaml", 4, "YAML syntax"),
    Case("yaml-syntax-unclosed-flow", {"a.yaml": "a: [1, 2\nb: 3\n"}, "a.yaml", 2, "expected ',' or ']'"),
    Case(
        "unknown-kind",
        {"a.yaml": task("kind: TaskDefinition", "kind: Tusk")},
        "a.yaml",
        2,
        "unknown kind 'Tusk'",
    ),
    Case(
        "unknown-api-version",
        {"a.yaml": task("reconciler/v1", "reconciler/v9")},
        "a.yaml",
        1,
        "unknown apiVersion 'reconciler/v9'",
    ),
    Case(
        "missing-api-version",
        {"a.yaml": task("apiVersion: reconciler/v1\n", "")},
        "a.yaml",
        1,
        "apiVersion: required field is missing",
    ),
    Case(
        "missing-metadata-name",
        {"a.yaml": task("  name: web\nspec", "  mode: enforce\nspec")},
        "a.yaml",
        3,
        "metadata.name: required field is missing",
    ),
    Case("empty-metadata-name", {"a.yaml": task("name: web", 'name: ""')}, "a.yaml", 4, "metadata.name"),
    Case(
        "metadata-name-outside-the-tag-alphabet",  # kept in the reconciler:name tag, whose values AWS limits
        {"a.yaml": CLUSTER.replace("name: prod", "name: prod#1")},
        "a.yaml",
        4,
        "cannot be kept in the reconciler:name tag",
    ),
    Case(
        "bad-mode",
        {"a.yaml": task("  name: web\n", "  name: web\n  mode: sometimes\n")},
        "a.yaml",
        5,
        "metadata.mode: Input should be 'enforce' or 'detect'",
    ),
    Case(
        "ignore-differences-unknown-field",
        {
            "a.yaml": task(
                "  name: web\n",
                "  name: web\n  ignoreDifferences:\n    - cpu\n    - containerDefinitions[web].imagee\n",
            )
        },
        "a.yaml",
        7,
        "metadata.ignoreDifferences[1]: 'containerDefinitions[web].imagee' names no field of a TaskDefinition",
    ),
    Case(
        "ignore-differences-not-a-path",
        {"a.yaml": task("  name: web\n", '  name: web\n  ignoreDifferences: ["cpu memory"]\n')},
        "a.yaml",
        5,
        "is not a field path as the plan prints them",
    ),
    Case(
        "unknown-metadata-field",
        {"a.yaml": task("  name: web\n", "  name: web\n  namespace: x\n")},
        "a.yaml",
        5,
        "metadata.namespace: unknown field",
    ),
    Case(
        "label-not-a-string",
        {"a.yaml": task("  name: web\n", "  name: web\n  labels:\n    tier: [a]\n")},
        "a.yaml",
        6,
        "metadata.labels.tier: must be a string",
    ),
    Case(
        "spec-not-a-mapping",
        {"a.yaml": "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {name: a}\nspec:\n  - a\n"},
        "a.yaml",
        4,
        "spec: must be a mapping",
    ),
    Case(
        "spec-unknown-field-with-suggestion",
        {"a.yaml": task("image: nginx", "imgae: nginx")},
        "a.yaml",
        12,
        "spec.containerDefinitions[0].imgae: unknown field (did you mean 'image'?)",
    ),
    Case(
        "spec-wrong-type",
        {"a.yaml": task("containerPort: 80", 'containerPort: "80"')},
        "a.yaml",
        14,
        "spec.containerDefinitions[0].portMappings[0].containerPort: expected an integer, got a string",
    ),
    Case(
        "spec-missing-required-field",
        {
            "a.yaml": "apiVersion: reconciler/v1\nkind: TaskDefinition\nmetadata: {name: a}\n"
            "spec:\n  cpu: '256'\n"
        },
        "a.yaml",
        4,
        "spec.containerDefinitions: required field is missing",
    ),
    Case(
        "spec-bad-enum",
        {"a.yaml": task("networkMode: awsvpc", "networkMode: bogus")},
        "a.yaml",
        7,
        "spec.networkMode: 'bogus' is not one of: bridge, host, awsvpc, none",
    ),
    Case(
        "name-field-in-spec",
        {"a.yaml": task("spec:\n", "spec:\n  family: web\n")},
        "a.yaml",
        6,
        "spec.family: 'family' is not allowed in spec; set metadata.name instead",
    ),
    Case(
        "service-without-cluster",
        {"a.yaml": TASK, "b.yaml": service("  cluster: prod\n", "")},
        "b.yaml",
        5,
        "spec.cluster: required field 'cluster' is missing",
    ),
    Case(
        "duplicate-names",
        {"a.yaml": CLUSTER, "b.yaml": CLUSTER},
        "b.yaml",
        4,
        "duplicate Cluster 'prod' (first defined at ds/a.yaml:4)",
    ),
    Case(
        "duplicate-names-in-one-file",
        {"a.yaml": CLUSTER + "---\n" + CLUSTER},
        "a.yaml",
        10,
        "duplicate Cluster 'prod' (first defined at ds/a.yaml:4)",
    ),
    Case(
        "dangling-task-definition",
        {"a.yaml": TASK, "b.yaml": service("taskDefinition: web", "taskDefinition: api")},
        "b.yaml",
        7,
        "spec.taskDefinition: no TaskDefinition named 'api' is declared",
    ),
    Case(
        "undefined-variable",
        {"a.yaml": task("image: nginx", "image: nginx:${TAG}")},
        "a.yaml",
        12,
        "undefined variable 'TAG'",
    ),
    Case(
        "bad-vars-yaml-value",
        {"vars.yaml": "TAG: v1\nSUBNETS: [a, b]\n", "a.yaml": TASK},
        "vars.yaml",
        2,
        "variable 'SUBNETS' must be a string, number or boolean, not a list",
    ),
    Case("vars-yaml-not-a-mapping", {"vars.yaml": "- TAG\n", "a.yaml": TASK}, "vars.yaml", 1, "flat mapping"),
    Case(
        "fargate-not-awsvpc",
        {"a.yaml": task("networkMode: awsvpc", "networkMode: bridge")},
        "a.yaml",
        7,
        "a FARGATE task definition needs networkMode: awsvpc",
    ),
    Case(
        "fargate-bad-cpu-memory-pair",
        {"a.yaml": task('memory: "512"', "memory: 4 GB")},
        "a.yaml",
        9,
        "Fargate does not run cpu 256 with memory 4096 MiB",
    ),
    Case(
        "fargate-unreadable-cpu",
        {"a.yaml": task('cpu: "256"', "cpu: lots")},
        "a.yaml",
        8,
        "cannot read cpu 'lots'",
    ),
    Case(
        "fargate-missing-memory",
        {"a.yaml": task('  memory: "512"\n', "")},
        "a.yaml",
        6,
        "needs task-level memory",
    ),
    Case(
        "fargate-host-port",
        {"a.yaml": task("- containerPort: 80\n", "- containerPort: 80\n          hostPort: 8080\n")},
        "a.yaml",
        15,
        "hostPort must equal containerPort (80)",
    ),
    Case(
        "fargate-service-without-subnets",
        {"a.yaml": TASK, "b.yaml": service("subnets: [subnet-a]", "securityGroups: [sg-1]")},
        "b.yaml",
        8,
        "a FARGATE service needs networkConfiguration.awsvpcConfiguration.subnets",
    ),
    Case(
        "file-too-large",
        {"a.yaml": TASK, "big.yaml": "# " + "x" * (5 * 1024 * 1024) + "\n"},
        "big.yaml",
        1,
        "file is too large (5.0 MiB; the limit is 1.0 MiB)",
    ),
    Case("billion-laughs", {"a.yaml": BILLION_LAUGHS}, "a.yaml", 1, "expands to more than 10000 nodes"),
    Case("recursive-alias", {"a.yaml": "a: &a [*a]\n"}, "a.yaml", 1, "nesting deeper than 50 levels"),
    Case("document-is-a-list", {"a.yaml": "- a\n- b\n"}, "a.yaml", 1, "document must be a mapping"),
    Case(
        "document-is-a-scalar",
        {"a.yaml": TASK + "---\njust some text\n"},
        "a.yaml",
        16,
        "not a string",
    ),
    Case(
        "python-object-tag",
        {"a.yaml": task("image: nginx", 'image: !!python/object/apply:os.system ["echo pwned"]')},
        "a.yaml",
        12,
        "unsupported YAML tag '!!python/object/apply:os.system'",
    ),
    Case(
        "custom-tag",
        {"a.yaml": task("image: nginx", "image: !Ref Image")},
        "a.yaml",
        12,
        "unsupported YAML tag '!Ref'",
    ),
    Case(
        "duplicate-key",
        {"a.yaml": task("  cpu: ", '  memory: "1024"\n  cpu: ')},
        "a.yaml",
        10,
        "duplicate key 'memory' (first at line 8)",
    ),
    Case(
        "invalid-utf8",
        {"a.yaml": TASK.encode().replace(b"nginx", b"ngin\xff")},
        "a.yaml",
        12,
        "not valid UTF-8 (byte 0xff",
    ),
    Case("too-deep", {"a.yaml": nested(60)}, "a.yaml", 51, "nesting deeper than 50 levels"),
    *LOAD_BALANCING_CASES,
    *STRATEGY_CASES,
]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems_of(root: Path, **kwargs: object) -> tuple[Problem, ...]:
    with pytest.raises(InvalidDesiredState) as raised:
        load_desired_state(root, check_spec=CHECKER, **kwargs)  # type: ignore[arg-type]
    return raised.value.problems


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_reported_at_its_line(in_tmp: Path, case: Case) -> None:
    write_tree(in_tmp / "ds", case.files)
    problems = problems_of(Path("ds"))
    expected_file = f"ds/{case.file}"
    matching = [
        p for p in problems if p.file == expected_file and p.line == case.line and case.message in p.message
    ]
    assert matching, f"no {expected_file}:{case.line}: …{case.message}… in:\n" + "\n".join(map(str, problems))


def test_case_ids_are_unique_and_cover_the_corpus() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 24


def test_one_bad_document_among_good_ones_fails_the_whole_load(in_tmp: Path) -> None:
    bad = task("image: nginx", "image: ${UNDEFINED}").replace("name: web", "name: other")
    write_tree(in_tmp / "ds", {"a.yaml": TASK, "b.yaml": CLUSTER + "---\n" + bad, "c.yaml": SERVICE})
    problems = problems_of(Path("ds"))
    assert [str(p) for p in problems] == [
        "ds/b.yaml:18: undefined variable 'UNDEFINED' (define it in vars.yaml "
        "or a --vars file, or write ${UNDEFINED:=default})"
    ]


def test_every_problem_is_reported_not_only_the_first(in_tmp: Path) -> None:
    broken = task("image: nginx", "imgae: nginx").replace("networkMode: awsvpc", "networkMode: bridge")
    write_tree(in_tmp / "ds", {"a.yaml": broken, "b.yaml": "- not a mapping\n", "c.yaml": "a: [\n"})
    problems = problems_of(Path("ds"))
    assert {(p.file, p.line) for p in problems} >= {("ds/a.yaml", 7), ("ds/a.yaml", 12), ("ds/b.yaml", 1)}
    assert any(p.file == "ds/c.yaml" for p in problems)


def test_too_many_files(in_tmp: Path) -> None:
    write_tree(in_tmp / "ds", {f"f{index:04}.yaml": "" for index in range(2001)})
    problems = problems_of(Path("ds"))
    assert [(p.file, p.line) for p in problems] == [("ds", 1)]
    assert "more than 2000 YAML files" in problems[0].message


def test_too_many_documents(in_tmp: Path) -> None:
    write_tree(in_tmp / "ds", {"many.yaml": "--- {}\n" * (MAX_DOCUMENTS + 1)})
    problems = problems_of(Path("ds"))
    limit = f"more than {MAX_DOCUMENTS} documents"
    assert any(p.line == MAX_DOCUMENTS + 1 and limit in p.message for p in problems)


def test_missing_vars_file_and_directory(in_tmp: Path) -> None:
    write_tree(in_tmp / "ds", {"a.yaml": CLUSTER})
    problems = problems_of(Path("ds"), vars_files=[Path("nope.yaml")])
    assert [(p.file, p.line) for p in problems] == [("nope.yaml", 1)]
    assert "cannot read" in problems[0].message
    assert problems_of(Path("missing"))[0].message == "desired-state directory not found"


def test_problem_files_outside_the_working_directory_are_shown_as_given(tmp_path: Path) -> None:
    write_tree(tmp_path / "ds", {"a.yaml": "- a\n"})
    problems = problems_of(tmp_path / "ds")
    assert problems[0].file == str(tmp_path / "ds" / "a.yaml")
