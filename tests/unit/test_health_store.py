"""Source health on a real archive (SQLite file, and PostgreSQL when it runs here): the
verdicts evaluation keeps, the operator alerts it queues (once per transition, also when
evaluations race), the history it reads, and the migration that holds them."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from monitor.config import NewsmonConfig, load_config
from monitor.health import evaluate_health
from monitor.outbox import message_for
from monitor.store import repo
from monitor.store.models import Alert, SourceHealth
from monitor.store.session import make_engine, session_factory, session_scope
from tests.helpers.config import write_config

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
LONG = "Officials said the harbour reopened on Monday after repairs. " * 40  # about 2,400 characters


@pytest.fixture
def sessions(archive_url):
    engine = make_engine(archive_url)
    yield session_factory(engine)
    engine.dispose()


def make_config(tmp_path, archive_url: str, **health) -> NewsmonConfig:
    newsmon = {
        "database_url": archive_url,
        "channels": {"ops-hook": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
                     "ops-mail": {"type": "email", "host": "127.0.0.1", "port": 9, "security": "none",
                                  "from": "newsmon@example.org", "to": ["ops@example.org"]}},
        "health": {"channels": ["ops-hook", "ops-mail"], "failing_after": 3, **health},
    }
    sources = {"wire": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed.xml"]},
               "quiet": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/quiet.xml"], "enabled": False}}
    return load_config(write_config(tmp_path / "config", newsmon, sources), {})


_numbers = iter(range(1_000_000))


def check(sessions, when: datetime, *, source: str = "wire", failed: bool = False, texts: tuple[str, ...] = (),
          empty_pages: tuple[str, ...] = ()) -> None:
    """One finished check of `source` at `when`, as the crawler records it."""
    with session_scope(sessions) as s:
        run = repo.start_run(s, source, when - timedelta(seconds=5))
        for text in texts:
            n = next(_numbers)
            repo.add_article(s, url=f"http://w/{n}", canonical_url=f"http://w/{n}", source=source, title=f"t{n}",
                             text=f"{n} {text}", content_hash=f"h{n}", fetched_at=when)
        for url in empty_pages:
            repo.record_fetch_error(s, source=source, run_id=run.id, url=url, stage="extract",
                                    message="no article text found", when=when)
        repo.finish_run(s, run, status="failed" if failed else "ok", pages_fetched=0 if failed else 1,
                        new_articles=len(texts), duplicates=0, errors=int(failed) + len(empty_pages),
                        error_summary="HTTP 500 from server" if failed else None, when=when)


def health_alerts(sessions) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).where(Alert.kind == "health").order_by(Alert.id)))


def row(sessions, source: str = "wire") -> SourceHealth:
    with sessions() as s:
        return s.get(SourceHealth, source)


# --- failing and recovered ------------------------------------------------------------------


def test_failing_after_three_checks_is_told_once_and_its_recovery_once(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url)
    check(sessions, T0, texts=(LONG,))
    for i in (1, 2):
        check(sessions, T0 + i * H, failed=True)
        evaluate_health(config, sessions, now=T0 + i * H)
    assert health_alerts(sessions) == [], "two failed checks are not yet failing"

    check(sessions, T0 + 3 * H, failed=True)
    summary = evaluate_health(config, sessions, now=T0 + 3 * H)
    assert summary.queued == 2 and summary.transitions == ["wire: ok -> failing (failing alert to ops-hook, ops-mail)"]
    check(sessions, T0 + 4 * H, failed=True)
    assert evaluate_health(config, sessions, now=T0 + 4 * H).queued == 0, "no repeats while it lasts"

    alerts = health_alerts(sessions)
    assert [(a.rule, a.channel, a.status, a.article_id) for a in alerts] == [
        ("health:failing", "ops-hook", "pending", None), ("health:failing", "ops-mail", "pending", None)]
    payload = alerts[0].payload
    assert payload["source"] == "wire" and payload["state"] == "failing" and payload["previous"] == "ok"
    assert datetime.fromisoformat(payload["since"]) == T0 + H, "since the first failed check of the streak"
    assert "3 consecutive checks failed" in payload["detail"] and "HTTP 500" in payload["detail"]
    assert row(sessions).state == "failing" and row(sessions).notified_state == "failing"

    check(sessions, T0 + 5 * H)
    assert evaluate_health(config, sessions, now=T0 + 5 * H).queued == 2
    evaluate_health(config, sessions, now=T0 + 6 * H)
    recovered = [a for a in health_alerts(sessions) if a.rule == "health:recovered"]
    assert [a.channel for a in recovered] == ["ops-hook", "ops-mail"]
    assert recovered[0].payload["previous"] == "failing" and "failing since" in recovered[0].payload["detail"]
    assert row(sessions).state == "ok" and row(sessions).notified_state is None


def test_disabled_sources_are_not_judged(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url)
    for i in range(4):
        check(sessions, T0 + i * H, source="quiet", failed=True)
    assert evaluate_health(config, sessions, now=T0 + 4 * H).sources == 1
    assert health_alerts(sessions) == [] and row(sessions, "quiet") is None


def test_without_channels_the_state_is_kept_and_told_once_channels_exist(tmp_path, archive_url, sessions):
    for i in range(3):
        check(sessions, T0 + i * H, failed=True)
    evaluate_health(make_config(tmp_path, archive_url, channels=[]), sessions, now=T0 + 3 * H)
    assert row(sessions).state == "failing" and health_alerts(sessions) == []
    evaluate_health(make_config(tmp_path, archive_url), sessions, now=T0 + 4 * H)
    assert [a.rule for a in health_alerts(sessions)] == ["health:failing", "health:failing"]


# --- racing evaluations ---------------------------------------------------------------------


def test_evaluations_racing_queue_a_transition_once(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url)
    for i in range(3):
        check(sessions, T0 + i * H, failed=True)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def evaluate() -> None:
        own = session_factory(make_engine(archive_url))  # each as its own process would: its own pool
        try:
            start.wait()
            evaluate_health(config, own)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            own.kw["bind"].dispose()

    threads = [threading.Thread(target=evaluate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(a.channel for a in health_alerts(sessions)) == ["ops-hook", "ops-mail"]
    assert row(sessions).version == 1


def test_a_stale_transition_is_refused(archive_url, sessions):
    with session_scope(sessions) as s:
        repo.ensure_health_rows(s, ["wire"], T0)
    with session_scope(sessions) as s:
        assert repo.transition_health(s, "wire", from_version=0, state="failing", since=T0)
    with session_scope(sessions) as s:
        assert not repo.transition_health(s, "wire", from_version=0, state="failing", since=T0)
    with session_scope(sessions) as s:
        key = "health:wire:1:ops-hook"
        assert repo.enqueue_health_alert(s, rule="health:failing", channel="ops-hook", payload={}, event_key=key,
                                         when=T0)
        assert not repo.enqueue_health_alert(s, rule="health:failing", channel="ops-hook", payload={},
                                             event_key=key, when=T0)


# --- silence --------------------------------------------------------------------------------


def test_silence_after_three_usual_gaps(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url, silent_after="3x")
    for i in range(7):  # a new article every hour: six gaps of history
        check(sessions, T0 + i * H, texts=(LONG,))
    evaluate_health(config, sessions, now=T0 + 6 * H)
    assert row(sessions).usual_gap_seconds == 3600.0
    for i in (7, 8):
        check(sessions, T0 + i * H)
        evaluate_health(config, sessions, now=T0 + i * H)
    assert health_alerts(sessions) == [], "two empty hours are within 3x the usual gap"
    for i in (9, 10, 11):
        check(sessions, T0 + i * H)
        evaluate_health(config, sessions, now=T0 + i * H)
    alerts = health_alerts(sessions)
    assert [(a.rule, a.channel) for a in alerts] == [("health:silent", "ops-hook"), ("health:silent", "ops-mail")]
    assert datetime.fromisoformat(alerts[0].payload["since"]) == T0 + 6 * H, "silent since the last new article"
    assert "3x its usual gap of 1h" in alerts[0].payload["detail"]

    check(sessions, T0 + 12 * H, texts=(LONG,))
    evaluate_health(config, sessions, now=T0 + 12 * H)
    assert [a.rule for a in health_alerts(sessions)][-2:] == ["health:recovered", "health:recovered"]


def test_too_short_a_history_is_never_silent(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url, silent_after="3x")
    for i in range(3):
        check(sessions, T0 + i * H, texts=(LONG,))
    check(sessions, T0 + 100 * H)
    evaluate_health(config, sessions, now=T0 + 100 * H)
    assert row(sessions).state == "ok" and row(sessions).usual_gap_seconds is None


# --- drift ----------------------------------------------------------------------------------


def test_drift_when_pages_give_stubs_or_nothing_and_recovery_when_they_give_text(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url)
    check(sessions, T0, texts=(LONG,) * 12)
    evaluate_health(config, sessions, now=T0)
    check(sessions, T0 + H, texts=("Read the full story in our app.",) * 2, empty_pages=("http://w/e1", "http://w/e2"))
    summary = evaluate_health(config, sessions, now=T0 + H)
    assert summary.transitions == ["wire: ok -> drifting (drifting alert to ops-hook, ops-mail)"]
    payload = health_alerts(sessions)[0].payload
    assert payload["state"] == "drifting" and "4 of the last 5 extractions" in payload["detail"]

    # The same empty pages fetched again at every check count once; more stubs: still drifting.
    check(sessions, T0 + 2 * H, texts=("Read on in our app.",) * 3, empty_pages=("http://w/e1", "http://w/e2"))
    evaluate_health(config, sessions, now=T0 + 2 * H)
    assert len(health_alerts(sessions)) == 2 and row(sessions).drift_since == T0 + H

    check(sessions, T0 + 3 * H, texts=(LONG,) * 5)  # the layout fixed (or the extraction hints)
    evaluate_health(config, sessions, now=T0 + 3 * H)
    assert [a.rule for a in health_alerts(sessions)][-2:] == ["health:recovered", "health:recovered"]
    assert row(sessions).drift_since is None


def test_extractions_merge_articles_and_empty_pages_each_url_once(archive_url, sessions):
    check(sessions, T0, texts=("x" * 300,))
    check(sessions, T0 + H, empty_pages=("http://w/e",))
    check(sessions, T0 + 2 * H, empty_pages=("http://w/e",))
    check(sessions, T0 + 3 * H, texts=("y" * 500,))
    with sessions() as s:
        found = repo.recent_extractions(s, "wire", 10)
        assert [(when - T0, length > 0) for when, length in found] == [(3 * H, True), (H, False), (timedelta(0), True)]
        assert [when for when, _ in repo.recent_extractions(s, "wire", 10, before=T0 + 3 * H)] == [T0 + H, T0]
        assert repo.recent_extractions(s, "wire", 10, not_before=T0 + 2 * H)[0][0] == T0 + 3 * H


# --- the outbox reads it back ----------------------------------------------------------------


def test_a_health_alert_becomes_a_health_message(tmp_path, archive_url, sessions):
    config = make_config(tmp_path, archive_url)
    for i in range(3):
        check(sessions, T0 + i * H, failed=True)
    evaluate_health(config, sessions, now=T0 + 3 * H)
    with sessions() as s:
        alert = s.scalars(select(Alert).where(Alert.kind == "health")).first()
        message = message_for(s, alert)
    assert (message.source, message.state, message.since) == ("wire", "failing", T0)
    body = message.as_payload()
    assert body["kind"] == "health" and body["consecutive_failures"] == 3 and body["delivery_key"] == alert.delivery_key


def test_status_counts_stay_per_article(tmp_path, archive_url, sessions):
    """Health alerts have no article: the per-source counts of `newsmon status` leave them out, the totals not."""
    config = make_config(tmp_path, archive_url)
    for i in range(3):
        check(sessions, T0 + i * H, failed=True)
    evaluate_health(config, sessions, now=T0 + 3 * H)
    with sessions() as s:
        assert repo.alert_counts(s) == {"pending": 2}
        (wire,) = [st for st in repo.source_statuses(s, ["wire"]) if st.source == "wire"]
        assert wire.pending_alerts == 0


# --- the schema -----------------------------------------------------------------------------


def test_migrated_schema_matches_the_models(archive_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.store.models import Base

    def ours(obj, name, type_, reflected, compare_to) -> bool:  # full-text search objects are raw SQL (0005)
        return not (name or "").startswith(("articles_fts", "search_vector", "ix_articles_search_vector"))

    engine = make_engine(archive_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": ours}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migration_down_and_up_keeps_article_alerts(archive_url):
    from alembic import command

    from monitor.store.session import alembic_config

    engine = make_engine(archive_url)
    sessions = session_factory(engine)
    try:
        with session_scope(sessions) as s:
            article = repo.add_article(s, url="http://x/1", canonical_url="http://x/1", source="s", title="t",
                                       text="text", content_hash="h", fetched_at=T0)
            repo.enqueue_alert(s, rule="r", article_id=article, channel="c", snippet="x")
            repo.enqueue_health_alert(s, rule="health:failing", channel="c", payload={"source": "s"},
                                      event_key="health:s:1:c", when=T0)
        engine.dispose()
        command.downgrade(alembic_config(archive_url), "0009_source_schedule")
        command.upgrade(alembic_config(archive_url), "head")
        with sessions() as s:
            assert [(a.kind, a.rule) for a in s.scalars(select(Alert))] == [("article", "r")]
    finally:
        engine.dispose()
