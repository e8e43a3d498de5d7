"""`newsmon web`: server-rendered pages and a JSON API over the archive (read-only but for the retry
of a dead alert). `create_app(config)` builds the ASGI app; monitor.commands.web serves it."""

from monitor.web.app import create_app

__all__ = ["create_app"]
