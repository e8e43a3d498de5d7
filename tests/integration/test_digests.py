"""Digest rules end to end: matching queues rows held until their period ends; one email and one
webhook call per channel per period; exactly once per (rule, story, channel) through SMTP outages
and a delivering process SIGKILLed mid-send. Spread alerts (on_spread). Real aiosmtpd, a real
webhook receiver, SQLite and PostgreSQL (when it runs here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from monitor.alerting import match_new_articles
from monitor.config import load_config
from monitor.outbox import Outbox
from monitor.statuses import AlertStatus
from monitor.store import repo
from monitor.store.models import Alert, Article
from monitor.store.session import session_scope
from replay.sinks import SmtpSink, WebhookReceiver
from tests.helpers.config import REPO_ROOT, write_config
from tests.helpers.outbox import alerts, sessions_for

HOUR = timedelta(hours=1)


def digest_config(root, database_url, *, smtp_port=None, hook_url=None, rules=None, delivery=None):
    channels = {}
    if smtp_port is not None:
        channels["mail"] = {"type": "email", "host": "127.0.0.1", "port": smtp_port, "security": "none",
                            "from": "alerts@example.org", "to": ["desk@example.org"], "timeout": "10s"}
    if hook_url is not None:
        channels["hook"] = {"type": "webhook", "url": hook_url, "timeout": "10s"}
    rules = rules or {"chips": {"query": "chip* OR 芯片", "channels": list(channels), "digest": {"every": "1h"}}}
    write_config(root, {"database_url": database_url, "channels": channels,
                        "delivery": {"backoff": "1s", "backoff_max": "1s", **(delivery or {})}}, None, rules)
    return load_config(root, {})


def add_story(session, n: int, sources: list[str], when: datetime, title: str | None = None) -> list[int]:
    """One story carried by `sources` (first one first), each article a minute after the last."""
    ids, story = [], None
    for k, source in enumerate(sources):
        at = when + timedelta(minutes=k)
        url = f"http://{source}.example/{n}"
        article_id = repo.add_article(
            session, url=url, canonical_url=url, source=source, title=title or f"Chip story {n}",
            text=f"Story {n}: the new chip plant opens; 芯片 output rises.", content_hash=f"h{n}-{source}",
            fetched_at=at, published_at=at)
        if story is None:
            story = repo.new_story(session, article_id, title, at)
        else:
            repo.join_story(session, article_id, story, source, at)
        ids.append(article_id)
    return ids


def later(monkeypatch, delta: timedelta) -> None:
    """Delivery passes in this process see the clock `delta` ahead (the digest period has ended)."""
    real = repo.utcnow
    monkeypatch.setattr(repo, "utcnow", lambda: real() + delta)


def test_one_message_per_channel_per_period_with_every_story(archive_url, tmp_path, monkeypatch):
    with SmtpSink() as smtp, WebhookReceiver() as hook:
        config = digest_config(tmp_path / "config", archive_url, smtp_port=smtp.port, hook_url=hook.url)
        sessions = sessions_for(config)
        now = repo.utcnow()
        with session_scope(sessions) as s:
            add_story(s, 1, ["s1", "s2"], now)  # one story in two outlets: one entry
            add_story(s, 2, ["s3"], now)
            add_story(s, 3, ["s1"], now, title="Nothing to see")  # matches on its text too
        summary = match_new_articles(config, sessions)
        assert summary.queued == 6 and summary.same_story == 1  # 3 stories x 2 channels
        rows = alerts(sessions)
        assert {r.status for r in rows} == {AlertStatus.PENDING}
        assert len({r.digest_end for r in rows}) == 1 and rows[0].digest_end > now
        assert all(r.next_attempt_at == r.digest_end for r in rows)

        outbox = Outbox(config, sessions)
        try:
            assert outbox.deliver_due().sent == 0  # the period has not ended: nothing goes
            assert smtp.messages == [] and hook.requests == []
            later(monkeypatch, HOUR)
            assert outbox.deliver_due().sent == 6
            assert outbox.deliver_due().sent == 0
        finally:
            outbox.close()
        [mail] = smtp.wait_for(1)
        [post] = hook.wait_for(1)
        assert "chips: 3 stories" in mail["Subject"]
        text = mail.text()
        print(text)
        for title in ("Chip story 1", "Chip story 2", "Nothing to see"):
            assert text.count(title) == 1
        assert "s1, s2" in text and "*chip*" in text and "*芯片*" in text
        assert "<mark>chip</mark>" in mail.html()
        body = post.json
        assert body["kind"] == "digest" and body["rule"] == "chips" and body["count"] == 3
        assert body["period"]["end"] == rows[0].digest_end.isoformat()
        assert [story["outlets"] for story in body["stories"]][0] == ["s1", "s2"]
        assert post.headers["X-Newsmon-Delivery"] == body["delivery_key"]
        assert body["delivery_key"] not in mail["Message-ID"]  # a key per channel: each is its own digest
        assert {r.status for r in alerts(sessions)} == {AlertStatus.SENT}


def test_an_empty_period_sends_nothing_and_periods_do_not_mix(archive_url, tmp_path, monkeypatch):
    with WebhookReceiver() as hook:
        config = digest_config(tmp_path / "config", archive_url, hook_url=hook.url)
        sessions = sessions_for(config)
        outbox = Outbox(config, sessions)
        try:
            later(monkeypatch, 3 * HOUR)
            assert outbox.deliver_due().sent == 0 and hook.requests == []
            start = datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
            with session_scope(sessions) as s:
                for n, period_start in enumerate([start, start, start + HOUR]):
                    [article_id] = add_story(s, n, ["s1"], period_start)
                    repo.enqueue_alert(s, rule="chips", article_id=article_id, channel="hook", snippet="chip",
                                       when=period_start, digest=(period_start, period_start + HOUR))
            assert outbox.deliver_due().sent == 3
        finally:
            outbox.close()
        posts = hook.wait_for(2)
        assert sorted(p.json["count"] for p in posts) == [1, 2]
        assert len({p.headers["X-Newsmon-Delivery"] for p in posts}) == 2


def test_smtp_down_for_three_passes_then_the_digest_goes_once(archive_url, tmp_path, monkeypatch):
    with SmtpSink() as smtp:
        port = smtp.port
    config = digest_config(tmp_path / "config", archive_url, smtp_port=port)
    sessions = sessions_for(config)
    with session_scope(sessions) as s:
        for n in range(4):
            add_story(s, n, ["s1"], repo.utcnow())
    assert match_new_articles(config, sessions).queued == 4
    later(monkeypatch, HOUR)
    outbox = Outbox(config, sessions)
    try:
        for _ in range(3):  # nothing listens on the port
            summary = outbox.deliver_due()
            assert summary.failed == 4 and summary.sent == 0
            assert len({r.attempts for r in alerts(sessions)}) == 1
            with session_scope(sessions) as s:  # the backoff has passed
                s.query(Alert).update({Alert.next_attempt_at: repo.utcnow() - timedelta(seconds=1)})
        with SmtpSink(port=port) as smtp:
            assert outbox.deliver_due().sent == 4
            outbox.close()
            assert outbox.deliver_due().sent == 0
            [mail] = smtp.wait_for(1)
            time.sleep(0.3)
            assert len(smtp.messages) == 1
        assert "chips: 4 stories" in mail["Subject"]
        assert {(r.status, r.attempts) for r in alerts(sessions)} == {(AlertStatus.SENT, 4)}
    finally:
        outbox.close()


def test_a_digest_dead_after_max_attempts_is_retried_as_one(archive_url, tmp_path, monkeypatch):
    with WebhookReceiver() as hook:
        config = digest_config(tmp_path / "config", archive_url, hook_url=hook.url)
        sessions = sessions_for(config)
        with session_scope(sessions) as s:
            for n in range(3):
                add_story(s, n, ["s1"], repo.utcnow())
        match_new_articles(config, sessions)
        later(monkeypatch, HOUR)
        hook.fail_next(1, status=400)
        outbox = Outbox(config, sessions)
        try:
            assert outbox.deliver_due().dead == 3
            first = alerts(sessions)[1].id
            with session_scope(sessions) as s:
                repo.requeue_alert(s, first, repo.utcnow())
            assert outbox.deliver_due().sent == 3
        finally:
            outbox.close()
        assert [p.json["count"] for p in hook.requests] == [3, 3]


DELIVERY_PASS = """
import sys
from datetime import timedelta
from monitor.outbox import Outbox
from monitor.config import load_config
from monitor.store import repo
from monitor.store.session import make_engine, session_factory
real = repo.utcnow
repo.utcnow = lambda: real() + timedelta(hours=1)
config = load_config(sys.argv[1], {})
Outbox(config, session_factory(make_engine(config.database_url))).deliver_due()
"""


@pytest.mark.slow
def test_a_sender_killed_mid_digest_sends_it_once_after_restart(archive_url, tmp_path, monkeypatch):
    with WebhookReceiver() as hook:
        config = digest_config(tmp_path / "config", archive_url, hook_url=hook.url)
        sessions = sessions_for(config)
        with session_scope(sessions) as s:
            for n in range(5):
                add_story(s, n, ["s1", "s2"][: 1 + n % 2], repo.utcnow())
        assert match_new_articles(config, sessions).queued == 5
        hook.hold()
        child = subprocess.Popen([sys.executable, "-c", DELIVERY_PASS, str(tmp_path / "config")], cwd=REPO_ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 120
            while not hook.requests:
                assert child.poll() is None, f"the delivery pass ended before sending: {child.stdout.read()}"
                assert time.monotonic() < deadline, "the delivery pass never sent"
                time.sleep(0.02)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        hook.release()
        assert {r.status for r in alerts(sessions)} == {AlertStatus.SENDING}
        later(monkeypatch, HOUR)
        outbox = Outbox(config, sessions)
        try:
            assert outbox.deliver_due().sent == 5  # released at once: the owner is gone
            assert outbox.deliver_due().sent == 0
        finally:
            outbox.close()
        posts = hook.wait_for(2)
        time.sleep(0.3)
        assert len(hook.requests) == 2  # the killed attempt (perhaps received) and the resend
        keys = {p.headers["X-Newsmon-Delivery"] for p in hook.requests}
        assert len(keys) == 1  # the same digest: receivers dedupe it
        delivered = [story["alert_id"] for story in posts[-1].json["stories"]]
        assert sorted(delivered) == sorted(r.id for r in alerts(sessions))  # every story, once
        assert {(r.status, r.attempts) for r in alerts(sessions)} == {(AlertStatus.SENT, 2)}


def test_on_spread_alerts_once_with_outlets_and_pickup_times(archive_url, tmp_path):
    with WebhookReceiver() as hook:
        rules = {"spread": {"query": "chip*", "channels": ["hook"], "on_spread": 3, "on_first": False}}
        config = digest_config(tmp_path / "config", archive_url, hook_url=hook.url, rules=rules)
        sessions = sessions_for(config)
        now = repo.utcnow()
        with session_scope(sessions) as s:
            ids = add_story(s, 1, ["s1", "s2"], now)
            add_story(s, 2, ["s1"], now)
        assert match_new_articles(config, sessions).queued == 0  # two outlets, and no first-seen alerts
        with session_scope(sessions) as s:
            for k, source in enumerate(["s3", "s4"]):
                url = f"http://{source}.example/1"
                article_id = repo.add_article(s, url=url, canonical_url=url, source=source, title="Chip story 1",
                                              text="the new chip plant", content_hash=f"x{k}",
                                              fetched_at=now + timedelta(minutes=5 + k))
                story = s.get(Article, ids[0]).story_id
                repo.join_story(s, article_id, story, source, now)
        summary = match_new_articles(config, sessions)
        assert summary.queued == 1 and summary.spread == 1  # one spread alert, however many outlets joined
        assert match_new_articles(config, sessions).queued == 0
        outbox = Outbox(config, sessions)
        try:
            assert outbox.deliver_due().sent == 1
        finally:
            outbox.close()
        [post] = hook.wait_for(1)
        spread = post.json["spread"]
        assert post.json["kind"] == "spread"
        assert spread["threshold"] == 3
        assert [o["source"] for o in spread["outlets"]] == ["s1", "s2", "s3", "s4"]  # all it had when queued
        assert [o["after_seconds"] for o in spread["outlets"]] == [None, 60.0, 300.0, 360.0]


def test_a_digest_shows_spread_stories_and_stories_that_grew(archive_url, tmp_path, monkeypatch):
    with SmtpSink() as smtp:
        rules = {"chips": {"query": "chip*", "channels": ["mail"], "digest": {"at": "08:00", "timezone": "Asia/Shanghai"},
                           "on_spread": 2}}
        config = digest_config(tmp_path / "config", archive_url, smtp_port=smtp.port, rules=rules)
        sessions = sessions_for(config)
        now = repo.utcnow()
        with session_scope(sessions) as s:
            add_story(s, 1, ["s1"], now)
            grows = add_story(s, 2, ["s1"], now)
        assert match_new_articles(config, sessions).queued == 2
        with session_scope(sessions) as s:
            url = "http://s2.example/2"
            article_id = repo.add_article(s, url=url, canonical_url=url, source="s2", title="Chip story 2",
                                          text="the chip plant", content_hash="y", fetched_at=now + timedelta(hours=2))
            repo.join_story(s, article_id, s.get(Article, grows[0]).story_id, "s2", now)
        summary = match_new_articles(config, sessions)
        assert summary.spread == 1
        later(monkeypatch, timedelta(days=1))
        outbox = Outbox(config, sessions)
        try:
            assert outbox.deliver_due().sent == 3
        finally:
            outbox.close()
        [mail] = smtp.wait_for(1)
        text = mail.text()
        assert "chips: 2 stories" in mail["Subject"] and "Asia/Shanghai" in mail["Subject"]
        assert text.count("Chip story 2") == 1  # its first-seen and its spread alert: one entry
        assert "now in 2 outlets: s1, s2" in text and "s2 (+2h00m)" in text


def test_rules_test_groups_by_digest_period_and_story_and_shows_spread(archive_url, tmp_path, capsys):
    import argparse

    from monitor.commands.rules import cmd_rules_test

    rules = {"chips": {"query": "chip*", "channels": ["hook"], "digest": {"every": "1h"}, "on_spread": 2}}
    config = digest_config(tmp_path / "config", archive_url, hook_url="http://127.0.0.1:9/", rules=rules)
    sessions = sessions_for(config)
    start = datetime(2024, 3, 1, 10, 10, tzinfo=timezone.utc)
    with session_scope(sessions) as s:
        add_story(s, 1, ["s1", "s2"], start)  # s2 a minute later: spread in the same period
        add_story(s, 2, ["s3"], start + HOUR)
    assert cmd_rules_test(config, argparse.Namespace(name="chips", since=start - HOUR)) == 0
    out = capsys.readouterr().out
    print(out)
    assert "digest 2024-03-01 10:00–2024-03-01 11:00 UTC: 1 story" in out
    assert "digest 2024-03-01 11:00–2024-03-01 12:00 UTC: 1 story" in out
    assert out.count("[s1, s2]  Chip story 1  (spread to 2 outlets)") == 1  # first seen and spread: one entry
    assert "picked up: s1 first, s2 +1m" in out
    assert "3 article(s) match rule 'chips' since" in out and "(2 stories, 2 messages)" in out


def test_newsmon_alerts_shows_the_digest_period(tmp_path, capsys):
    import json

    from monitor.cli import main
    from monitor.store.session import migrate

    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    migrate(url)
    config = digest_config(tmp_path / "config", url, hook_url="http://127.0.0.1:9/")
    sessions = sessions_for(config)
    start = datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    with session_scope(sessions) as s:
        [article_id] = add_story(s, 1, ["s1"], start)
        repo.enqueue_alert(s, rule="chips", article_id=article_id, channel="hook", snippet="chip", when=start,
                           digest=(start, start + HOUR))
    capsys.readouterr()
    assert main(["--config", str(tmp_path / "config"), "alerts", "--format", "json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)
    assert shown["digest"] == "2024-03-01 10:00–11:00 UTC" and shown["status"] == "pending"


def test_passes_delivering_at_once_put_each_story_in_one_digest(archive_url, tmp_path, monkeypatch):
    import threading

    with WebhookReceiver() as hook:
        config = digest_config(tmp_path / "config", archive_url, hook_url=hook.url)
        sessions = sessions_for(config)
        with session_scope(sessions) as s:
            for n in range(30):
                add_story(s, n, ["s1"], repo.utcnow())
        assert match_new_articles(config, sessions).queued == 30
        later(monkeypatch, HOUR)
        outboxes = [Outbox(config, sessions) for _ in range(3)]
        try:
            threads = [threading.Thread(target=o.deliver_due) for o in outboxes]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        finally:
            for o in outboxes:
                o.close()
        ids = [story["alert_id"] for p in hook.requests for story in p.json["stories"]]
        assert sorted(ids) == sorted(r.id for r in alerts(sessions))  # every story once
        assert {r.status for r in alerts(sessions)} == {AlertStatus.SENT}
