"""The web view on a big archive (issue 17 item 5): `newsmon web`'s pages and JSON API answering on an archive
of a million articles, on SQLite and on PostgreSQL, through a real HTTP server.

    python benchmarks/web.py [--articles 1000000] [--backends sqlite,postgresql] [--repeat 20] [--warmup 3]
                             [--json PATH] [--keep] [--rebuild] [--cache-dir DIR] [--admin-url URL]

The archive is synthetic but shaped like a real one (the seed makes it the same every time):
  - 50 sources, 35 of them English and 15 Chinese, of very unequal size (the biggest ~40x the smallest);
    42 are configured (one file each in sources/, as users write them), 8 are not: 5 of those were retired
    six months ago (articles only before then) and 3 are unconfigured but still crawled into the archive.
  - stories of 1 to 20 articles across outlets of one language (85% one article, 12% 2-4, 3% 5-20), first
    seen at uniform times over a year; the other articles follow within hours (a few within days). Article
    ids grow with fetched_at, as when a crawler stores them. Texts (~1,000 characters in English, ~400 in
    Chinese) are sentences drawn from a Zipf-weighted vocabulary, so common words are in most articles and
    rare ones in a few hundred; every story has a name of its own (found in its articles only). A story's
    articles are near-duplicates of each other (a sentence changed, the outlet's footer added). Each article
    has a 512-byte MinHash like real ones (LSH band rows are left out: the web view never reads them).
  - 4% of stories are on one of three topics, each watched by a rule; their first article (and a third of
    the others) has an alert: 94% sent, 2% pending, 4% dead, a few being sent; a few health alerts.
  - 1% of articles were revised once or twice (article_revisions); the story used for /stories/{id} has
    12 articles, two of them revised.
  - source_state for every source (3 failing, 1 throttled), a month of hourly crawl runs per active
    source, and source_health as the daemon's health evaluation leaves it.

Building: `newsmon init` on an empty archive first (the schema is exactly the migrated one), then bulk
inserts: SQLite through executemany in large transactions (synchronous=OFF and a big cache for the load
only), PostgreSQL through COPY with the articles' secondary indexes dropped and recreated afterwards from
their own definitions (then VACUUM ANALYZE, which autovacuum would do after such a load). The archive's
triggers and generated columns do their work as rows arrive (SQLite's FTS5 index, PostgreSQL's
search_vector): the archive is indexed exactly as the app keeps it. Health is evaluated once by the project's
own code. The SQLite file is cached under --cache-dir keyed by the parameters and reused for --max-age
days (its dates are relative to when it was built); a cached archive is migrated to the newest schema
before use. PostgreSQL: the database newsmon_bench_web on the local server is created, and dropped at the end
unless --keep (a kept database with the same parameters is reused by the next run).

Measuring: `newsmon web` is started as a subprocess on a free port of 127.0.0.1 and every URL is requested
with httpx: --warmup requests each, then --repeat rounds over all URLs (interleaved, so a slow moment of the
machine is spread over every row). Printed per backend and URL: median and 90th percentile of the wall time
of the whole HTTP request, the HTTP statuses, and whether the median is within the 300 ms target. The build
time is printed apart (not part of the target).

Exit status: 0 every target met, 1 some not, 2 the benchmark failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import heapq
import json
import logging
import math
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENTRY = Path(sys.executable).with_name("newsmon")
NEWSMON = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "monitor.cli"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
TARGET_MS = 300.0
DATA_VERSION = 1  # bump when the generated archive changes shape: cached archives are then rebuilt
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_PG_DATABASE = "newsmon_bench_web"
DAY = 86400.0

# --- the corpus ---------------------------------------------------------------------------------------------------

EN_WORDS = """the of and to in a that for on is was with said as by at from it has its be are have will which
more this after an were new year government about than percent but had also not been up into over their two
people would economy first who other last one some per million growth market says what we could billion its
minister can national three state economic development country officials president since all while report
between under policy industry years world city week before month our during china cent companies prices trade
investment support local around according added plan public further years next bank many rate including time
second data financial region service technology program project agency news energy central project both still
inflation demand exports ministry quarter council sector rates foreign high reform construction security health
education workers rural urban power oil water infrastructure province capital markets global rise cooperation
innovation research production consumption digital science policies meeting statement visit leaders summit
housing property farmers grain weather flood rain transport railway airport port shipping logistics factory
manufacturing output services retail sales jobs employment income tax budget debt bonds yuan dollar euro stocks
shares index investors firms enterprise private small medium credit loans lending interest monetary fiscal
stimulus recovery slowdown forecast outlook analysts expected estimate survey census population aging birth
hospital doctors medicine vaccine disease school students university teachers exam culture tourism festival
museum heritage film music sport football basketball olympic games athletes team coach match season record
court law legal police crime safety fire accident environment pollution carbon emissions climate green solar
wind nuclear coal gas electricity grid vehicles electric battery cars chips semiconductor software internet
platform online mobile phone network cloud artificial intelligence robots automation drones ocean forest
""".split()
EN_PSEUDO_SYLLABLES = ("ka ro mi ten vor lan sel dra qui bel zor nim pa tur ex gal mon vi des ar po lek san ti fal ber "
                       "co nu shi ra go hel wen dus mar fi ob len tas cor pin").split()
ZH_WORDS = """经济 发展 政府 国家 企业 市场 建设 推进 工作 社会 改革 创新 科技 产业 服务 管理 城市 农村 投资 消费
增长 政策 部门 地区 项目 合作 国际 人民 会议 提出 实施 加强 推动 全面 坚持 稳定 安全 质量 体系 机制 能力 水平
生产 制造 数字 绿色 能源 环境 生态 文化 教育 医疗 卫生 就业 收入 住房 交通 铁路 港口 物流 贸易 出口 进口 金融
银行 货币 财政 税收 债券 股市 投资者 民营 中小企业 外资 开放 区域 协调 乡村 振兴 粮食 农业 工业 互联网 平台
人工智能 芯片 新能源 汽车 电池 光伏 风电 碳排放 气候 污染 治理 法治 司法 公安 应急 防汛 旅游 体育 赛事 博物馆
遗产 电影 学校 学生 大学 教师 医院 医生 疫苗 人口 老龄化 养老 保障 社保 调查 数据 统计 报告 季度 同比 百分点
记者 表示 介绍 指出 强调 部署 召开 举行 发布 印发 通知 意见 方案 规划 目标 任务 重点 领域 方面 措施 成效 成果
""".split()
ZH_CHARS = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方"
            "后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它"
            "合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条"
            "只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资"
            "边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研")


@dataclass(frozen=True)
class SourceSpec:
    name: str
    language: str
    weight: float
    configured: bool
    retired: bool  # no articles in the last six months (and not configured any more)


def make_sources(rng: random.Random) -> list[SourceSpec]:
    kinds = ["wire", "paper", "gov", "blog", "farm"]
    sources = []
    for n in range(50):
        language = "zh" if n % 10 in (1, 4, 7) else "en"  # 15 of 50
        name = f"{kinds[n % 5]}_{language}_{n:02d}"
        weight = 1.0 / (1 + n % 17) ** 1.3  # unequal sizes: ~40x between the biggest and the smallest
        retired = n >= 45
        configured = n < 42
        sources.append(SourceSpec(name, language, weight, configured, retired))
    rng.shuffle(sources)
    return sources


TOPICS = {
    # rule name: (query, English sentence, Chinese sentence)
    "productive_forces": ('"new quality productive forces" OR 新质生产力',
                          "Officials said new quality productive forces would lead the next stage of growth.",
                          "会议强调，要因地制宜发展新质生产力，推动产业升级。"),
    "satellites": ("satellite OR spacecraft", "The spacecraft carried a communications satellite into orbit.",
                   "卫星发射任务取得圆满成功，航天器顺利进入预定轨道。"),
    "trade_deals": ('"trade agreement" OR 贸易协定', "Negotiators reached a trade agreement after months of talks.",
                    "双方签署自由贸易协定，进一步扩大市场开放。"),
}


class Corpus:
    """Sentences drawn from a Zipf-weighted vocabulary, per language, and names for stories."""

    def __init__(self, rng: random.Random, en_sentences: int = 20_000, zh_sentences: int = 8_000):
        self.rng = rng
        pseudo = {self._pseudo(rng) for _ in range(20_000)} - set(EN_WORDS)
        en_vocab = EN_WORDS + sorted(pseudo)
        zh_vocab = ZH_WORDS + sorted({rng.choice(ZH_CHARS) + rng.choice(ZH_CHARS) for _ in range(5_000)})
        en_cum, zh_cum = self._cum(len(en_vocab)), self._cum(len(zh_vocab))
        self.en = [self._en_sentence(rng, en_vocab, en_cum) for _ in range(en_sentences)]
        self.zh = [self._zh_sentence(rng, zh_vocab, zh_cum) for _ in range(zh_sentences)]

    @staticmethod
    def _cum(n: int) -> list[float]:
        total, out = 0.0, []
        for rank in range(n):
            total += 1.0 / (rank + 1)
            out.append(total)
        return out

    @staticmethod
    def _pseudo(rng: random.Random) -> str:
        return "".join(rng.choice(EN_PSEUDO_SYLLABLES) for _ in range(rng.randint(2, 4)))

    @staticmethod
    def _en_sentence(rng, vocab, cum) -> str:
        words = rng.choices(vocab, cum_weights=cum, k=rng.randint(10, 24))
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    @staticmethod
    def _zh_sentence(rng, vocab, cum) -> str:
        words = rng.choices(vocab, cum_weights=cum, k=rng.randint(6, 16))
        cut = len(words) // 2
        return "".join(words[:cut]) + "，" + "".join(words[cut:]) + "。"

    def name(self, language: str) -> str:
        if language == "zh":
            return "".join(self.rng.choice(ZH_CHARS) for _ in range(3)) + "集团"
        return ("".join(self.rng.choice(EN_PSEUDO_SYLLABLES) for _ in range(4)) + "ia").capitalize()

    def pool(self, language: str) -> list[str]:
        return self.zh if language == "zh" else self.en


# --- the archive's rows, in fetched_at order -----------------------------------------------------------------------

ARTICLE_COLUMNS = ("id", "url", "canonical_url", "source", "title", "author", "published_at", "language", "outlet",
                   "text", "content_hash", "fetched_at", "matched_at", "story_id", "minhash", "checked_at",
                   "revision_count")
STORY_COLUMNS = ("id", "first_article_id", "first_seen_at", "last_seen_at", "article_count", "outlet_count", "title")
REVISION_COLUMNS = ("article_id", "revision", "title", "text", "content_hash", "fetched_at")
ALERT_COLUMNS = ("id", "kind", "rule", "article_id", "channel", "status", "attempts", "next_attempt_at", "last_error",
                 "delivery_key", "claimed_by", "claimed_until", "snippet", "revision", "created_at", "sent_at",
                 "payload", "event_key", "digest_start", "digest_end")


@dataclass
class Batch:
    stories: list[tuple] = field(default_factory=list)
    articles: list[tuple] = field(default_factory=list)
    revisions: list[tuple] = field(default_factory=list)
    alerts: list[tuple] = field(default_factory=list)


@dataclass
class Landmarks:
    """What the measured URLs point at."""

    showcase_story: int = 0
    showcase_name: str = ""
    articles: int = 0
    stories: int = 0
    alerts: int = 0
    revisions: int = 0
    per_source: dict[str, int] = field(default_factory=dict)
    last_article: dict[str, float] = field(default_factory=dict)
    recent_hours: dict[str, dict[int, int]] = field(default_factory=dict)  # new articles per hour, last 30 days


def ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


class Generator:
    def __init__(self, articles: int, seed: int, now: float):
        self.rng = random.Random(seed)
        self.target = articles
        self.now = now
        self.start = now - 365 * DAY
        self.retired_at = now - 182 * DAY
        self.sources = make_sources(self.rng)
        self.corpus = Corpus(self.rng)
        self.marks = Landmarks()
        self._next_alert = 1

    def _sizes(self) -> list[int]:
        sizes, total = [], 0
        while total < self.target:
            r = self.rng.random()
            size = 1 if r < 0.85 else self.rng.randint(2, 4) if r < 0.97 else self.rng.randint(5, 20)
            size = min(size, self.target - total)
            sizes.append(size)
            total += size
        return sizes

    def _pick(self, language: str | None, when: float, exclude: set[str]) -> SourceSpec:
        candidates = [s for s in self.sources if (language is None or s.language == language)
                      and not (s.retired and when >= self.retired_at) and s.name not in exclude]
        if not candidates:
            candidates = [s for s in self.sources if (language is None or s.language == language)
                          and not (s.retired and when >= self.retired_at)]
        return self.rng.choices(candidates, weights=[s.weight for s in candidates])[0]

    def batches(self, batch_size: int = 20_000):
        rng = self.rng
        sizes = self._sizes()
        # The story /stories/{id} shows: 12 articles, in the middle of the year.
        middle = len(sizes) * 3 // 5
        sizes[middle] = 12
        over = sum(sizes) - self.target  # keep the total exact
        for i in range(len(sizes) - 1, -1, -1):
            if over <= 0:
                break
            if i != middle:
                take = min(over, sizes[i] - 1)
                sizes[i] -= take
                over -= take
        sizes.extend([1] * -over)
        times = sorted(self.start + rng.random() * (self.now - 3600 - self.start) for _ in sizes)
        self.marks.showcase_story = middle + 1
        heap: list = []
        seq = 0
        next_id = 1
        batch = Batch()
        pending_story_rows: dict[int, tuple] = {}
        for index, (first, size) in enumerate(zip(times, sizes)):
            while heap and heap[0][0] < first:
                next_id = self._emit(heapq.heappop(heap), next_id, batch, pending_story_rows)
                if len(batch.articles) >= batch_size:
                    yield batch
                    batch = Batch()
            for item in self._story(index, first, size):
                heapq.heappush(heap, (item["fetched_at"], seq, item))
                seq += 1
            pending_story_rows[index + 1] = self._story_row
        while heap:
            next_id = self._emit(heapq.heappop(heap), next_id, batch, pending_story_rows)
            if len(batch.articles) >= batch_size:
                yield batch
                batch = Batch()
        if batch.articles or batch.stories:
            yield batch
        self.marks.stories = len(sizes)

    def _story(self, index: int, first: float, size: int) -> list[dict]:
        rng = self.rng
        lead = self._pick(None, first, set())
        language = lead.language
        name = self.corpus.name(language)
        pool = self.corpus.pool(language)
        sentences = [rng.randrange(len(pool)) for _ in range(rng.randint(4, 14))]
        topic = rng.choice(list(TOPICS)) if rng.random() < 0.04 else None
        showcase = index + 1 == self.marks.showcase_story
        if showcase:
            self.marks.showcase_name = name
        title_words = rng.sample(pool[rng.randrange(len(pool))].rstrip(".。").replace("，", " ").split(), k=1)
        if language == "zh":
            title = name + "".join(pool[rng.randrange(len(pool))][:rng.randint(6, 14)].split("，")[:1])
        else:
            title = f"{name} {' '.join(title_words)} {' '.join(pool[rng.randrange(len(pool))].split()[:5]).lower()}"
        delays = sorted([0.0] + [min(rng.expovariate(1 / (3 * 3600)), 7 * DAY) for _ in range(size - 1)])
        items, used = [], set()
        for k, delay in enumerate(delays):
            when = min(first + delay, self.now - 60)
            source = lead if k == 0 else self._pick(language, when, used)
            used.add(source.name)
            mine = list(sentences)
            if k:  # a near-duplicate: one sentence changed
                mine[rng.randrange(len(mine))] = rng.randrange(len(pool))
            body = [pool[i] for i in mine]
            lead_sentence = (f"{name}的消息。" if language == "zh" else f"{name} was in the news on Tuesday.")
            body.insert(0, lead_sentence)
            if topic:
                body.insert(rng.randint(1, len(body)), TOPICS[topic][2 if language == "zh" else 1])
            joiner = "" if language == "zh" else " "
            paragraphs = [joiner.join(body[i:i + 3]) for i in range(0, len(body), 3)]
            footer = f"© {source.name} 版权所有" if language == "zh" else f"Copyright {source.name}. All rights reserved."
            text = "\n\n".join(paragraphs + [footer])
            revisions = 0
            if (showcase and k in (1, 4)) or rng.random() < 0.01:
                revisions = 1 if not showcase and rng.random() < 0.7 else 2
            items.append(dict(story=index + 1, k=k, source=source, title=title if k == 0 or rng.random() < 0.6
                              else f"{title} - {source.name}", text=text, language=language, fetched_at=when,
                              topic=topic, revisions=revisions))
        self._story_row = (index + 1, None, first, delays[-1] + first if size else first, size, len(used), title)
        return items

    def _emit(self, entry, article_id: int, batch: Batch, pending_story_rows: dict[int, tuple]) -> int:
        rng = self.rng
        when, _seq, item = entry
        source: SourceSpec = item["source"]
        story_id = item["story"]
        if item["k"] == 0:
            sid, _none, first, last, count, outlets, title = pending_story_rows.pop(story_id)
            batch.stories.append((sid, article_id, first, min(last, self.now - 60), count, outlets, title))
        slug = hashlib.blake2s(f"{story_id}-{item['k']}".encode(), digest_size=6).hexdigest()
        day = ts(when)
        url = f"https://www.{source.name.replace('_', '-')}.example/{day:%Y/%m/%d}/{slug}-{article_id}.html"
        text = item["text"]
        revisions = item["revisions"]
        checked = when + rng.uniform(3600, 5 * DAY) if revisions else None
        if checked is not None:
            checked = min(checked, self.now - 30)
        published = when - rng.uniform(0, 6 * 3600) if rng.random() < 0.9 else None
        author = f"Reporter {rng.randrange(300)}" if rng.random() < 0.5 else None
        batch.articles.append((
            article_id, url, url, source.name, item["title"], author, published, item["language"], None, text,
            hashlib.sha256(text.encode()).hexdigest(), when, when + 60, story_id, rng.randbytes(512), checked,
            revisions))
        for number in range(1, revisions + 1):
            old = text.replace(".", ",", number) if item["language"] == "en" else text.replace("。", "；", number)
            earlier = when + (checked - when) * number / (revisions + 1)
            batch.revisions.append((article_id, number, item["title"], old,
                                    hashlib.sha256(old.encode()).hexdigest(), earlier))
        self.marks.revisions += revisions
        if item["topic"] and (item["k"] == 0 or rng.random() < 0.33):
            r = rng.random()
            status = "sent" if r < 0.94 else "pending" if r < 0.96 else "dead" if r < 0.998 else "sending"
            created = when + 90
            sent = created + rng.uniform(1, 30) if status == "sent" else None
            attempts = {"sent": 1, "pending": 0, "dead": 8, "sending": 1}[status]
            batch.alerts.append((
                self._next_alert, "article", item["topic"], article_id, "desk-hook", status, attempts,
                created if status != "dead" else created + 7200, "receiver said 500" if status == "dead" else None,
                f"{rng.getrandbits(128):032x}", "bench:1:x" if status == "sending" else None,
                self.now + 300 if status == "sending" else None, text[:160], 0, created, sent, None, None, None,
                None))
            self._next_alert += 1
        self.marks.articles += 1
        self.marks.per_source[source.name] = self.marks.per_source.get(source.name, 0) + 1
        self.marks.last_article[source.name] = max(self.marks.last_article.get(source.name, 0.0), when)
        hours_ago = int((self.now - when) // 3600)
        if hours_ago < 30 * 24:
            hours = self.marks.recent_hours.setdefault(source.name, {})
            hours[hours_ago] = hours.get(hours_ago, 0) + 1
        return article_id + 1

    def health_alerts(self) -> list[tuple]:
        rows = []
        for n in range(12):
            created = self.now - (n + 1) * 6 * 3600
            source = self.sources[n % len(self.sources)].name
            payload = json.dumps({"source": source, "state": "failing", "previous": "ok", "detail": "HTTP 503"})
            status = "sent" if n % 4 else "dead"
            rows.append((self._next_alert, "health", "health:failing", None, "desk-hook", status, 1, created,
                         None if status == "sent" else "receiver said 500", f"{self.rng.getrandbits(128):032x}", None,
                         None, None, 0, created, created + 5 if status == "sent" else None, payload,
                         f"health:{source}:{n}:desk-hook", None, None))
            self._next_alert += 1
        return rows

    def source_states(self) -> list[dict]:
        rows = []
        for n, source in enumerate(self.sources):
            last_new = self.marks.last_article.get(source.name)
            if source.retired:
                last_run = self.retired_at + 3600
            else:
                last_run = self.now - self.rng.uniform(30, 900)
            failing = n in (3, 11, 19) and not source.retired
            rows.append(dict(
                source=source.name, last_run_at=ts(last_run),
                last_success_at=ts(last_run - (6 * 3600 if failing else 0)),
                last_new_article_at=ts(last_new) if last_new else None,
                last_error="HTTP 503 Service Unavailable" if failing else None,
                last_error_at=ts(last_run) if failing else None, consecutive_failures=6 if failing else 0,
                total_failures=40 if failing else self.rng.randrange(5),
                throttled_until=ts(self.now + 600) if n == 7 else None,
                next_check_at=None if source.retired else ts(self.now + self.rng.uniform(0, 900))))
        return rows

    def crawl_runs(self) -> list[dict]:
        """A month of hourly checks per source still crawled, finding the articles stored in that hour
        (failing ones fail for their last 6 hours)."""
        rows = []
        for n, source in enumerate(self.sources):
            if source.retired:
                continue
            failing = n in (3, 11, 19)
            found = self.marks.recent_hours.get(source.name, {})
            for hour in range(30 * 24 - 1, -1, -1):
                started = self.now - (hour + 1) * 3600
                failed = failing and hour < 6
                new = 0 if failed else found.get(hour, 0)
                rows.append(dict(source=source.name, started_at=ts(started), finished_at=ts(started + 20),
                                 status="failed" if failed else "ok", pages_fetched=1 + new, new_articles=new,
                                 duplicates=0, errors=1 if failed else 0,
                                 error_summary="HTTP 503" if failed else None))
        return rows


# --- config -----------------------------------------------------------------------------------------------------------

def write_config(root: Path, database_url: str, sources: list[SourceSpec]) -> Path:
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    newsmon = {"database_url": database_url,
               "channels": {"desk-hook": {"type": "webhook", "url": "http://127.0.0.1:9/newsmon"}},
               "web": {"listen": "127.0.0.1:8080"}}
    (root / "newsmon.yaml").write_text(yaml.safe_dump(newsmon), encoding="utf-8")
    for folder in ("sources", "rules"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    for source in sources:
        if source.configured:
            data = {"kind": "feed", "start_urls": [f"https://www.{source.name.replace('_', '-')}.example/feed.xml"],
                    "language": source.language, "interval": "15m"}
            (root / "sources" / f"{source.name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for rule, (query, _en, _zh) in TOPICS.items():
        (root / "rules" / f"{rule}.yaml").write_text(
            yaml.safe_dump({"query": query, "channels": ["desk-hook"]}, allow_unicode=True), encoding="utf-8")
    return root


def newsmon(config_dir: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    done = subprocess.run([*NEWSMON, "--config", str(config_dir), *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"newsmon {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}")
    return done


# --- loading ----------------------------------------------------------------------------------------------------------

def sqlite_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _times(row: tuple, positions: tuple[int, ...], convert) -> tuple:
    out = list(row)
    for p in positions:
        out[p] = convert(out[p])
    return tuple(out)


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def load_sqlite(path: Path, gen: Generator, log) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB, for the load only
    conn.execute("PRAGMA temp_store = MEMORY")
    statements = {
        "stories": f"INSERT INTO stories ({','.join(STORY_COLUMNS)}) VALUES ({_placeholders(len(STORY_COLUMNS))})",
        "articles": f"INSERT INTO articles ({','.join(ARTICLE_COLUMNS)}) "
                    f"VALUES ({_placeholders(len(ARTICLE_COLUMNS))})",
        "revisions": f"INSERT INTO article_revisions ({','.join(REVISION_COLUMNS)}) "
                     f"VALUES ({_placeholders(len(REVISION_COLUMNS))})",
        "alerts": f"INSERT INTO alerts ({','.join(ALERT_COLUMNS)}) VALUES ({_placeholders(len(ALERT_COLUMNS))})",
    }
    started = time.monotonic()
    for batch in gen.batches():
        conn.execute("BEGIN")
        conn.executemany(statements["stories"], [_times(r, (2, 3), sqlite_time) for r in batch.stories])
        conn.executemany(statements["articles"], [_times(r, (6, 11, 12, 15), sqlite_time) for r in batch.articles])
        conn.executemany(statements["revisions"], [_times(r, (5,), sqlite_time) for r in batch.revisions])
        conn.executemany(statements["alerts"], [_times(r, (7, 11, 14, 15, 18, 19), sqlite_time)
                                                for r in batch.alerts])
        conn.execute("COMMIT")
        log(f"  sqlite: {gen.marks.articles:,} articles ({gen.marks.articles / (time.monotonic() - started):,.0f}/s)")
    conn.execute("BEGIN")
    conn.executemany(statements["alerts"], [_times(r, (7, 11, 14, 15, 18, 19), sqlite_time)
                                            for r in gen.health_alerts()])
    conn.execute("COMMIT")
    conn.close()


def copy_rows(conn, table: str, columns: tuple[str, ...], rows, convert=None) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(convert(row) if convert else row)


def pg_time(epoch: float | None) -> datetime | None:
    return None if epoch is None else ts(epoch)


def load_postgres(url: str, gen: Generator, log) -> None:
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    conn.execute("SET maintenance_work_mem = '1GB'")
    # Secondary indexes of articles (not those of constraints) are dropped for the load and made again from
    # their own definitions: one sort each instead of a million insertions (the GIN index above all).
    indexes = conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'articles' AND i.schemaname = "
        "current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").fetchall()
    for name, _definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    started = time.monotonic()
    for batch in gen.batches():
        with conn.transaction():
            copy_rows(conn, "stories", STORY_COLUMNS, batch.stories, lambda r: _times(r, (2, 3), pg_time))
            copy_rows(conn, "articles", ARTICLE_COLUMNS, batch.articles,
                      lambda r: _times(r, (6, 11, 12, 15), pg_time))
            copy_rows(conn, "article_revisions", REVISION_COLUMNS, batch.revisions, lambda r: _times(r, (5,), pg_time))
            copy_rows(conn, "alerts", ALERT_COLUMNS, batch.alerts,
                      lambda r: _times(r, (7, 11, 14, 15, 18, 19), pg_time))
        log(f"  postgresql: {gen.marks.articles:,} articles "
            f"({gen.marks.articles / (time.monotonic() - started):,.0f}/s)")
    copy_rows(conn, "alerts", ALERT_COLUMNS, gen.health_alerts(), lambda r: _times(r, (7, 11, 14, 15, 18, 19), pg_time))
    for name, definition in indexes:
        t0 = time.monotonic()
        conn.execute(definition)
        log(f"  postgresql: index {name} made again in {time.monotonic() - t0:.1f} s")
    for table in ("articles", "stories", "alerts"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.close()


def load_common(database_url: str, config_dir: Path, gen: Generator) -> None:
    """source_state, crawl runs and source health: through the project's own store and health code."""
    from sqlalchemy import insert

    from monitor.config import load_config
    from monitor.health.evaluate import evaluate_health
    from monitor.store.models import CrawlRun, SourceState
    from monitor.store.session import make_engine, session_factory, session_scope

    logging.getLogger("newsmon").setLevel(logging.ERROR)  # health's verdicts on the synthetic sources
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    try:
        with session_scope(sessions) as session:
            session.execute(insert(SourceState), gen.source_states())
            session.execute(insert(CrawlRun), gen.crawl_runs())
        config = load_config(config_dir, {})
        summary = evaluate_health(config, sessions, now=ts(gen.now))
        if summary.errors:
            raise RuntimeError(f"health evaluation failed: {summary.errors}")
    finally:
        engine.dispose()


