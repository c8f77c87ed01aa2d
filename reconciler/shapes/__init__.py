"""AWS request shapes from botocore: the ``SpecChecker`` that ``desired`` is given, and field lists for
``plan``.

This is the only package that reads botocore's service models; ``desired`` and ``plan`` stay pure and receive
what they need from here by injection.
"""

from reconciler.shapes.checker import BotocoreSpecChecker
from reconciler.shapes.models import input_shape, updatable_fields

__all__ = ["BotocoreSpecChecker", "input_shape", "updatable_fields"]
