"""The shared per-domain limiter and robots.txt cache (issue 13, item 5), on the real Redis:
grants and refusals at the limit, lease expiry, start spacing, learned Crawl-delays, and two worker
processes on one domain that never exceed its limit together."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from monitor.distributed.domain_limiter import DomainLimiter, SharedRobotsTxt, SlotTimeout

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 0.005  # seconds: grants are timed by the server's clock, so only rounding needs room
DOMAIN = "news.example"


@pytest.fixture
def client(redis_client: redis.Redis) -> redis.Redis:
    return redis_client


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return redis_prefix


@pytest.fixture
def limiter(client: redis.Redis, prefix: str) -> DomainLimiter:
    return DomainLimiter(client, f"{prefix}:domains")


def granted_at(limiter: DomainLimiter, domain: str, token: str, lease: float) -> float:
    """The server time of a grant: its lease expiry less the lease."""
    return limiter.client.zscore(limiter.keys(domain)["slots"], token) - lease


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    held = peak = 0
    for _, step in events:  # at equal times the end (-1) sorts first: touching is not overlapping
        held += step
        peak = max(peak, held)
    return peak


# -- grants, refusals, release, expiry ---------------------------------------------------------

@pytest.mark.parametrize("concurrency, attempts, granted", [(1, 3, 1), (2, 3, 2), (3, 3, 3), (4, 6, 4)])
def test_grants_up_to_the_concurrency_then_refuses(limiter, concurrency, attempts, granted):
    results = [limiter.acquire(DOMAIN, f"w{i}", concurrency=concurrency, delay=0) for i in range(attempts)]
    tokens = [token for token, _ in results if token is not None]
    assert len(tokens) == granted and len(set(tokens)) == granted
    assert all(wait == 0.0 for token, wait in results if token is not None)
    assert all(0 < wait <= limiter.poll for token, wait in results if token is None)
    assert limiter.held(DOMAIN) == granted


def test_release_frees_a_slot_and_reports_whether_it_was_held(limiter):
    token, _ = limiter.acquire(DOMAIN, "w1", concurrency=1, delay=0)
    assert limiter.acquire(DOMAIN, "w2", concurrency=1, delay=0)[0] is None
    assert limiter.release(DOMAIN, token) is True
    assert limiter.release(DOMAIN, token) is False
    assert limiter.acquire(DOMAIN, "w2", concurrency=1, delay=0)[0] is not None


def test_domains_are_limited_separately(limiter):
    assert limiter.acquire("a.example", "w", concurrency=1, delay=10)[0] is not None
    assert limiter.acquire("b.example", "w", concurrency=1, delay=10)[0] is not None
    assert limiter.acquire("a.example", "w", concurrency=1, delay=10)[0] is None


@pytest.mark.parametrize("lease, poll, most", [
    (0.2, 0.1, 0.1),    # all slots busy: poll again soon
    (0.05, 0.1, 0.05),  # ...or when the earliest lease expires, if that is sooner
])
def test_a_busy_domain_says_to_try_again_after_the_poll_or_the_earliest_expiry(client, prefix, lease, poll, most):
    limiter = DomainLimiter(client, prefix, poll=poll)
    limiter.acquire(DOMAIN, "w1", concurrency=1, delay=0, lease=lease)
    token, wait = limiter.acquire(DOMAIN, "w2", concurrency=1, delay=0, lease=lease)
    assert token is None and 0 < wait <= most + TOLERANCE


def test_an_expired_lease_is_dropped_and_its_slot_granted_again(limiter):
    crashed, _ = limiter.acquire(DOMAIN, "crashed", concurrency=1, delay=0, lease=0.2)
    assert limiter.acquire(DOMAIN, "w2", concurrency=1, delay=0, lease=0.2)[0] is None
    time.sleep(0.25)
    assert limiter.held(DOMAIN) == 0
    assert limiter.acquire(DOMAIN, "w2", concurrency=1, delay=0, lease=0.2)[0] is not None
    assert limiter.release(DOMAIN, crashed) is False  # the late release of an expired lease frees nothing


def test_an_expired_lease_is_dropped_while_a_longer_one_keeps_the_domain_alive(limiter, client):
    limiter.acquire(DOMAIN, "crashed", concurrency=2, delay=0, lease=0.2)
    limiter.acquire(DOMAIN, "working", concurrency=2, delay=0, lease=5)
    time.sleep(0.25)
    assert client.zcard(limiter.keys(DOMAIN)["slots"]) == 2  # not yet dropped: acquire drops it
    token, _ = limiter.acquire(DOMAIN, "next", concurrency=2, delay=0, lease=5)
    assert token is not None and client.zcard(limiter.keys(DOMAIN)["slots"]) == 2


def test_every_key_has_a_ttl_and_an_idle_domain_leaves_no_slots(limiter, client):
    limiter.acquire(DOMAIN, "w", concurrency=1, delay=0.05, lease=0.2)
    keys = limiter.keys(DOMAIN)
    assert all(client.pttl(keys[name]) > 0 for name in ("slots", "next", "seq"))
    time.sleep(0.25)
    assert client.exists(keys["slots"], keys["next"]) == 0


@pytest.mark.parametrize("call", [
    dict(concurrency=0, delay=0), dict(concurrency=1, delay=-1), dict(concurrency=1, delay=0, lease=0),
])
def test_nonsense_limits_are_refused(limiter, call):
    with pytest.raises(ValueError):
        limiter.acquire(DOMAIN, "w", **call)


# -- spacing ---------------------------------------------------------------------------------

def take_spaced(limiter: DomainLimiter, count: int, *, delay: float, lease: float = 5.0) -> tuple[list, list]:
    """`count` grants by one sleeper that sleeps exactly the waits it is given: (grant times, waits)."""
    starts, waits = [], []
    while len(starts) < count:
        token, wait = limiter.acquire(DOMAIN, "w", concurrency=10, delay=delay, lease=lease)
        if token is None:
            waits.append(wait)
            time.sleep(wait)
            continue
        starts.append(granted_at(limiter, DOMAIN, token, lease))
    return starts, waits


def test_grants_start_at_least_delay_apart_and_the_waits_say_how_long(limiter):
    delay = 0.1
    started = time.monotonic()
    starts, waits = take_spaced(limiter, 4, delay=delay)
    elapsed = time.monotonic() - started
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= delay - TOLERANCE for gap in gaps), gaps
    assert all(gap < delay + 0.05 for gap in gaps), gaps  # the wait given was the whole wait, not a poll
    assert waits and all(0 < wait <= delay for wait in waits)
    assert elapsed >= 3 * delay - TOLERANCE


def test_a_learned_crawl_delay_raises_the_spacing_for_every_worker(client, prefix):
    learner, other = DomainLimiter(client, prefix), DomainLimiter(client, prefix)
    assert other.delay_for(DOMAIN) is None
    learner.set_delay(DOMAIN, 0.2)
    assert other.delay_for(DOMAIN) == 0.2
    starts, _ = take_spaced(other, 3, delay=0.01)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= 0.2 - TOLERANCE for gap in gaps), gaps


def test_a_configured_delay_longer_than_the_learned_one_wins(limiter):
    limiter.set_delay(DOMAIN, 0.01)
    starts, _ = take_spaced(limiter, 2, delay=0.15)
    assert starts[1] - starts[0] >= 0.15 - TOLERANCE


@pytest.mark.parametrize("delay, ttl, after, expected", [
    (2.0, 0.2, 0.0, 2.0),
    (2.0, 0.2, 0.3, None),   # a learned delay lasts its TTL (robots.txt is read again by then)
    (0.0, 10.0, 0.0, None),  # a delay of 0 forgets the learned one
])
def test_learned_delays_expire_and_can_be_cleared(limiter, delay, ttl, after, expected):
    limiter.set_delay(DOMAIN, 5.0)
    limiter.set_delay(DOMAIN, delay, ttl=ttl)
    time.sleep(after)
    assert limiter.delay_for(DOMAIN) == expected


# -- asyncio ---------------------------------------------------------------------------------

def test_the_async_slot_holds_the_limit_and_releases_on_exit(limiter):
    inside, peak = 0, 0

    async def one(i: int) -> None:
        nonlocal inside, peak
        async with limiter.slot(DOMAIN, f"t{i}", concurrency=2, delay=0, timeout=5):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(6)))

    asyncio.run(main())
    assert peak == 2 and limiter.held(DOMAIN) == 0


def test_the_async_slot_releases_when_its_body_raises(limiter):
    async def main() -> None:
        async with limiter.slot(DOMAIN, "t", concurrency=1, delay=0):
            raise RuntimeError("download failed")

    with pytest.raises(RuntimeError):
        asyncio.run(main())
    assert limiter.held(DOMAIN) == 0


def test_waiting_for_a_slot_times_out_and_a_cancelled_waiter_takes_none(limiter):
    limiter.acquire(DOMAIN, "busy", concurrency=1, delay=0)

    async def main() -> None:
        with pytest.raises(SlotTimeout):
            await limiter.acquire_wait(DOMAIN, "late", concurrency=1, delay=0, timeout=0.2)
        waiter = asyncio.ensure_future(limiter.acquire_wait(DOMAIN, "cancelled", concurrency=1, delay=0))
        await asyncio.sleep(0.15)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

    asyncio.run(main())
    with pytest.raises(SlotTimeout):
        limiter.wait_acquire(DOMAIN, "sync", concurrency=1, delay=0, timeout=0.15)
    assert limiter.held(DOMAIN) == 1


# -- the test: two worker processes, one domain ----------------------------------------

WORKER = """
import asyncio, json, sys
import redis
from monitor.distributed.domain_limiter import DomainLimiter

