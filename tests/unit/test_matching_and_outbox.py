"""Rules on new articles -> outbox rows -> delivery, on a real SQLite file and
a real webhook receiver."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from monitor.alerting import match_new_articles
from monitor.config import load_config
from monitor.outbox import Outbox, retry_delay
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import make_engine, migrate, session_factory, session_scope
from replay.sinks import WebhookReceiver


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def setup(config_factory, receiver):
    root = config_factory(
        {"channels": {"a": {"type": "webhook", "url": receiver.url}, "b": {"type": "webhook", "url": receiver.url}},
         "delivery": {"backoff": "10s", "backoff_max": "40s", "max_attempts": 3}},
        {"s1": {"kind": "feed", "start_urls": ["http://x/"]}, "s2": {"kind": "feed", "start_urls": ["http://y/"]}},
        {"zh": {"query": "新质生产力", "channels": ["a", "b"]},
         "chips": {"query": "chip*", "channels": ["a"], "sources": ["s2"]},
         "off": {"query": "chip*", "channels": ["a"], "enabled": False}},
    )
    config = load_config(root, {})
    migrate(config.database_url)
    sessions = session_factory(make_engine(config.database_url))
    return config, sessions


def add(sessions, n, source, title, text):
    with session_scope(sessions) as s:
        repo.add_article(s, url=f"http://x/{n}", canonical_url=f"http://x/{n}", source=source, title=title,
                         text=text, content_hash=f"h{n}", fetched_at=repo.utcnow())


def test_matching_queues_once_per_rule_article_channel(setup):
    config, sessions = setup
    add(sessions, 1, "s1", "新质生产力之门", "发展新质生产力 and chips")
    add(sessions, 2, "s2", "Chip exports", "Chipmakers expand")
    add(sessions, 3, "s1", "Weather", "Sunny")
    summary = match_new_articles(config, sessions)
    assert summary.articles == 3
    assert summary.by_rule == {"zh": 2, "chips": 1}  # chips only on s2; "off" is disabled
    assert match_new_articles(config, sessions).articles == 0  # nothing unmatched left
    with session_scope(sessions) as s:
        rows = {(a.rule, a.article_id, a.channel) for a in s.query(Alert)}
        snippet = s.query(Alert).filter_by(rule="zh", channel="a").one().snippet
    assert rows == {("zh", 1, "a"), ("zh", 1, "b"), ("chips", 2, "a")}
    assert "新质生产力" in snippet


def test_delivery_retries_with_backoff_then_dead_letter(setup, receiver):
    config, sessions = setup
    add(sessions, 1, "s2", "Chip exports", "Chipmakers expand")
    match_new_articles(config, sessions)
    receiver.fail_next(100, status=503)
    outbox = Outbox(config, sessions)
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


def test_permanent_failure_is_dead_at_once(setup, receiver):
    config, sessions = setup
    add(sessions, 1, "s2", "Chip exports", "Chipmakers expand")
    match_new_articles(config, sessions)
    receiver.fail_next(1, status=410)
    assert Outbox(config, sessions).deliver_due().dead == 1


def test_backoff_doubles_and_caps(setup):
    config, _ = setup
    assert [retry_delay(config, n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 40]


def test_concurrent_passes_send_each_alert_once(setup, receiver):
    config, sessions = setup
    for n in range(20):
        add(sessions, n, "s1", f"新质生产力 {n}", "新质生产力")
    match_new_articles(config, sessions)
    receiver.delay = 0.01
    outboxes = [Outbox(config, sessions) for _ in range(4)]
    threads = [threading.Thread(target=o.deliver_due) for o in outboxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r.headers["X-Newsmon-Delivery"] for r in receiver.requests]
    assert len(ids) == 40 and len(set(ids)) == 40