# --- the archives -----------------------------------------------------------------------------------------------------

@dataclass
class Archive:
    backend: str
    url: str
    config_dir: Path
    marks: Landmarks
    sources: list[SourceSpec]
    now: float
    build_seconds: float
    reused: bool
    note: str = ""


def cache_key(args) -> str:
    return f"web-a{args.articles}-s{args.seed}-v{DATA_VERSION}"


def _marks_json(marks: Landmarks, sources: list[SourceSpec], now: float, seconds: float) -> dict:
    return {"marks": asdict(marks), "sources": [asdict(s) for s in sources], "now": now, "build_seconds": seconds}


def _from_json(data: dict) -> tuple[Landmarks, list[SourceSpec], float, float]:
    return (Landmarks(**data["marks"]), [SourceSpec(**s) for s in data["sources"]], data["now"],
            data["build_seconds"])


def sqlite_archive(args, work: Path, log) -> Archive:
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    key = cache_key(args)
    path, meta_path = cache / f"{key}.sqlite3", cache / f"{key}.json"
    url = f"sqlite:///{path}"
    if meta_path.exists() and path.exists() and not args.rebuild:
        meta = json.loads(meta_path.read_text())
        marks, sources, now, seconds = _from_json(meta)
        age = (time.time() - now) / DAY
        if age <= args.max_age:
            config_dir = write_config(work / "sqlite-config", url, sources)
            t0 = time.monotonic()
            newsmon(config_dir, "init")  # a cached archive is brought up to the newest schema
            note = f"cached archive ({age:.1f} days old), `newsmon init` {time.monotonic() - t0:.1f} s"
            return Archive("sqlite", url, config_dir, marks, sources, now, seconds, True, note)
        log(f"cached SQLite archive is {age:.1f} days old (> --max-age {args.max_age}): building it again")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    now = float(int(time.time() // 60 * 60))
    gen = Generator(args.articles, args.seed, now)
    config_dir = write_config(work / "sqlite-config", url, gen.sources)
    t0 = time.monotonic()
    newsmon(config_dir, "init")
    load_sqlite(path, gen, log)
    load_common(url, config_dir, gen)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = time.monotonic() - t0
    meta_path.write_text(json.dumps(_marks_json(gen.marks, gen.sources, now, seconds)))
    return Archive("sqlite", url, config_dir, gen.marks, gen.sources, now, seconds, False)


def _admin(args):
    from sqlalchemy import create_engine

    return create_engine(args.admin_url, isolation_level="AUTOCOMMIT")


def pg_url(args) -> str:
    from sqlalchemy import make_url

    return make_url(args.admin_url).set(database=args.pg_database).render_as_string(hide_password=False)


def postgres_archive(args, work: Path, log) -> Archive:
    from sqlalchemy import text

    key = cache_key(args)
    url = pg_url(args)
    admin = _admin(args)
    try:
        with admin.connect() as conn:
            comment = conn.execute(text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
                {"n": args.pg_database}).first()
        if comment is not None and comment[0] and not args.rebuild:
            meta = json.loads(comment[0])
            if meta.get("key") == key and (time.time() - meta["now"]) / DAY <= args.max_age:
                marks, sources, now, seconds = _from_json(meta)
                config_dir = write_config(work / "pg-config", url, sources)
                t0 = time.monotonic()
                newsmon(config_dir, "init")
                note = (f"kept database {args.pg_database} ({(time.time() - now) / DAY:.1f} days old), "
                        f"`newsmon init` {time.monotonic() - t0:.1f} s")
                return Archive("postgresql", url, config_dir, marks, sources, now, seconds, True, note)
        drop_postgres(args)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{args.pg_database}"'))
        now = float(int(time.time() // 60 * 60))
        gen = Generator(args.articles, args.seed, now)
        config_dir = write_config(work / "pg-config", url, gen.sources)
        t0 = time.monotonic()
        newsmon(config_dir, "init")
        load_postgres(url, gen, log)
        load_common(url, config_dir, gen)
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        seconds = time.monotonic() - t0
        meta = {"key": key, **_marks_json(gen.marks, gen.sources, now, seconds)}
        with admin.connect() as conn:
            literal = json.dumps(meta).replace("'", "''")
            conn.execute(text(f"COMMENT ON DATABASE \"{args.pg_database}\" IS '{literal}'"))
        return Archive("postgresql", url, config_dir, gen.marks, gen.sources, now, seconds, False)
    finally:
        admin.dispose()


def drop_postgres(args) -> None:
    from sqlalchemy import text

    from monitor.store.reader_role import reader_role_name

    admin = _admin(args)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{reader_role_name(args.pg_database)}"'))
    finally:
        admin.dispose()


# --- measuring --------------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def web_server(config_dir: Path, log_path: Path):
    import httpx

    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*NEWSMON, "--config", str(config_dir), "web", "--port", str(port)], stdout=log,
                                stderr=subprocess.STDOUT, env=ENV, cwd=ROOT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"newsmon web exited {proc.returncode}: {log_path.read_text()}")
            try:
                if httpx.get(f"{base}/api/rules", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"newsmon web did not answer within 60 s: {log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Endpoint:
    name: str
    path: str
    required: bool = True  # one the issue names; the others are measured for information


def endpoints(archive: Archive, client) -> list[Endpoint]:
    marks, sources = archive.marks, archive.sources
    configured = [s for s in sources if s.configured and not s.retired]
    big = max(configured, key=lambda s: marks.per_source.get(s.name, 0)).name
    small = min(configured, key=lambda s: marks.per_source.get(s.name, 0)).name
    retired = max((s for s in sources if s.retired), key=lambda s: marks.per_source.get(s.name, 0)).name
    story = marks.showcase_story
    name = urllib.parse.quote(marks.showcase_name)
    cursor = client.get("/api/stories").json()["next_cursor"] or ""
    q = urllib.parse.quote
    big_en = max((s for s in configured if s.language == "en"), key=lambda s: marks.per_source.get(s.name, 0)).name
    titles = [story["title"] or "" for story in client.get(f"/api/stories?source={big_en}").json()["stories"]]
    english_name = next((t.split()[0] for t in titles if t.split() and t.split()[0].endswith("ia")), "Nothingia")
    searches = [("common word", "economy"), ("phrase", '"new quality productive forces"'),
                ("Chinese", "新质生产力"), ("2-character Chinese word", "经济"),
                ("rare word, one story", english_name), ("Chinese name, one story", marks.showcase_name),
                ("boolean", "satellite AND orbit")]
    out = [
        Endpoint("stories", "/"),
        Endpoint("stories, page 2", f"/?cursor={cursor}"),
        Endpoint(f"stories, big source ({big})", f"/?source={big}"),
        Endpoint(f"stories, small source ({small})", f"/?source={small}"),
        Endpoint(f"stories, retired source ({retired})", f"/?source={retired}"),
        Endpoint("stories, language zh", "/?lang=zh"),
        Endpoint("stories, language en", "/?lang=en"),
        Endpoint("stories, rule", "/?rule=trade_deals", required=False),
        Endpoint("story (12 articles, revisions)", f"/stories/{story}"),
        *[Endpoint(f"search: {label}", f"/search?q={q(query)}") for label, query in searches],
        Endpoint("sources", "/sources"),
        Endpoint("alerts", "/alerts", required=False),
        Endpoint("rules", "/rules", required=False),
        Endpoint("api stories", "/api/stories"),
        Endpoint("api stories, page 2", f"/api/stories?cursor={cursor}"),
        Endpoint(f"api stories, big source ({big})", f"/api/stories?source={big}"),
        Endpoint(f"api stories, small source ({small})", f"/api/stories?source={small}"),
        Endpoint("api story", f"/api/stories/{story}"),
        *[Endpoint(f"api search: {label}", f"/api/search?q={q(query)}") for label, query in searches],
        Endpoint("api stories?q= (search)", f"/api/stories?q={name}", required=False),
        Endpoint("api sources", "/api/sources"),
        Endpoint("api alerts", "/api/alerts", required=False),
    ]
    return out


@dataclass
class Result:
    backend: str
    name: str
    path: str
    required: bool
    median_ms: float
    p90_ms: float
    statuses: dict[str, int]
    items: int | None  # rows in a JSON answer (stories, results, sources), for a sense of what was measured

    @property
    def met(self) -> bool:
        return self.median_ms <= TARGET_MS and set(self.statuses) == {"200"}


def _items(response) -> int | None:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    body = response.json()
    for key in ("stories", "results", "sources", "alerts", "articles"):
        if isinstance(body.get(key), list):
            return len(body[key])
    return None


def measure(archive: Archive, args, work: Path, log) -> list[Result]:
    import httpx

    with web_server(archive.config_dir, work / f"web-{archive.backend}.log") as base, \
            httpx.Client(base_url=base, timeout=120) as client:
        points = endpoints(archive, client)
        timings: dict[str, list[float]] = {p.path: [] for p in points}
        statuses: dict[str, dict[str, int]] = {p.path: {} for p in points}
        items: dict[str, int | None] = {}
        for point in points:
            for _ in range(args.warmup):
                response = client.get(point.path)
                items[point.path] = _items(response)
        for round_ in range(args.repeat):
            for point in points:
                t0 = time.perf_counter()
                response = client.get(point.path)
                timings[point.path].append((time.perf_counter() - t0) * 1000)
                key = str(response.status_code)
                statuses[point.path][key] = statuses[point.path].get(key, 0) + 1
                if round_ == 0 and point.path not in items:
                    items[point.path] = _items(response)
            log(f"  {archive.backend}: round {round_ + 1}/{args.repeat}")
    results = []
    for point in points:
        values = sorted(timings[point.path])
        p90 = values[min(len(values) - 1, math.ceil(0.9 * len(values)) - 1)] if values else float("nan")
        results.append(Result(archive.backend, point.name, point.path, point.required,
                              statistics.median(values) if values else float("nan"), p90, statuses[point.path],
                              items.get(point.path)))
    return results


def print_table(results: list[Result], backends: list[str]) -> None:
    order: list[str] = []
    for r in results:
        if r.name not in order:
            order.append(r.name)
    width = max(len(n) for n in order) + 2
    print(f"{'backend':<11} {'endpoint':<{width}} {'median ms':>9} {'p90 ms':>8}  {'status':<8} {'rows':>4}  "
          f"target {TARGET_MS:.0f} ms median")
    by_key = {(r.backend, r.name): r for r in results}
    for name in order:
        for backend in backends:
            r = by_key.get((backend, name))
            if r is None:
                continue
            status = ",".join(f"{k}x{v}" if len(r.statuses) > 1 else k for k, v in sorted(r.statuses.items()))
            verdict = "met" if r.met else "NOT met"
            if not r.required:
                verdict += " (not required)"
            rows = "" if r.items is None else str(r.items)
            print(f"{backend:<11} {name:<{width}} {r.median_ms:>9.1f} {r.p90_ms:>8.1f}  {status:<8} {rows:>4}  "
                  f"{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per URL (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per URL first (default 3)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH ('-': stdout)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (reused by the next run)")
    parser.add_argument("--rebuild", action="store_true", help="build the archives again even if cached")
    parser.add_argument("--max-age", type=float, default=3.0,
                        help="days a cached archive is reused (its dates are relative to when it was built)")
    parser.add_argument("--cache-dir", default=str(ROOT / "benchmarks" / ".cache"))
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL,
                        help="a PostgreSQL URL allowed to create databases (default: %(default)s)")
    parser.add_argument("--pg-database", default=DEFAULT_PG_DATABASE)
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        parser.error(f"--backends takes sqlite and/or postgresql, not {','.join(sorted(unknown)) or 'nothing'}")
    quiet = args.json == "-"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    work = Path(tempfile.mkdtemp(prefix="newsmon-bench-web-"))
    archives: list[Archive] = []
    results: list[Result] = []
    status = 0
    try:
        for backend in backends:
            log(f"{backend}: building the archive ({args.articles:,} articles)")
            archive = (sqlite_archive if backend == "sqlite" else postgres_archive)(args, work, log)
            archives.append(archive)
            log(f"{backend}: measuring")
            results.extend(measure(archive, args, work, log))
    except Exception as exc:  # the benchmark itself failed: say why, clean up, exit 2
        import traceback

        traceback.print_exc()
        print(f"benchmark failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        status = 130
    finally:
        if "postgresql" in backends and not args.keep:
            with contextlib.suppress(Exception):
                drop_postgres(args)
        shutil.rmtree(work, ignore_errors=True)
    if status:
        return status
    out = sys.stderr if quiet else sys.stdout
    with contextlib.redirect_stdout(out):
        print(f"newsmon web on {args.articles:,} articles ({', '.join(backends)}); "
              f"{args.warmup} warm-up + {args.repeat} timed requests per URL")
        for a in archives:
            how = a.note if a.reused else "built now"
            print(f"archive build, {a.backend}: {a.build_seconds:.0f} s ({how}); {a.marks.articles:,} articles, "
                  f"{a.marks.stories:,} stories, {a.marks.revisions:,} revisions")
        print()
        print_table(results, backends)
        required = [r for r in results if r.required]
        missed = [r for r in required if not r.met]
        print()
        print(f"target {TARGET_MS:.0f} ms median: {'met' if not missed else 'NOT met'} by "
              f"{len(required) - len(missed)} of {len(required)} required rows")
    summary = {
        "articles": args.articles, "target_ms": TARGET_MS, "repeat": args.repeat, "warmup": args.warmup,
        "archives": {a.backend: {"build_seconds": round(a.build_seconds, 1), "reused": a.reused, "note": a.note,
                                 "articles": a.marks.articles, "stories": a.marks.stories} for a in archives},
        "results": [dict(backend=r.backend, name=r.name, path=r.path, required=r.required,
                         median_ms=round(r.median_ms, 2), p90_ms=round(r.p90_ms, 2), statuses=r.statuses,
                         items=r.items, met=r.met) for r in results],
    }
    if args.json == "-":
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    elif args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if all(r.met for r in results if r.required) else 1


if __name__ == "__main__":
    sys.exit(main())
