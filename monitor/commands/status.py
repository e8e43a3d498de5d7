"""`newsmon status [--check]`: per source health, and the outbox."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig
from monitor.output import table
from monitor.redaction import mask
from monitor.statuses import AlertStatus
from monitor.store import repo


def _age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def problems_for(config: NewsmonConfig, status: repo.SourceStatus, now: datetime) -> list[str]:
    """What needs a person's attention; empty when the source is healthy."""
    found = []
    source = config.sources.get(status.source)
    if source is None or not source.enabled:
        return found
    interval = config.source_interval(source)
    if status.consecutive_failures:
        found.append(f"{status.source}: last {status.consecutive_failures} crawl(s) failed: {mask(status.last_error)}")
    if status.last_success_at is None:
        if status.last_run_at is not None:
            found.append(f"{status.source}: has never crawled successfully")
    elif now - status.last_success_at > timedelta(seconds=3 * interval + 300):
        found.append(f"{status.source}: no successful crawl for {_age(status.last_success_at, now)[:-4]}")
    if status.throttled_until is not None and status.throttled_until > now:
        found.append(f"{status.source}: throttled by the site until {status.throttled_until:%Y-%m-%d %H:%M} UTC")
    if status.dead_alerts:
        found.append(f"{status.source}: {status.dead_alerts} alert(s) could not be delivered (newsmon alerts --status dead)")
    return found


def cmd_status(config: NewsmonConfig, args: argparse.Namespace) -> int:
    _engine, sessions = open_archive(config)
    now = repo.utcnow()
    with sessions() as session:
        statuses = repo.source_statuses(session, config.sources)
        counts = repo.alert_counts(session)
        size = repo.archive_size(session)
    rows = []
    problems: list[str] = []
    for s in statuses:
        configured = s.source in config.sources
        name = s.source if configured else f"{s.source} (not configured)"
        if s.throttled_until is not None and s.throttled_until > now:
            name += " (throttled)"
        rows.append([name, _age(s.last_success_at, now),
                     _age(s.last_new_article_at, now), s.articles, s.consecutive_failures, s.pending_alerts,
                     s.dead_alerts, mask(s.last_error) or ""])
        problems += problems_for(config, s, now)
    print(table(["source", "last success", "last new article", "articles", "failing", "pending alerts",
                 "dead alerts", "last error"], rows, max_width=70))
    print("\nalerts: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in AlertStatus))
    on_disk = f"{size.bytes / 1_048_576:.1f} MB, " if size.bytes is not None else ""
    print(f"archive: {on_disk}{size.articles} articles in {size.stories} stories, "
          f"{size.articles_with_text} with text (retention: "
          f"{_duration(config.retention.article_text) if config.retention.article_text else 'keep forever'})")
    if problems:
        print("\nneeds attention:")
        for p in problems:
            print(f"  - {p}")
    if args.check:
        return 1 if problems else 0
    return 0
