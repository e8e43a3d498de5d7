"""`newsmon crawl`: one cycle now, in the foreground, with progress (the daemon is commands/run.py)."""

from __future__ import annotations

import argparse
import sys

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig
from monitor.cycle import run_cycle
from monitor.outbox import Outbox
from monitor.output import table
from monitor.redaction import mask
from monitor.statuses import RunStatus


def cmd_crawl(config: NewsmonConfig, args: argparse.Namespace) -> int:
    unknown = [s for s in args.sources if s not in config.sources]
    if unknown:
        print(f"error: unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(config.sources))}",
              file=sys.stderr)
        return 2
    sources = args.sources or [s.name for s in config.enabled_sources()]
    if not sources:
        print("no enabled sources: add files under sources/ in the config directory", file=sys.stderr)
        return 2
    _engine, sessions = open_archive(config)
    outbox = Outbox(config, sessions)
    print(f"crawling {len(sources)} source(s): {', '.join(sources)}", flush=True)
    try:
        report = run_cycle(config, sessions, outbox, sources, on_line=lambda line: print(line, flush=True),
                           quiet=args.quiet, log_level="INFO" if args.verbose else "WARNING")
    finally:
        outbox.close()
    rows = []
    for name in sources:
        r = report.crawl.results[name]
        rows.append([name, r.status, r.pages_fetched, r.unchanged, f"{r.bytes / 1024:.0f}", r.new_articles,
                     r.duplicates, r.skipped, r.errors, mask(r.error) or ""])
    print()
    print(table(["source", "status", "fetched", "not modified", "KB", "new", "duplicates", "already archived",
                 "errors", "first error"], rows, max_width=80))
    print()
    d = report.delivered
    print(f"{report.crawl.new_articles} new articles; {report.matched.queued} alerts queued; "
          f"{d.sent} delivered, {d.failed} to retry, {d.dead} dead")
    for error in d.errors:
        print(f"  delivery: {mask(error)}")
    return 1 if any(r.status == RunStatus.FAILED for r in report.crawl.results.values()) else 0

