"""Politeness across workers (issue 13, item 5): one per-domain limiter and one robots.txt cache
in Redis, shared by every process that crawls, so three workers do not hit a site three times as hard
and robots.txt is fetched once per host per period, not once per worker.

DomainLimiter hands out leases on a domain's slots. What it guarantees, across every process that
uses the same Redis and the same prefix:

- at most `concurrency` leases of one domain are held at once (the `concurrency` of the caller that
  is granted; callers that disagree about a domain's limit get the limit they each ask for);
- two grants of one domain start at least `delay` apart, where the delay is the larger of the
  caller's and the robots.txt Crawl-delay learned for the domain (`set_delay`, shared by all workers);
- a holder that crashes, hangs or forgets to release loses its lease `lease` seconds after the grant,
  so its slot comes back by itself. A lease is not renewed: give it longer than a request can take
  (Scrapy's DOWNLOAD_TIMEOUT plus the response handling), or a slow request's slot is handed on
  while it still runs.

The clock is the Redis server's (TIME, read inside the Lua script that decides a grant), so workers
on machines whose clocks disagree still agree about lease expiry and the next allowed start; a worker
only ever sleeps for a duration the server computed, which its own clock measures well enough.

Each grant or refusal is one Lua script (EVALSHA), atomic on the server, so there is no window between
counting the held leases and taking one. Keys (the domain is used verbatim, e.g. a hostname):

    {prefix}:{domain}:slots        ZSET, member = token "holder:n", score = lease expiry (server time)
    {prefix}:{domain}:next         the earliest start of the next grant, a float string
    {prefix}:{domain}:seq          the counter behind the tokens' n
    {prefix}:{domain}:crawl_delay  a learned robots.txt Crawl-delay in seconds

Every key has a TTL: slots until its last lease expires, next until it has passed, crawl_delay as
given to set_delay, seq a day after the last grant (so a late release of an expired token cannot
remove a newer lease with the same name). An idle domain leaves nothing behind.

Limits:
- No fairness: waiters poll, and whoever asks first after a slot frees gets it; under heavy contention
  one waiter can lose many times in a row. A waiter for a busy domain polls every `poll` seconds
  (0.1 s by default); a waiter for a spaced start sleeps exactly until it.
- Redis is the single point of truth: if it restarts without persistence, or fails over to a replica
  that missed the last writes, leases and spacing are forgotten for a moment (a burst of at most one
  extra round of `concurrency` requests per domain), never more than that.
- The keys of one domain are not hash-tagged, so the script needs a single Redis, not Redis Cluster.
- Politeness within one process (Scrapy's own download slots, crawler.robots_cache.HostPacer) still
  applies on top: this limiter only adds the cross-process bound.

Redis calls are synchronous (redis.Redis): the scheduler and tests use them directly, and the async
helpers (`acquire_wait`, `slot`) run each call in a thread with asyncio.to_thread, which works on
Scrapy's asyncio reactor without a second, async Redis client and connection pool. A call takes well
under a millisecond on a local network, and a waiter holds a thread only for the call, never while
it sleeps between tries.

SharedRobotsTxt keeps robots.txt bodies in Redis for a TTL, with a short fetch claim (SET NX PX) so
that when a host's copy is missing one worker fetches it while the others wait for it to appear,
and fetch it themselves only if it does not appear within the claim's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator

import redis

from monitor.distributed.connection import text_of

DAY_MS = 86_400_000

# KEYS: slots, next, seq, crawl_delay
# ARGV: holder, concurrency, delay, lease, poll, seq TTL (ms)
# Returns {token or false, wait as a string}: Lua numbers become integers in replies, strings do not.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local concurrency = tonumber(ARGV[2])
local delay = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local poll = tonumber(ARGV[5])
local learned = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
if learned > delay then delay = learned end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local next_at = tonumber(redis.call('GET', KEYS[2]) or '0') or 0

if held < concurrency and now >= next_at then
  local n = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[6]))
  local token = ARGV[1] .. ':' .. n
  redis.call('ZADD', KEYS[1], string.format('%.6f', now + lease), token)
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) * 1000) + 1)
  if delay > 0 then
    redis.call('SET', KEYS[2], string.format('%.6f', now + delay), 'PX', math.ceil(delay * 1000) + 1)
  end
  return {token, '0'}
end

local wait = 0
if held >= concurrency then
  wait = poll
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if first[2] then
    local expires_in = tonumber(first[2]) - now
    if expires_in < wait then wait = expires_in end
  end
end
if next_at - now > wait then wait = next_at - now end
return {false, string.format('%.6f', wait)}
"""

