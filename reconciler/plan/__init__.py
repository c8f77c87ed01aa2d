"""Plan: normalise desired and live, diff them, order the work (pure: no AWS import, table-tested)."""
