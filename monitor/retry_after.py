"""Retry-After header values from servers, parsed defensively.

Used by the crawler (429/503 from sites) and the webhook channel (429/503 from
receivers). A hostile or broken server may send anything: non-ASCII digits
("١٢٠" passes str.isdigit), negative or fractional numbers, dates far in the
future, or megabytes of digits. Only plain ASCII delta-seconds and HTTP dates
are understood; the result is always within [0, cap].
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

MAX_HEADER_CHARS = 64  # an HTTP date is 29 characters; anything much longer is not a Retry-After
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}", re.ASCII)


def parse_retry_after(value: str | bytes | None, now: datetime, *, cap: float) -> float | None:
    """Seconds to wait, bounded to `cap`; None when the value is absent or not understood."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = value.strip()
    if not text or len(text) > MAX_HEADER_CHARS:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return min(float(int(text)), cap)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        seconds = (when - now).total_seconds()
    except OverflowError:
        return cap
    return min(max(seconds, 0.0), cap)
