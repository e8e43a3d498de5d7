"""Secrets never shown: values that came from `${VAR}` references, and URL userinfo.

The config loader registers every value it substituted from the environment
(not `${VAR:-default}` defaults, which are written in the file). From then on
`mask()` replaces each of them, raw and URL-encoded, with `***` wherever text
is printed, logged or stored: crawl progress and result lines, `fetch_errors`,
`crawl_runs`, `source_state`, `newsmon status`, and every log record once
`install_log_masking()` has run. URLs lose their `user:password@` part too.

The set is process-wide (like logging's configuration), because the text to
mask is produced deep inside Scrapy, SQLAlchemy and the channels, far from the
config object. Values shorter than MIN_SECRET_CHARS are not masked: they cannot
be told from ordinary text (`${PORT}` giving "587"); do not use such secrets.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET_CHARS = 4
# What w3lib (Scrapy's URL cleaning) leaves unescaped in a URL: a secret may appear in this form in logs.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"

_lock = threading.Lock()
_values: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None
# scheme://user[:password]@host: the userinfo goes, whether or not a secret was registered. Up to the
# last @ before the path: a password with a raw @ in it ("p@ss") goes whole.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s?#]*)@")


def register(values: Iterable[str]) -> None:
    """Mask these values (and their URL-encoded forms) from now on in this process."""
    global _values, _pattern
    new = {v for v in values if isinstance(v, str) and len(v.strip()) >= MIN_SECRET_CHARS}
    if not new - _values:
        return
    with _lock:
        _values = _values | new
        forms = set()
        for value in _values:
            forms.update((value, value.strip(), quote(value, safe=""), quote(value), quote_plus(value),
                          quote(value, safe=_URL_SAFE)))
        forms = {f for f in forms if len(f) >= MIN_SECRET_CHARS}
        # Longest first: a secret containing another is masked whole.
        _pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def registered() -> frozenset[str]:
    return _values


def strip_userinfo(url: str) -> str:
    """`https://user:pw@host/x` -> `https://***@host/x`: shown and stored without credentials."""
    return _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", url)


def mask(text: str | None) -> str | None:
    """`text` with every registered secret and every URL's userinfo replaced by ***."""
    if not text:
        return text
    if _pattern is not None:
        text = _pattern.sub(MASK, text)
    if "@" in text:
        text = strip_userinfo(text)
    return text


class _MaskingRecordFactory:
    """Masks each log record's message (and traceback) when it is created, so every handler
    (Scrapy's, ours, a user's) sees only masked text."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as it always does
            return record
        record.msg, record.args = mask(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record


def install_log_masking() -> None:
    """Mask secrets in every log record created from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
