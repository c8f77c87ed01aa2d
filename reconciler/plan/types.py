"""The plan's vocabulary: actions, causes, changes. These are what ``plan --output json`` prints."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.model.resource import Mode, ResourceKey
from reconciler.model.targets import DEFAULT_TARGET
from reconciler.plan.diff import FieldDiff, top_level_field


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"


class Cause(StrEnum):
    DRIFT = "drift"  # AWS changed; Git did not (the live spec-hash equals the desired one)
    DESIRED = "desired"  # Git changed
    MISSING = "missing"  # never created (or gone without a trace)
    ORPHAN = "orphan"  # ours, but its document is gone


class ServiceDetail(BaseModel):
    """What a change of an ECS service carries beyond the core of every change."""

    model_config = ConfigDict(frozen=True)

    cluster: str = ""  # the cluster's name
    # the revision to run; "" with a TaskDefinition dependency = the one that change registers
    task_definition_arn: str = ""
    carried_tags: dict[str, str] = Field(default_factory=dict)  # re-created: facts kept in the old one's tags
    # CODE_DEPLOY: the CodeDeploy application and deployment group through which the change deploys
    deployment_application: str = ""
    deployment_group: str = ""
    deployment_failed: str = ""  # held: the ID of the failed deployment of this very document
    # what an ECS deployment in progress meant for the change, when it did not hold it (see rollouts)
    deployment_note: str = ""


class RuleDetail(BaseModel):
    """What a change of a listener rule carries beyond the core of every change."""

    model_config = ConfigDict(frozen=True)

    # every priority move on this rule's listener in this plan, sent in one SetRulePriorities call (AWS applies
    # them together, so a swap never clashes); empty when the rule's priority stays
    priorities: list[dict[str, Any]] = Field(default_factory=list)


NO_SERVICE = ServiceDetail()


class Change(BaseModel):
    """One resource's planned action, with every difference that motivates it: a core every kind has, and the
    detail of a service (``service``) or a listener rule (``rule``). A value: planning makes changed copies
    (``model_copy``, ``with_service``), nothing changes one in place."""

    model_config = ConfigDict(frozen=True)

    kind: str
    name: str
    action: Action
    cause: Cause
    diff: list[FieldDiff] = Field(default_factory=list)
    mode: Mode = Mode.ENFORCE
    reason: str = ""  # why, when the action needs explaining (a replace, a delete)
    held: str = ""  # non-empty: reported but not to be applied now, and why
    depends_on: list[ResourceKey] = Field(default_factory=list)
    spec_hash: str = ""  # the desired hash the change applies
    live_arn: str = ""
    parent_arn: str = ""  # what deleting the resource also needs (a rule's listener, a policy's target)
    live_spec: dict[str, Any] = Field(default_factory=dict)  # deletions: the identity fields AWS needs
    # a replace that creates the new resource beside the old one, which a later pass deletes when AWS lets it
    create_first: bool = False
    # top-level fields written as another actor keeps them rather than as the document writes them (plan/owners.py:
    # the weights ECS settles a production rule at, a target group pair in the orientation ECS serves it)
    settled: dict[str, Any] = Field(default_factory=dict)
    service: ServiceDetail | None = None  # services only
    rule: RuleDetail | None = None  # listener rules only
    # only our spec-hash tag is stale (the document was rewritten with the same meaning, imported, or hashed by an
    # older reconciler): AWS is as Git says, so this is bookkeeping, written by apply but not a change to report
    restamp: bool = False

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.kind, self.name)

    def with_service(self, **detail: Any) -> Change:
        """A copy whose service detail has ``detail`` set."""
        return self.model_copy(update={"service": (self.service or NO_SERVICE).model_copy(update=detail)})

    # The service detail as the writers and the report read it ("" where the change is not a service's).
    @property
    def cluster(self) -> str:
        return (self.service or NO_SERVICE).cluster

    @property
    def task_definition_arn(self) -> str:
        return (self.service or NO_SERVICE).task_definition_arn

    @property
    def carried_tags(self) -> dict[str, str]:
        return (self.service or NO_SERVICE).carried_tags

    @property
    def deployment_application(self) -> str:
        return (self.service or NO_SERVICE).deployment_application

    @property
    def deployment_group(self) -> str:
        return (self.service or NO_SERVICE).deployment_group

    @property
    def deployment_failed(self) -> str:
        return (self.service or NO_SERVICE).deployment_failed

    @property
    def deployment_note(self) -> str:
        return (self.service or NO_SERVICE).deployment_note

    @property
    def rule_priorities(self) -> list[dict[str, Any]]:
        return self.rule.priorities if self.rule is not None else []

    @property
    def changed_fields(self) -> set[str]:
        return {top_level_field(d.path) for d in self.diff}

    @property
    def writes(self) -> bool:
        return self.mode is Mode.ENFORCE and not self.held


class Owned(BaseModel):
    """One field of one resource left to another owner (``owners``): what ``plan`` and ``/status`` list."""

    kind: str
    name: str
    path: str
    owner: str


class Orphan(BaseModel):
    """A resource tagged as ours whose document is gone, kept because its policy says Retain."""

    kind: str
    name: str
    arn: str


class Unmanaged(BaseModel):
    """A live resource under a declared parent that no document declares and no instance owns (a rule added by
    hand on a managed listener): reported, and deleted only when the parent's document opts in."""

    kind: str
    name: str  # its natural key, e.g. ``frontapp-alb:443:30`` (load balancer, port, priority)
    arn: str
    parent: str  # the metadata.name of the parent's document
    reason: str


class Conflict(BaseModel):
    """A declared resource that another reconciler instance owns: left alone and reported."""

    kind: str
    name: str
    owner: str


class Plan(BaseModel):
    revision: str
    # the target (account and Region) the plan is for: the planned desired state's (``DesiredState.target``)
    target: str = DEFAULT_TARGET
    changes: list[Change] = Field(default_factory=list)
    in_sync: list[ResourceKey] = Field(default_factory=list)
    orphans: list[Orphan] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    unmanaged: list[Unmanaged] = Field(default_factory=list)
    deletions_blocked: int = 0  # deletions held because there were more than --max-deletions
    # families whose recent revisions the planner needs before it can say whether to register (see planner)
    families_to_read: list[str] = Field(default_factory=list)
    # (cluster, service) whose failed ECS deployments the planner needs before it puts back a revision (see planner)
    rollouts_to_read: list[tuple[str, str]] = Field(default_factory=list)
    # declared services whose ECS deployment has rolled out past --deployment-deadline, and what to say of it
    deployments_overdue: dict[str, str] = Field(default_factory=dict)  # Service name → what to say
    # declared services left by ECS on a failed deployment of the revision Git wants (``rollouts.failed_in_place``)
    deployments_failed: dict[str, str] = Field(default_factory=dict)  # Service name → the deployment's ID
    # fields of declared resources left to another owner (plan/owners.py): why a difference there is not drift
    owned: list[Owned] = Field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(not c.restamp for c in self.changes)

    @property
    def reported_changes(self) -> list[Change]:
        """The changes a reader is shown: all but restamps (``Change.restamp``)."""
        return [c for c in self.changes if not c.restamp]

    @property
    def restamps(self) -> list[Change]:
        return [c for c in self.changes if c.restamp]
