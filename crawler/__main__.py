"""`python -m crawler --config DIR [SOURCE…]`: one crawl cycle in this process.

Run as a subprocess by `newsmon crawl` and the daemon, because Twisted's
reactor cannot be restarted within one process.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from scrapy.crawler import CrawlerProcess

from crawler.context import CrawlContext, set_context
from crawler.parent_watch import exit_with_parent
from crawler.settings import build_settings
from crawler.sources import spider_for
from monitor.config import load_config
from monitor.errors import NewsmonError
from monitor.redaction import install_log_masking
from monitor.store import repo
from monitor.store.session import make_engine, session_factory, session_scope


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    parser.add_argument("--config", required=True, help="newsmon config directory")
    parser.add_argument("--log-level", default="WARNING", help="Scrapy log level (default WARNING)")
    parser.add_argument("--quiet", action="store_true", help="no per-article progress lines")
    parser.add_argument("--parent-pid", type=int, default=None, metavar="PID",
                        help="exit, with the extraction workers, when this process is gone (default: our parent)")
    parser.add_argument("sources", nargs="*", help="source names (default: all enabled sources)")
    args = parser.parse_args(argv)
    # Nobody would read our results: a SIGKILLed newsmon must not leave this crawl running.
    exit_with_parent(args.parent_pid or os.getppid(), kill_group=True)

    try:
        config = load_config(args.config)
        install_log_masking()  # Scrapy logs request URLs, which may carry a ${TOKEN}
        names = args.sources or [s.name for s in config.enabled_sources()]
        unknown = [n for n in names if n not in config.sources]
        if unknown:
            print(f"unknown source(s): {', '.join(unknown)} (known: {', '.join(sorted(config.sources))})",
                  file=sys.stderr)
            return 2
        sessions = session_factory(make_engine(config.database_url))
    except NewsmonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code

    with session_scope(sessions) as session:  # the memory of non-article URLs expires
        repo.forget_seen_urls(session, repo.utcnow() - timedelta(seconds=config.crawl.seen_url_retention))
    context = CrawlContext(config=config, sessions=sessions, progress=not args.quiet)
    set_context(context)
    process = CrawlerProcess(build_settings(config, log_level=args.log_level))
    for name in names:
        # config validation allows only the kinds crawler.sources.SPIDERS has, so this cannot fail
        process.crawl(spider_for(config.sources[name]), source=config.sources[name])
    try:
        process.start()
    finally:
        context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
