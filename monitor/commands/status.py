"""`newsmon status [--check] [--format table|json]`: per source health (its state: ok, failing,
silent, drifting, throttled, lagging, …) and schedule lag, the outbox, the archive."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig, SourceConfig
from monitor.health.report import Judged, judge_sources
from monitor.health.rules import HealthState, display_state
from monitor.output import table, to_json
from monitor.redaction import mask
from monitor.schedule import LAG_TOLERANCE
from monitor.statuses import AlertStatus
from monitor.store import repo

PROBLEM_LINES_PER_KIND = 10  # past this many overdue sources, one summary line instead of one each


STATUS_REDIS_TIMEOUT = 3.0  # seconds: status reports an unreachable Redis instead of waiting for it


def _span(seconds: float) -> str:
    """A length of time in its largest whole unit: 3d, 5h, 12m, 40s."""
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _age(when: datetime | None, now: datetime) -> str:
    return "never" if when is None else f"{_span((now - when).total_seconds())} ago"


def _checked(config: NewsmonConfig, source: str) -> SourceConfig | None:
    """The source's config if it is configured and enabled: the ones the daemon checks."""
    found = config.sources.get(source)
    return found if found is not None and found.enabled else None


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class ScheduleLag:
    """How far the daemon is behind, from the due times it keeps in the archive."""

    sources: int  # enabled sources
    overdue: int  # due more than LAG_TOLERANCE ago and not checked since
    oldest_overdue_source: str | None
    max_lag_seconds: float
    never_scheduled: int  # enabled sources without a due time yet: the daemon has not finished a check of them


def lag_seconds(config: NewsmonConfig, status: repo.SourceStatus, now: datetime) -> float | None:
    """How late the source's check is (None: not due yet, or not scheduled, or not enabled)."""
    if _checked(config, status.source) is None or status.next_check_at is None:
        return None
    due = status.next_check_at
    if status.throttled_until is not None and status.throttled_until > due:
        due = status.throttled_until  # the site asked us to wait: not late until then
    late = now - due
    return late.total_seconds() if late > LAG_TOLERANCE else None


def schedule_lag(config: NewsmonConfig, statuses: list[repo.SourceStatus], now: datetime) -> ScheduleLag:
    enabled = [s for s in statuses if _checked(config, s.source) is not None]
    late = [(lag, s.source) for s in enabled if (lag := lag_seconds(config, s, now)) is not None]
    worst = max(late) if late else (0.0, None)
    return ScheduleLag(sources=len(enabled), overdue=len(late), oldest_overdue_source=worst[1],
                       max_lag_seconds=round(worst[0], 1),
                       never_scheduled=sum(1 for s in enabled if s.next_check_at is None))


def _next_check(config: NewsmonConfig, status: repo.SourceStatus, now: datetime) -> str:
    if status.next_check_at is None or _checked(config, status.source) is None:
        return "-"  # the daemon does not check it
    late = lag_seconds(config, status, now)
    if late is not None:
        return f"overdue {_span(late)}"
    ahead = max(0, int((status.next_check_at - now).total_seconds()))
    return "now" if ahead == 0 else f"in {_span(ahead)}"


def lag_problems(config: NewsmonConfig, statuses: list[repo.SourceStatus], now: datetime) -> list[str]:
    """Sources overdue by more than their interval: the daemon is not running, or not keeping up."""
    behind = []
    for status in statuses:
        late = lag_seconds(config, status, now)
        if late is not None and late > config.source_interval(config.sources[status.source]):
            behind.append((late, status.source))
    behind.sort(reverse=True)
    hint = "is `newsmon run` running, and keeping up? (its log reports the schedule lag)"
    if len(behind) > PROBLEM_LINES_PER_KIND:
        late, source = behind[0]
        return [f"{len(behind)} sources overdue by more than their interval, the oldest {source} by "
                f"{_span(late)}: {hint}"]
    return [f"{source}: check overdue by {_span(late)}: {hint}" for late, source in behind]


def problems_for(config: NewsmonConfig, status: repo.SourceStatus, now: datetime,
                 health: Judged | None = None) -> list[str]:
    """What needs a person's attention; empty when the source is healthy. (A failing source is
    named by its failed checks below; silence and drift by its health.)"""
    found = []
    source = _checked(config, status.source)
    if source is None:
        return found
    if health is not None and health.state in (HealthState.SILENT, HealthState.DRIFTING):
        found.append(f"{status.source}: {health.state}: {health.detail}")
    interval = config.source_interval(source)
    if status.consecutive_failures:
        found.append(f"{status.source}: last {status.consecutive_failures} crawl(s) failed: {mask(status.last_error)}")
    if status.last_success_at is None:
        if status.last_run_at is not None:
            found.append(f"{status.source}: has never crawled successfully")
    elif now - status.last_success_at > timedelta(seconds=3 * interval + 300):
        found.append(f"{status.source}: no successful crawl for {_span((now - status.last_success_at).total_seconds())}")
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
        health = judge_sources(config, session, now)
    problems: list[str] = []
    for s in statuses:
        problems += problems_for(config, s, now, health.get(s.source))
    problems += lag_problems(config, statuses, now)
    lag = schedule_lag(config, statuses, now)
    queue_state, queue_problems = _queue_state(config)
    problems += queue_problems
    if getattr(args, "format", "table") == "json":
        print(to_json({
            "sources": [_source_json(config, s, now, health.get(s.source)) for s in statuses],
            "schedule": asdict(lag),
            "alerts": {str(status): counts.get(status, 0) for status in AlertStatus},
            "archive": {"bytes": size.bytes, "articles": size.articles, "stories": size.stories,
                        "articles_with_text": size.articles_with_text},
            **({"distributed": queue_state} if queue_state is not None else {}),
            "problems": [mask(p) for p in problems],
        }))
    else:
        _print_table(config, statuses, health, counts, size, lag, queue_state, problems, now)
    if args.check:
        return 1 if problems else 0
    return 0


