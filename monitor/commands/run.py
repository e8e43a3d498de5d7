"""`newsmon run`: the daemon (every source on its schedule, then match and deliver)."""

from __future__ import annotations

import argparse

from monitor import log_format
from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig


def cmd_run(config: NewsmonConfig, args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon  # APScheduler is loaded only by the command that needs it

    _engine, sessions = open_archive(config)
    # Progress lines on stdout, masked: plain text, or with log_format json one JSON record each.
    return Daemon(config, sessions, echo=log_format.echo_for(config)).run()
