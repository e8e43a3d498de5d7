"""monitor.retry_after.parse_retry_after: whatever a server sends, a bounded
number of seconds or None."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.retry_after import parse_retry_after

NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
CAP = 3600.0

# header value -> seconds (None: not understood, so the caller's default applies)
CASES = [
    (None, None),
    ("", None),
    ("   ", None),
    ("120", 120.0),
    (b"120", 120.0),
    (" 7 ", 7.0),
    ("0", 0.0),
    ("999999999999", CAP),  # twelve digits: capped
    ("9" * 13, None),  # more digits than any real delay
    ("9" * 100_000, None),  # megabytes of digits: refused before int() sees them
    ("١٢٠", None),  # Arabic-Indic digits pass str.isdigit, not HTTP
    ("１２０", None),  # full-width digits
    ("²", None),
    ("-5", None),
    ("1.5", None),
    ("1e9", None),
    ("Fri, 01 Mar 2024 12:01:00 GMT", 60.0),
    (b"Fri, 01 Mar 2024 12:01:00 GMT", 60.0),
    ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),  # in the past: no wait
    ("Fri, 31 Dec 9999 23:59:59 GMT", CAP),  # far future: capped
    ("Mon, 01 Jan 0001 00:00:00 GMT", 0.0),
    ("Fri, 01 Mar 2024 12:01:00", 60.0),  # no zone: UTC
    ("Fri, 01 Mar 2024 25:99:99 GMT", None),
    ("tomorrow", None),
    ("\x00\x01", None),
    ("\udcff", None),
]


@pytest.mark.parametrize(("value", "seconds"), CASES)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, NOW, cap=CAP) == seconds


def test_bytes_are_latin1_never_an_error():
    assert parse_retry_after(bytes(range(256)), NOW, cap=CAP) is None
