"""Alerting: match newly stored articles against the rules and queue alerts in the outbox.

The step of a cycle between the archive and the outbox (monitor.outbox sends what
this queues). Whether one document matches one query is monitor.rules.matcher's
business; this module runs the configured rules over the archive's new articles.

One alert per story and rule: when another outlet's copy of an already
alerted story arrives, it shows up in the alert as "also in", not as a new alert.

Idempotent: an article is marked matched in the same transaction that queues
its alerts, and the outbox's unique (rule, article, channel) key makes a rerun
after a crash queue nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig, RuleConfig
from monitor.rules import Document, RuleSet, snippet
from monitor.store import repo
from monitor.store.models import Article
from monitor.store.session import session_scope


@dataclass
class MatchSummary:
    articles: int = 0
    queued: int = 0
    same_story: int = 0  # matches not alerted because the story already was
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
                    if revision and not matcher.rules[rule_name].alert_on_update:
                        continue  # a changed text alerts only rules that ask for it
                    if not revision and repo.story_alerted(session, article.story_id, rule_name, article.id):
                        summary.same_story += 1  # one alert per story: later outlets ride along as "also in"
                        continue
                    text = matcher.snippet(rule_name, article)
                    for channel in matcher.rules[rule_name].channels:
                        if repo.enqueue_alert(session, rule=rule_name, article_id=article.id,
                                              channel=channel, snippet=text, when=now,
                                              revision=revision if matcher.rules[rule_name].alert_on_update else 0):
                            summary.queued += 1
                            summary.by_rule[rule_name] = summary.by_rule.get(rule_name, 0) + 1
            repo.mark_matched(session, (a.id for a in articles), now)
