"""Digest periods: which period a moment falls in, for a rule's `digest:` setting. Pure.

`every: 1h` cuts UTC time into equal periods counted from the Unix epoch (so 1h periods
start on the hour, 1d periods at 00:00 UTC); `at: "08:00"` with a `timezone` makes daily
periods ending at 08:00 local time (a DST change makes one period 23 or 25 hours long).

The outbox sends the rows of one (rule, channel, period end) together as one message; the
message's delivery key is derived from them (digest_delivery_key), so a resend after a
crash carries the same key.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from monitor.text.dates import as_utc

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC: the digest is due then

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"


def parse_clock(value: str) -> time:
    """'08:00' -> time(8, 0); ValueError with a message for anything else."""
    try:
        hours, minutes = str(value).strip().split(":")
        parsed = time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day; write HH:MM, e.g. 08:00") from None
    return parsed


def period_every(moment: datetime, seconds: float) -> Period:
    """The period of `seconds` (counted from the epoch, UTC) holding `moment`."""
    moment = as_utc(moment)
    n = math.floor((moment - _EPOCH).total_seconds() / seconds)
    start = _EPOCH + timedelta(seconds=n * seconds)
    return Period(start, start + timedelta(seconds=seconds))


def period_daily(moment: datetime, at: time, zone: str) -> Period:
    """The day-long period ending at the first `at` (local time in `zone`) after `moment`."""
    tz = ZoneInfo(zone)
    local = as_utc(moment).astimezone(tz)
    end_local = datetime.combine(local.date(), at, tzinfo=tz)
    if end_local <= local:
        end_local = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    start_local = datetime.combine(end_local.date() - timedelta(days=1), at, tzinfo=tz)
    return Period(start_local.astimezone(timezone.utc), end_local.astimezone(timezone.utc))


def period_for(digest: object, moment: datetime) -> Period:
    """The period of a rule's DigestConfig (monitor.config.model) holding `moment`."""
    if digest.every is not None:  # type: ignore[attr-defined]
        return period_every(moment, digest.every)  # type: ignore[attr-defined]
    return period_daily(moment, parse_clock(digest.at), digest.zone)  # type: ignore[attr-defined]


def digest_delivery_key(rule: str, channel: str, end: datetime, first_alert_id: int) -> str:
    """The idempotency key of one digest: the same for every (re)send of the same rows.
    The first row's id is part of it, so a row that arrived after its period was sent (a match
    committed just after the period ended) goes out under a key of its own, not dropped as a repeat."""
    text = f"digest\0{rule}\0{channel}\0{as_utc(end).isoformat()}\0{first_alert_id}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

