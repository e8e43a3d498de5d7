"""Metadata written as lines of the page: info bars ("Source: Xinhua |
2024-02-26 09:30:00 | Editor: Liu Yan"), "Source:" lines, date lines and
bylines. Such a line is read into a PageMetadata and kept out of the text."""

from __future__ import annotations

import re
from itertools import pairwise

from monitor.extract.metadata import PageMetadata
from monitor.text.dates import NUMERIC_DATE, PRINTED_DATE, normalize_date, printed_date
from monitor.text.normalize import traditional_to_simplified

BYLINE = re.compile(r"^(?:by|作者[:：]?|文[/／])\s*([^\d\n]{2,60}?)\s*$", re.IGNORECASE)
SOURCE_LINE = re.compile(
    rf"^(?:(?P<date>{NUMERIC_DATE}日?)(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?\s*)?"
    r"(?:source|来源)\s*[:：]\s*(?P<outlet>[^|｜]{2,80}?)\s*$",
    re.IGNORECASE,
)
DATE_LINE = re.compile(rf"^(?:date|日期|发布时间|published|posted on)?\s*[:：]?\s*(?P<date>{NUMERIC_DATE}日?)"
                       r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$", re.IGNORECASE)
# Cheap test first: a line without any of these is no metadata line.
_METADATA_HINT = re.compile(r"\d{4}|source|来源|來源|^\s*(?:by\b|作者|文[/／])", re.IGNORECASE)

# --- info bars: segments cut at separators, labels and dates, each one recognised -------------

_DATE_LABELS = r"date|日期|发布日期|发布时间|时间|更新时间|published|posted on|posted|updated|released|publicado em|publicado"
_AUTHOR_LABELS = r"posted by|published by|written by|publicado por|author|作者|por|by|von|par"
_TAG_LABELS = r"categor(?:y|ies|ia)|filed under|tags?|tagged|标签|分类"
_LABELS = (rf"source|来源|editor|责任编辑|编辑|责编|字号|font size|views|浏览|点击|阅读|{_DATE_LABELS}|{_AUTHOR_LABELS}"
           rf"|{_TAG_LABELS}")
_TOOL_WORDS = r"打印|关闭|收藏|纠错|print|close|share|分享"
_SEGMENT_START = re.compile(
    rf"\s*[|｜]\s*|\s+[-–·•]\s+|(?<!\w)(?=(?:{_LABELS})\s*[:：])|(?<![\w/.])(?={PRINTED_DATE})"
    rf"|(?<!\w)(?=(?:{_AUTHOR_LABELS})\s)|(?<=\s)(?=(?:{_TOOL_WORDS})(?:[\s:：]|$))",
    re.IGNORECASE)
_SEGMENT_JUNK = " \u3000|｜,，;；-–·•"
_TOOLBAR = re.compile(r"【[^】]{0,30}】|\[[^\]]{0,30}\]")
_SOURCE_FIELD = re.compile(r"^(?:source|来源)\s*[:：]\s*(?P<outlet>\D{2,60}?)\s*$", re.IGNORECASE)
_DATE_FIELD = re.compile(rf"^(?:(?:{_DATE_LABELS})\s*[:：]?\s*(?:on\s+|em\s+)?)?(?P<date>{PRINTED_DATE})$",
                         re.IGNORECASE)
_AUTHOR_FIELD = re.compile(rf"^(?:{_AUTHOR_LABELS})\s*[:：]?\s*(?P<author>[^\d:：]{{2,40}}?)\s*$", re.IGNORECASE)
_IGNORED_FIELD = re.compile(
    rf"^(?:(?:editor|责任编辑|编辑|责编)\s*[:：]\s*\D{{1,40}}|(?:views|浏览|点击|阅读)\s*[:：]?\s*\d*"
    rf"|(?:{_DATE_LABELS})\s*[:：]?|(?:字号|font size)\s*[:：]?.{{0,20}}|(?:{_TOOL_WORDS})\s*[:：]?"
    rf"|(?:{_TAG_LABELS})\s*[:：].{{0,80}})$",
    re.IGNORECASE)


def parse_info_line(line: str) -> tuple[str | None, str | None, str | None] | None:
    """(date, outlet, author) when the whole line is a news page's info bar
    made of a source, a date, an author/editor and toolbar bits; else None."""
    original = _TOOLBAR.sub(" | ", line.strip())
    if not 6 <= len(original) <= 160:
        return None
    folded = traditional_to_simplified(original)  # same length: offsets line up with the original
    cuts = sorted({0, len(folded)} | {m.start() for m in _SEGMENT_START.finditer(folded)}
                  | {m.end() for m in _SEGMENT_START.finditer(folded)})
    date = outlet = author = None
    recognized = False
    for start, end in pairwise(cuts):
        segment = folded[start:end].strip(_SEGMENT_JUNK)
        if not segment:
            continue
        offset = start + (len(folded[start:end]) - len(folded[start:end].lstrip(_SEGMENT_JUNK)))
        if (match := _DATE_FIELD.match(segment)) is not None:
            recognized = True
            date = date or printed_date(match.group("date"))
        elif (match := _SOURCE_FIELD.match(segment)) is not None:
            outlet = outlet or original[offset + match.start("outlet"):offset + match.end("outlet")].strip()
        elif (match := _AUTHOR_FIELD.match(segment)) is not None:
            author = author or original[offset + match.start("author"):offset + match.end("author")].strip()
        elif not _IGNORED_FIELD.match(segment):
            return None
    if not recognized and outlet is None:
        return None
    return date, outlet, author


def take_metadata(line: str, found: PageMetadata) -> bool:
    """A date/source/byline line: fill the fields `found` lacks, report it as not body text."""
    if not _METADATA_HINT.search(line):
        return False
    if (info := parse_info_line(line)) is not None:
        found.fill(*info)
        return True
    if (match := SOURCE_LINE.match(line)) is not None:
        date = normalize_date(match.group("date")) if match.group("date") else None
        found.fill(date=date, outlet=match.group("outlet").strip())
        return True
    if (match := DATE_LINE.match(line)) is not None and (date := normalize_date(match.group("date"))):
        found.fill(date=date)
        return True
    if (match := BYLINE.match(line)) is not None and len(line) < 70:
        found.fill(author=match.group(1).strip())
        return True
    return False
