"""What an extraction worker process runs. Kept apart from the pipeline so a
worker imports only extraction and signatures, not Scrapy and the archive."""

from __future__ import annotations

from monitor.dedup import content_hash
from monitor.dedup.signatures import minhash
from monitor.extract import ExtractedArticle, extract_article


def extract_and_sign(body: bytes, **kwargs) -> tuple[ExtractedArticle, bytes | None, str | None]:
    """The text, its near-duplicate signature and its content hash: all CPU-bound, all done
    here so the crawl process keeps its CPU for downloading."""
    result = extract_article(body, **kwargs)
    if not result.text:
        return result, None, None
    return result, minhash(result.text), content_hash(result.text)


def ready() -> bool:
    """A no-op job: submitted when the crawl starts, so workers have imported the above
    by the time the first article arrives."""
    return True
