"""The archive schema: SQLAlchemy 2 typed ORM models.

Users query these tables directly with `newsmon query`, so column names are a
public interface: add columns, don't rename them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from monitor.statuses import AlertStatus, RunStatus
from monitor.text.dates import as_utc

# Deterministic constraint names so Alembic migrations work the same on SQLite
# and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class SourceState(Base):
    """What `newsmon status` shows per source; updated after every crawl."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_new_article_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when the site answered 429/503 with Retry-After; the daemon waits until then.
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The daemon's schedule: when this source is due to be checked again (restart-safe).
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class CrawlRun(Base):
    """One crawl of one source: what it fetched and what went wrong."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING)  # a RunStatus value
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_summary: Mapped[str | None] = mapped_column(Text)

    # Health reads a source's latest runs that found new articles (its usual gap between them).
    __table_args__ = (Index("ix_crawl_runs_source_finished_at", "source", "finished_at"),)


class FetchError(Base):
    """A failure while crawling: a feed that would not parse, a page that timed out."""

    __tablename__ = "fetch_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20))  # feed|page|extract|store
    message: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    language: Mapped[str | None] = mapped_column(String(20))
    outlet: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Set once rules have been matched against this article; NULL = not yet.
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Near-duplicate grouping: the story this article belongs to, and its MinHash signature.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Revisits (the source's `revisit` policy): when the page was last compared, and how often it changed.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    alerts: Mapped[list[Alert]] = relationship(back_populates="article")

    __table_args__ = (
        Index("ix_articles_unmatched", "matched_at", "id"),
        # The exact-duplicate check (same text from the same source) is one lookup, not a scan of the source.
        Index("ix_articles_source_content_hash", "source", "content_hash"),
        # Health compares a source's latest extractions with its earlier ones.
        Index("ix_articles_source_fetched_at", "source", "fetched_at"),
    )


class ArticleRevision(Base):
    """An earlier text of an article whose page changed: what it said until `fetched_at`."""

    __tablename__ = "article_revisions"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Story(Base):
    """One story, however many outlets carry it: near-duplicate articles share a story."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_article_id: Mapped[int | None] = mapped_column(Integer)  # no FK: articles point here
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    article_count: Mapped[int] = mapped_column(Integer, default=1)
    outlet_count: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str | None] = mapped_column(Text)


class StorySource(Base):
    """A (source, language) some article of the story has, with the story's first_seen_at: stories
    filtered by source or language are one index range in page order. Kept by triggers on articles
    and stories (migration 0012); language '' = none."""

    __tablename__ = "story_sources"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    language: Mapped[str] = mapped_column(String(20), primary_key=True, server_default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_story_sources_source_first_seen_at", "source", "first_seen_at", "story_id"),
        Index("ix_story_sources_language_first_seen_at", "language", "first_seen_at", "story_id"),
    )


class StoryRule(Base):
    """A rule some alert of one of the story's articles is for, with the story's first_seen_at.
    Kept by triggers on alerts, articles and stories (migration 0012)."""

    __tablename__ = "story_rules"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_story_rules_rule_first_seen_at", "rule", "first_seen_at", "story_id"),)


class ArticleCount(Base):
    """Articles per source and language (language '' = none). Kept by triggers on articles (0012)."""

    __tablename__ = "article_counts"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    language: Mapped[str] = mapped_column(String(20), primary_key=True)
    articles: Mapped[int] = mapped_column(Integer)


class DailyArticleCount(Base):
    """Articles per UTC day (of fetched_at) and source, and the smallest and largest article id of
    that day: a superset (ids of articles deleted or moved to another day stay in the range).
    Kept by triggers on articles (migration 0012)."""

    __tablename__ = "daily_article_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    articles: Mapped[int] = mapped_column(Integer)
    min_id: Mapped[int] = mapped_column(Integer)
    max_id: Mapped[int] = mapped_column(Integer)


