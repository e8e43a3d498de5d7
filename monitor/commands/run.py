"""`newsmon run [--web]`: the daemon (every source on its schedule, then match and deliver), and with
--web the pages and JSON API of `newsmon web` served from the same process."""

from __future__ import annotations

import argparse

from monitor import log_format
from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig


def cmd_run(config: NewsmonConfig, args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon  # APScheduler is loaded only by the command that needs it

    serve = None
    if getattr(args, "web", False):
        from monitor.web import serve  # FastAPI only with --web

        address = serve.listen_address(config)  # refused off loopback without web.token, before anything starts
    _engine, sessions = open_archive(config)
    web = serve.WebThread(config, sessions, *address) if serve else None
    # Progress lines on stdout, masked: plain text, or with log_format json one JSON record each.
    return Daemon(config, sessions, echo=log_format.echo_for(config), web=web).run()
