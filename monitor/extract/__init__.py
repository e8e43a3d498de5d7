"""Article extraction: bytes in, ExtractedArticle out (pure; no DB, no network)."""

from monitor.extract.core import ExtractedArticle, extract_article
from monitor.extract.encoding import decode_html

__all__ = ["ExtractedArticle", "decode_html", "extract_article"]
