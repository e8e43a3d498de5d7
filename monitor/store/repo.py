"""Queries on the archive, one import for callers: `from monitor.store import repo`.

Everything that reads or writes rows goes through here. The queries live in
small modules by concern (as httpx keeps its small private modules behind one
namespace); this module only gathers their names:

  articles.py     article rows: insert, look up, mark matched, revise, prune text
  stories.py      story rows and the LSH band index (the decisions: monitor.dedup)
  crawl_state.py  crawl runs, fetch errors, source state, validators, seen URLs, throttling
  outbox.py       alert rows: enqueue, claim, release, mark sent or failed, list, requeue
  health.py       source health rows and the history health reads; health alerts
  boilerplate.py  learned site boilerplate lines
  overview.py     what `newsmon status` reads: per-source summary, archive size
  _base.py        the clock and the dialect-specific INSERTs they share
"""

from __future__ import annotations

from monitor.store._base import utcnow
from monitor.store.articles import (
    add_article,
    add_articles,
    article_by_canonical_url,
    articles_since,
    find_duplicate,
    mark_matched,
    prune_article_text,
    record_revision,
    touch_checked,
    unmatched_articles,
)
from monitor.store.boilerplate import count_template_lines, learned_boilerplate
from monitor.store.crawl_state import (
    ScheduleRow,
    close_abandoned_runs,
    end_unreported_check,
    finish_run,
    forget_seen_urls,
    known_canonical_urls,
    mark_throttled,
    recent_errors,
    record_fetch_error,
    record_source_failure,
    remember_url,
    save_validators,
    schedule_rows,
    start_run,
    validators_for,
)
from monitor.store.health import (
    HEALTH_KIND,
    checks_with_new_articles,
    enqueue_health_alert,
    ensure_health_rows,
    failing_since,
    health_rows,
    recent_extractions,
    save_health_learned,
    source_states,
    transition_health,
)
from monitor.store.outbox import (
    alert_counts,
    claim_alert,
    claim_next_alert,
    claim_owners,
    due_alert_ids,
    enqueue_alert,
    list_alerts,
    mark_alert_failed,
    mark_alert_sent,
    new_delivery_key,
    release_claims,
    requeue_alert,
)
from monitor.store.overview import ArchiveSize, SourceStatus, archive_size, source_statuses
from monitor.store.stories import (
    add_bands,
    join_story,
    lock_story_assignment,
    new_story,
    story_alerted,
    story_candidates,
    story_outlets,
)

__all__ = [
    "HEALTH_KIND", "ArchiveSize", "ScheduleRow", "SourceStatus", "add_article", "add_articles", "add_bands",
    "alert_counts", "archive_size", "article_by_canonical_url", "articles_since", "checks_with_new_articles", "claim_alert",
    "claim_next_alert", "claim_owners", "close_abandoned_runs", "count_template_lines", "due_alert_ids",
    "end_unreported_check", "enqueue_alert", "enqueue_health_alert", "ensure_health_rows", "failing_since",
    "find_duplicate", "finish_run", "forget_seen_urls", "health_rows", "join_story", "known_canonical_urls",
    "learned_boilerplate", "list_alerts", "lock_story_assignment", "mark_alert_failed", "mark_alert_sent",
    "mark_matched", "mark_throttled", "new_delivery_key", "new_story", "prune_article_text", "recent_errors",
    "recent_extractions", "record_fetch_error", "record_revision", "record_source_failure", "release_claims",
    "remember_url", "requeue_alert", "save_health_learned", "save_validators", "schedule_rows", "source_states",
    "source_statuses", "start_run", "story_alerted", "story_candidates", "story_outlets", "touch_checked",
    "transition_health", "unmatched_articles", "utcnow", "validators_for",
]
