"""The archive's queries, on real SQLite files and on PostgreSQL when it runs here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import make_engine, migrate, schema_is_current, session_factory, session_scope


@pytest.fixture
def sessions(archive_url):
    """Sessions on a migrated archive (SQLite file or fresh PostgreSQL database); the engine is disposed
    afterwards, so the test's PostgreSQL database can be dropped."""
    migrate(archive_url)  # a second migration is a no-op
    engine = make_engine(archive_url)
    assert schema_is_current(engine)
    yield session_factory(engine)
    engine.dispose()


def _article(session, n: int, **extra) -> int | None:
    fields = dict(url=f"http://x/{n}", canonical_url=f"http://x/{n}", source="s", title=f"t{n}", text=f"text {n}",
                  content_hash=f"h{n}", fetched_at=repo.utcnow())
    fields.update(extra)
    return repo.add_article(session, **fields)


def test_article_unique_by_canonical_url(sessions):
    with session_scope(sessions) as s:
        assert _article(s, 1) is not None
        assert _article(s, 1) is None  # same canonical URL: refused, transaction still usable
        assert _article(s, 2) is not None
    with session_scope(sessions) as s:
        assert repo.find_duplicate(s, "http://other", "h2", "s").canonical_url == "http://x/2"
        assert repo.find_duplicate(s, "http://other", "h2", "another outlet") is None
        assert repo.find_duplicate(s, "http://other", "nope", "s") is None


def test_datetimes_come_back_aware_utc(sessions):
    with session_scope(sessions) as s:
        _article(s, 1)
    with session_scope(sessions) as s:
        article = repo.article_by_canonical_url(s, "http://x/1")
        assert article.fetched_at.tzinfo is not None and article.fetched_at.utcoffset() == timedelta(0)


def test_outbox_one_row_per_rule_article_channel(sessions):
    with session_scope(sessions) as s:
        article = _article(s, 1)
        assert repo.enqueue_alert(s, rule="r", article_id=article, channel="c", snippet="x")
        assert not repo.enqueue_alert(s, rule="r", article_id=article, channel="c", snippet="x")
        assert repo.enqueue_alert(s, rule="r", article_id=article, channel="other", snippet="x")
    with session_scope(sessions) as s:
        assert repo.alert_counts(s) == {"pending": 2}


def test_claim_is_exclusive_and_failures_back_off(sessions):
    now = repo.utcnow()
    with session_scope(sessions) as s:
        article = _article(s, 1)
        repo.enqueue_alert(s, rule="r", article_id=article, channel="c", snippet=None, when=now)
    with session_scope(sessions) as s:
        (alert_id,) = repo.due_alert_ids(s, now, 10)
        assert repo.claim_alert(s, alert_id, now, owner="h:1:t", lease=timedelta(minutes=15)) is not None
    with session_scope(sessions) as s:
        assert repo.claim_alert(s, alert_id, now, owner="h:2:t", lease=timedelta(minutes=15)) is None  # taken
        alert = s.get(Alert, alert_id)
        repo.mark_alert_failed(s, alert, error="boom", when=now, retry_in=timedelta(minutes=5))
    with session_scope(sessions) as s:
        assert repo.due_alert_ids(s, now, 10) == []
        assert repo.due_alert_ids(s, now + timedelta(minutes=6), 10) == [alert_id]
        alert = s.get(Alert, alert_id)
        assert (alert.attempts, alert.status, alert.last_error) == (1, "pending", "boom")
        repo.mark_alert_failed(s, alert, error="gone", when=now, retry_in=None)
    with session_scope(sessions) as s:
        assert s.get(Alert, alert_id).status == "dead"
        assert repo.requeue_alert(s, alert_id, now).status == "pending"


def test_claims_past_their_lease_are_released(sessions):
    now = repo.utcnow()
    with session_scope(sessions) as s:
        article = _article(s, 1)
        repo.enqueue_alert(s, rule="r", article_id=article, channel="c", snippet=None, when=now)
    with session_scope(sessions) as s:
        (alert_id,) = repo.due_alert_ids(s, now, 10)
        repo.claim_alert(s, alert_id, now - timedelta(hours=1), owner="elsewhere:1:t", lease=timedelta(minutes=15))
    with session_scope(sessions) as s:
        assert repo.release_claims(s, now, gone_owners=[], max_attempts=8) == 1
        alert = s.get(Alert, alert_id)
        assert (alert.status, alert.attempts, alert.claimed_by) == ("pending", 1, None)


