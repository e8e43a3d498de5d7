"""A delivering process killed mid-send (SIGKILL: no cleanup runs) leaves its
claim in 'sending'. The next process on the host sees that the claim's owner is
gone and delivers at once, not after a lease of minutes; the killed attempt
counts, so an alert that kills its sender every time goes dead after
max_attempts. Real subprocesses, a real webhook receiver that hangs, SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from monitor.claim_owner import ClaimOwner, this_process
from monitor.outbox import Outbox
from replay.sinks import WebhookReceiver
from tests.helpers.config import REPO_ROOT
from tests.helpers.outbox import alerts, outbox_config, queue_alerts, sessions_for

pytestmark = pytest.mark.slow

# One delivery pass in a process of its own, as `newsmon run` or `newsmon crawl` would do it.
DELIVERY_PASS = """
import sys
from monitor.outbox import Outbox
from monitor.config import load_config
from monitor.store.session import make_engine, session_factory
config = load_config(sys.argv[1], {})
Outbox(config, session_factory(make_engine(config.database_url))).deliver_due()
"""


def kill_mid_send(config_dir, hook: WebhookReceiver, posts_before: int) -> int:
    """Start a delivery pass, SIGKILL it while its POST hangs at the receiver; its pid."""
    child = subprocess.Popen([sys.executable, "-c", DELIVERY_PASS, str(config_dir)], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(hook.requests) <= posts_before:
            assert child.poll() is None, f"the delivery pass ended before sending: {child.stdout.read()}"
            assert time.monotonic() < deadline, "the delivery pass never sent"
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return child.pid


def test_a_killed_senders_claim_is_released_at_once(archive_url, tmp_path):
    with WebhookReceiver() as hook:
        config = outbox_config(tmp_path / "config", archive_url, hook_url=hook.url)
        sessions = sessions_for(config)
        queue_alerts(sessions, 1, ["hook"])
        hook.hold()
        pid = kill_mid_send(tmp_path / "config", hook, 0)
        (left,) = alerts(sessions)
        owner = ClaimOwner.parse(left.claimed_by)
        assert (left.status, left.attempts) == ("sending", 1)  # counted when claimed
        assert owner is not None and (owner.host, owner.pid) == (this_process().host, pid)

        hook.release()
        summary = Outbox(config, sessions).deliver_due()  # the default lease is 15 minutes: not waited for
        first, retry = hook.wait_for(2)

    (alert,) = alerts(sessions)
    assert summary.sent == 1 and (alert.status, alert.attempts) == ("sent", 2)
    assert alert.claimed_by is None and alert.claimed_until is None
    # The resend carries the same idempotency key, so the receiver can drop the duplicate.
    assert first.headers["X-Newsmon-Delivery"] == retry.headers["X-Newsmon-Delivery"] == alert.delivery_key
    assert retry.status == 200


def test_an_alert_that_kills_its_sender_every_time_goes_dead(archive_url, tmp_path):
    with WebhookReceiver() as hook:
        config = outbox_config(tmp_path / "config", archive_url, hook_url=hook.url, delivery={"max_attempts": 3})
        sessions = sessions_for(config)
        queue_alerts(sessions, 1, ["hook"])
        hook.hold()
        for attempt in range(3):  # each restart releases the last claim and tries again
            kill_mid_send(tmp_path / "config", hook, attempt)
        hook.release()
        summary = Outbox(config, sessions).deliver_due()
        time.sleep(0.2)  # a POST sent by mistake would arrive now
        posts = len(hook.requests)

    (alert,) = alerts(sessions)
    assert (alert.status, alert.attempts) == ("dead", 3) and summary.sent == 0
    assert posts == 3, "no fourth try"
    assert "died mid-send" in alert.last_error and "max_attempts 3" in alert.last_error
