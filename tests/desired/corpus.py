"""What a bad-input case is, shared by the corpus modules (``test_desired_bad_inputs`` gathers every case)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    file: str  # relative to the desired-state directory
    line: int
    message: str  # a substring of the problem's message


# A valid Fargate task definition; cases below change one line of it (line numbers in the comments).
TASK = doc(
    """
    apiVersion: reconciler/v1
    kind: TaskDefinition
    metadata:
      name: web
    spec:
      requiresCompatibilities: [FARGATE]
      networkMode: awsvpc
      cpu: "256"
      memory: "512"
      containerDefinitions:
        - name: web
          image: nginx
          portMappings:
            - containerPort: 80
    """
)  # 1 apiVersion · 2 kind · 3 metadata · 4 name · 5 spec · 6 requiresCompatibilities · 7 networkMode · 8 cpu
#    9 memory · 10 containerDefinitions · 11 - name · 12 image · 13 portMappings · 14 - containerPort