def test_runs_fold_into_source_state(sessions):
    with session_scope(sessions) as s:
        run = repo.start_run(s, "a")
        repo.finish_run(s, run, status="ok", pages_fetched=3, new_articles=2, duplicates=0, errors=0,
                        error_summary=None)
        repo.record_source_failure(s, "b", "feed http://b/: HTTP 500")
        repo.record_source_failure(s, "b", "feed http://b/: HTTP 500")
    with session_scope(sessions) as s:
        by_name = {st.source: st for st in repo.source_statuses(s, ["a", "b", "c"])}
        assert by_name["a"].last_success_at and by_name["a"].last_new_article_at
        assert by_name["a"].consecutive_failures == 0
        assert by_name["b"].consecutive_failures == 2 and "HTTP 500" in by_name["b"].last_error
        assert by_name["c"].last_run_at is None
        assert [e.stage for e in repo.recent_errors(s, "b")] == ["crawl", "crawl"]


def test_boilerplate_learned_after_enough_articles(sessions):
    from monitor.extract import extract_article
    from monitor.extract.boilerplate import MIN_ARTICLES, template_candidates

    template = "Follow us on WeChat for daily updates from the newsroom."
    bodies = [f"Story number {n} tells of a new railway, a port and a factory in detail.\n{template}" for n in range(4)]
    for n, body in enumerate(bodies[:MIN_ARTICLES]):
        with session_scope(sessions) as s:
            assert repo.learned_boilerplate(s, "src", MIN_ARTICLES) == frozenset() or n == MIN_ARTICLES
            lines = {(h, text): 1 for h, text in template_candidates(body).items()}
            repo.count_template_lines(s, "src", lines, repo.utcnow())
    with session_scope(sessions) as s:
        learned = repo.learned_boilerplate(s, "src", MIN_ARTICLES)
        assert repo.learned_boilerplate(s, "other", MIN_ARTICLES) == frozenset()
    assert len(learned) == 1
    page = ("<html><body><article>" + "".join(f"<p>{line}</p>" for line in (
        "A fourth story about a bridge over the river opened to traffic on Monday after three years of work.",
        "Engineers said the design withstands typhoons and the bridge carries four lanes of traffic.",
        template)) + "</article></body></html>").encode()
    assert template in extract_article(page).text
    assert template not in extract_article(page, boilerplate=learned).text


def test_retention_keeps_what_dedup_needs(sessions):
    from monitor.dedup.signatures import minhash
    from monitor.dedup.story_assignment import store_in_stories

    old = repo.utcnow() - timedelta(days=400)
    with session_scope(sessions) as s:
        store_in_stories(s, [
            dict(minhash=minhash("an old story about ports " * 20), url="http://x/old", canonical_url="http://x/old",
                 source="s", title="old", text="an old story about ports " * 20, content_hash="h-old", fetched_at=old),
            dict(minhash=minhash("a new story about rail " * 20), url="http://x/new", canonical_url="http://x/new",
                 source="s", title="new", text="a new story about rail " * 20, content_hash="h-new",
                 fetched_at=repo.utcnow())])
    with session_scope(sessions) as s:
        assert repo.prune_article_text(s, repo.utcnow() - timedelta(days=365)) == 1
    with session_scope(sessions) as s:
        kept = repo.article_by_canonical_url(s, "http://x/old")
        assert kept.text == "" and kept.content_hash == "h-old" and kept.minhash and kept.story_id
        assert repo.article_by_canonical_url(s, "http://x/new").text
        size = repo.archive_size(s)
        assert (size.articles, size.stories, size.articles_with_text) == (2, 2, 1) and size.bytes > 0
        # Dedup still finds the old story from its signature.
        from monitor.dedup.signatures import band_keys
        candidates = repo.story_candidates(s, band_keys(minhash("an old story about ports " * 20)))
        assert [c[0] for c in candidates] == [kept.id]
