"""The web UI at ``GET /``: pure rendering of the ``GET /status`` body into HTML (docs/ui.md).

Nothing here does I/O or knows aiohttp: ``server.py`` serves what ``pages`` renders."""
