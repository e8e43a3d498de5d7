"""The statuses stored in the archive, defined once.

Members are strings (`class X(str, Enum)`): they are stored, compared and
printed as their values ("pending", "ok", …), which docs/archive.md documents
for people who query the archive with SQL, so the values never change.
"""

from __future__ import annotations

from enum import Enum


class _StoredValue(str, Enum):
    """str() and f-strings give the stored value, not `AlertStatus.PENDING`."""

    def __str__(self) -> str:
        return self.value


class AlertStatus(_StoredValue):
    """An outbox row: pending -> sending -> sent, or back to pending for a retry, or dead."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a delivery pass
    SENT = "sent"
    DEAD = "dead"  # a dead letter: gave up; `newsmon alerts retry ID` queues it again

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(status.value for status in cls)


class RunStatus(_StoredValue):
    """A crawl run of one source."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some pages or articles failed, or the crawl was cut short
    FAILED = "failed"  # nothing could be fetched: counts as a failure in `newsmon status`
    INTERRUPTED = "interrupted"  # newsmon stopped before the check ended: neither a success nor a failure
