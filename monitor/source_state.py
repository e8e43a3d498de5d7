"""How one finished crawl run changes a source's state (what `newsmon status` shows).

Pure: the store reads the state, calls `fold_run`, and writes the result back
(monitor.store.crawl_state.finish_run).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from monitor.statuses import RunStatus

# Error texts are kept to this length: a long traceback still fits a status line's column.
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class SourceHealth:
    """The part of a source's state that its crawl runs decide."""

    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_article_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    total_failures: int = 0


@dataclass(frozen=True)
class FinishedRun:
    """What a run reports when it ends (its error summary already masked)."""

    status: RunStatus
    finished_at: datetime
    new_articles: int = 0
    error_summary: str | None = None


def fold_run(health: SourceHealth, run: FinishedRun) -> SourceHealth:
    """The source's health after this run. A failed run counts as a failure; an interrupted
    one changes nothing; any other (ok, or partial: something was fetched) is a success
    and ends a failing streak. The
    last error is kept until another error replaces it, so status still shows why a
    source failed after it recovered."""
    when = run.finished_at
    if run.status == RunStatus.INTERRUPTED:  # says nothing about the source: it is checked again
        return health
    new = replace(health, last_run_at=when)
    if run.status == RunStatus.FAILED:
        new = replace(new, consecutive_failures=health.consecutive_failures + 1,
                      total_failures=health.total_failures + 1)
    else:
        new = replace(new, last_success_at=when, consecutive_failures=0)
    if run.error_summary:
        new = replace(new, last_error=run.error_summary[:MAX_ERROR_CHARS], last_error_at=when)
    if run.new_articles:
        new = replace(new, last_new_article_at=when)
    return new