def _queue_state(config: NewsmonConfig) -> tuple[dict | None, list[str]]:
    """Distributed mode's workers and queue, from Redis (None on one machine), and what needs attention."""
    if not config.redis_url:
        return None, []
    from monitor.distributed.check_queue import CheckQueue  # needs the redis extra
    from monitor.distributed.connection import Keys, connect, outage_errors

    try:
        state = CheckQueue(connect(config.redis_url, timeout=STATUS_REDIS_TIMEOUT), Keys(config.redis_prefix),
                           lease=config.crawl.heartbeat_timeout).state()
    except outage_errors() as exc:
        return {"error": str(exc)}, [f"Redis (redis_url) does not answer ({exc}): no check is queued or taken "
                                     "until it does"]
    if not state["workers"] and config.enabled_sources():
        return state, ["no newsmon worker is alive (none sends heartbeats to Redis): start `newsmon worker`"]
    return state, []


def source_state(config: NewsmonConfig, s: repo.SourceStatus, health: Judged | None, now: datetime) -> str:
    """The one word for a source: its health, or what keeps it from being judged."""
    source = config.sources.get(s.source)
    late = lag_seconds(config, s, now)
    return display_state(
        health.state if health else HealthState.OK, configured=source is not None,
        enabled=bool(source and source.enabled), checked=s.last_run_at is not None,
        throttled=s.throttled_until is not None and s.throttled_until > now,
        lagging=late is not None and source is not None and late > config.source_interval(source))


def _source_json(config: NewsmonConfig, s: repo.SourceStatus, now: datetime, health: Judged | None) -> dict:
    source = config.sources.get(s.source)
    row = asdict(s)
    row["last_error"] = mask(s.last_error)
    state = source_state(config, s, health, now)
    judged = health is not None and state == str(health.state)
    row.update(configured=source is not None, enabled=bool(source and source.enabled),
               lag_seconds=lag_seconds(config, s, now), state=state,
               since=health.since if judged else None, detail=mask(health.detail) if judged else None)
    return row


def _state_cell(config: NewsmonConfig, s: repo.SourceStatus, health: Judged | None, now: datetime) -> str:
    """The state, and for how long when it is a health problem: "failing 2h"."""
    state = source_state(config, s, health, now)
    problem = health is not None and health.state != HealthState.OK and state == str(health.state)
    if problem and health.since is not None:
        return f"{state} {_span((now - health.since).total_seconds())}"
    return state


def _print_table(config: NewsmonConfig, statuses: list[repo.SourceStatus], health: dict[str, Judged], counts: dict,
                 size: repo.ArchiveSize, lag: ScheduleLag, queue_state: dict | None, problems: list[str],
                 now: datetime) -> None:
    rows = []
    for s in statuses:
        configured = s.source in config.sources
        name = s.source if configured else f"{s.source} (not configured)"
        if s.throttled_until is not None and s.throttled_until > now:
            name += " (throttled)"
        rows.append([name, _state_cell(config, s, health.get(s.source), now), _age(s.last_success_at, now),
                     _age(s.last_new_article_at, now),
                     _next_check(config, s, now), s.articles, s.consecutive_failures, s.pending_alerts,
                     s.dead_alerts, mask(s.last_error) or ""])
    print(table(["source", "state", "last success", "last new article", "next check", "articles", "failing",
                 "pending alerts", "dead alerts", "last error"], rows, max_width=70))
    if lag.overdue:
        print(f"\nschedule: {lag.overdue} of {lag.sources} sources overdue, the oldest "
              f"{lag.oldest_overdue_source} by {_span(lag.max_lag_seconds)}")
    else:
        print(f"\nschedule: {lag.sources} sources, none overdue"
              + (f" ({lag.never_scheduled} not scheduled yet: no check of them by `newsmon run` has finished)"
                 if lag.never_scheduled else ""))
    if queue_state is not None and "error" not in queue_state:
        print(f"workers: {queue_state['workers']} alive, running up to {queue_state['capacity']} checks at once; "
              f"{queue_state['queued']} check(s) queued, {queue_state['in_flight']} running")
    print("alerts: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in AlertStatus))
    on_disk = f"{size.bytes / 1_048_576:.1f} MB, " if size.bytes is not None else ""
    print(f"archive: {on_disk}{size.articles} articles in {size.stories} stories, "
          f"{size.articles_with_text} with text (retention: "
          f"{_duration(config.retention.article_text) if config.retention.article_text else 'keep forever'})")
    if problems:
        print("\nneeds attention:")
        for p in problems:
            print(f"  - {p}")
