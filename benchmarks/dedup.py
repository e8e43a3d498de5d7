"""Near-duplicate dedup: lookup cost as the archive grows, and story grouping quality.

    python benchmarks/dedup.py [--sizes 1000 100000 1000000] [--dataset DIR]

(a) Candidate lookup (repo.story_candidates: the indexed LSH band query the
    crawler runs for every new article) with 1k, 100k and 1M archived
    signatures in a SQLite archive, printed as time per lookup and the ratio to
    the 1k time. Target: 1M <= 3x 1k.
(b) Story grouping precision and recall on a labelled set: the seed texts and
    the Scrapinghub articles' bodies, each with mutations (other chrome,
    reordered paragraphs, ~10% of words changed, another encoding, a paragraph
    added or dropped), stored in random order through store_in_stories (the crawl's
    writer's path: add_articles, then story assignment under the story lock).
    Pairs placed in one story are scored against the truth. Targets:
    precision >= 0.97, recall >= 0.95.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from monitor.dedup import content_hash  # noqa: E402
from monitor.dedup.signatures import NUM_PERM, band_keys, minhash  # noqa: E402
from monitor.dedup.story_assignment import store_in_stories  # noqa: E402
from monitor.extract import extract_article  # noqa: E402
from monitor.store import repo  # noqa: E402
from monitor.store.models import Article  # noqa: E402
from monitor.store.session import make_engine, migrate, session_factory, session_scope  # noqa: E402

DEFAULT_DATASET = ROOT.parent / "shared" / "benchmarks" / "scrapinghub-articles"
CHROME = ["Home » News » China", "Share this article: Facebook Twitter WeChat", "You may also like",
          "This website uses cookies to improve your experience. Accept Read More",
          "Copyright © 2024 All rights reserved.", "Related Articles"]
FILLER = ["headline", "update", "breaking", "latest", "news", "today"]  # for the fake related links only


# --- (a) lookup cost -------------------------------------------------------------------


def add_random_signatures(db: Path, start: int, stop: int, rng: np.random.Generator) -> None:
    """Synthetic archived articles with random MinHash signatures, inserted in bulk."""
    conn = sqlite3.connect(db)
    now = "2024-01-01 00:00:00.000000"
    batch = 20_000
    for lo in range(start, stop, batch):
        hi = min(lo + batch, stop)
        sigs = rng.integers(0, 1 << 32, size=(hi - lo, NUM_PERM), dtype=np.uint64).astype("<u4")
        conn.executemany(
            "INSERT INTO articles (id, url, canonical_url, source, text, content_hash, fetched_at, minhash, story_id)"
            " VALUES (?, ?, ?, 's', '', 'h', ?, ?, NULL)",
            [(i + 1, f"u{i}", f"u{i}", now, sigs[i - lo].tobytes()) for i in range(lo, hi)])
        conn.executemany("INSERT INTO article_bands (band, key, article_id) VALUES (?, ?, ?)",
                         [(band, key, i + 1) for i in range(lo, hi) for band, key in band_keys(sigs[i - lo].tobytes())])
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def time_lookups(url: str, probes: list[bytes], rounds: int = 3) -> float:
    sessions = session_factory(make_engine(url))
    best = float("inf")
    with session_scope(sessions) as session:
        repo.story_candidates(session, band_keys(probes[0]))  # warm the connection and caches
        for _ in range(rounds):
            start = time.perf_counter()
            for probe in probes:
                repo.story_candidates(session, band_keys(probe))
            best = min(best, (time.perf_counter() - start) / len(probes))
    return best


def lookup_benchmark(sizes: list[int]) -> list[tuple[int, float]]:
    rng = np.random.default_rng(1)
    probes = [rng.integers(0, 1 << 32, size=NUM_PERM, dtype=np.uint64).astype("<u4").tobytes() for _ in range(300)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "lookup.sqlite3"
        url = f"sqlite:///{db}"
        migrate(url)
        have = 0
        for size in sorted(sizes):
            add_random_signatures(db, have, size, rng)
            have = size
            results.append((size, time_lookups(url, probes)))
    return results


# --- (b) grouping quality --------------------------------------------------------------


def paragraphs_of(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def mutations(text: str, vocabulary: list[str], rng: random.Random) -> dict[str, str]:
    """The same story as other outlets carry it: words replaced by others from the
    corpus vocabulary, a new paragraph of the republisher's own, and so on."""
    paras = paragraphs_of(text)
    words = text.split()
    rewritten = " ".join(w if rng.random() > 0.10 else rng.choice(vocabulary) for w in words)
    shuffled = paras[:]
    rng.shuffle(shuffled)
    added = paras + [" ".join(rng.choice(vocabulary) for _ in range(40)).capitalize() + "."]
    dropped = paras[:-1] if len(paras) > 2 else paras
    return {"original": text, "chrome": with_chrome(text, rng), "reordered": "\n".join(shuffled),
            "rewritten": rewritten, "added": "\n".join(added), "dropped": "\n".join(dropped),
            "encoding": through_encoding(text)}


