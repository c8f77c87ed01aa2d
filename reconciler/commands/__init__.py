"""What each command of ``reconciler`` does, one module per command, imported by ``cli.py`` only when that
command runs: ``reconciler --help`` and the parser import none of them, and ``validate`` imports no AWS library.
Which command exits with which code is in ``cli.py``'s docstring.
"""

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
