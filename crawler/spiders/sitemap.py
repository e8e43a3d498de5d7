"""XML sitemaps, sitemap indexes and Google News sitemaps (parsed with defusedxml)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from xml.etree.ElementTree import Element, ParseError

import scrapy
from scrapy.http import Response

from crawler.spiders.base import SourceSpider
from crawler.xmlsafety import UnsafeXml, parse_xml

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit, uncompressed


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return None


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class SitemapSpider(SourceSpider):
    kind = "sitemap"

    async def start(self):  # noqa: ANN201
        for url in self.source.start_urls:
            yield self.listing_request(url, self.parse_sitemap)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if self.unchanged(response):
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz served without Content-Encoding
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
                    body = fh.read(MAX_SITEMAP_BYTES + 1)
            except OSError as exc:
                self.runlog.error(self, "sitemap", response.url, f"broken gzip: {exc}")
                return
            if len(body) > MAX_SITEMAP_BYTES:
                self.runlog.error(self, "sitemap", response.url, "larger than 50 MB uncompressed; skipped")
                return
        try:
            root = parse_xml(body)
        except UnsafeXml as exc:
            self.runlog.error(self, "sitemap", response.url, str(exc))
            return
        except ParseError as exc:
            self.runlog.error(self, "sitemap", response.url, f"not a valid XML sitemap: {exc}")
            return
        kind = _local(root.tag)
        if kind == "sitemapindex":
            self.runlog.listing_ok = True
            yield from self._children(root, response)
        elif kind == "urlset":
            self.runlog.listing_ok = True
            yield from self._articles(root, response)
        else:
            self.runlog.error(self, "sitemap", response.url, f"not a sitemap: root element is <{kind}>")

    def _children(self, root: Element, response: Response) -> Iterator[scrapy.Request]:
        """Newest child sitemaps first; an index of years of archives needs only the recent ones."""
        children = []
        for entry in root:
            if _local(entry.tag) != "sitemap":
                continue
            loc = _child_text(entry, "loc")
            if loc:
                children.append((_parse_date(_child_text(entry, "lastmod")), response.urljoin(loc)))
        children.sort(key=lambda c: c[0] or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
        for lastmod, url in children[: self.source.max_sitemaps]:
            if self.too_old(lastmod):
                continue
            yield self.listing_request(url, self.parse_sitemap)

    def _articles(self, root: Element, response: Response) -> Iterator[scrapy.Request]:
        entries = []
        for entry in root:
            if _local(entry.tag) != "url":
                continue
            loc = _child_text(entry, "loc")
            if loc:
                published = _parse_date(_child_text(entry, "publication_date") or _child_text(entry, "lastmod"))
                entries.append((response.urljoin(loc), {"title": _child_text(entry, "title"), "published": published}))
        yield from self.article_requests(entries)
