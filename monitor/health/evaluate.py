"""One health pass: judge every enabled source, keep the verdicts, queue operator alerts.

Called once per delivery pass (`newsmon crawl`'s cycle, the daemon's delivery job), before
the outbox sends: an operator alert is an outbox row like any other (retries, dead letters).

Each problem is told once when it starts and `recovered` once when it heals. A transition is
written with compare-and-set on source_health.version, in the transaction that queues its
alerts, whose event_key (source, transition, channel) is unique: evaluations running at once
in several processes queue each transition once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig
from monitor.health.facts import Gathered, gather
from monitor.health.rules import PROBLEMS, HealthState, Policy, SourceFacts, Verdict, judge, notice_for, span
from monitor.store import repo
from monitor.store.models import SourceHealth
from monitor.store.session import session_scope

log = logging.getLogger("newsmon.health")


@dataclass
class HealthSummary:
    sources: int = 0  # enabled sources judged
    states: dict[str, int] = field(default_factory=dict)  # verdicts: state -> sources
    transitions: list[str] = field(default_factory=list)  # "source: ok -> failing", one line each
    queued: int = 0  # operator alerts queued in the outbox
    errors: list[str] = field(default_factory=list)  # sources that could not be judged, and why


@dataclass(frozen=True)
class _Seen:
    """The source_health row as read, before this pass changes it."""

    version: int
    state: HealthState
    since: datetime
    notified: HealthState | None


def evaluate_health(config: NewsmonConfig, sessions: sessionmaker[Session],
                    now: datetime | None = None) -> HealthSummary:
    now = now or repo.utcnow()
    policy = Policy.from_config(config.health)
    names = [source.name for source in config.enabled_sources()]
    summary = HealthSummary(sources=len(names))
    with session_scope(sessions) as session:
        known = repo.health_rows(session)
        if any(name not in known for name in names):
            repo.ensure_health_rows(session, [n for n in names if n not in known], now)
    judged: list[tuple[str, _Seen, Gathered, Verdict]] = []
    with sessions() as session:
        rows, states = repo.health_rows(session), repo.source_states(session)
        for name in names:
            try:
                gathered = gather(session, config, policy, name, states.get(name), rows.get(name), now)
            except Exception as exc:  # one source's odd history must not stop the others' alerts
                log.exception("health of source %s could not be judged", name)
                summary.errors.append(f"{name}: {exc.__class__.__name__}: {exc}")
                continue
            verdict = judge(gathered.facts, policy)
            summary.states[str(verdict.state)] = summary.states.get(str(verdict.state), 0) + 1
            judged.append((name, _seen(rows[name]), gathered, verdict))
    for name, seen, gathered, verdict in judged:
        try:
            _apply(config, sessions, name, seen, gathered, verdict, now, summary)
        except Exception as exc:
            log.exception("health of source %s could not be recorded", name)
            summary.errors.append(f"{name}: {exc.__class__.__name__}: {exc}")
    return summary


def _seen(row: SourceHealth) -> _Seen:
    notified = HealthState(row.notified_state) if row.notified_state else None
    return _Seen(row.version, HealthState(row.state), row.since, notified)


def _apply(config: NewsmonConfig, sessions: sessionmaker[Session], source: str, seen: _Seen, gathered: Gathered,
           verdict: Verdict, now: datetime, summary: HealthSummary) -> None:
    channels = config.health.channels
    notice = notice_for(verdict.state, seen.notified) if channels else None
    notified = seen.notified
    if notice is not None:
        notified = None if notice == HealthState.RECOVERED else notice
    elif not channels and verdict.state == HealthState.OK:
        notified = None  # nobody was told; nobody is owed a recovery
    changed = verdict.state != seen.state
    if not changed and notified == seen.notified:
        if gathered.learned:
            with session_scope(sessions) as session:
                repo.save_health_learned(session, source, evaluated_at=now, **gathered.learned)
        return
    since = (verdict.since or now) if changed else seen.since
    values = dict(state=str(verdict.state), since=since, detail=verdict.detail, evaluated_at=now,
                  notified_state=str(notified) if notified else None, **gathered.learned)
    if notice is not None:
        values["notified_at"] = now
    with session_scope(sessions) as session:
        if not repo.transition_health(session, source, from_version=seen.version, **values):
            return  # another evaluation made this transition (and queued its alerts) first
        line = f"{source}: {seen.state} -> {verdict.state}"
        if notice is not None:
            payload = notice_payload(gathered.facts, notice, previous=seen.state, since=since,
                                     detail=_notice_detail(notice, verdict, seen, now))
            for channel in channels:
                if repo.enqueue_health_alert(session, rule=f"health:{notice}", channel=channel, payload=payload,
                                             event_key=f"health:{source}:{seen.version + 1}:{channel}", when=now):
                    summary.queued += 1
            line += f" ({notice} alert to {', '.join(channels)})"
    summary.transitions.append(line)
    level = logging.WARNING if verdict.state in PROBLEMS else logging.INFO
    log.log(level, "source %s is %s%s", source, verdict.state, f": {verdict.detail}" if verdict.detail else "")


def _notice_detail(notice: HealthState, verdict: Verdict, seen: _Seen, now: datetime) -> str:
    if notice != HealthState.RECOVERED:
        return verdict.detail or str(notice)
    was = seen.notified or seen.state
    return f"{was} since {seen.since:%Y-%m-%d %H:%M} UTC, for {span((now - seen.since).total_seconds())}; ok again"


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def notice_payload(facts: SourceFacts, notice: HealthState, *, previous: HealthState, since: datetime,
                   detail: str) -> dict:
    """What an operator alert says (stored in alerts.payload; the webhook's JSON adds kind and ids)."""
    return {
        "source": facts.source, "state": str(notice), "previous": str(previous), "since": _iso(since),
        "detail": detail, "consecutive_failures": facts.consecutive_failures,
        "last_success_at": _iso(facts.last_success_at), "last_new_article_at": _iso(facts.last_new_article_at),
        "last_error": facts.last_error, "usual_gap_seconds": facts.usual_gap_seconds,
    }
