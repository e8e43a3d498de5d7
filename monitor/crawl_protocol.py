"""What a crawl process (`python -m crawler`) and the newsmon process that runs it say
to each other: defined here, in monitor, because the crawler may import monitor but
not the other way round.

Crawl -> newsmon, on stdout, one line each:
- RESULT_PREFIX + JSON: one finished check of one source (its `source`, `status`, counts
  and, for a worker, the `check` id it was given);
- HEARTBEAT_PREFIX + JSON: a long-lived worker is alive (`running`, `checks`, `rss_mib`),
  every HEARTBEAT_EVERY seconds; a worker silent for crawl.heartbeat_timeout is hung;
- RETIRING_PREFIX + JSON: the worker takes no more checks (`reason`), finishes the ones
  it holds and exits, so a fresh process takes over;
- anything else is progress for people.

newsmon -> worker, on stdin, one JSON object a line (see `check_command`, `STOP_COMMAND`).
End of input means the same as stop: finish what you hold, then exit.
"""

from __future__ import annotations

import json
from datetime import datetime

RESULT_PREFIX = "NEWSMON-RESULT "
HEARTBEAT_PREFIX = "NEWSMON-HEARTBEAT "
RETIRING_PREFIX = "NEWSMON-RETIRING "
HEARTBEAT_EVERY = 2.0  # seconds

STOP_COMMAND = json.dumps({"op": "stop"})


def check_command(check_id: str, source: str, next_check_at: datetime | None) -> str:
    """Check `source` now; record `next_check_at` (when it is due again) with the result."""
    return json.dumps({"op": "check", "check": check_id, "source": source,
                       "next_check_at": next_check_at.isoformat() if next_check_at else None})


def parse_line(line: str) -> tuple[str, dict] | None:
    """(prefix, payload) for a protocol line; None for a progress line. Raises ValueError
    for a protocol line whose JSON is unreadable."""
    for prefix in (RESULT_PREFIX, HEARTBEAT_PREFIX, RETIRING_PREFIX):
        if line.startswith(prefix):
            payload = json.loads(line[len(prefix):])
            if not isinstance(payload, dict):
                raise ValueError(f"expected a JSON object after {prefix.strip()}")
            return prefix, payload
    return None
