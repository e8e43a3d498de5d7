"""Delivery channels: email (SMTP), webhook (httpx) and apprise (optional extra). Delivery only: the
outbox in monitor.outbox queues, retries and records."""

from monitor.channels.apprise_channel import AppriseChannel
from monitor.channels.base import AlertMessage, Channel, HealthMessage, Message
from monitor.channels.email import EmailChannel
from monitor.channels.webhook import WebhookChannel
from monitor.config import AppriseChannelConfig, ChannelConfig, EmailChannelConfig, WebhookChannelConfig


def build_channel(name: str, config: ChannelConfig) -> Channel:
    """The channel for one `channels:` entry of newsmon.yaml."""
    if isinstance(config, EmailChannelConfig):
        return EmailChannel(name, config)
    if isinstance(config, WebhookChannelConfig):
        return WebhookChannel(name, config)
    if isinstance(config, AppriseChannelConfig):
        return AppriseChannel(name, config)
    raise TypeError(f"channel {name!r}: unsupported config {type(config).__name__}")  # pragma: no cover


__all__ = ["AlertMessage", "AppriseChannel", "Channel", "EmailChannel", "HealthMessage", "Message", "WebhookChannel", "build_channel"]
