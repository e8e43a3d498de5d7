"""XML sitemaps, sitemap indexes and Google News sitemaps (parsed with defusedxml).

Each sitemap is fetched at most once per crawl (an index listing itself, or a
cycle through several indexes, would otherwise loop until the crawl timeout),
and indexes are followed max_sitemap_depth levels deep at most."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError

import scrapy
from scrapy.http import Response

from crawler.spiders.base import BadEntry, SourceSpider, entry_url
from crawler.xmlsafety import UnsafeXml, parse_xml
from monitor.text.dates import parse_iso_datetime

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit, uncompressed
DEPTH = "newsmon_sitemap_depth"  # request meta: levels of indexes above this sitemap


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: Element, name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return None


def _parse_date(text: str | None) -> datetime | None:
    """A W3C (ISO 8601) date as sitemaps use, or an RFC 2822 one as some write; in UTC.
    Raises BadEntry for a date that is neither, or not a possible date."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = parse_iso_datetime(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise BadEntry(f"impossible date {text[:100]!r}") from None
    try:
        return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (OverflowError, ValueError):  # 9999-12-31T23:59:59-14:00 is past the year 9999 in UTC
        raise BadEntry(f"impossible date {text[:100]!r}") from None


def _loc(entry: Element, response: Response) -> str | None:
    loc = _child_text(entry, "loc")
    if not loc:
        return None
    return entry_url(response.url, loc, "<loc>")


def _describe(tag: str, index: int, entry: Element) -> str:
    loc = _child_text(entry, "loc")
    return f"<{tag}> {index} <{loc[:300]}>" if loc else f"<{tag}> {index}"


class SitemapSpider(SourceSpider):
    kind = "sitemap"

    def __init__(self, source, **kwargs):
        super().__init__(source, **kwargs)
        depth = source.max_sitemap_depth
        self.max_depth = self.context.config.crawl.max_sitemap_depth if depth is None else depth
        self.sitemaps_seen: set[str] = set()  # requested this crawl: each is fetched once

    async def start(self):
        for url in self.start_urls:
            self.sitemaps_seen.add(url)
            yield self.listing_request(url, self.parse_sitemap, **{DEPTH: 0})

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if self.unchanged(response):
            return
        if response.meta.get("redirect_urls"):  # redirected to a sitemap this crawl already has?
            if response.url in self.sitemaps_seen:
                self.count("repeated_sitemaps")
                return
            self.sitemaps_seen.add(response.url)
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz served without Content-Encoding
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
                    body = fh.read(MAX_SITEMAP_BYTES + 1)
            except (OSError, EOFError, zlib.error) as exc:
                self.report_error("sitemap", response.url, f"broken gzip: {exc}")
                return
            if len(body) > MAX_SITEMAP_BYTES:
                self.report_error("sitemap", response.url, "larger than 50 MB uncompressed; skipped")
                return
        try:
            root = parse_xml(body)
        except UnsafeXml as exc:
            self.report_error("sitemap", response.url, str(exc))
            return
        except ParseError as exc:
            self.report_error("sitemap", response.url, f"not a valid XML sitemap: {exc}")
            return
        kind = _local(root.tag)
        if kind == "sitemapindex":
            self.mark_listing_read()
            for request in self._children(root, response):
                yield request
        elif kind == "urlset":
            self.mark_listing_read()
            async for request in self._articles(root, response):
                yield request
        else:
            self.report_error("sitemap", response.url, f"not a sitemap: root element is <{kind}>")

    def _children(self, root: Element, response: Response) -> Iterator[scrapy.Request]:
        """Newest child sitemaps first; an index of years of archives needs only the recent ones."""
        depth = response.meta.get(DEPTH, 0) + 1
        if depth > self.max_depth:
            self.report_error("sitemap", response.url,
                              f"sitemap indexes nested more than {self.max_depth} levels deep: its child "
                              "sitemaps are not followed (raise max_sitemap_depth if the site needs it)")
            return
        children = []
        for index, entry in enumerate(root, 1):
            if _local(entry.tag) != "sitemap":
                continue
            try:
                url = _loc(entry, response)
                lastmod = _parse_date(_child_text(entry, "lastmod"))
            except BadEntry as exc:
                self.entry_error(response.url, _describe("sitemap", index, entry), str(exc))
                continue
            if url in self.sitemaps_seen:
                self.count("repeated_sitemaps")  # an index listing itself, or a cycle
            elif url:
                children.append((lastmod, url))
        children.sort(key=lambda c: c[0] or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
        for lastmod, url in children[: self.source.max_sitemaps]:
            if self.too_old(lastmod) or url in self.sitemaps_seen:  # seen: listed twice in this index
                continue
            self.sitemaps_seen.add(url)
            yield self.listing_request(url, self.parse_sitemap, **{DEPTH: depth})

    async def _articles(self, root: Element, response: Response) -> AsyncIterator[scrapy.Request]:
        entries = []
        for index, entry in enumerate(root, 1):
            if _local(entry.tag) != "url":
                continue
            try:
                url = _loc(entry, response)
                published = _parse_date(_child_text(entry, "publication_date") or _child_text(entry, "lastmod"))
            except BadEntry as exc:
                self.entry_error(response.url, _describe("url", index, entry), str(exc))
                continue
            if url:
                entries.append((url, {"title": _child_text(entry, "title"), "published": published}))
        async for request in self.article_requests(entries, response.url):
            yield request
