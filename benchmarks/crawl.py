"""Crawl efficiency: a replay site of 2,000 articles, crawled twice by newsmon,
and once by a plain Scrapy spider (no pipelines) fetching the same article URLs.

    python benchmarks/crawl.py [--articles 2000] [--rounds 3]

Prints bytes transferred and pages extracted per cycle, and the first
cycle's pages per second against the plain spider's, measured in this run
(politeness delays off for both: no robots Crawl-delay, no AutoThrottle).
The two alternate for --rounds rounds, each newsmon round on a fresh archive,
and the median ratio is the result: on a shared machine one pair of runs can
be off by a third either way.
Targets: second cycle <= 5% of the first cycle's bytes with 0 pages
extracted; first cycle >= 0.7x the plain spider's pages per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from replay.server import ReplayServer  # noqa: E402

RESULT = "NEWSMON-RESULT "
SEEDS = ROOT / "replay" / "seeds"


def build_site(root: Path, count: int) -> list[str]:
    """Distinct article pages (random sentences over the seeds' vocabulary), plus sitemaps listing them.
    Pages built from shared seed paragraphs would all be near-duplicates of each other: one story."""
    rng = random.Random(7)
    vocabulary = sorted({w for f in SEEDS.glob("*.txt") for w in f.read_text(encoding="utf-8").split() if w.isalpha()})
    paths = []
    for n in range(count):
        path = f"/news/{2024 - n % 3}/{n:05d}/article.html"
        body = [" ".join(rng.choice(vocabulary) for _ in range(70)).capitalize() + "." for _ in range(6)]
        body.insert(0, f"Story {n}: reporters found that item {n * 7919 % 10007} changed this week.")
        html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Story {n} - Bench News</title>"
                f"<meta property='article:published_time' content='2024-03-{n % 28 + 1:02d}T08:00:00Z'></head>"
                "<body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav><article>"
                f"<h1>Story {n}</h1>" + "".join(f"<p>{p}</p>" for p in body) +
                "</article><footer>© 2024 Bench News. All rights reserved.</footer></body></html>")
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        paths.append(path)
    per_map = 500
    children = []
    for i in range(0, count, per_map):
        name = f"sitemap-{i // per_map}.xml"
        urls = "".join(f"<url><loc>http://replay.invalid{p}</loc></url>" for p in paths[i:i + per_map])
        (root / name).write_text('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
                                 f'schemas/sitemap/0.9">{urls}</urlset>', encoding="utf-8")
        children.append(name)
    (root / "sitemap_index.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>http://replay.invalid/{c}</loc></sitemap>" for c in children)
        + "</sitemapindex>", encoding="utf-8")
    return paths


def newsmon_cycle(config_dir: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-m", "crawler", "--config", str(config_dir), "--quiet"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    for line in out.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    raise SystemExit(f"crawl produced no result:\n{out.stdout}\n{out.stderr}")


PLAIN_SPIDER = textwrap.dedent('''
    import json, sys, scrapy
    class Plain(scrapy.Spider):
        name = "plain"
        custom_settings = {"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False,
                           "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                           "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
                           "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"}
        async def start(self):
            for url in json.load(open(sys.argv[-1])):
                yield scrapy.Request(url, callback=self.parse)
        def parse(self, response):
            self.crawler.stats.inc_value("pages")
        def closed(self, reason):
            from datetime import datetime, timezone
            start = self.crawler.stats.get_value("start_time")
            elapsed = (datetime.now(start.tzinfo or timezone.utc) - start).total_seconds()
            print("PLAIN " + json.dumps({"pages": self.crawler.stats.get_value("pages", 0), "elapsed": elapsed}))
''')


def plain_scrapy(urls: list[str], work: Path) -> dict:
    spider = work / "plain_spider.py"
    spider.write_text(PLAIN_SPIDER, encoding="utf-8")
    url_file = work / "urls.json"
    url_file.write_text(json.dumps(urls), encoding="utf-8")
    runner = ("import sys; from scrapy.crawler import CrawlerProcess; import runpy; "
              f"mod = runpy.run_path({str(spider)!r}); p = CrawlerProcess(); p.crawl(mod['Plain']); p.start()")
    out = subprocess.run([sys.executable, "-c", runner, str(url_file)], capture_output=True, text=True, timeout=1800)
    for line in out.stdout.splitlines():
        if line.startswith("PLAIN "):
            return json.loads(line[6:])
    raise SystemExit(f"plain spider produced no result:\n{out.stdout}\n{out.stderr}")


def write_config(config: Path, database: Path, base_url: str, articles: int) -> None:
    (config / "sources").mkdir(parents=True, exist_ok=True)
    (config / "newsmon.yaml").write_text(json.dumps({
        "database_url": f"sqlite:///{database}",
        "crawl": {"obey_robots_txt": False, "autothrottle": False, "concurrent_requests": 16,
                  "concurrent_requests_per_domain": 16, "max_articles_per_source": articles + 10},
    }), encoding="utf-8")
    (config / "sources" / "bench.yaml").write_text(json.dumps({
        "kind": "sitemap", "start_urls": [f"{base_url}/sitemap_index.xml"], "max_sitemaps": 100}), encoding="utf-8")


def one_round(server: ReplayServer, work: Path, paths: list[str], articles: int, n: int) -> dict:
    """A fresh archive crawled twice by newsmon, then the plain spider on the same URLs."""
    config = work / f"config-{n}"
    write_config(config, work / f"bench-{n}.sqlite3", server.base_url, articles)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "monitor.cli", "--config", str(config), "init"], check=True,
                   env=env, cwd=ROOT, capture_output=True)
    cycles = []
    for _ in range(2):
        before = server.bytes_sent
        result = newsmon_cycle(config, env)
        cycles.append((server.bytes_sent - before, result))
    before = server.bytes_sent
    plain = plain_scrapy([server.base_url + p for p in paths], work)
    return {"cycles": cycles, "plain": plain, "plain_bytes": server.bytes_sent - before}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="newsmon and plain runs alternate this many times; the median ratio is the result "
                             "(one run on a shared machine can be off by a third)")
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site = work / "site"
        paths = build_site(site, args.articles)
        with ReplayServer(root=site) as server:
            for n in range(args.rounds):
                rounds.append(one_round(server, work, paths, args.articles, n))
    print(f"Crawl benchmark: replay site with {args.articles} articles (sitemap index), politeness delays off, "
          f"{args.rounds} rounds")
    print(f"{'run':<28}{'bytes':>12}{'pages fetched':>15}{'extracted':>11}{'seconds':>9}{'pages/s':>9}{'ratio':>7}")
    ratios, byte_shares, second_extracted = [], [], []
    for n, r in enumerate(rounds, 1):
        (b1, r1), (b2, r2) = r["cycles"]
        plain = r["plain"]
        newsmon_rate = r1["new_articles"] / r1["elapsed"]
        plain_rate = plain["pages"] / plain["elapsed"]
        ratios.append(newsmon_rate / plain_rate)
        byte_shares.append(b2 / b1)
        second_extracted.append(r2["new_articles"])
        print(f"{f'{n}: newsmon cycle 1':<28}{b1:>12,}{r1['pages_fetched']:>15}{r1['new_articles']:>11}"
              f"{r1['elapsed']:>9.1f}{newsmon_rate:>9.1f}{ratios[-1]:>7.2f}")
        print(f"{f'{n}: newsmon cycle 2':<28}{b2:>12,}{r2['pages_fetched']:>15}{r2['new_articles']:>11}"
              f"{r2['elapsed']:>9.1f}")
        print(f"{f'{n}: plain Scrapy (no pipes)':<28}{r['plain_bytes']:>12,}{plain['pages']:>15}{'-':>11}"
              f"{plain['elapsed']:>9.1f}{plain_rate:>9.1f}")
    print(f"cycle 2 bytes / cycle 1 bytes: {max(byte_shares):.4f} (worst round; target <= 0.05); "
          f"cycle 2 extracted: {max(second_extracted)} (target 0)")
    print(f"newsmon cycle 1 pages/s / plain Scrapy pages/s: median {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}; target >= 0.7)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
