"""Notifications and GitHub commit statuses: what a pass tells the outside world.

The decisions are pure and table-tested: which transitions open and close an episode and say so once
(``episodes.py``), the rate limit, the digest and the retry schedule (``limits.py``), the message as JSON and as
Slack Block Kit (``message.py``), a commit's status (``github.py``). Sending is I/O at the edge (``sender.py``):
a bounded queue per sink, filled by the pass without waiting, emptied by a task beside the daemon's loop.
"""
