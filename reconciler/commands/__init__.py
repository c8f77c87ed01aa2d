"""What each command of ``reconciler`` does, one module per command, imported by ``cli.py`` only when that
command runs: ``reconciler --help`` and the parser import none of them, and ``validate`` imports no AWS library.

Exit codes: ``validate`` 0 valid / 1 invalid; ``plan`` 0 no changes / 2 changes / 1 error; ``apply`` 0 converged /
1 error; ``run`` and ``sandbox`` 0 after SIGTERM/SIGINT; ``status`` 0 / 1 daemon unreachable (or no resource of the
name asked for).
"""

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
