"""Alerting: match newly stored articles against the rules and queue alerts in the outbox.

The step of a cycle between the archive and the outbox (monitor.outbox sends what
this queues). Whether one document matches one query is monitor.rules.matcher's
business; this module runs the configured rules over the archive's new articles.

One alert per story and rule: when another outlet's copy of an already
alerted story arrives, it shows up in the alert as "also in", not as a new alert.

Idempotent: an article is marked matched in the same transaction that queues
its alerts, and the outbox's unique (rule, article, channel) key makes a rerun
after a crash queue nothing twice.

A rule with `digest:` queues the same rows, due at the end of their period
(monitor.digest); the outbox sends each period's rows as one message. A rule with
`on_spread: N` queues a spread alert (kind 'spread', once per rule, story and channel)
when a matching article finds its story in N outlets or more; `on_first: false`
leaves out the first-seen alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig, RuleConfig
from monitor.digest import period_for
from monitor.rules import Document, RuleSet, snippet
from monitor.store import repo
from monitor.store.models import Article, Story
from monitor.store.outbox import enqueue_spread_alert, spread_alerted
from monitor.store.session import session_scope


@dataclass
class MatchSummary:
    articles: int = 0
    queued: int = 0
    same_story: int = 0  # matches not alerted because the story already was
    spread: int = 0  # spread alerts queued (rules with on_spread)
    by_rule: dict[str, int] = field(default_factory=dict)


class RuleMatcher:
    """The enabled rules of a config, compiled once."""

    def __init__(self, rules: dict[str, RuleConfig]):
        self.rules = {name: rule for name, rule in rules.items() if rule.enabled}
        self.ruleset = RuleSet({name: rule.query for name, rule in self.rules.items()})
        self.compiled = self.ruleset.compiled  # the RuleSet compiled them already: once is enough

    def matching_rules(self, article: Article) -> list[str]:
        doc = document_for(article)
        return [
            name for name in self.ruleset.match(doc)
            if not self.rules[name].sources or article.source in self.rules[name].sources
        ]

    def snippet(self, rule: str, article: Article) -> str:
        return snippet(document_for(article), self.compiled[rule])


def document_for(article: Article) -> Document:
    return Document(title=article.title or "", text=article.text or "", source=article.source,
                    language=article.language, url=article.url or article.canonical_url or "")


def match_new_articles(config: NewsmonConfig, sessions: sessionmaker[Session], batch: int = 200) -> MatchSummary:
    matcher = RuleMatcher(config.rules)
    summary = MatchSummary()
    while True:
        with session_scope(sessions) as session:
            articles = repo.unmatched_articles(session, limit=batch)
            if not articles:
                return summary
            now = repo.utcnow()
            for article in articles:
                summary.articles += 1
                revision = article.revision_count or 0
                for rule_name in matcher.matching_rules(article):
                    rule = matcher.rules[rule_name]
                    if rule.on_spread and not revision:
                        _queue_spread(session, matcher, rule, article, now, summary)
                    if not rule.on_first:
                        continue
                    if revision and not rule.alert_on_update:
                        continue  # a changed text alerts only rules that ask for it
                    if not revision and repo.story_alerted(session, article.story_id, rule_name, article.id):
                        summary.same_story += 1  # one alert per story: later outlets ride along as "also in"
                        continue
                    text = matcher.snippet(rule_name, article)
                    period = digest_period(rule, now)
                    facts = _outlets_now(session, article) if period else None
                    for channel in rule.channels:
                        if repo.enqueue_alert(session, rule=rule_name, article_id=article.id,
                                              channel=channel, snippet=text, when=now,
                                              revision=revision if rule.alert_on_update else 0, digest=period,
                                              payload=facts):
                            summary.queued += 1
                            summary.by_rule[rule_name] = summary.by_rule.get(rule_name, 0) + 1
            repo.mark_matched(session, (a.id for a in articles), now)


def _outlets_now(session: Session, article: Article) -> dict:
    """What a digest row keeps: the outlets its story had when queued (its entry says when it grew)."""
    return {"outlet_count": _outlet_count(session, article.story_id) if article.story_id else 1}


def _outlet_count(session: Session, story_id: int) -> int:
    return session.scalar(select(Story.outlet_count).where(Story.id == story_id)) or 1


def digest_period(rule: RuleConfig, when: datetime) -> tuple[datetime, datetime] | None:
    """(start, end) of the digest period an alert queued at `when` goes out with; None: on its own."""
    if rule.digest is None:
        return None
    period = period_for(rule.digest, when)
    return period.start, period.end


def spread_outlets(session: Session, story_id: int) -> list[dict]:
    """Each outlet of a story, with its first article and how long after the story's first article it came."""
    rows = session.execute(
        select(Article.source, Article.url, Article.published_at, Article.fetched_at)
        .where(Article.story_id == story_id).order_by(Article.fetched_at, Article.id)
    ).all()
    outlets: dict[str, dict] = {}
    first: datetime | None = None
    for source, url, _published, fetched in rows:
        if source in outlets:
            continue
        first = first or fetched
        outlets[source] = {"source": source, "url": url, "seen_at": fetched.isoformat() if fetched else None,
                           "after_seconds": None if not outlets else (fetched - first).total_seconds()}
    return list(outlets.values())


def _queue_spread(session: Session, matcher: RuleMatcher, rule: RuleConfig, article: Article, now: datetime,
                  summary: MatchSummary) -> None:
    """The spread alert of a matching article's story, once it is in rule.on_spread outlets."""
    if article.story_id is None:
        return
    if _outlet_count(session, article.story_id) < rule.on_spread or spread_alerted(session, rule.name, article.story_id):
        return
    outlets = spread_outlets(session, article.story_id)
    if len(outlets) < rule.on_spread:
        return
    payload = {"story_id": article.story_id, "threshold": rule.on_spread, "outlets": outlets}
    text = matcher.snippet(rule.name, article)
    period = digest_period(rule, now)
    for channel in rule.channels:
        if enqueue_spread_alert(session, rule=rule.name, story_id=article.story_id, article_id=article.id,
                                channel=channel, snippet=text, payload=payload, when=now, digest=period):
            summary.queued += 1
            summary.spread += 1
            summary.by_rule[rule.name] = summary.by_rule.get(rule.name, 0) + 1