# KEYS: claim; ARGV: holder. Deletes the claim only if this holder has it.
_DROP_CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

MIN_WAIT = 0.001  # never spin: a refusal always sleeps at least this long


class SlotTimeout(TimeoutError):
    """No slot of the domain was granted within the timeout."""


class DomainLimiter:
    """Per-domain concurrency and start spacing held across every process using one Redis."""

    def __init__(self, client: redis.Redis, prefix: str = "newsmon:domains", *, poll: float = 0.1):
        if poll <= 0:
            raise ValueError("poll must be positive")
        self.client = client
        self.prefix = prefix
        self.poll = poll
        self._acquire = client.register_script(_ACQUIRE)

    def keys(self, domain: str) -> dict[str, str]:
        base = f"{self.prefix}:{domain}"
        return {name: f"{base}:{name}" for name in ("slots", "next", "seq", "crawl_delay")}

    def acquire(self, domain: str, holder: str, *, concurrency: int, delay: float,
                lease: float = 120.0) -> tuple[str | None, float]:
        """One try: (token, 0.0) when a slot is granted, else (None, seconds to wait before trying again)."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if delay < 0 or lease <= 0:
            raise ValueError("delay must be >= 0 and lease > 0")
        k = self.keys(domain)
        seq_ttl_ms = max(DAY_MS, math.ceil(lease * 1000) * 2)
        token, wait = self._acquire(keys=[k["slots"], k["next"], k["seq"], k["crawl_delay"]],
                                    args=[holder, concurrency, repr(float(delay)), repr(float(lease)),
                                          repr(float(self.poll)), seq_ttl_ms])
        if token:
            return text_of(token), 0.0
        return None, max(float(text_of(wait)), MIN_WAIT)

    def release(self, domain: str, token: str) -> bool:
        """Give a lease back; False when it had already expired (or was never held)."""
        return bool(self.client.zrem(self.keys(domain)["slots"], token))

    def held(self, domain: str) -> int:
        """Leases of the domain not yet expired (by the server's clock)."""
        sec, usec = self.client.time()
        return int(self.client.zcount(self.keys(domain)["slots"], f"({sec + usec / 1e6!r}", "+inf"))

    def wait_acquire(self, domain: str, holder: str, *, concurrency: int, delay: float, lease: float = 120.0,
                     timeout: float | None = None) -> str:
        """Block until a slot is granted; SlotTimeout when none is within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            token, wait = self.acquire(domain, holder, concurrency=concurrency, delay=delay, lease=lease)
            if token is not None:
                return token
            time.sleep(self._bounded(wait, deadline, domain))

    async def acquire_wait(self, domain: str, holder: str, *, concurrency: int, delay: float,
                           lease: float = 120.0, timeout: float | None = None) -> str:
        """`wait_acquire` for asyncio: sleeps with asyncio.sleep, Redis calls in a thread.

        Cancelled while a try is in flight, it gives back the slot that try may still be granted."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            attempt = asyncio.ensure_future(asyncio.to_thread(
                self.acquire, domain, holder, concurrency=concurrency, delay=delay, lease=lease))
            try:
                token, wait = await asyncio.shield(attempt)
            except asyncio.CancelledError:
                attempt.add_done_callback(lambda done: self._release_orphan(domain, done))
                raise
            if token is not None:
                return token
            await asyncio.sleep(self._bounded(wait, deadline, domain))

    @contextlib.asynccontextmanager
    async def slot(self, domain: str, holder: str, *, concurrency: int, delay: float, lease: float = 120.0,
                   timeout: float | None = None) -> AsyncIterator[str]:
        """Hold one of the domain's slots for the body of an `async with`; released on the way out."""
        token = await self.acquire_wait(domain, holder, concurrency=concurrency, delay=delay, lease=lease,
                                        timeout=timeout)
        try:
            yield token
        finally:
            await asyncio.shield(asyncio.to_thread(self.release, domain, token))

    def set_delay(self, domain: str, delay: float, ttl: float = 86_400.0) -> None:
        """Share a robots.txt Crawl-delay for the domain with every worker, for `ttl` seconds."""
        if delay <= 0:
            self.client.delete(self.keys(domain)["crawl_delay"])
        else:
            self.client.set(self.keys(domain)["crawl_delay"], repr(float(delay)), px=max(1, math.ceil(ttl * 1000)))

    def delay_for(self, domain: str) -> float | None:
        """The learned Crawl-delay of the domain, if any worker has shared one that has not expired."""
        value = self.client.get(self.keys(domain)["crawl_delay"])
        return None if value is None else float(text_of(value))

    def _bounded(self, wait: float, deadline: float | None, domain: str) -> float:
        if deadline is None:
            return wait
        left = deadline - time.monotonic()
        if left <= 0:
            raise SlotTimeout(f"no slot of {domain} within the timeout")
        return min(wait, left)

    def _release_orphan(self, domain: str, done: asyncio.Future) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        token, _wait = done.result()
        if token is not None:
            asyncio.get_running_loop().run_in_executor(None, self.release, domain, token)


