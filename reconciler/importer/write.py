"""Writing imported documents as YAML files under ``--out``: never over an existing file (an import adopts an
estate; it must not clobber the repo it is run in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.importer.documents import Document

HEADER = (
    "# Imported by `reconciler import` from cluster {cluster}. Review it before committing: IDs (subnets, security\n"
    "# groups, roles) are as AWS has them; move the ones that differ per environment to vars.yaml as ${{NAME}}.\n"
)


class _Dumper(yaml.SafeDumper):
    """Block style, keys in AWS's order, list items indented under their key (as the example estate is
    written), multi-line strings as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _string(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def write_files(out: Path, files: dict[str, list[Document]], *, cluster: str) -> list[Path]:
    """Write each file; raise ``FileExistsError`` before writing anything if one is already there."""
    targets = {out / relative: documents for relative, documents in files.items()}
    existing = [str(path) for path in targets if path.exists()]
    if existing:
        raise FileExistsError(f"not overwriting: {', '.join(sorted(existing))}")
    for path, documents in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.dump_all(
            [d.as_yaml_object() for d in documents],
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=110,
        )
        path.write_text(HEADER.format(cluster=cluster) + body, encoding="utf-8")
    return sorted(targets)
