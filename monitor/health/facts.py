"""The archive's facts about one source, for monitor.health.rules to judge.

What health learns from a source's history (its usual gap between new articles, its drift
check) is kept in source_health and learned again only when the fact it came from changes
(a new article, a new check), so an evaluation pass costs a few queries, not a few per source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from monitor.config import NewsmonConfig
from monitor.health import rules
from monitor.health.rules import Drift, Extraction, Policy, SourceFacts
from monitor.redaction import mask
from monitor.store import repo
from monitor.store.models import SourceHealth, SourceState


@dataclass(frozen=True)
class Gathered:
    facts: SourceFacts
    learned: dict = field(default_factory=dict)  # source_health columns learned again, to save


def gather(session: Session, config: NewsmonConfig, policy: Policy, source: str, state: SourceState | None,
           row: SourceHealth | None, now: datetime) -> Gathered:
    learned: dict = {}
    last_new = state.last_new_article_at if state else None
    last_run = state.last_run_at if state else None

    gap = row.usual_gap_seconds if row else None
    if policy.silent_factor is not None and last_new is not None and (row is None or row.gap_as_of != last_new):
        gap = rules.usual_gap(repo.checks_with_new_articles(session, source, rules.GAP_WINDOW + 1))
        learned.update(usual_gap_seconds=gap, gap_as_of=last_new)

    drift = Drift(row.drift_since, row.drift_detail) if row else Drift(None)
    if policy.drift and last_run is not None and (row is None or row.drift_as_of != last_run):
        drift = check_drift(session, config, source, drift.since, now)
        learned.update(drift_since=drift.since, drift_detail=drift.detail, drift_as_of=last_run)

    failures = state.consecutive_failures if state else 0
    since = None
    if failures >= policy.failing_after:
        since = repo.failing_since(session, source, state.last_success_at) or state.last_error_at
    facts = SourceFacts(
        source=source, consecutive_failures=failures, failing_since=since,
        last_error=mask(state.last_error) if state else None,
        last_success_at=state.last_success_at if state else None, last_new_article_at=last_new,
        usual_gap_seconds=gap, drift=drift,
    )
    return Gathered(facts, learned)


def check_drift(session: Session, config: NewsmonConfig, source: str, drifting_since: datetime | None,
                now: datetime) -> Drift:
    """The source's latest extractions against its earlier ones (those before the drift, while drifting)."""
    keep = config.retention.article_text
    not_before = now - timedelta(seconds=keep) if keep else None  # older texts may be emptied by retention
    if drifting_since is None:
        window = _extractions(session, source, rules.RECENT + rules.BASELINE, not_before=not_before)
        recent, baseline = window[-rules.RECENT:], window[:-rules.RECENT]
    else:
        recent = _extractions(session, source, rules.RECENT, not_before=not_before)
        baseline = _extractions(session, source, rules.BASELINE, before=drifting_since, not_before=not_before)
    return rules.drift(recent, baseline, drifting_since=drifting_since)


def _extractions(session: Session, source: str, limit: int, **bounds) -> list[Extraction]:
    """Oldest first."""
    return [Extraction(at, length) for at, length in reversed(repo.recent_extractions(session, source, limit,
                                                                                      **bounds))]