url, prefix, name, tasks, rounds, concurrency, delay, work, lease = sys.argv[1:]
tasks, rounds, concurrency = int(tasks), int(rounds), int(concurrency)
delay, work, lease = float(delay), float(work), float(lease)
client = redis.Redis.from_url(url)
limiter = DomainLimiter(client, prefix)
client.rpush(prefix + ":ready", name)
client.blpop(prefix + ":go", timeout=10)  # start together with the other worker

def server_now():
    sec, usec = client.time()
    return sec + usec / 1e6

async def loop(task):
    for _ in range(rounds):
        async with limiter.slot("news.example", f"{name}.{task}", concurrency=concurrency, delay=delay,
                                lease=lease, timeout=20) as token:
            start = client.zscore(limiter.keys("news.example")["slots"], token) - lease
            await asyncio.sleep(work)
            print(json.dumps([name, start, server_now()]), flush=True)

async def main():
    await asyncio.gather(*(loop(task) for task in range(tasks)))

asyncio.run(main())
"""


def run_workers(redis_url: str, prefix: str, *, concurrency: int, delay: float, rounds: int,
                workers: int = 2, tasks: int = 3, work: float = 0.1) -> list[tuple[str, float, float]]:
    """`workers` processes of `tasks` concurrent loops each, all on one domain; their (worker, start, end)s,
    start = the grant by the server's clock, end = the server's clock just before the release."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, redis_url, f"{prefix}:domains", f"worker{n}",
                               str(tasks), str(rounds), str(concurrency), str(delay), str(work), "30"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(workers)]
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 10
        while client.llen(f"{prefix}:domains:ready") < workers and time.monotonic() < deadline:
            time.sleep(0.01)
        client.rpush(f"{prefix}:domains:go", *["go"] * workers)
    finally:
        client.close()
    records = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        records += [tuple(json.loads(line)) for line in out.splitlines()]
    assert len(records) == workers * tasks * rounds
    return records


