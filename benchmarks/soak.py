"""Soak (issue 14 item 7): the daemon `newsmon run` for many short cycles, as it runs for months.

    python benchmarks/soak.py [--cycles 200] [--interval 1] [--feeds 6] [--json PATH]

A cycle is one check interval (--interval seconds): every source is due once a cycle. The sources
are --feeds RSS feeds on loopback hosts (replay/feed_farm.py), plus what goes wrong in a long run:

- articles are published between cycles: every healthy feed gets one new article every cycle;
- one feed ("failing") answers 503 from cycle 60 to cycle 90, then recovers;
- one feed ("relayout") changes its page layout at cycle 120: from then on its article pages keep
  a stub in a renamed container ("<div class='story-body-v2'>Subscribe to read.</div>") and the
  story is gone: the text extracted collapses, which is what a site redesign does to a parser.

A rule matches the healthy articles ("officials"); health alerts (failing_after 3, drift on,
silent_after 2m: every healthy feed publishes every cycle) go to the same webhook receiver.
Printed: resident memory (RSS and PSS) of the daemon's whole process tree after cycle 20 and
after the last cycle; checks scheduled (one per source a cycle, from each source's first check)
against checks run (crawl_runs rows) and feed requests the farm answered (one per check, so a
difference is a check that ran twice or not at all); article alerts expected (healthy articles
published, each matched once) against POSTs received; operator alerts expected (failing, recovered,
drifting) against received, and any operator alert for a healthy source.
Targets: memory at the end <= 1.2x after cycle 20; every scheduled check run exactly once; every
expected alert and operator alert sent exactly once; no operator alert for a healthy source.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scale import tree_memory  # noqa: E402
from replay.environment import newsmon_executable  # noqa: E402
from replay.feed_farm import FeedFarm, _answer  # noqa: E402
from replay.sinks import WebhookReceiver  # noqa: E402

FAIL_FROM, FAIL_UNTIL, RELAYOUT_AT, MEMORY_AT = 60, 90, 120, 20


class SoakFarm(FeedFarm):
    """A FeedFarm with one feed that can fail and one whose layout can change."""

    def __init__(self, feeds: int, *, failing: int, relayout: int):
        # Feeds list their last 50: the 30 articles published while "failing" is down are still listed
        # when it recovers (a real feed's window is larger than its downtime, or articles are lost to it).
        super().__init__(feeds, hosts=feeds, keep_entries=50)
        self.failing_feed, self.relayout_feed = failing, relayout
        self.failing = False
        self.relaid = False
        self.stub_urls: set[str] = set()

    def _publish(self, feed: int, now: float) -> str:
        url = super()._publish(feed, now)
        if feed == self.relayout_feed and self.relaid:
            path = url.split(f":{self.port}", 1)[1]
            title = f"Report {len(self.published) - 1} from feed {feed}"
            self._bodies[path] = url, (
                f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<nav><a href='/'>Home</a></nav><div class='story-body-v2'><h1>{title}</h1>"
                "<p>Subscribe to read.</p></div><footer>Farm News</footer></body></html>").encode()
            self.stub_urls.add(url)
        return url

    def _handle(self, request) -> None:
        if self.failing and request.path.startswith(f"/feeds/{self.failing_feed}.xml"):
            with self._lock:
                self.checks[self.failing_feed] += 1
            return _answer(request, 503, b"down for maintenance", "text/plain")
        return super()._handle(request)


def write_config(config: Path, farm: SoakFarm, hook: WebhookReceiver, interval: float) -> list[str]:
    names = [source_name(farm, n) for n in range(farm.feed_count)]
    (config / "sources").mkdir(parents=True)
    (config / "rules").mkdir()
    (config / "newsmon.yaml").write_text(json.dumps({
        "database_url": f"sqlite:///{config.parent / 'archive.sqlite3'}",
        "schedule": {"interval": f"{interval:g}s", "delivery_interval": "2s", "lag_report_every": "60s"},
        "channels": {"hook": {"type": "webhook", "url": hook.url}},
        "health": {"channels": ["hook"], "failing_after": 3, "silent_after": "2m", "drift": True},
        "crawl": {"autothrottle": False, "obey_robots_txt": False, "retry_times": 0, "extract_workers": 1}}))
    for n, name in enumerate(names):
        (config / "sources" / f"{name}.yaml").write_text(json.dumps({"kind": "feed",
                                                                     "start_urls": [farm.feed_url(n)]}))
    (config / "rules" / "officials.yaml").write_text(json.dumps({"query": "officials", "channels": ["hook"]}))
    return names


def source_name(farm: SoakFarm, n: int) -> str:
    if n == farm.failing_feed:
        return "failing"
    if n == farm.relayout_feed:
        return "relayout"
    return f"feed{n}"


def runs_by_source(db: Path) -> dict[str, list[tuple[str, str, str | None]]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT source, status, started_at, finished_at FROM crawl_runs ORDER BY id").fetchall()
    found: dict[str, list] = {}
    for source, status, started, finished in rows:
        found.setdefault(source, []).append((status, started, finished))
    return found


def soak(cycles: int, interval: float, feeds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="newsmon-soak-") as tmp, \
            SoakFarm(feeds, failing=0, relayout=1) as farm, WebhookReceiver() as hook:
        config = Path(tmp) / "config"
        write_config(config, farm, hook, interval)
        for n in range(feeds):
            farm.publish(n)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        subprocess.run([newsmon_executable(), "--config", str(config), "init"], check=True, capture_output=True,
                       env=env)
        lines: list[str] = []
        daemon = subprocess.Popen([newsmon_executable(), "--config", str(config), "run"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=lambda: lines.extend(line.rstrip() for line in daemon.stdout), daemon=True).start()
        memory: dict[int, tuple[int, int]] = {}
        try:
            while not all(farm.checks[n] for n in range(feeds)):  # every source checked once: cycle 0 begins
                time.sleep(0.05)
            start = time.monotonic()
            for cycle in range(1, cycles + 1):
                time.sleep(max(0.0, start + cycle * interval - time.monotonic()))
                farm.failing = FAIL_FROM <= cycle < FAIL_UNTIL
                farm.relaid = cycle >= RELAYOUT_AT
                for n in range(feeds):
                    farm.publish(n)
                if cycle in (MEMORY_AT, cycles):
                    memory[cycle] = tree_memory(daemon.pid)
                if cycle % 50 == 0:
                    print(f"  cycle {cycle}/{cycles}", flush=True)
            time.sleep(3 * interval + 4)  # the last articles are fetched, matched and delivered
        finally:
            stopped_at = datetime.now(timezone.utc).replace(tzinfo=None)  # the archive's times are naive UTC
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=120)
        runs = runs_by_source(Path(tmp) / "archive.sqlite3")
        overlapping = sum(1 for rows in runs.values() for a, b in zip(rows, rows[1:], strict=False)
                          if a[2] is None or b[1] < a[2])
        checks_run = sum(len(rows) for rows in runs.values())
        # Slots the daemon did not make up because a source's check was late or ran past its next slot (the
        # late check stands for them): the time each source's check starts fell behind its grid, in intervals.
        behind = {source: max(0.0, _gap(rows[0][1], rows[-1][1]) - (len(rows) - 1) * interval)
                  for source, rows in runs.items()}  # net: a check late on its grid is followed by one on time
        coalesced = sum(int(seconds // interval) for seconds in behind.values())
        late_by = max((_gap(a[1], b[1]) - interval for rows in runs.values()
                       for a, b in zip(rows, rows[1:], strict=False)), default=0.0)
        feed_requests = sum(farm.checks[n] for n in range(feeds))
        # Scheduled: one check a cycle per source, from its first check to the daemon's stop (the first included).
        scheduled = sum(int((stopped_at - datetime.fromisoformat(rows[0][1])).total_seconds() // interval) + 1
                        for rows in runs.values())
        articles = [u for u in farm.published if u not in farm.stub_urls]
        posts = [r.json for r in hook.requests if isinstance(r.json, dict)]
        health = [p for p in posts if p.get("kind") == "health"]
        article_posts = [p for p in posts if p.get("kind") != "health"]
        article_hits = Counter(url for p in article_posts for url in _urls(p))
        expected_health = Counter({("failing", "failing"): 1, ("failing", "recovered"): 1,
                                   ("relayout", "drifting"): 1})
        got_health = Counter((p.get("source"), p.get("state")) for p in health)
        unexpected = [p for p in health if (p.get("source"), p.get("state")) not in expected_health]
        return {
            "cycles": cycles, "interval_s": interval, "sources": feeds, "daemon_exit": code,
            "memory_after": {str(c): {"rss_mib": round(m[0] / 2**20, 1), "pss_mib": round(m[1] / 2**20, 1)}
                             for c, m in memory.items()},
            "memory_ratio_pss": round(memory[cycles][1] / memory[MEMORY_AT][1], 3) if MEMORY_AT in memory else None,
            "memory_ratio_rss": round(memory[cycles][0] / memory[MEMORY_AT][0], 3) if MEMORY_AT in memory else None,
            "checks_scheduled": scheduled, "checks_run": checks_run, "feed_requests": feed_requests,
            "checks_overlapping": overlapping, "slots_coalesced": coalesced,
            "seconds_behind_grid": {source: round(seconds, 2) for source, seconds in sorted(behind.items())},
            "latest_start_s": round(late_by, 2),
            "runs_per_source": {source: len(rows) for source, rows in sorted(runs.items())},
            "alerts_expected": len(articles), "alerts_received": len(article_posts),
            "articles_alerted_twice": sum(1 for n in article_hits.values() if n > 1),
            "articles_not_alerted": sum(1 for u in articles if u not in article_hits),
            "operator_alerts_expected": dict(_key(expected_health)), "operator_alerts_received": dict(_key(got_health)),
            "operator_alerts_unexpected": unexpected,
            "daemon_lines_with_error": [line for line in lines if "Traceback" in line or "failed (traceback" in line],
        }


def _gap(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def _urls(post: dict) -> list[str]:
    """Article URLs in an article alert's JSON (one article per alert)."""
    article = post.get("article") if isinstance(post.get("article"), dict) else post
    url = article.get("url")
    return [url] if isinstance(url, str) else []


