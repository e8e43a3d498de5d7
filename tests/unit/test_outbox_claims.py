"""Claims on outbox rows: who owns one, when it is released, and the delivery
keys receivers dedupe on. Real SQLite files and PostgreSQL databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from monitor.claim_owner import ClaimOwner, owner_is_gone, proc_start_token, this_process
from monitor.outbox import message_for
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import alembic_config, make_engine, migrate, session_factory, session_scope
from tests.helpers.outbox import queue_alerts

LEASE = timedelta(minutes=15)
NEEDS_PROC = pytest.mark.skipif(proc_start_token(os.getpid()) is None, reason="no /proc start times here")


def finished_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_this_process_names_host_pid_and_start_token():
    me = this_process()
    assert me.pid == os.getpid() and ClaimOwner.parse(str(me)) == me
    if proc_start_token(os.getpid()) is not None:  # Linux: the token anyone can check
        assert me.token == proc_start_token(os.getpid())


@pytest.mark.parametrize("claimed_by, gone", [
    ("{me}", False),                          # ours: another thread or Outbox of this process
    ("{host}:{pid}:r0123", True),             # our pid, but an earlier process's token
    ("{host}:{parent}:r0123", False),         # a live process with a random token: cannot tell
    pytest.param("{host}:{parent}:0000.1", True, marks=NEEDS_PROC),  # a live pid, another start: reused
    ("{host}:{finished}:{token}", True),      # that process has ended
    ("elsewhere.example:{finished}:x", False),  # another host: the lease decides
    (None, False), ("", False), ("garbage", False), ("{host}:0:x", False), ("{host}:-1:x", False),
])
def test_owner_is_gone_only_when_certain(claimed_by, gone):
    me = this_process()
    text = claimed_by and claimed_by.format(me=me, host=me.host, pid=me.pid, parent=os.getppid(),
                                            finished=finished_pid(), token=me.token)
    assert owner_is_gone(text, me) is gone


def claim(sessions, alert_id: int, owner: str, now, lease: timedelta = LEASE) -> None:
    with session_scope(sessions) as s:
        assert repo.claim_alert(s, alert_id, now, owner=owner, lease=lease) is not None


def test_release_frees_gone_owners_and_expired_leases_only(archive_url):
    sessions = session_factory(make_engine(archive_url))
    queue_alerts(sessions, 4, ["hook"])
    now = repo.utcnow()
    claim(sessions, 1, "gone-host:1:a", now)                               # owner reported gone
    claim(sessions, 2, "far-host:2:b", now)                                # alive elsewhere, lease holds
    claim(sessions, 3, "far-host:3:c", now - timedelta(hours=1))           # lease over
    claim(sessions, 4, str(this_process()), now)                           # ours, in flight
    with session_scope(sessions) as s:
        assert repo.release_claims(s, now, gone_owners=["gone-host:1:a"], max_attempts=5) == 2
    with session_scope(sessions) as s:
        rows = {a.id: a for a in s.query(Alert)}
    assert {i: rows[i].status for i in rows} == {1: "pending", 2: "sending", 3: "pending", 4: "sending"}
    assert "died mid-send" in rows[1].last_error and "past the lease" in rows[3].last_error
    assert rows[1].attempts == 1 and rows[1].claimed_by is None and rows[1].next_attempt_at <= repo.utcnow()


def test_release_makes_a_dead_letter_of_a_claim_that_used_every_attempt(archive_url):
    sessions = session_factory(make_engine(archive_url))
    queue_alerts(sessions, 1, ["hook"])
    now = repo.utcnow()
    for _ in range(2):
        claim(sessions, 1, "h:1:a", now)
        with session_scope(sessions) as s:
            repo.release_claims(s, now, gone_owners=["h:1:a"], max_attempts=2)
    with session_scope(sessions) as s:
        alert = s.get(Alert, 1)
        assert (alert.status, alert.attempts) == ("dead", 2)
        assert "max_attempts 2" in alert.last_error and "newsmon alerts retry" in alert.last_error


def test_a_claim_taken_again_meanwhile_is_not_released(archive_url):
    """Release works row by row on the claim it saw: one re-taken since then stays taken."""
    sessions = session_factory(make_engine(archive_url))
    queue_alerts(sessions, 1, ["hook"])
    now = repo.utcnow()
    claim(sessions, 1, "h:1:a", now)
    with session_scope(sessions) as s:
        repo.release_claims(s, now, gone_owners=["h:1:a"], max_attempts=5)
    claim(sessions, 1, "h:2:b", now)
    with session_scope(sessions) as s:  # a second releaser still thinking of h:1:a
        assert repo.release_claims(s, now, gone_owners=["h:1:a"], max_attempts=5) == 0
        assert s.get(Alert, 1).claimed_by == "h:2:b"


def test_delivery_keys_differ_across_two_fresh_archives(tmp_path):
    keys, message_ids = [], []
    for name in ("first", "rebuilt"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        migrate(url)
        sessions = session_factory(make_engine(url))
        queue_alerts(sessions, 1, ["hook"])
        with session_scope(sessions) as s:
            alert = s.get(Alert, 1)  # the same id in both archives
            message = message_for(s, alert)
        keys.append(alert.delivery_key)
        message_ids.append(message.as_payload()["delivery_key"])
    assert keys[0] != keys[1] and message_ids == keys
    assert all(len(key) == 32 and int(key, 16) >= 0 for key in keys)


def test_migration_gives_existing_alerts_fresh_keys_and_old_claims_a_lease(archive_url):
    """Rows written by 0007's schema: each gets its own key; a claim left 'sending' gets a
    lease from the upgrade on (its owner is unknown)."""
    config = alembic_config(archive_url)
    command.downgrade(config, "0007_source_content_hash_index")
    engine = make_engine(archive_url)
    now = repo.utcnow()
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO articles (url, canonical_url, source, text, content_hash, fetched_at, "
                             "revision_count) VALUES ('http://x/1', 'http://x/1', 's', 't', 'h', :now, 0)"),
                     {"now": now})
        for status in ("pending", "sending", "sent"):
            conn.execute(sa.text("INSERT INTO alerts (rule, article_id, channel, status, attempts, next_attempt_at, "
                                 "created_at, revision) VALUES ('r', 1, :status, :status, 0, :now, :now, 0)"),
                         {"status": status, "now": now})
    command.upgrade(config, "head")
    with session_scope(session_factory(engine)) as s:
        rows = {a.status: a for a in s.query(Alert)}
    assert len({a.delivery_key for a in rows.values()}) == 3 and all(a.delivery_key for a in rows.values())
    assert rows["sending"].claimed_by is None and rows["sending"].claimed_until > now + timedelta(minutes=14)
    assert rows["pending"].claimed_until is None


def test_claim_next_takes_the_oldest_due_and_skips_the_excluded(archive_url):
    sessions = session_factory(make_engine(archive_url))
    queue_alerts(sessions, 3, ["hook"])
    now = repo.utcnow()
    taken = []
    with session_scope(sessions) as s:
        while (alert := repo.claim_next_alert(s, now, owner="h:1:a", lease=LEASE, exclude=[2])) is not None:
            taken.append((alert.id, alert.status, alert.attempts, alert.claimed_by))
    assert taken == [(1, "sending", 1, "h:1:a"), (3, "sending", 1, "h:1:a")]
    with session_scope(sessions) as s:  # not due yet: nothing to claim
        assert repo.claim_next_alert(s, now - timedelta(hours=1), owner="h:1:a", lease=LEASE) is None
    sessions.kw["bind"].dispose()


def test_concurrent_claims_on_postgresql_skip_locked_rows_instead_of_waiting(request):
    """Two passes in open transactions: the second takes the next row at once (SKIP LOCKED),
    neither waits on the other's lock nor takes the same alert."""
    url = request.getfixturevalue("postgres_url")
    migrate(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    queue_alerts(sessions, 2, ["hook"])
    now = repo.utcnow()
    first, second = sessions(), sessions()
    try:
        second.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # waiting on a lock would fail, not hang
        a = repo.claim_next_alert(first, now, owner="h:1:a", lease=LEASE)
        b = repo.claim_next_alert(second, now, owner="h:2:b", lease=LEASE)
        assert a is not None and b is not None and {a.id, b.id} == {1, 2}
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
        engine.dispose()
