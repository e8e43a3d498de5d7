"""`newsmon crawl` in distributed mode: one check of each source through the check queue in
Redis, run by whichever `newsmon worker`s are up, and their results, as crawl_runner gives
them for a local crawl (same table, same exit code).

It waits until every check it queued has reported. The workers record what they crawl in the
archive; matching and delivery stay with `newsmon crawl` (monitor.cycle), once. While no
worker is alive it says so and keeps waiting; a check that vanished from Redis (restarted
without persistence) is queued again; Ctrl-C withdraws the checks no worker has started.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence

from monitor.config import NewsmonConfig
from monitor.crawl_runner import CrawlOutcome, SourceResult
from monitor.distributed.check_queue import CheckMessage, CheckQueue
from monitor.distributed.connection import Keys, connect, process_identity, until_answered
from monitor.store import repo

NOTE_EVERY = 30.0  # seconds between "still waiting" lines
AUDIT_EVERY = 30.0  # seconds between looks for checks Redis lost
_FIELDS = {f.name for f in dataclasses.fields(SourceResult)}


def source_result(payload: dict) -> SourceResult:
    """A worker's result as a SourceResult (fields a newer worker adds are ignored)."""
    return SourceResult(**{k: v for k, v in payload.items() if k in _FIELDS})


def run_queued_crawl(config: NewsmonConfig, sources: Sequence[str], *,
                     on_line: Callable[[str], None] | None = None) -> CrawlOutcome:
    say = on_line or (lambda _line: None)
    checks = CheckQueue(connect(config.redis_url), Keys(config.redis_prefix), lease=config.crawl.heartbeat_timeout)
    reply_to = f"crawl-{process_identity()}"
    outcome = CrawlOutcome()
    waiting: dict[str, CheckMessage] = {}

    def enqueue(source: str) -> None:
        check = f"{source}#{uuid.uuid4().hex[:12]}"
        waiting[check] = until_answered(lambda: checks.enqueue(check, source, reply_to=reply_to,
                                                               enqueued_at=repo.utcnow()), "queueing a check")

    for source in sources:
        enqueue(source)
    say(f"queued {len(sources)} check(s) for newsmon workers ({checks.keys.checks}); waiting for their results")
    last_note = last_audit = time.monotonic()
    try:
        while waiting:
            for payload in until_answered(lambda: checks.results(reply_to, 1.0), "reading results") or []:
                message = waiting.pop(payload.get("check") or "", None)
                if message is None:
                    continue  # a check that ran twice (its first worker was slow): the first result counts
                result = source_result(payload)
                outcome.results[message.source] = result
                say(f"[{message.source}] {result.status}: {result.new_articles} new, {result.pages_fetched} fetched"
                    + (f" (error: {result.error})" if result.error else ""))
            now = time.monotonic()
            if waiting and now - last_note >= NOTE_EVERY:
                last_note = now
                alive, capacity = until_answered(checks.live_capacity, "reading the workers") or (0, 0)
                say(f"waiting for {len(waiting)} check(s); " + (
                    f"{alive} worker(s) alive, running {capacity} checks at once" if alive else
                    "no newsmon worker is alive: start `newsmon worker` with this config"))
            if waiting and now - last_audit >= AUDIT_EVERY:
                last_audit = now
                for check, message in list(waiting.items()):
                    if not until_answered(lambda m=message: checks.holds(m), "looking for a check"):
                        # Out of the queue: either its result is waiting (read next round) or Redis lost it.
                        if until_answered(lambda: checks.client.llen(checks.keys.results(reply_to)),
                                          "reading results") == 0:
                            del waiting[check]
                            say(f"[{message.source}] its check vanished from Redis; queued again")
                            enqueue(message.source)
    except KeyboardInterrupt:
        withdrawn = sum(bool(until_answered(lambda m=m: checks.withdraw(m), "withdrawing")) for m in waiting.values())
        say(f"interrupted: {withdrawn} check(s) no worker had started withdrawn; "
            f"{len(waiting) - withdrawn} running on workers finish there")
        raise
    return outcome
