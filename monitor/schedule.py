"""When each source is due: the daemon's schedule for thousands of sources, pure.

One heap of (due time, source) instead of one timer job per source. A source
taken for a check leaves the heap until its check is done, so it is never
checked twice at once; the oldest due is served first, so when the machine
cannot keep up every source still progresses, in turn, and the lag is measured
instead of runs being dropped. Due times are kept on a fixed grid (previous due
+ interval) so a source keeps its rhythm; a check finishing more than an
interval late starts the grid again from now (missed slots coalesce into one).

The archive keeps each source's next due time (source_state.next_check_at, written
with the check's result), so a restarted daemon resumes the same schedule.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta

# A source this late is overdue (below it, the ordinary wait for a free worker slot).
LAG_TOLERANCE = timedelta(seconds=5)
# Sources never checked are spread over the first moments at this many a second, not started at once.
STARTUP_RATE = 20.0


@dataclass(frozen=True)
class Lag:
    overdue: int  # sources waiting longer than LAG_TOLERANCE past their due time
    oldest_source: str | None
    oldest_seconds: float  # how late the most overdue source is (0 when none is)


@dataclass(frozen=True)
class Due:
    source: str
    due: datetime


def jitter_offset(source: str, jitter: float | None) -> float:
    """A fixed delay in [0, jitter) for this source: spreads sources that share an interval,
    the same at every start (a hash, not a random draw)."""
    if not jitter:
        return 0.0
    digest = hashlib.blake2b(source.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * jitter


def first_due(source: str, *, now: datetime, interval: float, stored_next: datetime | None,
              last_run: datetime | None, position: int, jitter: float | None) -> datetime:
    """When a source is first due after the daemon starts.

    `stored_next`: what the archive kept (never later than one interval from now: the interval
    may have been shortened since). Without it, one interval after the last run, as before;
    a source never checked gets a place in the start-up spread (`position` among those)."""
    if stored_next is not None:
        return min(stored_next, now + timedelta(seconds=interval))
    if last_run is not None:
        return min(last_run + timedelta(seconds=interval), now + timedelta(seconds=interval))
    spread = min(interval, position / STARTUP_RATE)
    return now + timedelta(seconds=spread + jitter_offset(source, jitter))


def next_due(due: datetime, interval: float, now: datetime, throttled_until: datetime | None = None, *,
             started: datetime | None = None) -> datetime:
    """The due time after a check that was due at `due`: the next slot of the grid, or now
    when that slot has already passed; never before the site said to come back.

    A check that `started` a whole interval or more after it was due (a paused daemon, a
    backlog) stood for every slot it missed: the rhythm restarts from when it ran, so a daemon
    resumed after a long pause checks each source once, not once more at once."""
    base = started if started is not None and (started - due).total_seconds() >= interval else due
    following = base + timedelta(seconds=interval)
    if following <= now:
        following = now
    if throttled_until is not None and throttled_until > following:
        following = throttled_until
    return following


class DueQueue:
    def __init__(self) -> None:
        # (due, arrival number, source): equal due times are served in the order they were queued,
        # not by name, so under overload every source gets its turn equally often.
        self._heap: list[tuple[datetime, int, str]] = []
        self._due: dict[str, datetime] = {}  # source -> its due time while it waits in the heap
        self._arrivals = 0

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, source: str) -> bool:
        return source in self._due

    def put(self, source: str, due: datetime) -> None:
        """Wait for `due` (replacing any earlier wait of the source)."""
        self._due[source] = due
        self._arrivals += 1
        heapq.heappush(self._heap, (due, self._arrivals, source))

    def discard(self, source: str) -> None:
        self._due.pop(source, None)  # its heap entry is dropped when it surfaces

    def _clean_top(self) -> None:
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # stale: replaced, discarded or taken

    def next_due_at(self) -> datetime | None:
        self._clean_top()
        return self._heap[0][0] if self._heap else None

    def take(self, now: datetime, limit: int, can_take=lambda source: True) -> list[Due]:
        """Up to `limit` sources due by `now`, oldest first. `can_take(source)` False leaves a
        source waiting (its host is at its limit, say) without holding up the ones behind it."""
        taken: list[Due] = []
        skipped: list[tuple[datetime, int, str]] = []
        while len(taken) < limit:
            self._clean_top()
            if not self._heap or self._heap[0][0] > now:
                break
            entry = heapq.heappop(self._heap)
            due, _arrival, source = entry
            if can_take(source):
                del self._due[source]
                taken.append(Due(source, due))
            else:
                skipped.append(entry)
        for entry in skipped:
            heapq.heappush(self._heap, entry)
        return taken

    def lag(self, now: datetime) -> Lag:
        late = [(due, source) for source, due in self._due.items() if now - due > LAG_TOLERANCE]
        if not late:
            return Lag(0, None, 0.0)
        due, source = min(late)
        return Lag(len(late), source, (now - due).total_seconds())
