"""`newsmon web [--host H] [--port P]`: serve the pages and the JSON API (monitor.web)."""

from __future__ import annotations

import argparse

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig


def cmd_web(config: NewsmonConfig, args: argparse.Namespace) -> int:
    from monitor.web.serve import listen_address, serve_foreground

    host, port = listen_address(config, args.host, args.port)
    _engine, sessions = open_archive(config)
    return serve_foreground(config, sessions, host, port, echo=lambda line: print(line, flush=True))
