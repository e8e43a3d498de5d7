"""A Redis work queue whose items survive the death of the worker that took them.

scrapy-redis pops requests destructively: a worker killed mid-crawl loses what it held.
Here a worker takes an item by moving it (BLMOVE, atomic) from `{name}:queue` into its own
in-flight list `{name}:inflight:{worker}`, and removes it only when done (`ack`). While it
works it keeps `{name}:alive:{worker}` set (a key with a PX expiry of `lease`: the heartbeat).
`recover()` (a Lua script, atomic, safe from any process at any time) puts every in-flight
item of a worker whose heartbeat has expired back at the front of the queue, in the order
it was taken, so those items are handed out next. `{name}:workers` is the set of worker ids
`recover` looks at.

Guarantees:
- at-least-once: every pushed item is, at every moment, in exactly one place - the queue or
  one in-flight list - until it is acked; all moves between them are atomic.
- a dead worker's items come back to the queue once its lease has expired and someone runs
  `recover()`; `leave()` gives them back at once on a graceful exit.

Not guaranteed:
- exactly-once: a worker that was merely slow (no heartbeat within `lease`, e.g. a long item
  without calling `heartbeat`, a stalled process) has its items requeued while it still works
  on them, so an item may be processed twice. Consumers must be idempotent (the archive
  dedups). Its late `ack` then returns False.
- durability beyond Redis's own: what Redis loses on a crash (no AOF fsync) is lost here.
- a worker stalled for more than `lease + timeout` between its heartbeat and its BLMOVE, then
  killed in the instant after the BLMOVE returns, leaves that one item in a list `recover`
  no longer looks at (it was dropped from `{name}:workers` meanwhile).
- Redis Cluster: the scripts build key names, so all keys must share a slot - use a hash-tag
  name such as "{crawl}".
- ordering across requeues: recovered items go ahead of everything pending.

A `take` timeout must be below the client's socket_timeout, if it has one (redis-py raises
TimeoutError otherwise). redis.ConnectionError and friends propagate: the caller retries.
"""

from __future__ import annotations

import redis

from monitor.distributed.connection import text_of

# Move every item of one in-flight list to the right (taking) end of the queue. The list
# holds the newest-taken item at its left, so LMOVE LEFT -> RIGHT restores the taken order
# with the oldest at the very front. A loop of LMOVE, not LRANGE + unpack: no size limit.
_REQUEUE = """
local function requeue(queue, inflight)
  local n = 0
  while redis.call('LMOVE', inflight, queue, 'LEFT', 'RIGHT') do n = n + 1 end
  return n
end
"""

# KEYS: queue, workers. ARGV: key prefix ("{name}:"). Returns the items moved, oldest-taken first.
_RECOVER = """
local moved = {}
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. worker) == 0 then
    local inflight = ARGV[1] .. 'inflight:' .. worker
    while true do
      local item = redis.call('LMOVE', inflight, KEYS[1], 'LEFT', 'RIGHT')
      if not item then break end
      table.insert(moved, 1, item)
    end
    redis.call('SREM', KEYS[2], worker)
  end
end
return moved
"""

# KEYS: queue, workers, inflight, alive. ARGV: worker.
_LEAVE = _REQUEUE + """
local moved = requeue(KEYS[1], KEYS[3])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SREM', KEYS[2], ARGV[1])
return moved
"""

# KEYS: queue, workers. ARGV: key prefix. Returns {pending, in flight}, read atomically.
_COUNTS = """
local inflight = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  inflight = inflight + redis.call('LLEN', ARGV[1] .. 'inflight:' .. worker)
end
return {redis.call('LLEN', KEYS[1]), inflight}
"""


