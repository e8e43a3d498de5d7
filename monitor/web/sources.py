"""The sources page's rows: what `newsmon status` shows per source, and articles per day."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.config import NewsmonConfig
from monitor.redaction import mask
from monitor.store import repo, web_queries
from monitor.text.dates import utc_midnight
from monitor.web import views

SPARK_DAYS = 30


def source_rows(config: NewsmonConfig, session: Session, sparklines: bool = True) -> list[dict]:
    from monitor.commands.status import lag_seconds, source_state
    from monitor.health.report import judge_sources

    now = repo.utcnow()
    statuses = repo.source_statuses(session, config.sources)
    health = judge_sources(config, session, now)
    per_day: dict = {}
    spark_days = web_queries.days(now.date(), SPARK_DAYS)
    if sparklines:
        per_day = web_queries.articles_per_day(session, utc_midnight(spark_days[0]))
    rows = []
    for s in statuses:
        row = dict(source=s.source, state=source_state(config, s, health.get(s.source), now),
                   last_success_at=s.last_success_at, last_new_article_at=s.last_new_article_at,
                   consecutive_failures=s.consecutive_failures, lag_seconds=lag_seconds(config, s, now),
                   articles=s.articles, pending_alerts=s.pending_alerts, dead_alerts=s.dead_alerts,
                   last_error=mask(s.last_error))
        if sparklines:
            row["spark"] = views.sparkline([per_day.get(s.source, {}).get(d, 0) for d in spark_days])
        rows.append(row)
    return rows