def test_two_worker_processes_never_exceed_the_domain_limit_together(redis_url, prefix):
    concurrency, delay = 2, 0.05
    records = run_workers(redis_url, prefix, concurrency=concurrency, delay=delay, rounds=5)
    intervals = [(start, end) for _, start, end in records]
    assert max_overlap(intervals) == concurrency  # reached, never exceeded
    starts = sorted(start for start, _ in intervals)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= delay - TOLERANCE, min(gaps)
    # both workers took part, and their leases overlapped: it is the shared limit that held them
    by_worker = {name: [(s, e) for n, s, e in records if n == name] for name in ("worker0", "worker1")}
    assert all(by_worker.values())
    assert any(s0 < e1 and s1 < e0 for s0, e0 in by_worker["worker0"] for s1, e1 in by_worker["worker1"])


def test_the_overlap_check_would_see_a_limit_broken(redis_url, prefix):
    """The control: six loops allowed six slots do overlap more than two, so the check above can fail."""
    records = run_workers(redis_url, prefix, concurrency=6, delay=0, rounds=2)
    assert max_overlap([(start, end) for _, start, end in records]) > 2


# -- SharedRobotsTxt ---------------------------------------------------------------------------

ROBOTS = b"User-agent: *\nCrawl-delay: 2\nDisallow: /private\n"


