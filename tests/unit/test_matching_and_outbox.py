"""Rules on new articles -> outbox rows -> delivery, on a real SQLite file and a PostgreSQL database
(when it runs here), and a real webhook receiver."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from monitor.alerting import match_new_articles
from monitor.config import load_config
from monitor.outbox import Outbox, retry_delay
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import make_engine, session_factory, session_scope
from replay.sinks import WebhookReceiver


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


def make_config(config_factory, webhook_url: str, database_url: str | None = None):
    return load_config(config_factory(
        {"channels": {"a": {"type": "webhook", "url": webhook_url}, "b": {"type": "webhook", "url": webhook_url}},
         "delivery": {"backoff": "10s", "backoff_max": "40s", "max_attempts": 3},
         **({"database_url": database_url} if database_url else {})},
        {"s1": {"kind": "feed", "start_urls": ["http://x/"]}, "s2": {"kind": "feed", "start_urls": ["http://y/"]}},
        {"zh": {"query": "新质生产力", "channels": ["a", "b"]},
         "chips": {"query": "chip*", "channels": ["a"], "sources": ["s2"]},
         "off": {"query": "chip*", "channels": ["a"], "enabled": False}},
    ), {})


@pytest.fixture
def setup(config_factory, receiver, archive_url):
    """The config on a migrated archive (each backend) and its sessions; the engine is disposed
    afterwards, so the test's PostgreSQL database can be dropped."""
    config = make_config(config_factory, receiver.url, archive_url)
    engine = make_engine(config.database_url)
    yield config, session_factory(engine)
    engine.dispose()


@pytest.fixture
def make_outbox(setup):
    """Outboxes on the setup's archive, closed (with their channels) after the test."""
    made: list[Outbox] = []

    def make() -> Outbox:
        made.append(Outbox(*setup))
        return made[-1]

    yield make
    for o in made:
        o.close()


def add(sessions, n, source, title, text) -> int:
    with session_scope(sessions) as s:
        return repo.add_article(s, url=f"http://x/{n}", canonical_url=f"http://x/{n}", source=source, title=title,
                                text=text, content_hash=f"h{n}", fetched_at=repo.utcnow())


def test_matching_queues_once_per_rule_article_channel(setup):
    config, sessions = setup
    first = add(sessions, 1, "s1", "新质生产力之门", "发展新质生产力 and chips")
    second = add(sessions, 2, "s2", "Chip exports", "Chipmakers expand")
    add(sessions, 3, "s1", "Weather", "Sunny")
    summary = match_new_articles(config, sessions)
    assert summary.articles == 3
    assert summary.by_rule == {"zh": 2, "chips": 1}  # chips only on s2; "off" is disabled
    assert match_new_articles(config, sessions).articles == 0  # nothing unmatched left
    with session_scope(sessions) as s:
        rows = {(a.rule, a.article_id, a.channel) for a in s.query(Alert)}
        snippet = s.query(Alert).filter_by(rule="zh", channel="a").one().snippet
    assert rows == {("zh", first, "a"), ("zh", first, "b"), ("chips", second, "a")}
    assert "新质生产力" in snippet


def test_delivery_retries_with_backoff_then_dead_letter(setup, receiver, make_outbox):
    config, sessions = setup
    add(sessions, 1, "s2", "Chip exports", "Chipmakers expand")
    match_new_articles(config, sessions)
    receiver.fail_next(100, status=503)
    outbox = make_outbox()
    first = outbox.deliver_due()
    assert (first.sent, first.failed, first.dead) == (0, 1, 0)
    assert outbox.deliver_due().failed == 0  # not due yet: backoff
    with session_scope(sessions) as s:
        alert = s.query(Alert).one()
        assert alert.attempts == 1 and "503" in alert.last_error
        alert.next_attempt_at = repo.utcnow() - timedelta(seconds=1)
    assert outbox.deliver_due().failed == 1
    with session_scope(sessions) as s:
        s.query(Alert).one().next_attempt_at = repo.utcnow() - timedelta(seconds=1)
    assert outbox.deliver_due().dead == 1  # max_attempts = 3
    with session_scope(sessions) as s:
        alert = s.query(Alert).one()
        assert (alert.status, alert.attempts) == ("dead", 3)
        repo.requeue_alert(s, alert.id, repo.utcnow())
    receiver.fail_next(0)
    assert outbox.deliver_due().sent == 1
    assert len(receiver.delivered) == 1


def test_permanent_failure_is_dead_at_once(setup, receiver, make_outbox):
    config, sessions = setup
    add(sessions, 1, "s2", "Chip exports", "Chipmakers expand")
    match_new_articles(config, sessions)
    receiver.fail_next(1, status=410)
    assert make_outbox().deliver_due().dead == 1


def test_backoff_doubles_and_caps(config_factory):
    # Pure arithmetic on the config: no archive is opened, so one run (no backend) is enough.
    config = make_config(config_factory, "http://127.0.0.1:9/")
    assert [retry_delay(config, n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 40]


def test_concurrent_passes_send_each_alert_once(setup, receiver, make_outbox):
    config, sessions = setup
    for n in range(20):
        add(sessions, n, "s1", f"新质生产力 {n}", "新质生产力")
    match_new_articles(config, sessions)
    receiver.delay = 0.01
    outboxes = [make_outbox() for _ in range(4)]
    threads = [threading.Thread(target=o.deliver_due) for o in outboxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r.headers["X-Newsmon-Delivery"] for r in receiver.requests]
    assert len(ids) == 40 and len(set(ids)) == 40
