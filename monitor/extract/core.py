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

from monitor.config import ExtractHints
from monitor.dedup.hashing import normalize_text
from monitor.extract import chrome
from monitor.extract.encoding import decode_html
from monitor.extract.hints import apply_hints, hinted_date
from monitor.extract.limits import MAX_BYTES, looks_binary, looks_truncated, too_deep
from monitor.extract.metadata import detect_language, page_author, page_date, page_title

log = logging.getLogger(__name__)
_HTML_SIGN = re.compile(r"<\s*(html|body|head|p|div|article|main|section|span|h[1-6]|table|br)\b", re.IGNORECASE)
# Comments go at parse time: removing them later would take their tail text
# (the rest of the sentence) with them.
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
_PROTECTED = {"html", "body", "main", "article"}
_PHOTO_CREDIT = re.compile(r"(\((?:photo|xinhua|reuters|ap|afp|file photo)[^)]{0,60}\)|（[^）]{0,30}摄）|摄）?)$", re.I)
_META_CLASS = re.compile(r"info|date|time|meta|publish|posted|byline|source", re.I)
_LEADING_DATE = re.compile(r"^(?:\D{0,20}?)(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2})")
_CAPTION_START = re.compile(r"^(图为|圖為|图片|photo:|pictured:?|image:|file photo)", re.I)
_CAPTION = re.compile(r"(^|[\s_-])(caption|wp-caption-text|img-desc|photo-?text|pic-?text)([\s_-]|$)", re.I)


@dataclass(frozen=True)
class ExtractedArticle:
    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    language: str | None = None
    outlet: str | None = None
    captions: tuple[str, ...] = ()
    encoding: str = "utf-8"
    reason: str | None = None


def _empty(reason: str, encoding: str = "utf-8", **meta: object) -> ExtractedArticle:
    return ExtractedArticle(text="", reason=reason, encoding=encoding, **meta)


def extract_article(body: bytes, *, url: str | None = None, content_type: str | None = None,
                    hints: ExtractHints | None = None, boilerplate: frozenset[str] = frozenset()) -> ExtractedArticle:
    if not body or not body.strip():
        return _empty("empty body")
    if looks_binary(body):
        return _empty("binary content, not an HTML page")
    truncated = len(body) > MAX_BYTES
    if truncated:
        body = body[:MAX_BYTES]
    html, encoding = decode_html(body, content_type)
    if not _HTML_SIGN.search(html[:20000]):
        return _empty("not an HTML page (no HTML tags found)", encoding)
    try:
        result = _extract(html, encoding, url, hints or ExtractHints(), boilerplate, truncated)
    except (RecursionError, MemoryError, ValueError, etree.LxmlError) as exc:
        return _empty(f"page could not be parsed: {exc.__class__.__name__}", encoding)
    if result.text and _too_short(result.text):
        why = "page looks truncated (no closing </body> or </html>)" if looks_truncated(body) else "no article"
        return _empty(f"{why}: only {len(result.text)} characters of text", encoding, title=result.title,
                      date=result.date, author=result.author, captions=result.captions)
    return result