class ReliableQueue:
    """A FIFO of bytes items, taken by named workers, recoverable when a worker dies."""

    def __init__(self, client: redis.Redis, name: str, *, lease: float = 30.0) -> None:
        if lease <= 0:
            raise ValueError(f"lease must be positive, got {lease!r}")
        self.client = client
        self.name = name
        self.lease = lease
        self._prefix = f"{name}:"
        self.queue_key = f"{name}:queue"
        self.workers_key = f"{name}:workers"
        self._recover = client.register_script(_RECOVER)
        self._leave = client.register_script(_LEAVE)
        self._counts = client.register_script(_COUNTS)

    def inflight_key(self, worker: str) -> str:
        return f"{self._prefix}inflight:{worker}"

    def alive_key(self, worker: str) -> str:
        return f"{self._prefix}alive:{worker}"

    def push(self, *items: bytes) -> int:
        """Append items to the back of the queue (taken in the order given); return its length."""
        if not items:
            return self.pending()
        return self.client.lpush(self.queue_key, *items)

    def push_front(self, *items: bytes) -> int:
        """Put items at the front of the queue, to be taken next in the order given; return its length."""
        if not items:
            return self.pending()
        return self.client.rpush(self.queue_key, *reversed(items))

    def take(self, worker: str, timeout: float) -> bytes | None:
        """Heartbeat, then move the front item into the worker's in-flight list; None after `timeout` seconds.

        The heartbeat before the wait lasts lease + timeout, so a worker blocked here is not taken
        for dead; it is renewed to `lease` once an item arrives.
        """
        if timeout <= 0:
            raise ValueError(f"timeout must be positive (0 would block forever), got {timeout!r}")
        self._beat(worker, self.lease + timeout)
        item = self.client.blmove(self.queue_key, self.inflight_key(worker), timeout, src="RIGHT", dest="LEFT")
        if item is not None:
            self._beat(worker, self.lease)
        return item

    def ack(self, worker: str, item: bytes) -> bool:
        """The worker is done with item: drop it from its in-flight list. False if it was not there
        (never taken, already acked, or requeued by `recover` because the worker was late)."""
        return self.client.lrem(self.inflight_key(worker), 1, item) == 1

    def heartbeat(self, worker: str) -> None:
        """Keep the worker's items its own for another `lease` seconds. Call more often than that."""
        self._beat(worker, self.lease)

    def _beat(self, worker: str, seconds: float) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.alive_key(worker), b"1", px=max(1, round(seconds * 1000)))
        pipe.sadd(self.workers_key, worker)
        pipe.execute()

    def recover(self) -> int:
        """Requeue, at the front, the in-flight items of every worker whose lease has expired; return how many."""
        return len(self.recover_items())

    def recover_items(self) -> list[bytes]:
        """As `recover`, returning the items requeued (each is returned to exactly one caller)."""
        return list(self._recover(keys=[self.queue_key, self.workers_key], args=[self._prefix]))

    def withdraw(self, item: bytes) -> bool:
        """Take a pending item back out of the queue (its producer no longer wants it); False once
        a worker has taken it."""
        return self.client.lrem(self.queue_key, 1, item) == 1

    def holds(self, item: bytes) -> bool:
        """Whether the item is pending or in some worker's in-flight list."""
        if self.client.lpos(self.queue_key, item) is not None:
            return True
        return any(self.client.lpos(self.inflight_key(text_of(w)), item) is not None
                   for w in self.client.smembers(self.workers_key))

    def leave(self, worker: str) -> int:
        """A graceful exit: requeue the worker's in-flight items at the front, delete its keys; return how many."""
        keys = [self.queue_key, self.workers_key, self.inflight_key(worker), self.alive_key(worker)]
        return int(self._leave(keys=keys, args=[worker]))

    def pending(self) -> int:
        return self.client.llen(self.queue_key)

    def in_flight(self) -> int:
        return self._read_counts()[1]

    def idle(self) -> bool:
        """Nothing pending and nothing in flight, read in one atomic step."""
        return self._read_counts() == (0, 0)

    def _read_counts(self) -> tuple[int, int]:
        pending, inflight = self._counts(keys=[self.queue_key, self.workers_key], args=[self._prefix])
        return int(pending), int(inflight)
