"""``load_desired_state``: a desired-state directory → a validated ``DesiredState``, or every problem in it.

The steps, in order: collect variables and the targets (``targets``: ``targets.yaml``), find and read the files
(within ``limits``), read each YAML document, give it its target, substitute that target's variables, validate
each document, then, each target's documents apart, the checks across documents (duplicate names, dangling
references, load-balancing, autoscaling and deployment strategy rules) and, with ``--allowed-clusters``, the
clusters the documents touch (``scope``). Nothing here talks to AWS: the request-shape check is the injected
``check_spec``. Secret-looking values written in clear are remembered (``secrets``), so that the process never
prints them.

A long-running process passes a ``FileCache``: a file whose text and variables are those of the last load is not
read and checked again, so that a commit touching one file costs one file's work, not the estate's. The
checks across documents are run only for the targets whose files' ``crossfacts`` cannot prove them clean.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from reconciler.desired.autoscaling import autoscaling_problems
from reconciler.desired.crosscheck import Candidate, dangling_reference_problems, duplicate_problems
from reconciler.desired.crossfacts import CrossFacts, cross_facts, unclean_targets
from reconciler.desired.documents import check_document
from reconciler.desired.load_balancing import load_balancing_problems
from reconciler.desired.scope import cluster_scope_problems
from reconciler.desired.secrets import remember_secret_values
from reconciler.desired.sources import RACY_NS, FileStamp, SourceReader, display_path, stat_before_reading
from reconciler.desired.spec_checker import SpecChecker
from reconciler.desired.strategies import across_documents as strategy_problems_across
from reconciler.desired.targets import Assignment, TargetsFile, read_targets
from reconciler.desired.tree import TreeFile, walk_tree
from reconciler.desired.variable_sources import load_variables
from reconciler.desired.variables import VariableValue
from reconciler.desired.yaml_reader import DocumentBudget, read_yaml
from reconciler.errors import InvalidDesiredState, Problem
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey


def load_desired_state(
    root: Path,
    *,
    vars_files: Sequence[Path] = (),
    extra_vars: Mapping[str, str] | None = None,
    check_spec: SpecChecker,
    allowed_clusters: Collection[str] = (),
    cache: FileCache | None = None,
    shown_as: Path | None = None,
    repository: Path | None = None,
) -> DesiredState:
    """Load and validate ``root``; raises ``InvalidDesiredState`` listing every problem found.
    ``allowed_clusters`` (``--allowed-clusters``; empty: any cluster) bounds the clusters documents may touch;
    ``cache`` keeps each file's checked documents from one load to the next; ``shown_as``: what ``root`` is
    called in the names of its files (problems, resources, the cache), when not its own path: a checkout of one
    commit among many is named as the folder it stands for, so that its files keep their names from one commit to
    the next; ``repository``: the checkout ``root`` is a folder of, when it is one: symbolic links may then lead
    anywhere inside it, else only inside ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidDesiredState([Problem(display_path(root), 1, "desired-state directory not found")])
    reader = SourceReader(root=root, shown_as=shown_as or root)
    tree = walk_tree(root, display=reader.display, bound=repository)
    layers, problems = load_variables(
        vars_file=tree.vars_file, vars_files=vars_files, extra_vars=extra_vars, reader=reader
    )
    targets = _read_targets(tree.targets_file, reader=reader, variables=layers.merged())
    if targets is not None:
        problems.extend(targets.problems)
    assignment = Assignment(root, layers, targets)
    loading = _Loading(problems=problems + tree.problems)
    cache = cache if cache is not None else FileCache()
    _load_files(
        tree.files, reader=reader, assignment=assignment, check_spec=check_spec, loading=loading, cache=cache
    )
    declared = targets.targets if targets is not None else ()  # their fields may hold variables: not in keys
    whole = (tuple(loading.keys), frozenset(allowed_clusters), reader.revision(), declared)
    if not loading.problems and cache.last_state is not None and cache.last_state[0] == whole:
        return cache.last_state[1]  # every file as last time: so is every check across them
    # a file's values are remembered when it is checked (_check_file)
    for variables in (assignment.base, *(target.vars for target in assignment.declared.values())):
        remember_secret_values((), variables)
    _check_across(loading, assignment, allowed_clusters)
    if loading.problems:
        raise InvalidDesiredState(sorted(set(loading.problems), key=_problem_order))
    in_order = sorted(loading.files, key=lambda checked: checked.display)  # each file's are in line order
    desired = _desired_state(in_order, reader.revision(), targets)
    cache.last_state = (whole, desired)
    return desired


def _read_targets(
    file: TreeFile | None, *, reader: SourceReader, variables: Mapping[str, VariableValue]
) -> TargetsFile | None:
    if file is None:
        return None
    source = reader.read(file)  # counted in the revision, as every file read is
    if isinstance(source, Problem):
        return TargetsFile(problems=(source,))
    return read_targets(source, variables)


