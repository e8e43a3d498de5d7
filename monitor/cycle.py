"""`newsmon crawl`'s one monitoring cycle: crawl (subprocess) -> match rules -> judge source health
-> deliver alerts (the rules' and the operator's).

The daemon does the same steps apart: checks in its long-lived workers (monitor.dispatch),
matching and delivery as a periodic job (monitor.scheduler), with the same functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from monitor.alerting import MatchSummary, match_new_articles
from monitor.config import NewsmonConfig
from monitor.crawl_runner import CrawlOutcome, run_crawl
from monitor.health import HealthSummary, evaluate_health
from monitor.outbox import DeliverySummary, Outbox

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    crawl: CrawlOutcome
    matched: MatchSummary
    delivered: DeliverySummary
    health: HealthSummary = field(default_factory=HealthSummary)


def run_cycle(config: NewsmonConfig, sessions: sessionmaker[Session], outbox: Outbox, sources: Sequence[str], *,
              on_line: Callable[[str], None] | None = None, quiet: bool = False,
              log_level: str = "WARNING") -> CycleReport:
    if config.redis_url:  # distributed mode: `newsmon worker`s check the sources
        from monitor.queued_crawl import run_queued_crawl  # needs the redis extra

        crawl = run_queued_crawl(config, sources, on_line=on_line)
    else:
        crawl = run_crawl(config, sources, on_line=on_line, quiet=quiet, log_level=log_level)
    # Match even when the crawl failed: articles a crashed crawl did store still alert.
    matched = match_new_articles(config, sessions)
    health = HealthSummary()
    try:
        health = evaluate_health(config, sessions)
    except Exception as exc:  # the rules' alerts still go out; the next cycle judges health again
        log.exception("source health could not be evaluated")
        health.errors.append(f"{exc.__class__.__name__}: {exc}")
    delivered = outbox.deliver_due()
    return CycleReport(crawl=crawl, matched=matched, delivered=delivered, health=health)
