"""Metadata of a page: its title cleaned of the site name, its language,
and the date and author its <meta> tags and JSON-LD state, read straight
from the DOM (cheaper than trafilatura's full metadata pass)."""

from __future__ import annotations

import json
import re
import string
import weakref
from dataclasses import dataclass

from monitor.text.cjk import HAN, HANGUL, KANA
from monitor.text.dates import first_iso_date

_SEPARATORS = re.compile(r"\s+[-|–—_·:]\s+|_(?=[^_]{1,20}$)|\s*[|｜]\s*")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")
_ASCII_LETTERS = string.ascii_letters.encode()
_ENGLISH = re.compile(r"\b(the|and|of|to|in|is|that|for|with|was|on)\b", re.IGNORECASE)
_LANG_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$", re.IGNORECASE)
_DATE_META = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
              "publish-date", "date", "dc.date.issued", "dc.date", "dcterms.created", "sailthru.date",
              "parsely-pub-date", "article.published", "published_time", "release_date")
_AUTHOR_META = ("author", "article:author", "dc.creator", "byl", "parsely-author", "sailthru.author")
_META_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class PageMetadata:
    """Date, author and outlet as a page states them, filled as they are found."""
    date: str | None = None      # YYYY-MM-DD
    author: str | None = None
    outlet: str | None = None    # the outlet named in a "Source: X" line

    def fill(self, date: str | None = None, outlet: str | None = None, author: str | None = None) -> None:
        """Take the given fields this one lacks: the first statement on a page wins."""
        self.date = self.date or date
        self.outlet = self.outlet or outlet
        self.author = self.author or author


def clean_title(title: str | None, site_name: str | None = None) -> str | None:
    """Drop a trailing (or leading) site name: 'Story - Xinhua' -> 'Story'."""
    if not title:
        return None
    title = " ".join(title.split())
    parts = [p for p in _SEPARATORS.split(title) if p and p.strip()]
    if len(parts) < 2:
        return title
    site = (site_name or "").strip().lower()
    if site:
        if parts[-1].strip().lower() == site or site in parts[-1].lower():
            return _join_back(title, parts[:-1])
        if parts[0].strip().lower() == site:
            return _join_back(title, parts[1:])
    # Without a known site name, drop a short last part (a site name) after a longer headline.
    last = parts[-1].strip()
    if len(last) <= 30 and len(title) - len(last) >= 2 * len(last) and len(parts) == 2:
        return parts[0].strip()
    return title


def _join_back(title: str, parts: list[str]) -> str:
    """Keep the original separators inside the kept part of the title."""
    if not parts:
        return title
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip(" -|–—_·:")


def detect_language(text: str) -> str | None:
    sample = text[:2000]
    # Letters are counted as ASCII ones (deleted from the ASCII bytes: one pass in C) plus
    # the others, so mostly-Latin text does not build a list of every letter.
    ascii_only = sample.isascii()
    ascii_bytes = sample.encode("ascii", "ignore")
    latin = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_LETTERS))
    letters = latin + (0 if ascii_only else len(_NON_ASCII_LETTER.findall(sample)))
    if not letters:
        return None
    if not ascii_only:
        if len(KANA.findall(sample)) / letters > 0.05:
            return "ja"
        if len(HANGUL.findall(sample)) / letters > 0.2:
            return "ko"
        if len(HAN.findall(sample)) / letters > 0.2:
            return "zh"
    if latin / letters > 0.8:
        return "en" if _looks_english(sample) else None
    return None


def _looks_english(sample: str) -> bool:
    words = max(len(sample.split()), 1)
    return len(_ENGLISH.findall(sample)) / words > 0.08


def _meta_tags(tree) -> dict[str, str]:
    """All <meta> name/property -> content of a page, first one wins; read once per tree."""
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    cached = _META_CACHE.get(root)
    if cached is not None:
        return cached
    found: dict[str, str] = {}
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        content = (element.get("content") or "").strip()
        if key and content and key not in found:
            found[key] = content
    _META_CACHE[root] = found
    return found


def _meta(tree, names: tuple[str, ...]) -> str | None:
    found = _meta_tags(tree)
    for name in names:
        if name in found:
            return found[name]
    return None


def _json_ld(tree) -> list[dict]:
    items: list[dict] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack and len(items) < 50:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                items.append(node)
                if "@graph" in node:
                    stack.append(node["@graph"])
    return items


def page_title(tree) -> tuple[str | None, str | None]:
    """(headline, site name) from og:title, <title> or the first <h1>."""
    site = _meta(tree, ("og:site_name", "application-name"))
    title = _meta(tree, ("og:title", "twitter:title"))
    if not title:
        element = tree.find(".//title")
        title = element.text_content().strip() if element is not None else None
    h1_element = tree.find(".//h1")
    h1 = " ".join(h1_element.text_content().split()) if h1_element is not None else None
    if not title:
        title = h1
    title = clean_title(title, site)
    # "Headline | Blog Name": the page's own <h1> says where the headline ends.
    if title and h1 and len(h1) >= 10 and h1 != title and h1 in title:
        title = h1
    return (title, site)


def title_variants(tree) -> list[str]:
    """Every way the page states its headline (<title>, og/twitter titles, the
    first <h1>): a body line equal to one of them is the headline again."""
    found = [_meta(tree, ("og:title",)), _meta(tree, ("twitter:title",))]
    element = tree.find(".//title")
    if element is not None:
        found.append(element.text_content())
    h1_element = tree.find(".//h1")
    if h1_element is not None:
        found.append(h1_element.text_content())
    return [" ".join(t.split()) for t in found if t and t.strip()]


def page_description(tree) -> str | None:
    text = _meta(tree, ("og:description", "description", "twitter:description"))
    return " ".join(text.split()) if text else None


def page_language(tree) -> str | None:
    """The language the page declares (<html lang>, Content-Language), as 'en', 'zh'."""
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    for value in (root.get("lang"), root.get("xml:lang"), _meta(tree, ("content-language", "og:locale", "language"))):
        match = _LANG_CODE.match((value or "").strip())
        if match:
            return match.group(1).lower()
    return None


def page_date(tree) -> str | None:
    date = first_iso_date(_meta(tree, _DATE_META))
    if date:
        return date
    for item in _json_ld(tree):
        if (date := first_iso_date(str(item.get("datePublished") or item.get("dateCreated") or ""))):
            return date
    for element in tree.xpath("//*[@itemprop='datePublished'] | //time[@datetime]")[:3]:
        if (date := first_iso_date(element.get("datetime") or element.get("content") or element.text_content())):
            return date
    return None


def page_author(tree) -> str | None:
    author = _meta(tree, _AUTHOR_META)
    if author and not author.startswith("http"):
        return " ".join(author.split())[:200]
    for item in _json_ld(tree):
        value = item.get("author")
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            value = value.get("name")
        if isinstance(value, str) and value.strip() and not value.startswith("http"):
            return " ".join(value.split())[:200]
    return None
