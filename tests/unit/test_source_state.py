"""How a finished run changes a source's health (monitor.source_state.fold_run), and the
store writing it back (repo.finish_run), on a real archive."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.source_state import MAX_ERROR_CHARS, FinishedRun, SourceHealth, fold_run
from monitor.statuses import RunStatus
from monitor.store import repo
from monitor.store.models import CrawlRun, SourceState
from monitor.store.session import make_engine, session_factory, session_scope

EARLIER = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
NOW = EARLIER + timedelta(hours=1)
FAILING = SourceHealth(last_run_at=EARLIER, last_success_at=EARLIER - timedelta(days=1), last_error="feed: timeout",
                       last_error_at=EARLIER, consecutive_failures=2, total_failures=5)
HEALTHY = SourceHealth(last_run_at=EARLIER, last_success_at=EARLIER, last_new_article_at=EARLIER, total_failures=1)


@pytest.mark.parametrize("before, run, changes", [
    pytest.param(SourceHealth(), FinishedRun(RunStatus.OK, NOW, new_articles=3),
                 dict(last_run_at=NOW, last_success_at=NOW, last_new_article_at=NOW), id="first run, new articles"),
    pytest.param(HEALTHY, FinishedRun(RunStatus.OK, NOW),
                 dict(last_run_at=NOW, last_success_at=NOW), id="ok, nothing new: last new article stays"),
    pytest.param(HEALTHY, FinishedRun(RunStatus.FAILED, NOW, error_summary="no start URL could be fetched"),
                 dict(last_run_at=NOW, consecutive_failures=1, total_failures=2,
                      last_error="no start URL could be fetched", last_error_at=NOW), id="a failure starts a streak"),
    pytest.param(FAILING, FinishedRun(RunStatus.FAILED, NOW, error_summary="feed: 500"),
                 dict(last_run_at=NOW, consecutive_failures=3, total_failures=6, last_error="feed: 500",
                      last_error_at=NOW), id="another failure extends it"),
    pytest.param(FAILING, FinishedRun(RunStatus.PARTIAL, NOW, new_articles=1, error_summary="page x: timeout"),
                 dict(last_run_at=NOW, last_success_at=NOW, last_new_article_at=NOW, consecutive_failures=0,
                      last_error="page x: timeout", last_error_at=NOW), id="partial counts as success, error kept"),
    pytest.param(FAILING, FinishedRun(RunStatus.OK, NOW),
                 dict(last_run_at=NOW, last_success_at=NOW, consecutive_failures=0),
                 id="recovery ends the streak; the last error stays for status"),
    pytest.param(SourceHealth(), FinishedRun(RunStatus.FAILED, NOW, error_summary="x" * (MAX_ERROR_CHARS + 10)),
                 dict(last_run_at=NOW, consecutive_failures=1, total_failures=1, last_error="x" * MAX_ERROR_CHARS,
                      last_error_at=NOW), id="long errors are cut"),
])
def test_fold_run(before, run, changes):
    after = fold_run(before, run)
    assert after == SourceHealth(**{**before.__dict__, **changes})


@pytest.fixture
def sessions(archive_url):
    return session_factory(make_engine(archive_url))


def test_finish_run_writes_the_folded_state_masked(sessions):
    with session_scope(sessions) as s:
        repo.record_source_failure(s, "agency", "feed https://user:pw@x.example/rss: 500", when=EARLIER)
    with session_scope(sessions) as s:
        state = s.get(SourceState, "agency")
        assert (state.consecutive_failures, state.total_failures, state.last_success_at) == (1, 1, None)
        assert state.last_error == "feed https://***@x.example/rss: 500" and state.last_error_at == EARLIER
        run = repo.start_run(s, "agency", NOW)
        repo.finish_run(s, run, status="partial", pages_fetched=4, new_articles=2, duplicates=1, errors=1,
                        error_summary="page: timeout", when=NOW)
    with session_scope(sessions) as s:
        state = s.get(SourceState, "agency")
        assert (state.consecutive_failures, state.total_failures) == (0, 1)
        assert state.last_success_at == state.last_new_article_at == state.last_error_at == state.last_run_at == NOW
        assert state.last_error == "page: timeout"
        run = s.get(CrawlRun, run.id)
        assert (run.status, run.finished_at, run.pages_fetched, run.errors) == (RunStatus.PARTIAL, NOW, 4, 1)


def test_an_unknown_run_status_is_refused(sessions):
    with session_scope(sessions) as s:
        run = repo.start_run(s, "agency", NOW)
        assert run.status == "running"
        with pytest.raises(ValueError, match="'finished'"):
            repo.finish_run(s, run, status="finished", pages_fetched=0, new_articles=0, duplicates=0, errors=0,
                            error_summary=None, when=NOW)