def _check_across(loading: _Loading, assignment: Assignment, allowed_clusters: Collection[str]) -> None:
    """The checks across documents, each target's documents among themselves, for the targets whose files'
    facts do not prove them clean (every target, once a problem is found: so that all are reported)."""
    facts: dict[str, list[CrossFacts]] = {target: [] for target in assignment.known}
    for checked in loading.files:
        for target, file_facts in checked.facts.items():
            if target in facts:  # the documents of no declared target have a problem already
                facts[target].append(file_facts)
    unclean = list(facts) if loading.problems else unclean_targets(facts, allowed_clusters)
    if not unclean:
        return
    candidates: dict[str, list[Candidate]] = {target: [] for target in facts}
    for candidate in chain.from_iterable(checked.candidates for checked in loading.files):
        candidates.get(candidate.target, []).append(candidate)
    declared = {
        target: set(chain.from_iterable(f.declared for f in files)) for target, files in facts.items()
    }
    for target in unclean:
        its = candidates[target]
        elsewhere: dict[ResourceKey, list[str]] = {}
        for other, keys in declared.items():
            for key in keys if other != target else ():
                elsewhere.setdefault(key, []).append(other)
        loading.problems.extend(dangling_reference_problems(its, elsewhere))
        for check in _ACROSS_DOCUMENTS:
            loading.problems.extend(check(its))
        scoped = ((candidate.resource, candidate.name_line) for candidate in its)
        loading.problems.extend(cluster_scope_problems(scoped, allowed_clusters))


_ACROSS_DOCUMENTS: tuple[Callable[[Sequence[Candidate]], list[Problem]], ...] = (  # and dangling references
    duplicate_problems,
    load_balancing_problems,
    autoscaling_problems,
    strategy_problems_across,
)


def _desired_state(files: Sequence[_CheckedFile], revision: str, targets: TargetsFile | None) -> DesiredState:
    """Every valid document, in file then line order; with targets.yaml, also each declared target's part."""
    resources = tuple(chain.from_iterable(checked.valid for checked in files))
    if targets is None:
        return DesiredState(resources=resources, revision=revision)
    by_target: dict[str, list[DesiredResource]] = {target.name: [] for target in targets.targets}
    for checked in files:
        for target, resource in zip(checked.valid_targets, checked.valid, strict=True):
            by_target[target].append(resource)
    parts = tuple(
        DesiredState(resources=tuple(its), revision=revision, target=name) for name, its in by_target.items()
    )
    return DesiredState(resources=resources, revision=revision, targets=targets.targets, parts=parts)


@dataclass
class _CheckedFile:
    display: str  # the file's name in problems (and in each resource's ``file``)
    documents: int  # how many it holds (``MAX_DOCUMENTS``)
    problems: list[Problem]  # of reading the YAML, and of its documents
    candidates: list[Candidate]  # documents with a kind, a name and a spec, valid or not
    valid: list[DesiredResource]  # the candidates without any problem, in line order
    valid_targets: list[str]  # the target of each of ``valid``
    facts: dict[str, CrossFacts]  # what the checks across documents need of it, per target of its documents
    overrides: frozenset[str]  # its documents' metadata.target values, as written (its cache key's part)


@dataclass
class FileCache:
    """Each file's checked documents, by (file, text, variables), as of the last load only (so it never grows
    beyond one desired state). Checking a document is pure, so equal inputs give equal results. The variables are
    those of each target the file's documents are for (``Assignment.variables_key``): which, beyond its folder's,
    the ``metadata.target`` values of its text say (``overrides_of``)."""

    _files: dict[tuple[str, str, str], _CheckedFile] = field(default_factory=dict)
    _next: dict[tuple[str, str, str], _CheckedFile] = field(default_factory=dict)
    _stamps: dict[str, FileStamp] = field(default_factory=dict)  # path → how it was when read
    _next_stamps: dict[str, FileStamp] = field(default_factory=dict)
    _overrides: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # (file, digest) → its
    _next_overrides: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    hits: int = 0  # files taken from the cache, over the process's life (tests and benchmarks)
    unread: int = 0  # of those, files not even read: ``stat`` showed them unchanged
    racy_ns: int = RACY_NS  # see ``sources.RACY_NS`` (tests set it to 0)
    # the last valid load, by its files' keys in order, allowed clusters and revision: a pass over an unchanged
    # directory gets the same object, not a rebuilt one (nor the checks across documents run again)
    last_state: tuple[object, DesiredState] | None = None

    def peek(self, key: tuple[str, str, str]) -> _CheckedFile | None:
        return self._files.get(key)

    def overrides_of(self, display: str, digest: str) -> frozenset[str] | None:
        """The ``metadata.target`` values of the file ``display`` when its bytes were ``digest`` (None: not
        known), as of the last load."""
        return self._overrides.get((display, digest))

    def stamp_of(self, path: Path) -> FileStamp | None:
        """How ``path`` was when it was last read (as of the last load)."""
        return self._stamps.get(str(path))

    def stamp(self, path: Path, stamp: FileStamp) -> None:
        self._next_stamps[str(path)] = stamp

    def get(self, key: tuple[str, str, str]) -> _CheckedFile | None:
        found = self._files.get(key)
        if found is not None:
            self.hits += 1
            self.put(key, found)
        return found

    def put(self, key: tuple[str, str, str], checked: _CheckedFile) -> None:
        self._next[key] = checked
        self._next_overrides[key[:2]] = checked.overrides

    def end_load(self) -> None:
        self._files, self._next = self._next, {}
        self._stamps, self._next_stamps = self._next_stamps, {}
        self._overrides, self._next_overrides = self._next_overrides, {}


