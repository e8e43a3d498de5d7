"""newsmon.yaml's sections, rules/<name>.yaml, and the whole config object."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor import __version__
from monitor.config._base import Duration, Strict, parse_duration
from monitor.config.channels import ChannelConfig
from monitor.config.sources import SourceConfig

DEFAULT_DATABASE_URL = "sqlite:///data/newsmon.sqlite3"
DEFAULT_USER_AGENT = f"newsmon/{__version__} (+https://github.com/newsmon/newsmon)"


class ScheduleConfig(Strict):
    interval: Duration = 900.0
    delivery_interval: Duration = 60.0
    # The daemon's own periodic jobs (delivery, retention) on APScheduler 3, which drops a run late by
    # more than this (its default is 1 s). Source checks are never dropped: a late one is served late.
    misfire_grace_time: Duration = 3600.0
    # A source's first check is delayed by up to this (fixed per source: a hash of its name); later
    # checks keep that phase, one interval apart. Spreads sources that share an interval.
    jitter: Duration | None = None
    # The daemon logs the schedule lag this often while sources are overdue.
    lag_report_every: Duration = 60.0


class DatabasePoolConfig(Strict):
    """The connection pool each newsmon process keeps to a PostgreSQL archive (SQLAlchemy's
    QueuePool). Every daemon, crawl worker and command has its own: size the server's
    max_connections for (size + max_overflow) x processes."""

    size: int = Field(5, ge=1)  # connections kept open
    max_overflow: int = Field(10, ge=0)  # extra connections opened under load, closed when returned
    timeout: Duration = 30.0  # waiting for a free connection longer than this is an error
    recycle: Duration = 1800.0  # connections older than this are replaced (servers and proxies drop idle ones)


class DeliveryConfig(Strict):
    max_attempts: int = Field(8, ge=1)
    backoff: Duration = 30.0  # first retry delay; doubles each attempt
    backoff_max: Duration = 3600.0
    batch_size: int = Field(100, ge=1)


class CrawlConfig(Strict):
    download_timeout: Duration = 30.0
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    concurrent_requests: int = Field(16, ge=1)
    concurrent_requests_per_domain: int = Field(4, ge=1)
    download_delay: Duration | None = None
    obey_robots_txt: bool = True
    autothrottle: bool = True
    retry_times: int = Field(2, ge=0)
    max_articles_per_source: int = Field(200, ge=1)
    subprocess_timeout: Duration = 3600.0  # then the crawl is killed with its extraction workers
    stop_grace: Duration = 30.0  # on SIGTERM, the daemon's running crawls get this long, then are killed
    # Sources the daemon checks at once, across its crawl workers (a check of a 304 feed takes
    # a few milliseconds of CPU but a network round trip of wall time: concurrency hides the wait).
    parallel_sources: int = Field(32, ge=1)
    workers: int = Field(1, ge=1)  # long-lived crawl worker processes the daemon keeps running
    worker_max_checks: int = Field(10_000, ge=1)  # a worker then retires and a fresh one takes over
    worker_max_memory: int = Field(1024, ge=64)  # MiB, the worker with its extraction processes: then it retires
    heartbeat_timeout: Duration = 60.0  # a worker silent this long is hung: killed, its checks handed out again
    check_timeout: Duration = 900.0  # one check of one source is stopped after this (Scrapy CLOSESPIDER_TIMEOUT)
    robots_txt_ttl: Duration = 3600.0  # a worker fetches a host's robots.txt again after this
    seen_url_retention: Duration = 30 * 86400.0  # forget fetched-but-not-stored URLs after this
    max_retry_after: Duration = 60.0  # wait this long at most for a 429/503 Retry-After within a crawl
    # Processes extracting text beside the crawl (None: one fewer than the CPUs; 0: in the crawl process).
    extract_workers: int | None = Field(None, ge=0)
    # Private/loopback targets of URLs found on pages: auto (only when a start URL is on one), allow, deny.
    private_addresses: Literal["auto", "allow", "deny"] = "auto"
    max_sitemap_depth: int = Field(3, ge=0)  # levels of sitemap indexes below a start URL


class DigestConfig(Strict):
    """`digest: {every: 1h}` or `digest: {at: "08:00", timezone: Asia/Shanghai}` (daily): one message
    per channel per period instead of one per story (monitor.digest)."""

    every: Duration | None = None
    at: str | None = None
    timezone: str | None = None

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            from monitor.digest import parse_clock

            parse_clock(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not a known time zone; write e.g. UTC or Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> DigestConfig:
        if (self.every is None) == (self.at is None):
            raise ValueError("give either `every` (e.g. every: 1h) or `at` (e.g. at: \"08:00\"), not both or neither")
        if self.every is not None and self.timezone is not None:
            raise ValueError("`timezone` goes with `at`; periods of `every` are counted in UTC")
        if self.every is not None and self.every < 60:
            raise ValueError("`every` must be at least 1m")
        return self

    @property
    def zone(self) -> str:
        return self.timezone or "UTC"


class RuleConfig(Strict):
    name: str
    query: str = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)  # empty: all sources
    enabled: bool = True
    alert_on_update: bool = False  # alert again when a matched article's text changes (a revision)
    digest: DigestConfig | None = None  # collect matches and send one message per channel per period
    on_first: bool = True  # alert on the first matching article of a story
    on_spread: int | None = Field(None, ge=2)  # alert once when a matching story reaches this many outlets
    # Per-rule template overrides: {channel name or type: {subject_template: ..., ...}} (docs/alerts.md).
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _alerts_something(self) -> RuleConfig:
        if not self.on_first and self.on_spread is None:
            raise ValueError("on_first: false sends nothing unless on_spread is set (e.g. on_spread: 3)")
        return self


class RetentionConfig(Strict):
    # Empty the text of articles older than this; URLs, hashes and signatures stay, so dedup still works.
    article_text: Duration | None = None


class QueryConfig(Strict):
    timeout: Duration = 300.0  # `newsmon query` stops a statement after this; --timeout overrides


def parse_silence(value: object) -> str:
    """'3x' (a multiple of the source's usual gap between new articles) or a duration ('2d')."""
    text = str(value).strip()
    if text.endswith("x"):
        try:
            factor = float(text[:-1])
        except ValueError:
            factor = 0.0
        if factor <= 1:
            raise ValueError(f"{value!r}: a multiple of the usual gap must be a number above 1, e.g. 3x")
        return text
    parse_duration(text)  # raises with the duration message
    return text


class HealthConfig(Strict):
    """Operator alerts about sources (failing, silent, drifting, recovered), through the outbox."""

    channels: list[str] = Field(default_factory=list)  # where operator alerts go; none: status only
    failing_after: int = Field(3, ge=1)  # consecutive failed checks
    silent_after: Annotated[str, BeforeValidator(parse_silence)] = "3x"
    drift: bool = True  # a sudden rise of empty/short extractions or a drop of the median text length


class MetricsConfig(Strict):
    # host:port the daemon serves Prometheus /metrics on (none: off); `newsmon worker`s use worker_listen.
    listen: str | None = Field(None, pattern=r"^[^\s:]+:\d{1,5}$")
    worker_listen: str | None = Field(None, pattern=r"^[^\s:]+:\d{1,5}$")  # port 0: any free port


class WebConfig(Strict):
    """`newsmon web`: where it listens, and the token every request then needs (required off loopback)."""

    listen: str = Field("127.0.0.1:8080", pattern=r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):\d{1,5}$")
    token: SecretStr | None = None  # ${NEWSMON_WEB_TOKEN:-} leaves it unset when the variable is empty
    # Without a token, only requests naming one of these hosts (besides loopback names and addresses) are
    # served: a web page elsewhere cannot rebind its own name to 127.0.0.1 and read the archive.
    allowed_hosts: list[str] = Field(default_factory=list)

    @field_validator("token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return None if value is None or (isinstance(value, str) and not value.strip()) else value


class NewsmonConfig(Strict):
    config_dir: Path
    database_url: str = DEFAULT_DATABASE_URL
    # Optional separate login for `newsmon query` (an analyst's, able only to read the archive).
    query_database_url: str | None = None
    database_pool: DatabasePoolConfig = Field(default_factory=DatabasePoolConfig)
    # Distributed mode (docs/distributed.md): checks go through this Redis to `newsmon worker`s.
    redis_url: str | None = Field(None, pattern=r"^(redis|rediss|unix)://\S+$")
    # Every Redis key newsmon writes starts with this: two deployments can share one Redis.
    redis_prefix: str = Field("newsmon", pattern=r"^[A-Za-z0-9_.:{}-]{1,64}$")
    # Environment variables whose values are not secret: not masked in output, logs and the archive.
    public_env: list[str] = Field(default_factory=list)
    user_agent: str = DEFAULT_USER_AGENT
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    query: QueryConfig = Field(default_factory=QueryConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    log_format: Literal["text", "json"] = "text"  # json: one object per line (timestamp, level, logger, source, …)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    rules: dict[str, RuleConfig] = Field(default_factory=dict)

    def source_interval(self, source: SourceConfig) -> float:
        return source.interval or self.schedule.interval

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources.values() if s.enabled]