def _too_short(text: str) -> bool:
    """Shorter than any article: a teaser, an error page, a cut-off download."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return len(text) < MIN_CHARS and cjk < MIN_CJK_CHARS


MIN_CHARS = 120
MIN_CJK_CHARS = 40


def _extract(html: str, encoding: str, url: str | None, hints: ExtractHints, boilerplate: frozenset[str],
             truncated: bool) -> ExtractedArticle:
    tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=_PARSER)
    hinted = hinted_date(tree, hints)
    visible = _visible_metadata(tree)
    title, _site = page_title(tree)
    meta_date, meta_author = page_date(tree), page_author(tree)
    _unwrap_layout_tables(tree)
    captions = _take_captions(tree)
    apply_hints(tree, hints, _drop)
    _remove_chrome(tree)
    # Metadata comes from our own cheap DOM reads; trafilatura's metadata pass
    # (htmldate, dateparser) cost more than its text extraction.
    doc = trafilatura.bare_extraction(tree, url=url, with_metadata=False, include_comments=False,
                                      include_tables=True, favor_precision=False, deduplicate=False)
    if doc is None:
        why = "elements nested too deeply to be an article page" if too_deep(tree) else "no article text found"
        return _empty(why + (" (page truncated at 5 MB)" if truncated else ""), encoding, captions=tuple(captions))
    raw = doc.text if hasattr(doc, "text") else doc.get("text")
    cleaned = clean_text(raw or "", title=title, captions=captions, boilerplate=boilerplate)
    date = hinted or meta_date or cleaned.date or visible.date
    outlet = cleaned.outlet or visible.outlet
    author = meta_author or cleaned.author
    language = detect_language(cleaned.text)
    if not cleaned.text:
        return _empty("no article text left after removing page chrome", encoding, title=title, date=date,
                      author=author, captions=tuple(captions))
    return ExtractedArticle(text=cleaned.text, title=title, author=author, date=date, language=language,
                            outlet=outlet, captions=tuple(captions), encoding=encoding)


# --- DOM clean-up before trafilatura ------------------------------------------------


_BLOCKS = ("p", "div", "table", "h1", "h2", "h3", "h4", "ul", "ol", "article", "section")


def _unwrap_layout_tables(tree: lxml.html.HtmlElement) -> None:
    """Old portals lay pages out with tables; a table whose cells hold
    paragraphs or other tables is layout, not data: turn it into divs so the
    paragraphs inside stay paragraphs."""
    for table in list(tree.iter("table")):
        cells = table.xpath("./tr/td | ./tr/th | ./tbody/tr/td | ./tbody/tr/th | ./thead/tr/th")
        one_row = len(table.xpath("./tr | ./tbody/tr | ./thead/tr")) <= 1  # a banner, not data
        if not one_row and not any(cell.find(".//" + tag) is not None for cell in cells for tag in _BLOCKS):
            continue
        table.tag = "div"
        for element in table.xpath("./tbody | ./thead | ./tfoot | .//tr | ./tr/td | ./tr/th | ./tbody/tr/td | ./tbody/tr/th"):
            if element.tag in ("tbody", "thead", "tfoot", "tr", "td", "th"):
                element.tag = "div"
        for attr in ("width", "align", "valign", "border", "cellpadding", "cellspacing"):
            table.attrib.pop(attr, None)


def _visible_metadata(tree: lxml.html.HtmlElement) -> CleanText:
    """'2023-12-08 Source: Economic Information Daily' or ' date 2021-06-10 '
    in a small element of its own, which trafilatura may leave out."""
    found = CleanText(text="")
    for element in tree.iter("td", "div", "span", "p", "time"):
        if len(element) > 6:
            continue
        text = " ".join(element.text_content().split())
        if not 6 <= len(text) <= 160:
            continue
        if _take_metadata(text, found) and found.date and found.outlet:
            break
        # "2023-12-18  Font size: L M S  Print" in an info bar
        if found.date is None and _META_CLASS.search(_attrs(element)):
            match = _LEADING_DATE.match(text)
            if match:
                found.date = chrome.normalize_date(match.group(1))
    found.author = None  # bylines outside the text are trafilatura's job
    return found


def _take_captions(tree: lxml.html.HtmlElement) -> list[str]:
    captions: list[str] = []
    doomed = []
    for element in tree.iter("figcaption", "div", "p", "span", "td"):
        if element.tag == "figcaption" or _CAPTION.search(_attrs(element)) or _follows_lone_image(element):
            text = " ".join(element.text_content().split())
            if text and len(text) < 600:
                captions.append(text)
                doomed.append(element)
    for element in doomed:
        _drop(element)
    return captions


def _follows_lone_image(element: lxml.html.HtmlElement) -> bool:
    """News sites put a photo in one paragraph and its caption, starting like
    one or ending in a photo credit, in the next."""
    previous = element.getprevious()
    if previous is None or element.tag not in ("p", "div"):
        return False
    if previous.tag != "img" and (not previous.xpath(".//img") or previous.text_content().strip()):
        return False
    text = element.text_content().strip()
    if not text or len(text) > 400:
        return False
    # Layout alone (centred text) proved unreliable: testimonials and pull quotes look the same.
    return bool(_PHOTO_CREDIT.search(text) or _CAPTION_START.match(text))


def _attrs(element: lxml.html.HtmlElement) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _remove_chrome(tree: lxml.html.HtmlElement) -> None:
    protected = _article_ancestors(tree)
    doomed = []
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in _PROTECTED or element in protected:
            continue
        if element.tag in ("nav", "aside", "footer", "form", "noscript", "template") or (
                chrome.CHROME_ATTR.search(_attrs(element))):
            doomed.append(element)
    for element in doomed:
        _drop(element)


def _article_ancestors(tree: lxml.html.HtmlElement, keep: int = 3) -> set:
    """The containers of the page's longest runs of text are the article,
    whatever their class says ("widget Blog", "l-sidebar-fixed l-article-body")."""
    lengths = []
    for node in tree.xpath("//body//text()[string-length(normalize-space(.)) > 80]"):
        parent = node.getparent()
        if parent is not None and parent.tag not in ("script", "style", "a"):
            lengths.append((len(node), parent))
    lengths.sort(key=lambda pair: pair[0], reverse=True)
    protected = set()
    for _length, element in lengths[:keep]:
        protected.add(element)
        protected.update(element.iterancestors())
    return protected


def _drop(element: lxml.html.HtmlElement) -> None:
    parent = element.getparent()
    if parent is None:
        return
    # Keep the tail text (it belongs to the parent), drop the element.
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# --- text clean-up after trafilatura -------------------------------------------------


@dataclass
class CleanText:
    text: str
    date: str | None = None
    author: str | None = None
    outlet: str | None = None


def clean_text(raw: str, *, title: str | None, captions: list[str], boilerplate: frozenset[str]) -> CleanText:
    result = CleanText(text="")
    caption_keys = {normalize_text(c) for c in captions}
    title_key = normalize_text(title) if title else None
    kept: list[str] = []
    seen: set[str] = set()
    lines = [_strip_table_row(" ".join(line.split())) for line in raw.splitlines()]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        key = normalize_text(line)
        head = i < 8  # metadata lines sit at the top of the article
        if head and _take_metadata(line, result):
            continue
        if chrome.TAIL_MARKER.match(line):
            if _rest_is_listy(lines[i + 1:]):
                break
            continue  # the heading itself is chrome even when real text follows
        if not key or chrome.is_chrome_line(line) or key in boilerplate or key in caption_keys:
            continue
        if head and title_key and key == title_key:
            continue
        if len(key) > 60:  # content farms repeat whole paragraphs; short lines repeat legitimately
            if key in seen:
                continue
            seen.add(key)
        kept.append(line)
    result.text = "\n\n".join(kept)
    return result


def _strip_table_row(line: str) -> str:
    """trafilatura renders data-table rows as '| a | b |': drop chrome cells."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    cells = [c.strip() for c in line.strip("|").split("|")]
    if not any(c and chrome.is_chrome_line(c) for c in cells):
        return line
    kept = [c for c in cells if c and not chrome.is_chrome_line(c)]
    return "| " + " | ".join(kept) + " |" if kept else ""


def _take_metadata(line: str, result: CleanText) -> bool:
    if (match := chrome.SOURCE_LINE.match(line)) is not None:
        result.outlet = result.outlet or match.group("outlet").strip()
        if match.group("date"):
            result.date = result.date or chrome.normalize_date(match.group("date"))
        return True
    if (match := chrome.DATE_LINE.match(line)) is not None and chrome.normalize_date(match.group("date")):
        result.date = result.date or chrome.normalize_date(match.group("date"))
        return True
    if (match := chrome.BYLINE.match(line)) is not None and len(line) < 70:
        result.author = result.author or match.group(1).strip()
        return True
    return False


def _rest_is_listy(rest: list[str]) -> bool:
    """After a 'Related Articles' heading: only headlines remain, i.e. short
    lines that mostly do not end like sentences."""
    if len(rest) >= 40 or any(len(line) >= 160 for line in rest[:30]):
        return False
    sentences = sum(1 for line in rest if line.rstrip().endswith((".", "!", "?", "。", "！", "？", "”", '"')))
    return sentences * 2 <= len(rest)
