"""`newsmon rules check`, `newsmon rules test NAME`, and `newsmon search`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from sqlalchemy import select

from monitor.alerting import RuleMatcher, document_for
from monitor.commands.common import open_archive
from monitor.config import NewsmonConfig
from monitor.output import table
from monitor.rules import snippet
from monitor.store import repo


def since_date(value: str) -> datetime:
    """The argparse type of --since: an ISO date (or date and time), UTC unless it says otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date; write YYYY-MM-DD (e.g. 2024-03-01) or YYYY-MM-DDTHH:MM") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _since_text(since: datetime | None) -> str:
    if since is None:
        return ""
    return f" since {since:%Y-%m-%d}" if since.time() == since.min.time() else f" since {since.isoformat()}"


def cmd_rules_check(config: NewsmonConfig, args: argparse.Namespace) -> int:
    # load_config has already validated syntax and channel names; show what was checked.
    if not config.rules:
        print(f"no rules in {config.config_dir / 'rules'}")
        return 0
    rows = [[r.name, "ok" if r.enabled else "disabled", ", ".join(r.channels), r.query] for r in config.rules.values()]
    print(table(["rule", "state", "channels", "query"], rows, max_width=70))
    print(f"\n{len(config.rules)} rule(s) valid")
    return 0


def cmd_rules_test(config: NewsmonConfig, args: argparse.Namespace) -> int:
    """What the rule would have sent: one entry a story (with its outlets), grouped by digest period
    for digest rules, and the spread alerts of on_spread rules."""
    if args.name not in config.rules:
        print(f"error: no rule named {args.name!r} (known: {', '.join(sorted(config.rules)) or 'none'})",
              file=sys.stderr)
        return 2
    rule = config.rules[args.name]
    matcher = RuleMatcher({rule.name: rule.model_copy(update={"enabled": True})})
    _engine, sessions = open_archive(config)
    hits = []
    with sessions() as session:
        for article in session.scalars(repo.articles_since(session, args.since)):
            if matcher.matching_rules(article):
                hits.append((article, matcher.snippet(rule.name, article)))
        stories = _backtest_stories(session, hits, rule, args.since)
    groups: dict[object, dict[object, _Story]] = {}
    for n, story in enumerate(stories):
        for period, kind in story.sends:
            # In a digest, a story's first-seen and spread alerts of one period are one entry.
            key = n if period is not None else (n, kind)
            groups.setdefault(period, {})[key] = story if kind == "first" else story.as_spread()
    for period in sorted(groups, key=lambda p: (p is None, p.start if p is not None else None)):
        entries = list(groups[period].values())
        if period is not None:
            print(f"digest {period.label()}: {len(entries)} {'story' if len(entries) == 1 else 'stories'}, "
                  f"one message to each of {', '.join(rule.channels)}")
        for story in entries:
            _print_story(story, indent="  " if period is not None else "")
            if period is None:
                print(f"    would send to: {', '.join(rule.channels)}")
        if period is not None:
            print()
    sends = sum(len(s.sends) for s in stories)
    messages = len(groups) * len(rule.channels) if rule.digest else sends * len(rule.channels)
    print(f"\n{len(hits)} article(s) match rule {rule.name!r}" + _since_text(args.since)
          + f" ({len(stories)} stories, {messages} {'messages' if rule.digest else 'alerts'})")
    return 0


class _Story:
    """One story of a backtest: its first matching article, its outlets, and what it would send."""

    def __init__(self, article, text: str, outlets: list[tuple[str, datetime]]):
        self.article, self.text, self.outlets = article, text, outlets
        self.sends: list[tuple[object, str]] = []  # (digest period or None, "first" | "spread")
        self.spread_at: datetime | None = None
        self.is_spread = False

    def as_spread(self) -> _Story:
        copy = _Story(self.article, self.text, self.outlets)
        copy.spread_at, copy.is_spread = self.spread_at, True
        return copy


def _backtest_stories(session, hits, rule, since) -> list[_Story]:
    from monitor.digest import period_for
    from monitor.store.models import Article

    def period(moment):
        return period_for(rule.digest, moment) if rule.digest is not None else None

    stories: dict[object, _Story] = {}
    for article, text in hits:
        key = article.story_id or ("article", article.id)
        if key in stories:
            continue
        outlets: list[tuple[str, datetime]] = [(article.source, article.fetched_at)]
        if article.story_id is not None:
            rows = session.execute(select(Article.source, Article.fetched_at).where(
                Article.story_id == article.story_id).order_by(Article.fetched_at, Article.id)).all()
            seen: dict[str, datetime] = {}
            for source, fetched in rows:
                seen.setdefault(source, fetched)
            outlets = list(seen.items())
        stories[key] = story = _Story(article, text, outlets)
        if rule.on_first:
            story.sends.append((period(article.fetched_at), "first"))
        if rule.on_spread and len(outlets) >= rule.on_spread:
            story.spread_at = outlets[rule.on_spread - 1][1]
            story.sends.append((period(story.spread_at), "spread"))
    return list(stories.values())


def _print_story(story: _Story, indent: str) -> None:
    article = story.article
    date = article.published_at or article.fetched_at
    outlets = ", ".join(source for source, _at in story.outlets)
    count = len(story.outlets)
    what = f"spread to {count} outlets" if story.is_spread else f"{count} outlet{'s' if count > 1 else ''}"
    print(f"{indent}#{article.id}  {date:%Y-%m-%d}  [{outlets}]  {article.title}  ({what})")
    print(f"{indent}    {article.url}")
    if story.is_spread:
        first = story.outlets[0][1]
        print(f"{indent}    picked up: " + ", ".join(
            f"{source} {'first' if n == 0 else '+' + _elapsed(at - first)}" for n, (source, at) in enumerate(story.outlets)))
    print(f"{indent}    {story.text}")


def _elapsed(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def cmd_search(config: NewsmonConfig, args: argparse.Namespace) -> int:
    from monitor.store.search import search

    _engine, sessions = open_archive(config)
    shown = 0
    with sessions() as session:
        for article, compiled in search(session, args.query, since=args.since, limit=args.limit):
            shown += 1
            date = article.published_at or article.fetched_at
            print(f"#{article.id}  {date:%Y-%m-%d}  [{article.source}]  {article.title}")
            print(f"    {article.url}")
            print(f"    {snippet(document_for(article), compiled)}")
    print(f"\n{shown} match(es)" + (" (limit reached)" if shown >= args.limit else ""))
    return 0
