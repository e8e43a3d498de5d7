"""Progress lines a crawl prints, and the one machine-readable result line per source.

The parent (`newsmon crawl`, the daemon) reads RESULT_PREFIX lines; everything
else is for people.
"""

from __future__ import annotations

import json
import sys

from monitor.crawl_protocol import RESULT_PREFIX
from monitor.redaction import mask


def say(source: str, message: str) -> None:
    print(mask(f"[{source}] {message}"), file=sys.stdout, flush=True)


def report_result(result: dict) -> None:
    masked = {key: mask(value) if isinstance(value, str) else value for key, value in result.items()}
    print(RESULT_PREFIX + json.dumps(masked, sort_keys=True), file=sys.stdout, flush=True)
