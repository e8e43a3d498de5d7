"""The check queue of distributed mode against the real Redis (database 15): messages, results
that travel with the ack, recovery that returns what it moved, withdrawal, live capacity; and
waiting out a Redis outage."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import redis

from monitor.distributed.check_queue import CheckMessage, CheckQueue, UnreadableCheck
from monitor.distributed.connection import Keys, until_answered

WHEN = datetime(2026, 12, 2, 5, 0, 0)


@pytest.fixture
def checks(redis_client, redis_prefix) -> CheckQueue:
    return CheckQueue(redis_client, Keys(redis_prefix), lease=0.5)



@pytest.mark.parametrize("raw", [
    b"", b"not json", b"[]", b'{"check": "a"}', b'{"check": "a", "source": "s", "reply_to": "r", "enqueued_at": "x"}',
    b"\x80\x04\x95pickle",
])
def test_unreadable_messages_are_refused(raw):
    with pytest.raises(UnreadableCheck):
        CheckMessage.decode(raw)


def test_message_round_trip():
    message = CheckMessage("s#1", "s", "k:results:x", WHEN, datetime(2026, 12, 2, 6, 0))
    again = CheckMessage.decode(message.encode())
    assert (again.check, again.source, again.reply_to, again.enqueued_at, again.next_check_at) == \
        ("s#1", "s", "k:results:x", WHEN, datetime(2026, 12, 2, 6, 0))


@pytest.mark.redis
def test_a_finished_check_leaves_in_flight_and_its_result_reaches_its_enqueuer_only(checks):
    mine = checks.enqueue("a#1", "a", reply_to="crawl-1", enqueued_at=WHEN)
    checks.enqueue("b#1", "b", reply_to="daemon", enqueued_at=WHEN)
    taken = checks.take("w1", timeout=0.1)
    assert taken.raw == mine.raw and taken.source == "a"
    checks.finish("w1", taken, {"check": "a#1", "source": "a", "status": "ok"})
    assert checks.results("crawl-1", 0.1) == [{"check": "a#1", "source": "a", "status": "ok"}]
    assert checks.results("daemon", 0.1) == []
    assert checks.queue.pending() == 1 and checks.queue.in_flight() == 0


@pytest.mark.redis
def test_a_dead_workers_checks_come_back_once_and_are_returned_to_one_recoverer(checks):
    checks.enqueue("a#1", "a", reply_to="crawl", enqueued_at=WHEN)
    checks.enqueue("b#1", "b", reply_to="crawl", enqueued_at=WHEN)
    first = checks.take("dying", timeout=0.1)
    second = checks.take("dying", timeout=0.1)
    assert (first.source, second.source) == ("a", "b")
    assert checks.recover() == []  # its heartbeat is still fresh
    time.sleep(0.7)  # past the lease (0.5 s) plus the take's wait (0.1 s)
    recovered = checks.recover()
    assert [m.source for m in recovered] == ["a", "b"]  # in the order taken
    assert checks.recover() == []
    again = checks.take("alive", timeout=0.1)
    assert again.source == "a"  # recovered checks go first


@pytest.mark.redis
def test_withdraw_takes_back_only_what_no_worker_started(checks):
    started = checks.enqueue("a#1", "a", reply_to="d", enqueued_at=WHEN)
    waiting = checks.enqueue("b#1", "b", reply_to="d", enqueued_at=WHEN)
    checks.take("w", timeout=0.1)
    assert checks.withdraw(started) is False
    assert checks.withdraw(waiting) is True
    assert checks.holds(started) and not checks.holds(waiting)


@pytest.mark.redis
def test_an_unreadable_item_is_dropped_not_left_in_flight(checks):
    checks.queue.push(b"garbage from someone else")
    with pytest.raises(UnreadableCheck):
        checks.take("w", timeout=0.1)
    assert checks.queue.in_flight() == 0 and checks.queue.pending() == 0


@pytest.mark.redis
def test_live_capacity_counts_workers_with_a_fresh_heartbeat(checks):
    assert checks.live_capacity() == (0, 0)
    checks.heartbeat("w1", 8)
    checks.heartbeat("w2", 4)
    assert checks.live_capacity() == (2, 12)
    checks.leave("w2")
    assert checks.live_capacity() == (1, 8)
    time.sleep(0.6)
    assert checks.live_capacity() == (0, 0)


def test_until_answered_waits_out_an_outage_and_says_so_once(caplog):
    answers = iter([redis.ConnectionError("refused"), redis.TimeoutError("slow"), "ok"])
    naps: list[float] = []

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with caplog.at_level("WARNING", logger="newsmon.redis"):
        assert until_answered(call, "testing", sleep=naps.append) == "ok"
    assert naps == [0.5, 1.0]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "unreachable while testing" in messages[0] and "answers again" in messages[1]


def test_until_answered_gives_up_when_told_to_stop():
    def call():
        raise redis.ConnectionError("down")

    assert until_answered(call, "testing", stop=lambda: True, sleep=lambda _s: None) is None


def test_until_answered_does_not_hide_other_errors():
    def call():
        raise redis.ResponseError("WRONGTYPE")

    with pytest.raises(redis.ResponseError):
        until_answered(call, "testing", sleep=lambda _s: None)