class SharedRobotsTxt:
    """robots.txt bodies shared by every worker for `ttl` seconds, fetched by one worker at a time.

    A worker that finds no body claims the fetch; if it gets the claim it fetches and `put`s the body
    (b"" for "no robots.txt", as the caller decides), otherwise it waits for the body (`wait_body`)
    and fetches the file itself only if none appears within the claim's timeout, e.g. because the
    claimant crashed. Keys: {prefix}:{netloc} (the body) and {prefix}:{netloc}:fetching (the claim)."""

    def __init__(self, client: redis.Redis, prefix: str = "newsmon:robots", *, ttl: float):
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self._drop_claim = client.register_script(_DROP_CLAIM)

    def _key(self, netloc: str) -> str:
        return f"{self.prefix}:{netloc}"

    def get(self, netloc: str) -> bytes | None:
        """The stored body (bytes as put: use a client without decode_responses for non-UTF-8 files)."""
        value = self.client.get(self._key(netloc))
        return value.encode() if isinstance(value, str) else value

    def put(self, netloc: str, body: bytes) -> None:
        """Store the body for `ttl` seconds and drop any fetch claim on the host."""
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._key(netloc), body, px=max(1, math.ceil(self.ttl * 1000)))
        pipe.delete(self._key(netloc) + ":fetching")
        pipe.execute()

    def claim_fetch(self, netloc: str, holder: str, timeout: float) -> bool:
        """True for exactly one caller until that caller puts the body, drops the claim, or `timeout` passes."""
        return bool(self.client.set(self._key(netloc) + ":fetching", holder, nx=True,
                                    px=max(1, math.ceil(timeout * 1000))))

    def drop_claim(self, netloc: str, holder: str) -> bool:
        """Give up a claim (the fetch failed) so others need not wait out its timeout."""
        return bool(self._drop_claim(keys=[self._key(netloc) + ":fetching"], args=[holder]))

    def wait_body(self, netloc: str, timeout: float, poll: float = 0.05) -> bytes | None:
        """The body once some worker has put it, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(netloc)
            left = deadline - time.monotonic()
            if body is not None or left <= 0:
                return body
            time.sleep(min(poll, left))

    async def await_body(self, netloc: str, timeout: float, poll: float = 0.05) -> bytes | None:
        """`wait_body` for asyncio."""
        deadline = time.monotonic() + timeout
        while True:
            body = await asyncio.to_thread(self.get, netloc)
            left = deadline - time.monotonic()
            if body is not None or left <= 0:
                return body
            await asyncio.sleep(min(poll, left))
