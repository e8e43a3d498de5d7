"""`newsmon web` for tests: a real uvicorn server in a thread, and an archive shaped like a desk's week
(a story carried by three outlets in two languages, a revised article, sent, pending and dead alerts,
a failing source), filled through the store as the crawler fills it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import uvicorn

from monitor.statuses import AlertStatus, RunStatus
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import session_scope

HOSTILE = '<script>alert("x")</script>'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the ASGI app on a free port until the block ends; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Desk:
    """The ids a test needs to find its way around the archive `fill_desk` made."""

    spread_story: int = 0
    revised_story: int = 0
    dead_alert: int = 0
    stories: list[int] = field(default_factory=list)


def _article(session, n: int, source: str, title: str, text: str, when, language: str = "en") -> int:
    return repo.add_article(session, url=f"http://{source}.example/{n}", canonical_url=f"http://{source}.example/{n}",
                            source=source, title=title, text=text, language=language, content_hash=f"h{n}",
                            fetched_at=when)


def fill_desk(sessions) -> Desk:
    now = repo.utcnow().replace(microsecond=0)
    desk = Desk()
    with session_scope(sessions) as session:
        # One story three outlets carried: alpha first, beta 2 hours later, gamma (in Chinese) 5 hours later.
        first = now - timedelta(hours=20)
        a1 = _article(session, 1, "alpha", "New quality productive forces drive growth",
                      "Officials said new quality productive forces drive growth in the coming year.", first)
        desk.spread_story = repo.new_story(session, a1, "New quality productive forces drive growth", first)
        a2 = _article(session, 2, "beta", "Productive forces: what the report says",
                      "The report names new quality productive forces as the first task.", first + timedelta(hours=2))
        repo.join_story(session, a2, desk.spread_story, "beta", first + timedelta(hours=2))
        a3 = _article(session, 3, "gamma", "发展新质生产力", "报告提出加快发展新质生产力，推动高质量发展。",
                      first + timedelta(hours=5), language="zh")
        repo.join_story(session, a3, desk.spread_story, "gamma", first + timedelta(hours=5))
        # Five single-outlet stories, one of them later revised, and one with hostile markup in it.
        for n in range(4, 9):
            when = now - timedelta(hours=12 - n)
            aid = _article(session, n, "alpha" if n % 2 else "beta", f"Harbour report {n}",
                           f"Shipping through the harbour rose in week {n}. {HOSTILE}", when)
            desk.stories.append(repo.new_story(session, aid, f"Harbour report {n} {HOSTILE}", when))
            if n == 6:
                desk.revised_story = desk.stories[-1]
                repo.record_revision(session, aid, title=f"Harbour report {n}",
                                     text=f"Shipping through the harbour fell in week {n}.", content_hash="h6b",
                                     minhash=None, when=now)
        for article, channel in ((a1, "hook"), (a2, "hook"), (a3, "hook")):
            repo.enqueue_alert(session, rule="forces", article_id=article, channel=channel, snippet="s", when=first)
        run = repo.start_run(session, "beta", now - timedelta(minutes=30))
        repo.finish_run(session, run, status=RunStatus.FAILED, pages_fetched=1, new_articles=0, duplicates=0,
                        errors=1, error_summary="HTTP 503 from http://beta.example/feed")
    with session_scope(sessions) as session:
        alerts = session.query(Alert).order_by(Alert.id).all()
        alerts[0].status = AlertStatus.SENT
        alerts[1].status = AlertStatus.DEAD
        alerts[1].attempts = 5
        alerts[1].last_error = "receiver said 500"
        desk.dead_alert = alerts[1].id
    desk.stories.insert(0, desk.spread_story)
    return desk