@dataclass
class _Loading:
    problems: list[Problem] = field(default_factory=list)
    files: list[_CheckedFile] = field(default_factory=list)  # in the order they were found
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # each file's cache key, in order
    budget: DocumentBudget = field(default_factory=DocumentBudget)


def _load_files(
    files: Sequence[TreeFile],
    *,
    reader: SourceReader,
    assignment: Assignment,
    check_spec: SpecChecker,
    loading: _Loading,
    cache: FileCache,
) -> None:
    try:
        for file in files:
            folder_target = assignment.folder_target(file.path)
            key, checked_file = _unchanged(
                file, reader=reader, folder_target=folder_target, assignment=assignment, cache=cache
            )
            if checked_file is None:
                stamp = stat_before_reading(file)
                source = reader.read(file)
                if isinstance(source, Problem):
                    loading.problems.append(source)
                    continue
                overrides = cache.overrides_of(source.display, source.digest)
                if overrides is not None:
                    key = (source.display, source.digest, assignment.variables_key(folder_target, overrides))
                    checked_file = cache.get(key)
                if checked_file is None:
                    checked_file = _check_file(
                        source.display, source.text, folder_target, assignment, check_spec, loading.budget
                    )
                    key = (
                        source.display,
                        source.digest,
                        assignment.variables_key(folder_target, checked_file.overrides),
                    )
                    if loading.budget.remaining >= 0:  # a file cut short by the document limit is read again
                        cache.put(key, checked_file)
                else:
                    loading.budget.remaining -= checked_file.documents
                if stamp is not None:
                    cache.stamp(file.path, FileStamp(stamp[0], source.digest, stamp[1]))
            else:
                loading.budget.remaining -= checked_file.documents
            loading.keys.append(key)
            loading.problems.extend(checked_file.problems)
            loading.files.append(checked_file)
            if loading.budget.remaining < 0:
                return
    finally:
        cache.end_load()


def _unchanged(
    file: TreeFile,
    *,
    reader: SourceReader,
    folder_target: str | None,
    assignment: Assignment,
    cache: FileCache,
) -> tuple[tuple[str, str, str], _CheckedFile | None]:
    """The cached file for ``file`` when ``stat`` shows it unchanged since the last load (it is then not read)."""
    stamp = cache.stamp_of(file.path)
    if stamp is None:
        return ("", "", ""), None
    display = reader.display(file.path)
    overrides = cache.overrides_of(display, stamp.digest)
    if overrides is None:
        return ("", "", ""), None
    key = (display, stamp.digest, assignment.variables_key(folder_target, overrides))
    checked_file = cache.peek(key)
    if checked_file is None or not reader.unchanged(file, stamp, racy_ns=cache.racy_ns):
        return key, None
    cache.get(key)  # kept for the next load, and counted
    cache.stamp(file.path, stamp)
    cache.unread += 1
    return key, checked_file


def _check_file(
    display: str,
    text: str,
    folder_target: str | None,
    assignment: Assignment,
    check_spec: SpecChecker,
    budget: DocumentBudget,
) -> _CheckedFile:
    """Read and check one file's documents, each for its target (its folder's, or its ``metadata.target``) with
    that target's variables. Its secret-looking values are remembered here, once: a file taken from the cache was
    remembered when it was checked (``KNOWN_SECRETS`` only grows)."""
    read = read_yaml(text, budget=budget)
    problems = [Problem(display, line, message) for line, message in read.problems]
    candidates, valid, valid_targets, overrides = [], [], [], set()
    for document in read.documents:
        target, written, target_problems = assignment.document_target(
            document, folder_target=folder_target, file=display
        )
        if written is not None:
            overrides.add(written)
        checked = check_document(
            document,
            file=display,
            variables=assignment.variables_of(target),
            check_spec=check_spec,
            target=target or "",
        )
        problems.extend(target_problems + checked.problems)
        if checked.candidate is not None:
            candidates.append(checked.candidate)
            if not checked.problems and not target_problems and target is not None:
                valid.append(checked.candidate.resource)
                valid_targets.append(target)
    remember_secret_values(candidate.resource for candidate in candidates)
    by_target: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_target.setdefault(candidate.target, []).append(candidate)
    facts = {target: cross_facts(its) for target, its in by_target.items()}
    return _CheckedFile(
        display, len(read.documents), problems, candidates, valid, valid_targets, facts, frozenset(overrides)
    )


def _problem_order(problem: Problem) -> tuple[str, int, str]:
    return (problem.file, problem.line, problem.message)
