"""The one typed config object: newsmon.yaml + sources/*.yaml + rules/*.yaml.

Loaded once (by the CLI, the daemon or the crawl subprocess) and passed down.
This package (its loader) is the only place that reads environment variables; it receives them as
a mapping so tests can pass their own.
"""

from monitor.config._base import Duration, parse_duration
from monitor.config.channels import AppriseChannelConfig, ChannelConfig, EmailChannelConfig, WebhookChannelConfig
from monitor.config.loader import load_config, resolve_config_dir
from monitor.config.model import (
    DEFAULT_DATABASE_URL,
    DEFAULT_USER_AGENT,
    CrawlConfig,
    DatabasePoolConfig,
    DeliveryConfig,
    NewsmonConfig,
    QueryConfig,
    RetentionConfig,
    RuleConfig,
    ScheduleConfig,
)
from monitor.config.sources import ExtractHints, SourceConfig

__all__ = [
    "AppriseChannelConfig", "DEFAULT_DATABASE_URL", "DEFAULT_USER_AGENT", "ChannelConfig",
    "CrawlConfig", "DatabasePoolConfig", "DeliveryConfig",
    "Duration",
    "EmailChannelConfig", "ExtractHints", "NewsmonConfig", "QueryConfig", "RetentionConfig", "RuleConfig",
    "ScheduleConfig", "SourceConfig", "WebhookChannelConfig", "load_config", "parse_duration", "resolve_config_dir",
]
