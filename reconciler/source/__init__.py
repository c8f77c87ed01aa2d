"""Where a pass gets its desired state from: a directory, or a Git repository checked out by revision."""
