"""Progress lines a crawl prints, and the one machine-readable result line per source.

The parent (`newsmon crawl`, the daemon) reads RESULT_PREFIX lines; everything
else is for people.
"""

from __future__ import annotations

import json
import sys

RESULT_PREFIX = "NEWSMON-RESULT "


def say(source: str, message: str) -> None:
    print(f"[{source}] {message}", file=sys.stdout, flush=True)


def report_result(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result, sort_keys=True), file=sys.stdout, flush=True)
