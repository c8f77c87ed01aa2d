"""The desired state: load a directory of YAML documents, substitute variables, validate (pure; no AWS
import).

``load_desired_state`` is the entry point; the AWS request-shape check is injected as a ``SpecChecker`` (the
real one is ``reconciler.shapes.BotocoreSpecChecker``) so that this package never imports botocore.
"""

from reconciler.desired.loader import FileCache, load_desired_state
from reconciler.desired.spec_checker import SpecChecker, SpecProblem

__all__ = ["FileCache", "SpecChecker", "SpecProblem", "load_desired_state"]
