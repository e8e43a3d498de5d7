"""Each enabled source's health as of now, for `newsmon status`: judged afresh from the archive
(as evaluation would), read-only, with `since` from source_health while the state is the one
it recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.config import NewsmonConfig
from monitor.health.facts import gather
from monitor.health.rules import HealthState, Policy, judge
from monitor.store import repo


@dataclass(frozen=True)
class Judged:
    state: HealthState
    since: datetime | None
    detail: str | None


def judge_sources(config: NewsmonConfig, session: Session, now: datetime) -> dict[str, Judged]:
    policy = Policy.from_config(config.health)
    rows, states = repo.health_rows(session), repo.source_states(session)
    judged = {}
    for source in config.enabled_sources():
        row = rows.get(source.name)
        verdict = judge(gather(session, config, policy, source.name, states.get(source.name), row, now).facts,
                        policy)
        since = row.since if row is not None and row.state == verdict.state else verdict.since
        judged[source.name] = Judged(verdict.state, since, verdict.detail)
    return judged
