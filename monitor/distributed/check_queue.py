"""Checks of sources through Redis: the daemon and `newsmon crawl` enqueue, `newsmon worker`s take.

The unit of work is one check of one source (its start requests and the article requests
they lead to), the same unit the single-machine daemon hands its workers. A check's requests
stay with the worker that took it, so one check's per-crawler state (conditional-request
validators, the per-source article cap, its run row) is in one place, and per-domain politeness
across workers comes from the shared limiter (crawler.middlewares.shared_limits).

Messages are JSON, never pickle (scrapy-redis's default serializer): whoever can write to the
Redis must not be able to run code in every worker.

On top of ReliableQueue (nothing taken is lost with its worker): a worker finishes a check by
pushing its result onto the enqueuer's result list and dropping the check from its in-flight list
in one MULTI, so a result is never lost and never doubled by a worker dying between the two. A
check recovered from a dead worker is checked again by another; the archive's dedup makes that
cost only time.

Workers also publish how many checks each runs at once ({checks}:capacity, a hash), so the
daemon keeps about that many queued and its schedule lag stays honest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.distributed.connection import Keys, text_of
from monitor.distributed.reliable_queue import ReliableQueue

RESULTS_TTL = 86_400  # seconds: the result list of an enqueuer that went away is dropped after a day


class UnreadableCheck(ValueError):
    """A queue item that is not a check message (written by something else, or corrupted)."""


@dataclass(frozen=True)
class CheckMessage:
    check: str
    source: str
    reply_to: str
    enqueued_at: datetime
    next_check_at: datetime | None = None
    raw: bytes = b""  # the exact bytes in Redis (what ack and withdraw match on)

    def encode(self) -> bytes:
        return json.dumps({"check": self.check, "source": self.source, "reply_to": self.reply_to,
                           "enqueued_at": self.enqueued_at.isoformat(),
                           "next_check_at": self.next_check_at.isoformat() if self.next_check_at else None},
                          sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CheckMessage:
        try:
            data = json.loads(raw)
            return cls(check=str(data["check"]), source=str(data["source"]), reply_to=str(data["reply_to"]),
                       enqueued_at=datetime.fromisoformat(data["enqueued_at"]),
                       next_check_at=datetime.fromisoformat(data["next_check_at"]) if data.get("next_check_at")
                       else None, raw=raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise UnreadableCheck(f"not a check message ({exc}): {raw[:200]!r}") from None


class CheckQueue:
    def __init__(self, client, keys: Keys, *, lease: float):
        self.client = client
        self.keys = keys
        self.queue = ReliableQueue(client, keys.checks, lease=lease)
        self.capacity_key = f"{keys.checks}:capacity"

    # --- enqueuers ---------------------------------------------------------------------

    def enqueue(self, check: str, source: str, *, reply_to: str, enqueued_at: datetime,
                next_check_at: datetime | None = None) -> CheckMessage:
        message = CheckMessage(check, source, self.keys.results(reply_to), enqueued_at, next_check_at)
        raw = message.encode()
        self.queue.push(raw)
        return CheckMessage(message.check, message.source, message.reply_to, message.enqueued_at,
                            message.next_check_at, raw)

    def results(self, reply_to: str, timeout: float) -> list[dict[str, Any]]:
        """Results waiting for this enqueuer: blocks up to `timeout` s for the first, then takes the rest."""
        key = self.keys.results(reply_to)
        first = self.client.blpop([key], timeout=timeout)
        if first is None:
            return []
        raws = [first[1]]
        while (more := self.client.lpop(key, 100)):
            raws.extend(more)
        return [json.loads(raw) for raw in raws]

    def state(self) -> dict[str, int]:
        """What `newsmon status` shows: live workers, the checks they run at once, queued, in flight."""
        alive, capacity = self.live_capacity()
        return {"workers": alive, "capacity": capacity, "queued": self.queue.pending(),
                "in_flight": self.queue.in_flight()}

    def withdraw(self, message: CheckMessage) -> bool:
        """Take back a check no worker has started (False once one has)."""
        return self.queue.withdraw(message.raw)

    def holds(self, message: CheckMessage) -> bool:
        return self.queue.holds(message.raw)

    def live_capacity(self) -> tuple[int, int]:
        """(alive workers, checks they run at once together), by their heartbeats."""
        capacities = self.client.hgetall(self.capacity_key)
        workers = list(capacities)
        if not workers:
            return 0, 0
        pipe = self.client.pipeline(transaction=False)
        for worker in workers:
            pipe.exists(self.queue.alive_key(text_of(worker)))
        alive = [w for w, up in zip(workers, pipe.execute(), strict=True) if up]
        gone = [w for w in workers if w not in alive]
        if gone:
            self.client.hdel(self.capacity_key, *gone)
        return len(alive), sum(int(capacities[w]) for w in alive)

    # --- workers ---------------------------------------------------------------------------

    def take(self, worker: str, timeout: float) -> CheckMessage | None:
        """The next check (moved into this worker's in-flight list), or None after `timeout` s.
        An unreadable item is dropped from the in-flight list and raised as UnreadableCheck."""
        raw = self.queue.take(worker, timeout)
        if raw is None:
            return None
        try:
            return CheckMessage.decode(raw)
        except UnreadableCheck:
            self.queue.ack(worker, raw)
            raise

    def finish(self, worker: str, message: CheckMessage, result: dict[str, Any]) -> None:
        """The check's result to its enqueuer and the check out of the in-flight list, atomically."""
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(message.reply_to, json.dumps(result, sort_keys=True))
        pipe.expire(message.reply_to, RESULTS_TTL)
        pipe.lrem(self.queue.inflight_key(worker), 1, message.raw)
        pipe.execute()

    def heartbeat(self, worker: str, capacity: int) -> None:
        self.queue.heartbeat(worker)
        self.client.hset(self.capacity_key, worker, capacity)

    def recover(self) -> list[CheckMessage]:
        """Checks of workers whose heartbeat expired, back at the front of the queue (each
        returned to exactly one caller, which records the lost attempt)."""
        recovered = []
        for raw in self.queue.recover_items():
            try:
                recovered.append(CheckMessage.decode(raw))
            except UnreadableCheck:
                self.queue.withdraw(raw)
        return recovered

    def leave(self, worker: str) -> int:
        """A worker stopping: what it still holds goes back to the front of the queue."""
        self.client.hdel(self.capacity_key, worker)
        return self.queue.leave(worker)
