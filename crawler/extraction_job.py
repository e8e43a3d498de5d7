"""What an extraction worker process runs. Kept apart from the pipeline so a
worker imports only extraction and signatures, not Scrapy and the archive."""

from __future__ import annotations

from monitor.dedup.signatures import minhash
from monitor.extract import ExtractedArticle, extract_article


def extract_and_sign(body: bytes, **kwargs) -> tuple[ExtractedArticle, bytes | None]:  # noqa: ANN003
    """The text and its near-duplicate signature, both CPU-bound."""
    result = extract_article(body, **kwargs)
    return result, (minhash(result.text) if result.text else None)


def ready() -> bool:
    """A no-op job: submitted when the crawl starts, so workers have imported the above
    by the time the first article arrives."""
    return True
