"""Which story a new article joins: pure decision over candidate signatures.

monitor.dedup.story_assignment applies it to stored articles, under the story lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.dedup.signatures import similarity

# Estimated shingle Jaccard at or above which two articles are one story.
# Chosen on the labelled set in benchmarks/dedup.py: same-story mutations
# (rewrites of ~10% of words, reordered or added paragraphs, other chrome)
# stay well above it; distinct stories on one topic stay near 0.
SAME_STORY = 0.2


def best_story(signature: bytes, candidates: Iterable[tuple[int, int | None, bytes | None]],
               threshold: float = SAME_STORY) -> tuple[int | None, float]:
    """(story id, similarity) of the most similar candidate at or above the threshold.
    Candidates are (article id, story id, signature); ties go to the older article."""
    best: tuple[float, int, int | None] | None = None
    for article_id, story_id, other in candidates:
        if other is None or story_id is None:
            continue
        score = similarity(signature, other)
        if score >= threshold and (best is None or (score, -article_id) > (best[0], -best[1])):
            best = (score, article_id, story_id)
    return (best[2], best[0]) if best else (None, 0.0)