class ArticleBand(Base):
    """LSH band keys of each article's MinHash: candidates are rows sharing (band, key)."""

    __tablename__ = "article_bands"

    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class StoryLock(Base):
    """One row, updated at the start of every story assignment: it serializes
    assignments across processes and machines (a row lock on PostgreSQL, the
    write lock on SQLite), so two crawls storing one story at once make one story."""

    __tablename__ = "story_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Alert(Base):
    """The outbox: one row per (rule, article, channel), sent at most once; or, with kind
    'health', one operator alert about a source (no article: what it says is in `payload`)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 'article' (a rule matched an article) or 'health' (monitor.health: rule is "health:<state>").
    kind: Mapped[str] = mapped_column(String(20), default="article", server_default="article")
    rule: Mapped[str] = mapped_column(String(200))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.PENDING, index=True)  # an AlertStatus value
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # counted when claimed: a crash mid-send counts
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # For a sent alert: a note on a partial delivery (recipients the mail server refused).
    last_error: Mapped[str | None] = mapped_column(Text)
    # The idempotency key receivers dedupe on (webhook X-Newsmon-Delivery, email Message-ID):
    # uuid4 hex, so it is unique across archives, unlike the id a rebuilt archive reuses.
    delivery_key: Mapped[str] = mapped_column(String(32), unique=True)
    # While 'sending': who claimed it ("host:pid:start-token", see monitor.claim_owner) and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(300))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snippet: Mapped[str | None] = mapped_column(Text)
    # 0 for the article as first stored; n for its n-th changed text (rules with alert_on_update).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the rules page: a month of them
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Health alerts: the notice (source, state, since, detail, …) and the event it announces,
    # "health:<source>:<transition>:<channel>", unique: two evaluations never queue one event twice.
    payload: Mapped[dict | None] = mapped_column(JSON)
    event_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    # Digest rules (monitor.digest): the period this row is collected in; it is due at digest_end,
    # and the rows of one (rule, channel, digest_end) are sent together. NULL: sent on its own.
    digest_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest_end: Mapped[datetime | None] = mapped_column(UTCDateTime())

    article: Mapped[Article | None] = relationship(back_populates="alerts")

    __table_args__ = (UniqueConstraint("rule", "article_id", "channel", "revision"),
                      Index("ix_alerts_rule_channel_digest_end", "rule", "channel", "digest_end"))


class SourceHealth(Base):
    """Per source, what health evaluation concluded (monitor.health) and what operators were told.

    `version` counts transitions: each is written only if the row still has the version it was
    read with, so evaluations running at once (the daemon, `newsmon crawl`) make it once."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="ok")  # ok | failing | silent | drifting
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)
    # The problem operators were last alerted about; NULL: none, or they were told it recovered.
    notified_state: Mapped[str | None] = mapped_column(String(20))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Learned from the source's history, kept until the fact they were learned from changes:
    # the usual gap as of source_state.last_new_article_at = gap_as_of, the drift check as of
    # last_run_at = drift_as_of (drift_since: drifting since then; NULL: not drifting).
    usual_gap_seconds: Mapped[float | None] = mapped_column(Float)
    gap_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drift_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drift_detail: Mapped[str | None] = mapped_column(Text)
    drift_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BoilerplateLine(Base):
    """A text line seen in many articles of one source: that site's template,
    learned as pages arrive and dropped at extraction."""

    __tablename__ = "boilerplate_lines"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    line_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    line_text: Mapped[str] = mapped_column(Text)  # normalized text, as extraction compares it
    article_count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class HttpValidator(Base):
    """ETag / Last-Modified of feeds, sitemaps and listing pages, for conditional requests.
    Per source: two sources reading one sitemap differently (max_age, allow) each need their own."""

    __tablename__ = "http_validators"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeenUrl(Base):
    """Article URLs fetched that did not become articles (not HTML, no text),
    so they are not fetched every cycle; forgotten after the retention period."""

    __tablename__ = "seen_urls"

    canonical_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(200))
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
