"""DOM clean-up before trafilatura sees the page: known chrome removed by
tag, class and id (one pass, see `classify`), photo captions taken into their
own field, the standfirst that repeats the description, link-only paragraphs,
layout tables unwrapped, and visible date/source lines read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from monitor.extract import chrome
from monitor.extract.metadata import PageMetadata
from monitor.extract.metadata_lines import take_metadata
from monitor.text.dates import NUMERIC_DATE, normalize_date
from monitor.text.normalize import normalize_text
from monitor.text.scripts import text_weight

_PROTECTED = {"html", "body", "main", "article"}
_PHOTO_CREDIT = re.compile(
    r"(\((?:photo|xinhua|reuters|ap|afp|file photo)[^)]{0,60}\)|（[^）]{0,30}摄）|摄）?"
    r"|\bphoto(?:graph)?s? (?:by|courtesy of|credit:?)(?: reporter)? [A-Z][\w.'’ -]{1,60}"
    r"|\((?:photo|image|credit)s?:[^)]{1,60}\)|/(?:getty images|reuters|ap|afp|xinhua))\.?$", re.I)
_META_CLASS = re.compile(r"info|date|time|meta|publish|posted|byline|source", re.I)
_LEADING_DATE = re.compile(rf"^(?:\D{{0,20}}?)({NUMERIC_DATE})")
_CAPTION_START = re.compile(r"^(图为|圖為|图片|photo:|pictured:?|image:|file photo|the (?:picture|photo|image) shows)", re.I)
_CAPTION = re.compile(r"(^|[\s_-])(caption|wp-caption-text|img-desc|photo-?text|pic-?text)([\s_-]|$)", re.I)
_STANDFIRST = re.compile(r"(^|[\s_-])(dek|deck|standfirst|strapline|sub-?head(line|ing)?|sub-?title|summary)([\s_-]|$)",
                         re.IGNORECASE)

_BLOCKS = ("p", "div", "table", "h1", "h2", "h3", "h4", "ul", "ol", "article", "section")


_UNLINKED_PROSE = etree.XPath(".//text()[string-length(normalize-space(.)) > 60][not(ancestor::a)]")


def drop_link_tables(tree: lxml.html.HtmlElement) -> int:
    """In table layouts (old newspaper templates), a cell or table that is a
    list of links - related headlines, a "hot news" box, navigation - is
    chrome: three or more links, link text at least 70% of its text, and no
    run of unlinked prose. The article body in another cell of the same
    table stays. Returns how many were dropped."""
    doomed = []
    for element in tree.iter("td", "table"):
        links = element.findall(".//a")
        if len(links) < 3:
            continue
        text = "".join(element.text_content().split())
        if not text:
            continue
        linked = sum(len("".join(a.text_content().split())) for a in links)
        if linked >= 0.7 * len(text) and not _UNLINKED_PROSE(element):
            doomed.append(element)
    dropped = 0
    for element in doomed:
        if element.getparent() is not None and not any(a in doomed for a in element.iterancestors()):
            drop(element)
            dropped += 1
    return dropped


def unwrap_layout_tables(tree: lxml.html.HtmlElement) -> None:
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


# Text that may hold a visible date (four digits in a row) or a "Source:" label,
# found by native XPath without reading every element's text in Python.
_INFO_TEXT = etree.XPath(
    "//body//text()[contains(., '20') or contains(., '19') or contains(., 'ource') or contains(., 'OURCE')"
    " or contains(., '来源') or contains(., '來源')][not(parent::script or parent::style)]")
_INFO_TAGS = ("td", "div", "span", "p", "time")


def visible_metadata(tree: lxml.html.HtmlElement) -> PageMetadata:
    """'2023-12-08 Source: Economic Information Daily' or ' date 2021-06-10 '
    in a small element of its own, which trafilatura may leave out."""
    found = PageMetadata()
    candidates: dict = {}  # insertion order: outer elements before inner ones, in document order
    for node in _INFO_TEXT(tree):
        chain = []
        element = node.getparent()
        for _level in range(4):
            if element is None:
                break
            if element.tag in _INFO_TAGS:
                chain.append(element)
            element = element.getparent()
        for element in reversed(chain):
            candidates.setdefault(element, None)
    for element in candidates:
        if len(element) > 6:
            continue
        text = " ".join(element.text_content().split())
        if not 6 <= len(text) <= 160:
            continue
        if take_metadata(text, found) and found.date and found.outlet:
            break
        # "2023-12-18  Font size: L M S  Print" in an info bar
        if found.date is None and _META_CLASS.search(_attrs(element)):
            match = _LEADING_DATE.match(text)
            if match:
                found.date = normalize_date(match.group(1))
    found.author = None  # bylines outside the text are trafilatura's job
    return found


@dataclass
class _Marked:
    """Elements singled out by tag, class or id in one pass over the page."""
    chrome: list = field(default_factory=list)
    captions: list = field(default_factory=list)
    standfirsts: list = field(default_factory=list)


_CHROME_TAGS = frozenset({"nav", "aside", "footer", "form", "noscript", "template"})
_CAPTION_TAGS = frozenset({"figcaption", "div", "p", "span", "td"})
_STANDFIRST_TAGS = frozenset({"p", "div", "h2", "span", "section"})
_NOTHING = (False, False, False)


def classify(tree: lxml.html.HtmlElement) -> _Marked:
    marked = _Marked()
    verdicts: dict[tuple[str | None, str | None], tuple[bool, bool, bool]] = {}  # class strings repeat a lot
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        cls, ident, prop = element.get("class"), element.get("id"), element.get("itemprop")
        if cls is None and ident is None:
            verdict = _NOTHING
        else:
            key = (cls, ident)
            verdict = verdicts.get(key)
            if verdict is None:
                attrs = f"{cls or ''} {ident or ''}"
                verdict = verdicts[key] = (bool(chrome.CHROME_ATTR.search(attrs)), bool(_CAPTION.search(attrs)),
                                           bool(_STANDFIRST.search(attrs)))
        if tag == "figcaption" or (verdict[1] and tag in _CAPTION_TAGS):
            marked.captions.append(element)
        if verdict[2] and tag in _STANDFIRST_TAGS:
            marked.standfirsts.append(element)
        if tag in _PROTECTED:
            continue
        if tag in _CHROME_TAGS or verdict[0] or (prop in chrome.METADATA_ITEMPROPS and tag not in ("img", "time")):
            marked.chrome.append(element)
    return marked


def take_captions(tree: lxml.html.HtmlElement, marked: list) -> list[str]:
    doomed = list(marked)
    # Whatever directly follows a photo (or the paragraph or link holding only a photo).
    for image in tree.iter("img"):
        element = image
        for _level in range(3):
            if element is None:
                break
            following = element.getnext()
            if following is not None and following.tag in ("p", "div") and _follows_lone_image(following):
                doomed.append(following)
            element = element.getparent()
    if len(doomed) > len(marked):  # restore document order
        position = {e: i for i, e in enumerate(tree.iter(*_CAPTION_TAGS))}
        doomed.sort(key=lambda e: position.get(e, 0))
    captions: list[str] = []
    taken: set = set()
    for element in doomed:  # document order: an outer caption comes before one inside it
        if element in taken or any(a in taken for a in element.iterancestors()):
            continue
        text = " ".join(element.text_content().split())
        if text and len(text) < 600:
            captions.append(text)
            taken.add(element)
    for element in taken:
        drop(element)
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


def remove_chrome(tree: lxml.html.HtmlElement, marked: list) -> int:
    """Drop the marked chrome (except the containers of the page's longest
    texts) and link-only paragraphs. Returns the weight of the prose removed
    (text runs over 80 characters), so the caller can tell when a class-name
    rule took what may have been the article."""
    protected = _article_ancestors(tree)
    root = tree.getroottree().getroot()
    removed = 0
    for element in marked:
        if element not in protected:
            if element.getroottree().getroot() is root:  # not inside chrome dropped already
                removed += _prose_inside(element)
            drop(element)
    _drop_link_paragraphs(tree)
    return removed


_LONG_TEXT = etree.XPath(".//text()[string-length(normalize-space(.)) > 80][not(ancestor::script or ancestor::style)]")


def _prose_inside(element: lxml.html.HtmlElement) -> int:
    return sum(text_weight(" ".join(chunk.split())) for chunk in _LONG_TEXT(element))


def drop_standfirst(marked: list, description: str | None) -> None:
    """The standfirst (dek) under a headline repeats the page's description;
    readers and editors count it with the headline, not the text. A summary
    paragraph of 200 characters or more is the article's first paragraph
    (publishers repeat their lead as the description): it stays."""
    if not description or not 40 <= len(description) < 200:
        return
    key = normalize_text(description)
    for element in marked:
        if len(element) < 5 and normalize_text(" ".join(element.text_content().split())) == key:
            drop(element)
            return


_LINK_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6")


def _drop_link_paragraphs(tree: lxml.html.HtmlElement) -> None:
    """A paragraph, list item or heading that is nothing but a link to another
    story (inline "related" promos, headline lists under or after the text)."""
    doomed = []
    for element in tree.iter(*_LINK_BLOCKS):
        links = element.findall(".//a")
        if not links:
            continue
        text = " ".join(element.text_content().split())
        if len(text) < 20 or "://" in text or "www." in text:
            continue
        linked = sum(len(" ".join(a.text_content().split())) for a in links)
        if linked >= 0.9 * len(text) and len(text.split()) >= 3:
            doomed.append(element)
    for element in doomed:
        drop(element)


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


def drop(element: lxml.html.HtmlElement) -> None:
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
