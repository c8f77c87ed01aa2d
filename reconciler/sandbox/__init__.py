"""The embedded AWS emulator behind ``reconciler sandbox`` and the tests.

moto's server runs in its own process (``server``), with our patches applied so that it answers like AWS where
the reconciler would notice (``patches``); ``emulator`` starts and stops that process; ``seed`` creates the
base infrastructure (VPC, roles, logs, parameters, EFS) that the example desired state refers to.
"""