def page(text: str, before: str = "", after: str = "", charset: str = "utf-8") -> str:
    return (f"<html><head><meta charset='{charset}'><title>x</title></head><body>{before}<article>"
            + "".join(f"<p>{p}</p>" for p in paragraphs_of(text)) + f"</article>{after}</body></html>")


def with_chrome(text: str, rng: random.Random) -> str:
    """The text in another site's page chrome, extracted as the crawler would."""
    nav = f"<div class='breadcrumb'>{CHROME[0]}</div><div class='share'>{CHROME[1]}</div>"
    tail = (f"<h3>{CHROME[2]}</h3><ul><li><a href='/a'>{rng.choice(FILLER)} headline</a></li></ul>"
            f"<div id='cookie-banner'>{CHROME[3]}</div><footer>{CHROME[4]}</footer>")
    return extract_article(page(text, nav, tail).encode("utf-8")).text or text


def through_encoding(text: str) -> str:
    """The text as a GB18030 page with a lying GB2312 declaration, extracted again."""
    return extract_article(page(text, charset="gb2312").encode("gb18030", errors="replace")).text or text


def labelled_set(dataset: Path, limit: int | None) -> list[tuple[str, str]]:
    """(story label, text) pairs."""
    rng = random.Random(42)
    bases = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "replay" / "seeds").glob("*.txt"))]
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    bases += [(pid, truth[pid]["articleBody"]) for pid in sorted(truth)[:limit]]
    bases = [(label, text) for label, text in bases if len(text.split()) >= 60]  # shorter: not a story
    vocabulary = sorted({w for _label, text in bases for w in text.split() if w.isalpha()})
    docs = []
    for label, text in bases:
        docs += [(label, v) for v in mutations(text, vocabulary, rng).values()]
    rng.shuffle(docs)
    return docs


def grouping_benchmark(dataset: Path, limit: int | None) -> dict:
    docs = labelled_set(dataset, limit)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'stories.sqlite3'}"
        migrate(url)
        sessions = session_factory(make_engine(url))
        start = time.perf_counter()
        for n, (label, text) in enumerate(docs):
            with session_scope(sessions) as session:
                store_in_stories(session, [dict(
                    minhash=minhash(text), url=f"http://bench/{n}", canonical_url=f"http://bench/{n}",
                    source=f"outlet{n % 7}", title=label, text=text, content_hash=content_hash(text) + str(n),
                    fetched_at=repo.utcnow())])
        elapsed = time.perf_counter() - start
        with session_scope(sessions) as session:
            rows = [(a.title, a.story_id) for a in session.query(Article)]
    predicted = {(i, j) for (i, (_, si)), (j, (_, sj)) in itertools.combinations(enumerate(rows), 2) if si == sj}
    actual = {(i, j) for (i, (li, _)), (j, (lj, _)) in itertools.combinations(enumerate(rows), 2) if li == lj}
    tp = len(predicted & actual)
    return {"documents": len(docs), "stories": len({label for label, _ in docs}),
            "precision": tp / len(predicted) if predicted else 1.0, "recall": tp / len(actual) if actual else 1.0,
            "per_article_ms": elapsed / len(docs) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N Scrapinghub pages")
    args = parser.parse_args()

    quality = grouping_benchmark(args.dataset, args.limit)
    print(f"(b) story grouping: {quality['documents']} documents from {quality['stories']} stories "
          "(seeds + Scrapinghub bodies; chrome, reorder, ~10% words, encoding, paragraph added/dropped)")
    print(f"    precision {quality['precision']:.4f}  recall {quality['recall']:.4f}  "
          f"(targets >= 0.97 / >= 0.95)   {quality['per_article_ms']:.2f} ms per stored article")

    timings = lookup_benchmark(args.sizes)
    base = timings[0][1]
    print("(a) candidate lookup (indexed LSH bands, SQLite):")
    print(f"    {'signatures':>12}{'ms/lookup':>12}{'ratio to ' + format(timings[0][0], ','):>16}")
    for size, seconds in timings:
        print(f"    {size:>12,}{seconds * 1000:>12.3f}{seconds / base:>16.2f}")
    print(f"    target: {timings[-1][0]:,} <= 3x {timings[0][0]:,}: "
          f"{'met' if timings[-1][1] <= 3 * base else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
