"""reconciler: GitOps for Amazon ECS on Fargate.

The data flows one way: ``desired`` (YAML → validated resources) and ``live`` (AWS → snapshots) meet in
``plan`` (a pure diff), which ``apply`` carries out; ``runtime`` repeats that pass, ``cli`` is the entry point.
"""

__version__ = "0.1.0"