def _key(counter: Counter) -> Counter:
    return Counter({f"{source}:{state}": n for (source, state), n in counter.items()})


def report(r: dict) -> None:
    print(f"\nsoak: {r['cycles']} cycles of {r['interval_s']:g}s, {r['sources']} sources; daemon exit {r['daemon_exit']}")
    for cycle, m in r["memory_after"].items():
        print(f"  memory after cycle {cycle:>3}: RSS {m['rss_mib']:7.1f} MiB, PSS {m['pss_mib']:7.1f} MiB (process tree)")
    print(f"  memory ratio end/cycle {MEMORY_AT}: PSS {r['memory_ratio_pss']}, RSS {r['memory_ratio_rss']} "
          f"(target <= 1.2)")
    print(f"  checks: scheduled {r['checks_scheduled']} (one a cycle a source), run {r['checks_run']}, feed "
          f"requests answered {r['feed_requests']}, overlapping {r['checks_overlapping']}; slots coalesced into a "
          f"late check {r['slots_coalesced']} (checks fell behind the grid by "
          f"{sum(r['seconds_behind_grid'].values()):.1f}s in all; the latest start {r['latest_start_s']}s late)")
    print(f"  article alerts: expected {r['alerts_expected']}, received {r['alerts_received']}, "
          f"twice {r['articles_alerted_twice']}, missing {r['articles_not_alerted']}")
    print(f"  operator alerts: expected {r['operator_alerts_expected']}, received {r['operator_alerts_received']}, "
          f"unexpected {len(r['operator_alerts_unexpected'])}")
    ok = {
        "memory <= 1.2x": (r["memory_ratio_pss"] or 9) <= 1.2,
        "every check once": r["checks_run"] == r["feed_requests"] and r["checks_overlapping"] == 0
        and abs(r["checks_run"] + r["slots_coalesced"] - r["checks_scheduled"]) <= r["sources"],
        "every alert once": r["alerts_received"] == r["alerts_expected"] and not r["articles_alerted_twice"],
        "operator alerts exactly": r["operator_alerts_received"] == r["operator_alerts_expected"],
        "none for healthy sources": not r["operator_alerts_unexpected"],
    }
    for target, met in ok.items():
        print(f"  {'met ' if met else 'MISS'} {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds a cycle (the check interval)")
    parser.add_argument("--feeds", type=int, default=6)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-': stdout)")
    args = parser.parse_args()
    if args.cycles < RELAYOUT_AT + 10:
        parser.error(f"--cycles must be at least {RELAYOUT_AT + 10}: the layout changes at cycle {RELAYOUT_AT}")
    result = soak(args.cycles, args.interval, args.feeds)
    report(result)
    if args.json:
        text = json.dumps(result, indent=2)
        print(text) if args.json == "-" else Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
