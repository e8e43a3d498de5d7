"""`make demo`: newsmon end to end against the bundled offline replay of the sources.

Serves the replay site, an SMTP sink and a webhook receiver on 127.0.0.1,
migrates a fresh SQLite archive, runs two crawl cycles, and shows what was
stored and what alerts arrived. Ends by itself.
"""

from __future__ import annotations

import sys

from replay.environment import REPO_ROOT, WEBHOOK_SECRET, ReplayEnvironment

DEMO_DB = REPO_ROOT / "data" / "demo.sqlite3"
# Every language a source's articles are in: a bare column under GROUP BY would show one row's, at random.
ARTICLES_PER_SOURCE = ("SELECT source, count(*) AS articles, group_concat(DISTINCT language) AS languages "
                       "FROM articles GROUP BY source ORDER BY source")


def heading(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def show(result) -> None:
    print(result.stdout.rstrip(), flush=True)
    if result.stderr.strip():
        print(result.stderr.rstrip(), flush=True)


def main() -> int:
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    for stale in DEMO_DB.parent.glob(DEMO_DB.name + "*"):
        stale.unlink()  # each demo starts from an empty archive
    with ReplayEnvironment(f"sqlite:///{DEMO_DB}") as world:
        print(f"replay site:       {world.site.base_url}")
        print(f"SMTP sink:         127.0.0.1:{world.smtp.port}")
        print(f"webhook receiver:  {world.webhook.url}")
        print(f"archive:           {DEMO_DB.relative_to(REPO_ROOT)}")

        heading("newsmon init")
        show(world.newsmon("init"))

        heading("newsmon crawl  (cycle 1)")
        show(world.newsmon("crawl", check=False))

        heading("articles stored per source:  newsmon query …")
        show(world.newsmon("query", ARTICLES_PER_SOURCE))

        emails = world.smtp.wait_for(1, timeout=5)
        hooks = world.webhook.wait_for(1, timeout=5)
        heading(f"emails received by the SMTP sink: {len(emails)}")
        for message in emails:
            print(f"  To: {message['To']}  Subject: {message['Subject']}")
        heading(f"webhook calls received: {len(hooks)}")
        for request in hooks:
            body = request.json
            signed = "signature ok" if world.webhook.verify(request, WEBHOOK_SECRET) else "BAD SIGNATURE"
            print(f"  rule={body['rule']}  source={body['source']}  title={body['title']}  ({signed})")

        heading("newsmon crawl  (cycle 2: nothing changed on the sites)")
        before = (len(world.smtp.messages), len(world.webhook.requests))
        show(world.newsmon("crawl", "--quiet", check=False))
        after = (len(world.smtp.messages), len(world.webhook.requests))
        print(f"new emails: {after[0] - before[0]}, new webhook calls: {after[1] - before[1]}")

        heading("newsmon alerts")
        show(world.newsmon("alerts"))

        heading("newsmon status")
        show(world.newsmon("status", check=False))

        heading("an example query:  rule hits per rule and channel")
        show(world.newsmon("query", "SELECT rule, channel, status, count(*) AS alerts FROM alerts "
                                    "GROUP BY rule, channel, status ORDER BY rule, channel"))
    print("\ndemo finished; the archive stays in data/demo.sqlite3. With "
          f"NEWSMON_DATABASE_URL=sqlite:///{DEMO_DB} try:\n"
          "  .venv/bin/newsmon --config config/demo query \"SELECT title FROM articles\"\n"
          "  .venv/bin/newsmon --config config/demo web      # then open http://127.0.0.1:8080/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
