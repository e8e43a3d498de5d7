"""ReliableQueue against the real Redis (database 15): order, acks, recovery of dead workers."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from monitor.distributed.reliable_queue import ReliableQueue

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(redis_client):
    return redis_client


@pytest.fixture
def make_queue(client, redis_prefix):
    """ReliableQueue(lease=...) on a fresh, unique name under this test's key prefix (deleted afterwards)."""

    def make(lease: float = 30.0, name: str | None = None) -> ReliableQueue:
        return ReliableQueue(client, name or f"{redis_prefix}:rq-{uuid.uuid4().hex[:8]}", lease=lease)

    return make


def everything(q: ReliableQueue) -> Counter:
    """Every item in the queue and in every in-flight list of the queue's name, counted."""
    found = Counter(q.client.lrange(q.queue_key, 0, -1))
    for key in q.client.scan_iter(match=f"{q.name}:inflight:*"):
        found.update(q.client.lrange(key, 0, -1))
    return found


def wait_until(condition, timeout: float = 5.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


@pytest.mark.parametrize("pushes, expected", [
    ([("push", [b"a", b"b"]), ("push", [b"c"])], [b"a", b"b", b"c"]),
    ([("push", [b"a", b"b"]), ("push_front", [b"x", b"y"])], [b"x", b"y", b"a", b"b"]),
    ([("push_front", [b"x"]), ("push", [b"a"]), ("push_front", [b"y"])], [b"y", b"x", b"a"]),
])
def test_items_are_taken_in_order(make_queue, pushes, expected):
    q = make_queue()
    for method, items in pushes:
        getattr(q, method)(*items)
    assert [q.take("w", timeout=0.1) for _ in expected] == expected
    assert q.take("w", timeout=0.05) is None


def test_take_returns_none_after_the_timeout(make_queue):
    q = make_queue()
    started = time.monotonic()
    assert q.take("w", timeout=0.2) is None
    assert 0.15 < time.monotonic() - started < 2


@pytest.mark.parametrize("timeout", [0, -1])
def test_take_refuses_a_timeout_that_would_block_forever(make_queue, timeout):
    with pytest.raises(ValueError):
        make_queue().take("w", timeout=timeout)


@pytest.mark.parametrize("worker, item, acked", [
    ("w", b"a", True),
    ("w", b"never-pushed", False),
    ("other-worker", b"a", False),
])
def test_ack(make_queue, worker, item, acked):
    q = make_queue()
    q.push(b"a", b"b")
    assert q.take("w", timeout=0.1) == b"a"
    assert q.ack(worker, item) is acked
    assert q.in_flight() == (0 if acked else 1)
    assert q.ack(worker, item) is False  # a second ack finds nothing


@pytest.mark.parametrize("steps, pending, in_flight, idle", [
    ([], 0, 0, True),
    ([("push", 2)], 2, 0, False),
    ([("push", 2), ("take", "w1")], 1, 1, False),
    ([("push", 2), ("take", "w1"), ("take", "w2")], 0, 2, False),
    ([("push", 2), ("take", "w1"), ("ack", "w1")], 1, 0, False),
    ([("push", 2), ("take", "w1"), ("take", "w2"), ("ack", "w1"), ("ack", "w2")], 0, 0, True),
    ([("push", 1), ("take", "w1"), ("leave", "w1")], 1, 0, False),
])
def test_counts(make_queue, steps, pending, in_flight, idle):
    q = make_queue()
    taken = {}
    for op, arg in steps:
        if op == "push":
            q.push(*(f"item-{i}".encode() for i in range(arg)))
        elif op == "take":
            taken[arg] = q.take(arg, timeout=0.1)
        elif op == "ack":
            assert q.ack(arg, taken[arg])
        else:
            q.leave(arg)
    assert (q.pending(), q.in_flight(), q.idle()) == (pending, in_flight, idle)


def test_a_dead_workers_items_come_back_first_in_order_and_a_live_workers_stay(make_queue):
    live = make_queue(lease=30)
    dead = make_queue(lease=0.2, name=live.name)
    live.push(*(c.encode() for c in "abcdef"))
    assert [dead.take("dead", timeout=0.05) for _ in range(3)] == [b"a", b"b", b"c"]
    assert live.take("live", timeout=0.05) == b"d"
    assert live.recover() == 0  # both leases still run

    assert wait_until(lambda: not live.client.exists(dead.alive_key("dead")), timeout=2)
    assert live.recover() == 3
    assert live.recover() == 0
    assert [live.take("next", timeout=0.05) for _ in range(4)] == [b"a", b"b", b"c", b"e"]
    assert live.client.lrange(live.inflight_key("live"), 0, -1) == [b"d"]
    assert not live.client.exists(live.inflight_key("dead"))
    assert b"dead" not in live.client.smembers(live.workers_key)
    assert dead.ack("dead", b"a") is False  # it was late: the item is someone else's now


def test_heartbeat_keeps_a_slow_worker_alive(make_queue):
    q = make_queue(lease=0.5)
    q.push(b"a")
    assert q.take("w", timeout=0.05) == b"a"
    for _ in range(4):
        time.sleep(0.2)
        q.heartbeat("w")
        assert q.recover() == 0
    assert q.ack("w", b"a")


def test_concurrent_recover_moves_each_item_exactly_once(make_queue):
    q = make_queue(lease=0.1)
    items = [f"item-{i}".encode() for i in range(300)]
    q.push(*items)
    for n in range(30):
        for _ in range(10):
            assert q.take(f"dead-{n}", timeout=0.05) is not None
    assert q.pending() == 0
    assert wait_until(lambda: not any(q.client.exists(q.alive_key(f"dead-{n}")) for n in range(30)), timeout=3)

    threads, barrier, moved = 8, threading.Barrier(8), []

    def recover():
        barrier.wait()
        moved.append(q.recover())

    pool = [threading.Thread(target=recover) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sum(moved) == len(items)
    assert everything(q) == Counter(items)
    assert q.pending() == len(items) and q.in_flight() == 0


def test_leave_requeues_at_the_front_and_deletes_the_workers_keys(make_queue):
    q = make_queue()
    q.push(b"a", b"b", b"c")
    assert [q.take("w", timeout=0.05) for _ in range(2)] == [b"a", b"b"]
    assert q.leave("w") == 2
    for key in (q.inflight_key("w"), q.alive_key("w")):
        assert not q.client.exists(key)
    assert b"w" not in q.client.smembers(q.workers_key)
    assert [q.take("x", timeout=0.05) for _ in range(3)] == [b"a", b"b", b"c"]


@pytest.mark.slow
def test_a_sigkilled_process_loses_nothing(make_queue, redis_url):
    q = make_queue(lease=0.5)
    q.push(*(f"item-{i}".encode() for i in range(5)))
    script = textwrap.dedent(f"""
        import sys, time, redis
        from monitor.distributed.reliable_queue import ReliableQueue
        q = ReliableQueue(redis.Redis.from_url({redis_url!r}), {q.name!r}, lease=0.5)
        for _ in range(3):
            assert q.take("doomed", timeout=1) is not None
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert q.in_flight() == 3 and q.pending() == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert q.recover() == 0  # its lease (lease + take timeout) has not run out yet
    assert wait_until(q.recover, timeout=5) == 3
    assert [q.take("heir", timeout=0.05) for _ in range(3)] == [b"item-0", b"item-1", b"item-2"]
    assert q.pending() == 2


def test_random_worker_deaths_lose_no_item(make_queue):
    q = make_queue(lease=0.2)
    items = [f"item-{i:03d}".encode() for i in range(200)]
    q.push(*items)
    acked, lock, stop = Counter(), threading.Lock(), threading.Event()
    deaths = Counter()

    def work(n: int) -> None:
        rng = random.Random(n)
        generation = 0
        while not stop.is_set():
            worker = f"t{n}-g{generation}"
            item = q.take(worker, timeout=0.05)
            if item is None:
                continue
            if rng.random() < 0.1:  # dies holding the item: no ack, no heartbeat; a new worker replaces it
                deaths[n] += 1
                generation += 1
                continue
            if q.ack(worker, item):
                with lock:
                    acked[item] += 1

    def recoverer() -> None:
        while not stop.is_set():
            q.recover()
            time.sleep(0.05)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)] + [threading.Thread(target=recoverer)]
    for t in threads:
        t.start()
    try:
        assert wait_until(lambda: len(acked) == len(items) and q.idle(), timeout=30)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert set(acked) == set(items)
    assert sum(deaths.values()) > 0
    assert q.pending() == 0 and q.in_flight() == 0 and everything(q) == Counter()
