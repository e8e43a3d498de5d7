"""`newsmon alerts [--status …]` and `newsmon alerts retry ID`: the outbox."""

from __future__ import annotations

import argparse
import sys

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig
from monitor.output import render
from monitor.statuses import AlertStatus
from monitor.store import repo
from monitor.store.session import session_scope


def _short(title: str | None, width: int = 48) -> str:
    title = title or ""
    return title if len(title) <= width else title[: width - 1] + "…"


def _digest(alert) -> str | None:
    """A digest row's period ("2024-03-01 10:00–11:00 UTC"), "spread" for a spread alert, or None."""
    spread = "spread" if alert.kind == "spread" else None
    if alert.digest_end is None:
        return spread
    start, end = alert.digest_start or alert.digest_end, alert.digest_end
    end_text = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end_text} UTC" + (" (spread)" if spread else "")


def _about(alert) -> tuple[str | None, str]:
    """(source, title) of an article alert; a health alert has no article, its payload says."""
    if alert.article is not None:
        return alert.article.source, _short(alert.article.title)
    payload = alert.payload or {}
    return payload.get("source"), _short(payload.get("detail"))


def cmd_alerts(config: NewsmonConfig, args: argparse.Namespace) -> int:
    _engine, sessions = open_archive(config)
    with sessions() as session:
        alerts = repo.list_alerts(session, args.status, args.limit)
        rows = [[a.id, a.status, a.rule, a.channel, a.attempts,
                 a.next_attempt_at if a.status == AlertStatus.PENDING else None, a.sent_at, _digest(a), *_about(a),
                 a.last_error] for a in alerts]
        counts = repo.alert_counts(session)
    print(render(["id", "status", "rule", "channel", "attempts", "next_attempt", "sent_at", "digest", "source",
                  "title", "last_error"], rows, args.format))
    if args.format == "table":
        print("\n" + ", ".join(f"{counts.get(s, 0)} {s}" for s in AlertStatus))
    return 0


def cmd_alerts_retry(config: NewsmonConfig, args: argparse.Namespace) -> int:
    _engine, sessions = open_archive(config)
    with session_scope(sessions) as session:
        alert = repo.requeue_alert(session, args.id, repo.utcnow())
        if alert is None:
            print(f"error: no alert with id {args.id}", file=sys.stderr)
            return 1
        status = alert.status
    if status == AlertStatus.PENDING:
        print(f"alert {args.id} queued for the next delivery pass")
        return 0
    print(f"alert {args.id} is {status}; only dead or pending alerts are retried", file=sys.stderr)
    return 1
