"""An outbox to test against: a config with an email channel (`mail`) and a webhook
channel (`hook`) pointing at real local receivers, and alerts queued on a real archive."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig, load_config
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import make_engine, session_factory, session_scope
from tests.helpers.config import write_config


def outbox_config(root: Path, database_url: str, *, smtp_port: int | None = None, hook_url: str | None = None,
                  delivery: dict | None = None, mail: dict | None = None, hook: dict | None = None) -> NewsmonConfig:
    channels = {}
    if smtp_port is not None:
        channels["mail"] = {"type": "email", "host": "127.0.0.1", "port": smtp_port, "security": "none",
                            "from": "alerts@example.org", "to": ["desk@example.org"], "timeout": "10s", **(mail or {})}
    if hook_url is not None:
        channels["hook"] = {"type": "webhook", "url": hook_url, "timeout": "10s", **(hook or {})}
    write_config(root, {"database_url": database_url, "channels": channels,
                        "delivery": {"backoff": "1s", "backoff_max": "1s", **(delivery or {})}})
    return load_config(root, {})


def sessions_for(config: NewsmonConfig) -> sessionmaker[Session]:
    return session_factory(make_engine(config.database_url))


def queue_alerts(sessions: sessionmaker[Session], articles: int, channels: list[str]) -> None:
    """One article per n, each alerted on every channel in `channels`."""
    now = repo.utcnow()
    with session_scope(sessions) as s:
        for n in range(articles):
            article_id = repo.add_article(s, url=f"http://news.example/{n}", canonical_url=f"http://news.example/{n}",
                                          source="s1", title=f"新质生产力 {n}", text="新质生产力", content_hash=f"h{n}",
                                          fetched_at=now)
            for channel in channels:
                repo.enqueue_alert(s, rule="zh", article_id=article_id, channel=channel, snippet="…", when=now)


def alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with session_scope(sessions) as s:
        return list(s.query(Alert).order_by(Alert.id))
