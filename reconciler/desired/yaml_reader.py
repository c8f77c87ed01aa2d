"""YAML text → plain Python values, with the line of every key and list item, and nothing unsafe.

We compose with libyaml's safe loader (``yaml.CSafeLoader``: about ten times faster than the pure-Python one, which
is the fallback where PyYAML was built without libyaml) and never construct arbitrary objects: we turn the node
graph into values ourselves, because only the nodes know their lines, and because walking the nodes lets us refuse what PyYAML
accepts silently: duplicate keys (YAML keeps the last one), tags other than the core scalar/collection tags
(``!!python/object/...``), nesting deeper than ``MAX_DEPTH`` and alias expansion beyond
``MAX_NODES_PER_DOCUMENT`` (see ``limits``).

A node with an unsupported tag is a problem (the load fails) but is read on as if untagged, so that the
checks after it do not pile up follow-on noise. Conventions: mapping keys are always strings (their source
text); timestamps stay strings (AWS takes ISO 8601 text); ``<<`` merge keys work, explicit keys win over
merged ones.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.desired.limits import MAX_DEPTH, MAX_DOCUMENTS, MAX_NODES_PER_DOCUMENT
from reconciler.errors import echoed
from reconciler.model.shared_text import shared_text

_TAG = "tag:yaml.org,2002:"
_TEXT_TAGS = frozenset({_TAG + "str", _TAG + "timestamp"})
_TYPED_TAGS = frozenset({_TAG + "null", _TAG + "bool", _TAG + "int", _TAG + "float"})
_MERGE_TAG = _TAG + "merge"


@dataclass(frozen=True)
class YamlDocument:
    value: Any
    line: int  # 1-based line of the document's root node
    lines: dict[str, int]  # "spec.containerDefinitions[0].image" → line, for every mapping key and list item


@dataclass
class DocumentBudget:
    """How many more documents may be read, shared by every file of one load."""

    remaining: int = MAX_DOCUMENTS


@dataclass
class ReadResult:
    documents: list[YamlDocument] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


class _Refused(Exception):
    """A document (or the rest of a file) that we will not read further."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses deep nesting before its recursion can exhaust the stack. Only used
    without libyaml, whose own scanner refuses nesting deeper than 1000 levels."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        is_collection = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
        if is_collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            if is_collection:
                self._depth -= 1


_Loader = Any  # yaml.CSafeLoader or _DepthLimitedLoader: both compose nodes with marks and construct scalars


def _loader(text: str) -> _Loader:
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader(text)
    return _DepthLimitedLoader(text)


def read_yaml(text: str, *, budget: DocumentBudget) -> ReadResult:
    """Every non-empty document of ``text``; problems stop the file at the first syntax error."""
    result = ReadResult()
    loader: _Loader | None = None
    try:
        loader = _loader(text)  # its reader already rejects unprintable characters
        _read_documents(loader, budget=budget, result=result)
    except yaml.MarkedYAMLError as error:
        result.problems.append((_error_line(error), _syntax_message(error)))
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        result.problems.append((line, f"YAML syntax: {error.reason} (character U+{error.character:04X})"))
    except _Refused as refused:
        result.problems.append((refused.line, refused.message))
    finally:
        if loader is not None:
            loader.dispose()
    return result


def _read_documents(loader: _Loader, *, budget: DocumentBudget, result: ReadResult) -> None:
    while loader.check_node():
        node = loader.get_node()
        if node is None or _is_empty(node):
            continue
        budget.remaining -= 1
        if budget.remaining < 0:
            raise _Refused(
                node.start_mark.line + 1, f"more than {MAX_DOCUMENTS} documents in the desired state"
            )
        converter = _Converter(loader=loader, document_line=node.start_mark.line + 1)
        try:
            value = converter.convert(node, path="", depth=1)
        except _Refused as refused:
            result.problems.append((refused.line, refused.message))
            continue
        result.problems.extend(converter.problems)
        result.documents.append(YamlDocument(value, converter.document_line, converter.lines))


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "null"


def _error_line(error: yaml.MarkedYAMLError) -> int:
    mark = error.problem_mark or error.context_mark
    return mark.line + 1 if mark is not None else 1


def _syntax_message(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return "YAML syntax: " + ", ".join(parts)


class _Converter:
    """Turns one document's node graph into values, counting nodes as aliases expand them."""

    def __init__(self, *, loader: _Loader, document_line: int) -> None:
        self.loader = loader
        self.document_line = document_line
        self.nodes_left = MAX_NODES_PER_DOCUMENT
        self.lines: dict[str, int] = {}
        self.problems: list[tuple[int, str]] = []

    def convert(self, node: Node, *, path: str, depth: int) -> Any:
        self.nodes_left -= 1
        if self.nodes_left < 0:
            message = f"document expands to more than {MAX_NODES_PER_DOCUMENT} nodes (through YAML aliases?)"
            raise _Refused(self.document_line, message)
        if depth > MAX_DEPTH:
            raise _Refused(_line(node), f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, MappingNode):
            return self._mapping(node, path=path, depth=depth)
        if isinstance(node, SequenceNode):
            return self._sequence(node, path=path, depth=depth)
        return self._scalar(node)

    def _mapping(self, node: MappingNode, *, path: str, depth: int) -> dict[str, Any]:
        self._check_tag(node, expected=_TAG + "map")
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in self._merge_sources(value_node):
                    merged_value = self.convert(source, path=path, depth=depth)
                    for key, value in merged_value.items():
                        merged.setdefault(key, value)
        return merged | self._explicit_entries(node, path=path, depth=depth)

    def _explicit_entries(self, node: MappingNode, *, path: str, depth: int) -> dict[str, Any]:
        entries: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    (_line(key_node), "a mapping key must be a plain value, not a collection")
                )
                continue
            key = sys.intern(str(key_node.value))  # the same few keys in every document: stored once
            if key in key_lines:
                message = f"duplicate key '{echoed(key)}' (first at line {key_lines[key]})"
                self.problems.append((_line(key_node), message))
                continue
            key_lines[key] = _line(key_node)
            child_path = f"{path}.{key}" if path else key
            self.lines[child_path] = key_lines[key]
            entries[key] = self.convert(value_node, path=child_path, depth=depth + 1)
        return entries

    def _merge_sources(self, node: Node) -> list[MappingNode]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        if all(isinstance(source, MappingNode) for source in sources):
            return list(sources)
        self.problems.append((_line(node), "a '<<' merge key needs a mapping or a list of mappings"))
        return []

    def _sequence(self, node: SequenceNode, *, path: str, depth: int) -> list[Any]:
        self._check_tag(node, expected=_TAG + "seq")
        items = []
        for index, item_node in enumerate(node.value):
            item_path = f"{path}[{index}]"
            self.lines[item_path] = _line(item_node)
            items.append(self.convert(item_node, path=item_path, depth=depth + 1))
        return items

    def _scalar(self, node: Node) -> Any:
        if node.tag in _TEXT_TAGS:
            return shared_text(str(node.value))
        if node.tag in _TYPED_TAGS:
            return self.loader.construct_object(node)
        self._report_tag(node)
        return str(node.value)  # read on as plain text, so that later checks add no noise

    def _check_tag(self, node: Node, *, expected: str) -> None:
        if node.tag != expected:
            self._report_tag(node)

    def _report_tag(self, node: Node) -> None:
        tag = str(node.tag).replace(_TAG, "!!")
        self.problems.append(
            (_line(node), f"unsupported YAML tag '{echoed(tag)}' (only plain YAML values are allowed)")
        )


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1