def test_one_worker_fetches_robots_txt_and_the_others_get_its_copy(client, prefix):
    shared = SharedRobotsTxt(client, f"{prefix}:robots", ttl=60)
    barrier = threading.Barrier(8)
    fetched, bodies, lock = [], [], threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        body = shared.get(DOMAIN)
        if body is None and shared.claim_fetch(DOMAIN, f"w{n}", timeout=5):
            time.sleep(0.1)  # the download
            shared.put(DOMAIN, ROBOTS)
            body = ROBOTS
            with lock:
                fetched.append(n)
        elif body is None:
            body = shared.wait_body(DOMAIN, timeout=5)
        with lock:
            bodies.append(body)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(fetched) == 1
    assert bodies == [ROBOTS] * 8
    assert client.exists(f"{prefix}:robots:{DOMAIN}:fetching") == 0  # put dropped the claim


def test_a_stored_robots_txt_expires_after_its_ttl(client, prefix):
    shared = SharedRobotsTxt(client, f"{prefix}:robots", ttl=0.2)
    shared.put(DOMAIN, ROBOTS)
    assert shared.get(DOMAIN) == ROBOTS
    time.sleep(0.3)
    assert shared.get(DOMAIN) is None


def test_a_fetch_claim_lapses_after_its_timeout_or_when_dropped_by_its_holder(client, prefix):
    shared = SharedRobotsTxt(client, f"{prefix}:robots", ttl=60)
    assert shared.claim_fetch(DOMAIN, "a", timeout=0.2) is True
    assert shared.claim_fetch(DOMAIN, "b", timeout=0.2) is False
    assert shared.wait_body(DOMAIN, timeout=0.1) is None  # nobody put it: the waiter fetches itself
    time.sleep(0.25)  # the claimant crashed: its claim lapses
    assert shared.claim_fetch(DOMAIN, "b", timeout=5) is True
    assert shared.drop_claim(DOMAIN, "a") is False  # not a's any more
    assert shared.drop_claim(DOMAIN, "b") is True
    assert shared.claim_fetch(DOMAIN, "c", timeout=5) is True


def test_the_async_wait_gets_a_body_put_meanwhile(client, prefix):
    shared = SharedRobotsTxt(client, f"{prefix}:robots", ttl=60)

    async def main() -> bytes | None:
        asyncio.get_running_loop().call_later(0.1, shared.put, DOMAIN, ROBOTS)
        return await shared.await_body(DOMAIN, timeout=2)

    assert asyncio.run(main()) == ROBOTS
