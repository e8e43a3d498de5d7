"""A seen-set in Redis whose entries expire: the duplicate filter for crawling on many machines.

Why: scrapy-redis keeps request fingerprints in a plain Redis SET that is never pruned
(scrapy-redis issue #84). The set grows for as long as the crawl's key lives, and a URL seen
once is filtered forever, so a page can never be revisited. Here the seen-set is a sorted set:
member = fingerprint, score = when it was last recorded (Redis server time, seconds since the
epoch), and an entry older than ``retention`` counts as unseen.

Guarantees:

- ``add`` is atomic (one Lua script): of any number of clients adding the same fingerprint at
  once, exactly one gets True within a retention period.
- Every timestamp comes from the Redis server's clock (``TIME`` inside the scripts), so machines
  with skewed clocks agree on what has expired.
- Memory stays bounded by what was seen within about one retention period: each ``add`` call
  also deletes a bounded number of expired entries (at most ``SWEEP_MAX``), and
  ``forget_expired`` deletes all of them in one step for a periodic job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

Fingerprint = bytes | str

# Shared prologue: KEYS[1] the sorted set, ARGV[1] the retention in seconds.
# Scores are compared as numbers; bounds passed as strings use %.17g so no microseconds are lost.
_CUTOFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cutoff = now - tonumber(ARGV[1])
"""

# ARGV[2] how many expired entries to sweep, ARGV[3..] the fingerprints. Returns 1 (added) or 0 each.
_ADD = _CUTOFF + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[2]))
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
local out = {}
for i = 3, #ARGV do
  local seen = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if seen and tonumber(seen) > cutoff then
    out[#out + 1] = 0
  else
    redis.call('ZADD', KEYS[1], now, ARGV[i])
    out[#out + 1] = 1
  end
end
return out
"""

_FORGET_EXPIRED = _CUTOFF + "return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)"

_COUNT_LIVE = _CUTOFF + "return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.17g', cutoff), '+inf')"


class ExpiringFingerprints:
    """Fingerprints seen within the last ``retention`` seconds, in the sorted set ``key``."""

    SWEEP_MIN = 16  # expired entries each add call deletes at least (when there are that many) ...
    SWEEP_MAX = 1000  # ... and at most: a call's cost stays bounded however much has expired

    def __init__(self, client: redis.Redis, key: str, retention: float) -> None:
        if retention <= 0:
            raise ValueError(f"retention must be positive, not {retention!r}")
        self.client = client
        self.key = key
        self.retention = float(retention)
        self._add = client.register_script(_ADD)
        self._forget_expired = client.register_script(_FORGET_EXPIRED)
        self._count_live = client.register_script(_COUNT_LIVE)

    def add(self, fingerprint: Fingerprint) -> bool:
        """Record ``fingerprint`` as seen now. True if it was new (absent or expired), False if seen
        within the retention period (then its time is left alone: retention counts from the first visit)."""
        return self.add_many([fingerprint])[0]

    def add_many(self, fingerprints: Iterable[Fingerprint]) -> list[bool]:
        """``add`` for each fingerprint, in order and in one round trip (one script call).
        A fingerprint repeated in the batch is True at most once."""
        batch = list(fingerprints)
        if not batch:
            return []
        sweep = min(max(self.SWEEP_MIN, 2 * len(batch)), self.SWEEP_MAX)
        added = self._add(keys=[self.key], args=[self.retention, sweep, *batch])
        return [bool(flag) for flag in added]

    def discard(self, fingerprint: Fingerprint) -> bool:
        """Forget ``fingerprint`` (e.g. its request failed), so the next ``add`` of it is True.
        True if it was recorded."""
        return bool(self.client.zrem(self.key, fingerprint))

    def forget_expired(self) -> int:
        """Delete every expired entry; the number deleted. One command: cheap to run periodically."""
        return int(self._forget_expired(keys=[self.key], args=[self.retention]))

    def __contains__(self, fingerprint: Fingerprint) -> bool:
        """Seen within the retention period (does not record it)."""
        seen = self.client.zscore(self.key, fingerprint)
        if seen is None:
            return False
        now_s, now_us = self.client.time()
        return seen > now_s + now_us / 1_000_000 - self.retention

    def __len__(self) -> int:
        """How many fingerprints were seen within the retention period (expired ones not counted)."""
        return int(self._count_live(keys=[self.key], args=[self.retention]))

    def clear(self) -> None:
        """Forget every fingerprint (delete the key)."""
        self.client.delete(self.key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, retention={self.retention!r})"
