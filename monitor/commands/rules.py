"""`newsmon rules check`, `newsmon rules test NAME`, and `newsmon search`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

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
    for article, text in hits:
        date = article.published_at or article.fetched_at
        print(f"#{article.id}  {date:%Y-%m-%d}  [{article.source}]  {article.title}")
        print(f"    {article.url}")
        print(f"    {text}")
        print(f"    would send to: {', '.join(rule.channels)}")
    print(f"\n{len(hits)} article(s) match rule {rule.name!r}"
          + _since_text(args.since) + f" ({len(hits) * len(rule.channels)} alerts)")
    return 0


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
