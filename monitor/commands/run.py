"""`newsmon run`: the daemon (every source on its schedule, then match and deliver)."""

from __future__ import annotations

import argparse

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig
from monitor.redaction import mask


def cmd_run(config: NewsmonConfig, args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon  # APScheduler is loaded only by the command that needs it

    _engine, sessions = open_archive(config)
    return Daemon(config, sessions, echo=lambda line: print(mask(line), flush=True)).run()
