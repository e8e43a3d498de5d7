"""The one extraction entry point: page bytes -> ExtractedArticle.

trafilatura does the heavy lifting; around it newsmon removes chrome from the
DOM first (banners, share bars, related lists, comment forms, captions into
their own field), applies per-source hints, and cleans the text after
(bylines, "Source:" lines, breadcrumbs, licence lines, repeated paragraphs,
learned site boilerplate). Never raises on bad input: an empty `text` comes
with a `reason`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from monitor.config import ExtractHints
from monitor.extract import dom
from monitor.extract.encoding import decode_html
from monitor.extract.hints import apply_hints, hinted_date
from monitor.extract.limits import MAX_BYTES, MAX_DEPTH, looks_binary, looks_truncated, nesting_depth, too_deep
from monitor.extract.metadata import (
    detect_language,
    page_author,
    page_date,
    page_description,
    page_language,
    page_title,
    title_variants,
)
from monitor.extract.text import clean_text
from monitor.text.cjk import CJK, HANGUL
from monitor.text.scripts import prose_weight, text_weight

log = logging.getLogger(__name__)
MIN_CHARS = 120
MIN_CJK_CHARS = 40
MIN_PARAGRAPH = 60  # characters (CJK count triple) in the longest paragraph of any real article
_HTML_SIGN = re.compile(r"<\s*(html|body|head|p|div|article|main|section|span|h[1-6]|table|br)\b", re.IGNORECASE)
# Comments go at parse time: removing them later would take their tail text
# (the rest of the sentence) with them.
# Built once: trafilatura otherwise builds its options object for every page.
_TRAFILATURA = Extractor(output_format="python", fast=True, comments=False, tables=True, dedup=False,
                         with_metadata=False)
# Plain trafilatura, with its own fallbacks, for the pages where our clean-up may have lost the article.
_PLAIN = Extractor(output_format="python", fast=False, comments=False, tables=True, dedup=False, with_metadata=False)
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
# The DOM clean-up removed this much prose (weight, see text_weight) and more than half what was left:
# check against trafilatura on the untouched page.
SUSPECT_REMOVED = 400
# Trafilatura's text (after the line rules) has this much more prose than ours: ours lost the article.
FALLBACK_RATIO = 1.5
FALLBACK_MARGIN = 200


@dataclass(frozen=True)
class ExtractedArticle:
    text: str                         # body paragraphs joined by "\n\n"; "" when nothing usable
    title: str | None = None          # headline, without the site name
    author: str | None = None
    date: str | None = None           # ISO date YYYY-MM-DD
    language: str | None = None       # "en", "zh", ...
    outlet: str | None = None         # the outlet named in a "Source: X" line, if any
    captions: tuple[str, ...] = ()    # image captions, kept out of the body
    encoding: str = "utf-8"           # the codec actually used to decode
    reason: str | None = None         # why text is empty (None when text is non-empty)
    # Where newsmon's clean-up was overruled because it would have lost the article
    # ("dom: ...", "text: ..."): the result then holds trafilatura's own text, cleaned by line rules only.
    fallbacks: tuple[str, ...] = ()


def _empty(reason: str, encoding: str = "utf-8", **meta: object) -> ExtractedArticle:
    return ExtractedArticle(text="", reason=reason, encoding=encoding, **meta)


def extract_article(body: bytes, *, url: str | None = None, content_type: str | None = None,
                    hints: ExtractHints | None = None, boilerplate: frozenset[str] = frozenset(),
                    max_bytes: int = MAX_BYTES) -> ExtractedArticle:
    """Page bytes -> article. Never raises: when `text` is empty, `reason` says why.

    `content_type` is the HTTP header (its charset wins over the page's own);
    `hints` are the source's selectors; `boilerplate` holds normalized lines
    learned as the site's template, dropped from the text; bodies longer than
    `max_bytes` are cut there before parsing."""
    try:
        return _extract_bytes(body, url, content_type, hints or ExtractHints(), boilerplate, max_bytes)
    except Exception as exc:  # the contract: a bad page is a result, never a crashed pipeline
        log.warning("extraction failed on %s", url or "a page", exc_info=True)
        return _empty(f"extraction failed: {exc.__class__.__name__}: {str(exc)[:200]}")


def _extract_bytes(body: bytes, url: str | None, content_type: str | None, hints: ExtractHints,
                   boilerplate: frozenset[str], max_bytes: int) -> ExtractedArticle:
    if not body or not body.strip():
        return _empty("empty body")
    if looks_binary(body):
        return _empty("binary content, not an HTML page")
    truncated = len(body) > max_bytes
    if truncated:
        body = body[:max_bytes]
    if nesting_depth(body) >= MAX_DEPTH:
        return _empty(f"elements nested too deeply to be an article page (over {MAX_DEPTH} levels)")
    html, encoding = decode_html(body, content_type)
    if not _HTML_SIGN.search(html[:20000]):
        return _empty("not an HTML page (no HTML tags found)", encoding)
    cut_note = f" (page truncated at {_size(max_bytes)})" if truncated else ""
    try:
        result = _extract(html, encoding, hints, boilerplate, cut_note)
    except (RecursionError, MemoryError, ValueError, etree.LxmlError) as exc:
        return _empty(f"page could not be parsed: {exc.__class__.__name__}{cut_note}", encoding)
    if result.text and (why := _not_an_article(result.text)):
        if looks_truncated(body) and not truncated:
            why = "page looks truncated (no closing </body> or </html>): " + why
        else:
            why = "no article: " + why
        return _empty(why + cut_note, encoding, title=result.title, date=result.date, author=result.author,
                      outlet=result.outlet, language=result.language, captions=result.captions)
    return result


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _not_an_article(text: str) -> str | None:
    """Why this text is no article: shorter than any article (a teaser, an
    error page, a cut-off download), or only short lines (a link list or
    navigation that survived as 'text'). None when it is fine."""
    if len(text) < MIN_CHARS and len(CJK.findall(text)) + len(HANGUL.findall(text)) < MIN_CJK_CHARS:
        return f"only {len(text)} characters of text"
    longest = max(text_weight(line) for line in text.split("\n"))
    if longest < MIN_PARAGRAPH:
        return "only short lines (link lists or navigation), no paragraph"
    return None


def _extract(html: str, encoding: str, hints: ExtractHints, boilerplate: frozenset[str],
             cut_note: str) -> ExtractedArticle:
    tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=_PARSER)
    hinted = hinted_date(tree, hints)
    visible = dom.visible_metadata(tree)
    title, _site = page_title(tree)
    titles = title_variants(tree)
    meta_date, meta_author = page_date(tree), page_author(tree)
    marked = dom.classify(tree)
    dom.drop_standfirst(marked.standfirsts, page_description(tree))
    dom.drop_link_tables(tree)
    dom.unwrap_layout_tables(tree)
    captions = dom.take_captions(tree, marked.captions)
    apply_hints(tree, hints, dom.drop)
    removed = dom.remove_chrome(tree, marked.chrome)
    # Metadata comes from our own cheap DOM reads above: trafilatura's metadata
    # pass (htmldate, dateparser) costs more than its text extraction.
    # Its fallbacks (readability, jusText) are left out (fast=True): after our own
    # chrome removal they did not help on the benchmark pages (F1 0.9765 with them,
    # 0.9768 without) but cost a quarter of trafilatura's time, and are quadratic
    # in the number of blocks on huge pages.
    doc = trafilatura.bare_extraction(tree, options=_TRAFILATURA)
    raw = (doc.text if hasattr(doc, "text") else doc.get("text")) if doc is not None else ""
    clean = {"title": title, "captions": captions, "boilerplate": boilerplate, "title_variants": titles}
    cleaned = clean_text(raw or "", **clean)
    fallbacks = list(cleaned.fallbacks)
    ours = cleaned.text.split("\n\n") if cleaned.text else []
    failed = _not_an_article(cleaned.text) if cleaned.text else "no text"
    if failed or removed > max(SUSPECT_REMOVED, text_weight(cleaned.text) // 2):
        # Never worse than the base: compare with trafilatura on the untouched page.
        plain = _plain_text(html)
        if plain:
            other = clean_text(plain, **clean)
            theirs = other.text.split("\n\n") if other.text else []
            if other.text and not _not_an_article(other.text) and (
                    failed or prose_weight(theirs) > FALLBACK_RATIO * prose_weight(ours) + FALLBACK_MARGIN):
                why = (f"dom: newsmon's clean-up left {failed}" if failed else
                       f"dom: chrome rules removed {removed} of prose, trafilatura's text has "
                       f"{prose_weight(theirs)} against {prose_weight(ours)}")
                log.debug("extraction fallback: %s", why)
                fallbacks = list(other.fallbacks) + [why + "; used trafilatura's text"]
                cleaned = other
    if doc is None and not cleaned.text:
        why = "elements nested too deeply to be an article page" if too_deep(tree) else "no article text found"
        return _empty(why + cut_note, encoding, title=title, captions=tuple(captions))
    date = hinted or meta_date or cleaned.meta.date or visible.date
    outlet = cleaned.meta.outlet or visible.outlet
    author = meta_author or cleaned.meta.author
    language = detect_language(cleaned.text) or page_language(tree)
    if not cleaned.text:
        return _empty("no article text left after removing page chrome" + cut_note, encoding, title=title,
                      date=date, author=author, outlet=outlet, captions=tuple(captions))
    return ExtractedArticle(text=cleaned.text, title=title, author=author, date=date, language=language,
                            outlet=outlet, captions=tuple(captions), encoding=encoding, fallbacks=tuple(fallbacks))


def _plain_text(html: str) -> str:
    """trafilatura alone on a fresh parse of the page (no newsmon clean-up)."""
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=_PARSER)
        doc = trafilatura.bare_extraction(tree, options=_PLAIN)
    except (RecursionError, MemoryError, ValueError, etree.LxmlError):
        return ""
    if doc is None:
        return ""
    return (doc.text if hasattr(doc, "text") else doc.get("text")) or ""
