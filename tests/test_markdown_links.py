"""Every relative link in the project's documents leads somewhere: README.md, ARCHITECTURE.md, CONTRIBUTING.md and
docs/*.md link to each other and to files of the repository, and a document moved or a heading renamed must not
leave a link behind. A link's file must exist; a link's ``#anchor`` into a Markdown file must name one of its
headings, as GitHub turns headings into anchors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")]
)
FENCED_CODE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(text: str) -> str:
    """``text`` without code blocks: a ``[x](y)`` in an example is not a link."""
    return FENCED_CODE.sub("", text)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown text: lower case, punctuation dropped, spaces as
    hyphens, a repeated heading numbered from -1."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(_prose(text)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(document: Path) -> list[str]:
    prose = INLINE_CODE.sub("", _prose(document.read_text(encoding="utf-8")))
    return [target for target in LINK.findall(prose) if not EXTERNAL.match(target)]


def broken_links(document: Path) -> list[str]:
    broken: list[str] = []
    for target in relative_links(document):
        path, _, anchor = target.partition("#")
        destination = (document.parent / path).resolve() if path else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination.read_text("utf-8")):
            broken.append(f"{target}: no heading gives the anchor #{anchor}")
    return broken


def test_the_documents_exist() -> None:
    assert all(document.is_file() for document in DOCUMENTS)
    assert len(DOCUMENTS) > 3  # docs/*.md found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = broken_links(document)
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


def test_anchors_are_made_as_github_makes_them() -> None:
    text = "# How drift is decided (and why)\n## `reconciler schema`: editors\n## Limits\n## Limits\n```\n# no\n```"
    assert anchors(text) == {
        "how-drift-is-decided-and-why",
        "reconciler-schema-editors",
        "limits",
        "limits-1",
    }


def test_links_in_code_are_not_links_and_broken_ones_are_found(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# B\n")
    (tmp_path / "a.md").write_text(
        "# A\n[b](b.md) [b](b.md#b) [a](#a) [c](c.md) [b](b.md#x) `[not](d.md)`\n```\n[nor](e.md)\n```\n"
    )
    assert relative_links(tmp_path / "a.md") == ["b.md", "b.md#b", "#a", "c.md", "b.md#x"]
    assert broken_links(tmp_path / "a.md") == [
        "c.md: no such file",
        "b.md#x: no heading gives the anchor #x",
    ]
