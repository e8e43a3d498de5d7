"""Progress lines a crawl prints, and the one machine-readable result line per source.

The parent (`newsmon crawl`, the daemon) reads RESULT_PREFIX lines; everything
else is for people.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from monitor.crawl_protocol import RESULT_PREFIX
from monitor.redaction import mask


def say(source: str, message: str) -> None:
    print(mask(f"[{source}] {message}"), file=sys.stdout, flush=True)


def print_result(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result, sort_keys=True), file=sys.stdout, flush=True)


# Where results go: stdout for the newsmon process that started this one; a `newsmon worker`
# sends them back through Redis instead (crawler.redis_feed). Called in the reactor thread.
result_sink: Callable[[dict], None] = print_result


def report_result(result: dict) -> None:
    result_sink({key: mask(value) if isinstance(value, str) else value for key, value in result.items()})
