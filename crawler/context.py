"""What a crawl process shares: the config loaded once and the archive.

Scrapy deep-copies its settings for every crawler, so live objects such as a
database engine cannot travel in them; components fetch them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.exceptions import NotConfigured
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig

_current: CrawlContext | None = None


@dataclass
class CrawlContext:
    config: NewsmonConfig
    sessions: sessionmaker[Session]
    progress: bool = True  # print one line per article/error for `newsmon crawl`


def set_context(context: CrawlContext | None) -> None:
    global _current
    _current = context


def get_context(component: str) -> CrawlContext:
    if _current is None:
        raise NotConfigured(f"{component}: no newsmon crawl context; start crawls with `python -m crawler`")
    return _current
