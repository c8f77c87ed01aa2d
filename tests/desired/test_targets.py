"""targets.yaml: which target (AWS account and Region) each document is for, each target's own variables, and
the checks across documents run per target. Every rejection at its FILE:LINE."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.desired import FileCache, load_desired_state
from reconciler.desired import loader as loader_module
from reconciler.desired.crosscheck import Candidate
from reconciler.desired.crossfacts import cross_facts, unclean_targets
from reconciler.errors import InvalidDesiredState, Problem
from reconciler.model.resource import DesiredState
from reconciler.model.targets import DEFAULT_TARGET, Target
from reconciler.shapes import BotocoreSpecChecker
from tests.conftest import CLI
from tests.desired.corpus import TASK, Case, doc
from tests.desired.corpus_load_balancing import CLUSTER, TARGET_GROUP
from tests.desired.corpus_load_balancing import SERVICE as BALANCED_SERVICE
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()
EXAMPLE = Path(__file__).resolve().parents[2] / "desired-state"

TARGETS = doc(
    """
    targets:
      prod-eu: {account: "111111111111", region: eu-west-1, roleArn: "arn:aws:iam::111111111111:role/reconciler", externalId: "${EXTERNAL_ID}"}
      prod-us: {account: "111111111111", region: us-east-1, roleArn: "arn:aws:iam::111111111111:role/reconciler"}
      staging:
        account: "222222222222"
        region: eu-west-1
        roleArn: arn:aws:iam::222222222222:role/reconciler
        sessionName: reconciler-staging
        eventsQueueUrl: https://sqs.eu-west-1.amazonaws.com/222222222222/reconciler-events
        vars: {SUBNET_A: subnet-staging, COUNT: 3}
    folders: {prod/eu: prod-eu, prod/us: prod-us, staging: staging}
    """
)  # 1 targets · 2 prod-eu · 3 prod-us · 4 staging · 5 account · 6 region · 7 roleArn · 8 sessionName
#    9 eventsQueueUrl · 10 vars · 11 folders

# the service of the load-balancing corpus, with variables: its desired count one line down, and subnets
SERVICE = BALANCED_SERVICE.replace("  launchType:", "  desiredCount: ${COUNT:=1}\n  launchType:").replace(
    "subnets: [subnet-a]", 'subnets: ["${SUBNET_A}"]'
)  # 3 metadata · 4 name · 6 cluster · 7 taskDefinition · 14 - targetGroupArn

UNIT = "---\n".join([CLUSTER, TASK, TARGET_GROUP, SERVICE])  # a service and everything it names
VARS = "SUBNET_A: subnet-root\nEXTERNAL_ID: id-from-vars-yaml\n"
ESTATE: dict[str, str | bytes] = {
    "targets.yaml": TARGETS,
    "vars.yaml": VARS,
    "prod/eu/web.yaml": UNIT,
    "prod/us/web.yaml": UNIT,
    "staging/web.yaml": UNIT,  # the same names in three targets
}


def with_target(document: str, target: str) -> str:
    """``document`` with ``metadata.target: target`` (one line more, after ``metadata:``, line 3)."""
    return document.replace("metadata:\n", f"metadata:\n  target: {target}\n", 1)


def load(root: Path, **options: object) -> DesiredState:
    return load_desired_state(root, check_spec=CHECKER, **options)  # type: ignore[arg-type]


def loaded(tmp_path: Path, files: dict[str, str | bytes], **options: object) -> DesiredState:
    write_tree(tmp_path / "ds", files)
    return load(tmp_path / "ds", **options)


def problems_of(tmp_path: Path, files: dict[str, str | bytes], **options: object) -> list[Problem]:
    with pytest.raises(InvalidDesiredState) as raised:
        loaded(tmp_path, files, **options)
    return list(raised.value.problems)


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # problems name files from here: ds/...


def test_without_targets_yaml_the_state_is_as_before(tmp_path: Path) -> None:
    state = load(EXAMPLE)
    assert (state.target, state.targets, state.parts) == (DEFAULT_TARGET, (), ())
    assert state.by_target() == {DEFAULT_TARGET: state}
    assert state == DesiredState(resources=state.resources, revision=state.revision)


def test_each_declared_target_gets_a_part_of_the_documents_of_its_folders(tmp_path: Path) -> None:
    state = loaded(
        tmp_path,
        {**ESTATE, "prod/us/web.yaml": "", "prod/eu/more/extra.yaml": CLUSTER.replace("prod", "extra")},
    )
    assert [t.name for t in state.targets] == ["prod-eu", "prod-us", "staging"]  # in file order
    assert [part.target for part in state.parts] == ["prod-eu", "prod-us", "staging"]
    files = {part.target: sorted({r.file for r in part}) for part in state.parts}
    assert files == {
        "prod-eu": ["ds/prod/eu/more/extra.yaml", "ds/prod/eu/web.yaml"],  # a folder below a mapped one
        "prod-us": [],  # no document: still a part, so that its resources are managed (and pruned)
        "staging": ["ds/staging/web.yaml"],
    }
    assert all(part.revision == state.revision and not part.parts for part in state.parts)
    assert [r.file for r in state] == sorted(r.file for r in state)
    assert len(state.resources) == sum(len(part.resources) for part in state.parts) == 9
    by_identity = {id(r) for r in state}
    assert all(id(r) in by_identity for part in state.parts for r in part)  # the same objects


def test_the_same_name_in_two_targets_is_two_resources(tmp_path: Path) -> None:
    state = loaded(tmp_path, ESTATE)
    services = {part.target: part.get("Service", "web") for part in state.parts}
    assert {target: s.file for target, s in services.items() if s is not None} == {
        "prod-eu": "ds/prod/eu/web.yaml",
        "prod-us": "ds/prod/us/web.yaml",
        "staging": "ds/staging/web.yaml",
    }


def test_the_deepest_mapped_folder_wins_and_metadata_target_wins_over_both(tmp_path: Path) -> None:
    targets = TARGETS.replace("folders: {prod/eu: prod-eu,", "folders: {prod: prod-us, prod/eu: prod-eu,")
    files = {
        **ESTATE,
        "targets.yaml": targets,
        "prod/us/web.yaml": "",
        "prod/other/web.yaml": UNIT,  # under prod only: prod-us
        "prod/eu/moved.yaml": with_target(CLUSTER.replace("prod", "moved"), "staging"),
    }
    state = loaded(tmp_path, files)
    names = {
        part.target: sorted(f"{r.kind}/{r.name}" for r in part if r.kind == "Cluster") for part in state.parts
    }
    assert names == {
        "prod-eu": ["Cluster/prod"],
        "prod-us": ["Cluster/prod"],
        "staging": ["Cluster/moved", "Cluster/prod"],
    }


def test_targets_are_read_with_their_fields(tmp_path: Path) -> None:
    state = loaded(tmp_path, ESTATE)
    staging = state.targets[2]
    assert staging == Target(
        name="staging",
        account="222222222222",
        region="eu-west-1",
        role_arn="arn:aws:iam::222222222222:role/reconciler",
        session_name="reconciler-staging",
        events_queue_url="https://sqs.eu-west-1.amazonaws.com/222222222222/reconciler-events",
        vars={"SUBNET_A": "subnet-staging", "COUNT": 3},
        file="ds/targets.yaml",
        line=4,
    )
    assert not staging.default


def test_a_target_without_a_role_is_reached_with_the_reconcilers_own_credentials(tmp_path: Path) -> None:
    own = TARGETS.replace(', roleArn: "arn:aws:iam::111111111111:role/reconciler"}', "}")
    state = loaded(tmp_path, {**ESTATE, "targets.yaml": own})
    prod_us = state.targets[1]
    assert (prod_us.name, prod_us.account, prod_us.region, prod_us.role_arn) == (
        "prod-us", "111111111111", "us-east-1", None,
    )  # fmt: skip
    assert not prod_us.default  # a named account: the runtime checks its credentials reach it


def test_variables_fill_targets_yaml_and_given_ones_win(tmp_path: Path) -> None:
    state = loaded(tmp_path, ESTATE)
    assert [t.external_id for t in state.targets] == ["id-from-vars-yaml", None, None]
    (tmp_path / "given.yaml").write_text("EXTERNAL_ID: id-given\n")
    state = load(tmp_path / "ds", vars_files=[tmp_path / "given.yaml"])
    assert state.targets[0].external_id == "id-given"
    assert load(tmp_path / "ds", extra_vars={"EXTERNAL_ID": "id-extra"}).targets[0].external_id == "id-extra"


def subnets(state: DesiredState) -> dict[str, tuple[object, object]]:
    found = {}
    for part in state.parts:
        if (service := part.get("Service", "web")) is None:
            continue
        found[part.target] = (
            service.spec["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0],
            service.spec["desiredCount"],
        )
    return found


def test_a_targets_variables_win_over_vars_yaml_and_lose_to_given_ones(tmp_path: Path) -> None:
    assert subnets(loaded(tmp_path, ESTATE)) == {
        "prod-eu": ("subnet-root", 1),
        "prod-us": ("subnet-root", 1),
        "staging": ("subnet-staging", 3),  # typed as in vars.yaml: a number stays a number
    }
    (tmp_path / "given.yaml").write_text("SUBNET_A: subnet-given\n")
    given = load(tmp_path / "ds", vars_files=[tmp_path / "given.yaml"])
    assert {target: subnet for target, (subnet, _) in subnets(given).items()} == dict.fromkeys(
        ["prod-eu", "prod-us", "staging"], "subnet-given"
    )
    extra = load(tmp_path / "ds", extra_vars={"SUBNET_A": "subnet-extra"})
    assert {subnet for subnet, _ in subnets(extra).values()} == {"subnet-extra"}


def test_a_document_naming_its_target_gets_that_targets_variables(tmp_path: Path) -> None:
    files = {
        **ESTATE,
        "staging/web.yaml": "",
        "prod/eu/web.yaml": "---\n".join([CLUSTER, TASK, TARGET_GROUP, with_target(SERVICE, "staging")]),
    }
    with pytest.raises(InvalidDesiredState) as raised:  # its target group is in prod-eu
        loaded(tmp_path, files)
    assert [p.message for p in raised.value.problems if "cross" in p.message]
    files["prod/eu/web.yaml"] = "---\n".join(
        with_target(d, "staging") for d in [CLUSTER, TASK, TARGET_GROUP, SERVICE]
    )
    state = loaded(tmp_path, files)
    assert subnets(state)["staging"] == ("subnet-staging", 3)
    assert not state.by_target()["prod-eu"].resources


def line_after(documents: Sequence[str], line: int) -> int:
    """The line in a file of ``line`` of a document written after ``documents``, separated by ``---``."""
    return sum(document.count("\n") + 1 for document in documents) + line


REJECTED = [
    Case(
        "a-reference-to-another-targets-resource",
        {**ESTATE, "prod/eu/web.yaml": "---\n".join([CLUSTER, TASK, SERVICE])},
        "prod/eu/web.yaml",
        line_after([CLUSTER, TASK], 14),
        "spec.loadBalancers[0].targetGroupArn: Service/web references TargetGroup/web-tg of targets prod-us, staging; "
        "references never cross targets (this document is in prod-eu",
    ),
    Case(
        "a-cluster-declared-only-by-another-target",
        {**ESTATE, "prod/eu/web.yaml": "---\n".join([TASK, TARGET_GROUP, SERVICE]), "prod/us/web.yaml": ""},
        "prod/eu/web.yaml",
        line_after([TASK, TARGET_GROUP], 6),
        "Service/web references Cluster/prod of target staging; references never cross targets",
    ),
    Case(
        "a-duplicate-within-one-target",
        {**ESTATE, "prod/eu/again.yaml": CLUSTER},
        "prod/eu/web.yaml",
        4,
        "duplicate Cluster 'prod' (first defined at ds/prod/eu/again.yaml:4)",
    ),
    Case(
        "metadata-target-not-declared",
        {**ESTATE, "prod/eu/web.yaml": with_target(UNIT, "prod-eu-2")},
        "prod/eu/web.yaml",
        4,
        "metadata.target: no target 'prod-eu-2' is declared in targets.yaml (its targets: prod-eu, prod-us, staging)",
    ),
    Case(
        "metadata-target-with-a-variable",
        {**ESTATE, "prod/eu/web.yaml": with_target(UNIT, "${TARGET}")},
        "prod/eu/web.yaml",
        4,
        "metadata.target: write the target's name as it is, without variables",
    ),
    Case(
        "metadata-target-without-targets-yaml",
        {"web.yaml": with_target(CLUSTER, "staging")},
        "web.yaml",
        4,
        "metadata.target: 'staging' names a target, but there is no targets.yaml",
    ),
    Case(
        "a-document-in-no-mapped-folder",
        {**ESTATE, "elsewhere/cluster.yaml": CLUSTER},
        "elsewhere/cluster.yaml",
        1,
        "in no folder that targets.yaml maps to a target, and has no metadata.target: with targets.yaml there is "
        "no default target",
    ),
    Case(
        "a-folder-mapped-to-an-unknown-target",
        {**ESTATE, "targets.yaml": TARGETS.replace("staging: staging}", "staging: stagin}")},
        "targets.yaml",
        11,
        "folders: 'staging' is mapped to 'stagin', which is no target declared under targets",
    ),
    Case(
        "a-folder-mapped-twice",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("staging: staging}", "staging: staging, prod/eu/: prod-us}"),
        },
        "targets.yaml",
        11,
        "folders: 'prod/eu/' is mapped twice (first as 'prod/eu' at ds/targets.yaml:11)",
    ),
    Case(
        "a-folder-out-of-the-directory",
        {**ESTATE, "targets.yaml": TARGETS.replace("staging: staging}", "staging: staging, ../x: staging}")},
        "targets.yaml",
        11,
        "folders: '../x' leads out of the desired-state directory",
    ),
    Case(
        "a-folder-never-read",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("staging: staging}", "staging: staging, _drafts: staging}"),
        },
        "targets.yaml",
        11,
        "folders: '_drafts' is never read",
    ),
    Case(
        "two-targets-on-one-account-and-region",
        {**ESTATE, "targets.yaml": TARGETS.replace("region: us-east-1", "region: eu-west-1")},
        "targets.yaml",
        3,
        "target 'prod-us' is account 111111111111 in eu-west-1, as target 'prod-eu' is (at ds/targets.yaml:2): the "
        "resources of both would carry the same ownership tags, and each target would prune the other's",
    ),
    Case(
        "an-unknown-section",
        {**ESTATE, "targets.yaml": TARGETS + "defaults: {}\n"},
        "targets.yaml",
        12,
        "unknown field 'defaults' (expected targets, folders)",
    ),
    Case(
        "an-unknown-field-of-a-target",
        {**ESTATE, "targets.yaml": TARGETS.replace("    sessionName:", "    role: x\n    sessionName:")},
        "targets.yaml",
        8,
        "target 'staging': unknown field 'role' (expected account, region, roleArn, externalId, sessionName",
    ),
    Case(
        "a-missing-field",
        {**ESTATE, "targets.yaml": TARGETS.replace("    region: eu-west-1\n", "")},
        "targets.yaml",
        4,
        "target 'staging': required field 'region' is missing",
    ),
    Case(
        "an-external-id-without-a-role",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("    roleArn: arn:aws:iam::222222222222:role/reconciler\n", ""),
        },
        "targets.yaml",
        7,
        "target 'staging': sessionName is given to the role it assumes, and it has no roleArn",
    ),
    Case(
        "an-account-not-of-12-digits",
        {**ESTATE, "targets.yaml": TARGETS.replace('"222222222222"', '"22222222222"')},
        "targets.yaml",
        5,
        "target 'staging': account '22222222222' is not an AWS account ID of 12 digits",
    ),
    Case(
        "an-account-written-as-a-number",
        {**ESTATE, "targets.yaml": TARGETS.replace('"222222222222"', "222222222222")},
        "targets.yaml",
        5,
        "target 'staging': account must be quoted",
    ),
    Case(
        "a-region-that-is-no-region-name",
        {**ESTATE, "targets.yaml": TARGETS.replace("    region: eu-west-1", "    region: Ireland")},
        "targets.yaml",
        6,
        "target 'staging': region 'Ireland' is not a Region name such as eu-west-1",
    ),
    Case(
        "a-role-arn-that-is-no-role",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("222222222222:role/reconciler", "222222222222:user/reconciler"),
        },
        "targets.yaml",
        7,
        "target 'staging': roleArn 'arn:aws:iam::222222222222:user/reconciler' is not an IAM role's ARN",
    ),
    Case(
        "a-role-of-another-account",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("222222222222:role/reconciler", "333333333333:role/reconciler"),
        },
        "targets.yaml",
        7,
        "target 'staging': roleArn is a role of account 333333333333, not of the target's account 222222222222",
    ),
    Case(
        "a-session-name-aws-refuses",
        {**ESTATE, "targets.yaml": TARGETS.replace("reconciler-staging", "reconciler staging")},
        "targets.yaml",
        8,
        "target 'staging': sessionName 'reconciler staging' is not 2 to 64 letters",
    ),
    Case(
        "an-events-queue-that-is-no-url",
        {**ESTATE, "targets.yaml": TARGETS.replace("https://sqs.eu-west-1.amazonaws.com/", "sqs:")},
        "targets.yaml",
        9,
        "target 'staging': eventsQueueUrl 'sqs:222222222222/reconciler-events' is not an SQS queue URL",
    ),
    Case(
        "an-undefined-variable-in-targets-yaml",
        {**ESTATE, "vars.yaml": "SUBNET_A: subnet-root\n"},
        "targets.yaml",
        2,
        "target 'prod-eu': externalId: undefined variable 'EXTERNAL_ID'",
    ),
    Case(
        "a-target-variable-of-the-wrong-type",
        {**ESTATE, "targets.yaml": TARGETS.replace("COUNT: 3}", "COUNT: [3]}")},
        "targets.yaml",
        10,
        "variable 'COUNT' must be a string, number or boolean, not a list",
    ),
    Case(
        "a-target-name-that-is-no-identifier",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("  prod-us:", "  prod us:").replace(
                "prod/us: prod-us", "prod/us: prod us"
            ),
        },
        "targets.yaml",
        3,
        "target 'prod us': a target's name is a letter, then up to 62 letters, digits, '-' and '_'",
    ),
    Case(
        "the-reserved-name",
        {
            **ESTATE,
            "targets.yaml": TARGETS.replace("  prod-us:", "  default:").replace(
                "prod/us: prod-us", "prod/us: default"
            ),
        },
        "targets.yaml",
        3,
        "target 'default': the name is reserved",
    ),
    Case(
        "no-target",
        {**ESTATE, "targets.yaml": "folders: {}\n"},
        "targets.yaml",
        1,
        "targets: a mapping of each target by its name is required",
    ),
    Case(
        "a-cluster-not-allowed-in-one-target",
        {**ESTATE, "staging/web.yaml": UNIT.replace("prod", "staging")},
        "staging/web.yaml",
        4,
        "cluster 'staging' is not in --allowed-clusters (prod)",
    ),
]


@pytest.mark.parametrize("case", REJECTED, ids=lambda case: case.id)
def test_each_rule_is_enforced_at_its_line(tmp_path: Path, case: Case) -> None:
    problems = problems_of(tmp_path, case.files, allowed_clusters={"prod"})
    found = [p for p in problems if p.file == f"ds/{case.file}" and p.line == case.line]
    assert any(case.message in p.message for p in found), "\n".join(map(str, problems))


def test_targets_yaml_is_not_a_document_and_other_targets_files_are(tmp_path: Path) -> None:
    state = loaded(tmp_path, {**ESTATE, "vars.yaml": VARS})
    assert all(not r.file.endswith("targets.yaml") for r in state)
    problems = problems_of(tmp_path, {**ESTATE, "staging/targets.yaml": TARGETS})
    assert {p.file for p in problems} == {"ds/staging/targets.yaml"}


def test_the_revision_covers_targets_yaml(tmp_path: Path) -> None:
    first = loaded(tmp_path, ESTATE)
    (tmp_path / "ds/targets.yaml").write_text(TARGETS.replace("reconciler-staging", "reconciler-stg"))
    second = load(tmp_path / "ds")
    assert second.revision != first.revision
    assert second.targets[2].session_name == "reconciler-stg"
    assert [r.spec for r in second] == [r.spec for r in first]


def test_a_targets_variables_changed_check_its_documents_again_and_only_them(tmp_path: Path) -> None:
    files = {**ESTATE, "prod/eu/named.yaml": with_target(CLUSTER.replace("prod", "named"), "staging")}
    write_tree(tmp_path / "ds", files)
    cache = FileCache()
    first = load(tmp_path / "ds", cache=cache)
    hits = cache.hits
    assert load(tmp_path / "ds", cache=cache) is first
    assert cache.hits - hits == len(files) - 2  # every document's file: not vars.yaml nor targets.yaml

    (tmp_path / "ds/targets.yaml").write_text(TARGETS.replace("subnet-staging", "subnet-staging-2"))
    second = load(tmp_path / "ds", cache=cache)
    fresh = {r.file for r in second if id(r) not in {id(old) for old in first}}
    assert fresh == {"ds/staging/web.yaml", "ds/prod/eu/named.yaml"}  # a document for staging in prod/eu too
    assert subnets(second)["staging"] == ("subnet-staging-2", 3)
    assert second.revision != first.revision

    (tmp_path / "ds/targets.yaml").write_text(TARGETS.replace("prod/us: prod-us", "prod/us: staging"))
    with pytest.raises(InvalidDesiredState, match="duplicate Service 'web'"):  # prod/us's are staging's now
        load(tmp_path / "ds", cache=cache)


def test_the_checks_across_documents_run_only_for_a_target_not_proven_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_at: list[set[str]] = []

    def recorded(candidates: Sequence[Candidate], elsewhere: object = None) -> list[Problem]:
        looked_at.append({c.target for c in candidates})
        return dangling(candidates, elsewhere)  # type: ignore[arg-type]

    dangling = loader_module.dangling_reference_problems
    monkeypatch.setattr(loader_module, "dangling_reference_problems", recorded)
    write_tree(tmp_path / "ds", ESTATE)
    cache = FileCache()
    load(tmp_path / "ds", cache=cache)
    assert looked_at == []  # every target proven clean by its files' facts
    (tmp_path / "ds/staging/web.yaml").write_text("---\n".join([CLUSTER, TASK, SERVICE]))
    with pytest.raises(
        InvalidDesiredState, match="references TargetGroup/web-tg of targets prod-eu, prod-us"
    ):
        load(tmp_path / "ds", cache=cache)
    assert looked_at == [{"staging"}]  # only the target whose facts do not prove it clean
    looked_at.clear()
    (tmp_path / "ds/staging/web.yaml").write_text(UNIT.replace("web-tg", "web-tg-2"))
    load(tmp_path / "ds", cache=cache)
    assert looked_at == []


def test_a_target_referring_to_what_only_another_declares_is_not_proven_clean(tmp_path: Path) -> None:
    """A cluster may be one outside the repository: proven clean, unless another target declares it."""
    part = loaded(tmp_path, ESTATE).by_target()["prod-eu"]
    candidates = {r.kind: Candidate(r, name_line=r.line, spec_line=r.line) for r in part}
    cluster = [cross_facts([candidates.pop("Cluster")])]
    group = [cross_facts([candidates.pop("TargetGroup")])]
    service = [cross_facts(candidates.values())]  # and its task definition
    assert unclean_targets({"a": service + group}, allowed_clusters=()) == []
    assert unclean_targets({"a": service + group, "b": cluster}, allowed_clusters=()) == ["a"]
    assert unclean_targets({"a": service, "b": group + cluster}, allowed_clusters=()) == ["a"]
    assert unclean_targets({"a": service + group + cluster, "b": cluster}, allowed_clusters=()) == []


def test_a_linked_targets_yaml_is_followed_inside_the_directory_only(tmp_path: Path) -> None:
    write_tree(tmp_path / "ds", {**ESTATE, "targets.yaml": "", "_shared/targets.yaml": TARGETS})
    (tmp_path / "ds/targets.yaml").unlink()
    (tmp_path / "ds/targets.yaml").symlink_to("_shared/targets.yaml")
    assert [t.name for t in load(tmp_path / "ds").targets] == ["prod-eu", "prod-us", "staging"]
    (tmp_path / "outside.yaml").write_text(TARGETS)
    (tmp_path / "ds/targets.yaml").unlink()
    (tmp_path / "ds/targets.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(InvalidDesiredState, match=r"targets\.yaml:1: is a symbolic link pointing outside"):
        load(tmp_path / "ds")


def test_validate_says_how_many_documents_each_target_has(tmp_path: Path, cli: CLI) -> None:
    write_tree(tmp_path / "ds", {**ESTATE, "prod/us/web.yaml": CLUSTER})
    valid = cli("validate", "ds")
    assert valid.code == 0, valid.err
    assert valid.out.splitlines()[1:] == [
        "  target prod-eu: 4 resources",
        "  target prod-us: 1 resource",
        "  target staging: 4 resources",
    ]
    write_tree(tmp_path / "ds", {"elsewhere/cluster.yaml": CLUSTER})
    invalid = cli("validate", "ds")
    assert invalid.code == 1
    assert "ds/elsewhere/cluster.yaml:1: the document is in no folder that targets.yaml maps" in invalid.err
