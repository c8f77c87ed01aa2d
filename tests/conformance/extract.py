"""Re-extract the AWS CLI's example outputs that the conformance corpus reads, from an ``awscli`` wheel.

    python tests/conformance/extract.py awscli-1.46.3-py3-none-any.whl

(get the wheel with ``pip download awscli==1.46.3 --no-deps``). For each example page listed in ``PAGES`` it
writes ``aws_examples/<service>/<command>.json``: the page's examples in order, each with its title and every
literal block of it (a command, a request file, an output), a block that parses as JSON kept as data, any other
as text. Nothing is changed in a value: the only leniency is that a comma before a closing bracket (which some
pages have, and JSON does not allow) is dropped, and a block read that way is marked ``"lenient": true``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "aws_examples"
# The example pages of the corpus: the describe commands whose outputs are live state, and the requests (create,
# register, modify) whose outputs are the same shapes and whose inputs are what a user writes.
PAGES = {
    "ecs": [
        "describe-services", "create-service", "describe-task-definition", "register-task-definition",
        "describe-clusters", "create-cluster",
    ],
    "elbv2": [
        "describe-target-groups", "create-target-group", "describe-target-group-attributes",
        "describe-load-balancers", "create-load-balancer", "describe-load-balancer-attributes",
        "describe-listeners", "create-listener", "modify-listener", "describe-rules", "create-rule", "modify-rule",
        "set-rule-priorities",
    ],
    "application-autoscaling": [
        "describe-scalable-targets", "register-scalable-target", "describe-scaling-policies",
        "put-scaling-policy", "describe-scheduled-actions", "put-scheduled-action",
    ],
    "deploy": ["get-deployment-group", "batch-get-deployment-groups", "create-deployment-group"],
    "servicediscovery": ["get-service", "create-service"],
}  # fmt: skip

_TITLE = re.compile(r"^\*\*(?P<title>.+?)\*\*\s*$")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def parse_page(text: str) -> list[dict[str, Any]]:
    """The examples of one page: ``[{title, blocks: [{intro, json | text, lenient?}]}]``."""
    examples: list[dict[str, Any]] = []
    lines = text.splitlines()
    index = 0
    intro = ""
    while index < len(lines):
        line = lines[index]
        title = _TITLE.match(line)
        if title:
            examples.append({"title": title["title"].strip(), "blocks": []})
            index += 1
            continue
        if line.rstrip().endswith("::"):
            intro = line.strip()
            index, block = _literal_block(lines, index + 1)
            if block.strip():
                if not examples:
                    examples.append({"title": "", "blocks": []})
                examples[-1]["blocks"].append({"intro": intro, **_value(block)})
            continue
        index += 1
    return examples


def _literal_block(lines: list[str], start: int) -> tuple[int, str]:
    """The indented block after a ``::`` line, and the index after it."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    block: list[str] = []
    while index < len(lines) and (not lines[index].strip() or lines[index][:1] in " \t"):
        block.append(lines[index])
        index += 1
    return index, textwrap.dedent("\n".join(block)).strip("\n")


def _value(block: str) -> dict[str, Any]:
    try:
        return {"json": json.loads(block)}
    except ValueError:
        pass
    try:
        return {"json": json.loads(_TRAILING_COMMA.sub(r"\1", block)), "lenient": True}
    except ValueError:
        return {"text": block}


def extract(wheel: Path, out: Path = HERE) -> list[Path]:
    version = re.match(r"awscli-([^-]+)-", wheel.name)
    if version is None:
        raise SystemExit(f"{wheel.name}: not an awscli wheel name")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    written = []
    with zipfile.ZipFile(wheel) as archive:
        for service, commands in PAGES.items():
            for command in commands:
                source = f"awscli/examples/{service}/{command}.rst"
                page = {
                    "source": source,
                    "awscli": version[1],
                    "wheel_sha256": digest,
                    "licence": "Apache-2.0 (the AWS CLI's; see NOTICE.md)",
                    "examples": parse_page(archive.read(source).decode("utf-8")),
                }
                path = out / service / f"{command}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(page, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
                written.append(path)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    for path in extract(args.wheel, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
