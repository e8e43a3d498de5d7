"""Delivery passes at once: each crawl cycle and the daemon's delivery job call
deliver_due, on one Outbox (threads of one daemon) or on several (processes).
With a real SMTP server and a real webhook receiver, every alert arrives exactly
once and none goes dead: one sender at a time on each channel's connection."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from monitor.outbox import Outbox
from replay.sinks import SmtpSink, WebhookReceiver
from tests.helpers.outbox import alerts, outbox_config, queue_alerts, sessions_for

ARTICLES = 25  # x 2 channels = 50 alerts


@pytest.mark.parametrize("outboxes, threads_each", [(1, 4), (2, 2)], ids=["4 threads, one outbox",
                                                                          "2 outboxes, 2 threads each"])
def test_concurrent_passes_deliver_every_alert_once(archive_url, tmp_path, outboxes, threads_each):
    with SmtpSink() as smtp, WebhookReceiver() as hook:
        # A little latency at both receivers makes the passes overlap on each connection.
        smtp.delay = hook.delay = 0.01
        config = outbox_config(tmp_path / "config", archive_url, smtp_port=smtp.port, hook_url=hook.url)
        sessions = sessions_for(config)
        queue_alerts(sessions, ARTICLES, ["mail", "hook"])
        boxes = [Outbox(config, sessions) for _ in range(outboxes)]
        summaries, failures = [], []

        def run(box: Outbox) -> None:
            try:
                summaries.append(box.deliver_due())
            except Exception as exc:  # surfaced below: a thread's exception would be lost
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(box,)) for box in boxes for _ in range(threads_each)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for box in boxes:
            box.close()
        assert not failures and not any(t.is_alive() for t in threads)
        mails = smtp.wait_for(ARTICLES, timeout=10)
        posts = hook.wait_for(ARTICLES, timeout=10)

    rows = alerts(sessions)
    assert [a.status for a in rows] == ["sent"] * 2 * ARTICLES, [a.last_error for a in rows if a.status != "sent"]
    assert all(a.attempts == 1 for a in rows)
    assert sum(s.sent for s in summaries) == 2 * ARTICLES and not any(s.errors for s in summaries)

    keys = {channel: {a.delivery_key for a in rows if a.channel == channel} for channel in ("mail", "hook")}
    message_ids = Counter(mail["Message-ID"] for mail in mails)
    assert set(message_ids.values()) == {1}, "no email twice"
    assert {mid.removeprefix("<newsmon-").partition("@")[0] for mid in message_ids} == keys["mail"]
    deliveries = Counter(post.headers["X-Newsmon-Delivery"] for post in posts)
    assert set(deliveries.values()) == {1}, "no webhook twice"
    assert set(deliveries) == keys["hook"] and all(post.status == 200 for post in posts)


def test_close_waits_for_a_send_in_progress(tmp_path, migrated_sqlite):
    """Closing the outbox (daemon shutdown) while a pass sends must not cut the send off."""
    with WebhookReceiver() as hook:
        hook.delay = 0.5
        config = outbox_config(tmp_path / "config", migrated_sqlite, hook_url=hook.url)
        sessions = sessions_for(config)
        queue_alerts(sessions, 1, ["hook"])
        box = Outbox(config, sessions)
        results = []
        sender = threading.Thread(target=lambda: results.append(box.deliver_due()))
        sender.start()
        hook.wait_for(1, timeout=10)  # the POST is in flight
        box.close()
        sender.join(timeout=30)
    assert results and results[0].sent == 1 and alerts(sessions)[0].status == "sent"
