"""``reconciler schema``: print the JSON Schema of every kind (for editors)."""

from __future__ import annotations

import json

from reconciler.commands import EXIT_OK
from reconciler.shapes.json_schema import schema_document


def schema() -> int:
    print(json.dumps(schema_document(), indent=1))
    return EXIT_OK
