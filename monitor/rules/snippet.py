"""A short excerpt of a document's text around the first hit, for alerts."""

from __future__ import annotations

from dataclasses import replace

from monitor.rules.matcher import CompiledQuery
from monitor.rules.model import Document

ELLIPSIS = "…"
_WORD_SLACK = 20  # how far to move a cut to avoid splitting a word


def snippet(doc: Document, compiled: CompiledQuery, width: int = 240) -> str:
    """At most `width` characters of doc.text (whitespace collapsed) around the
    first hit, "…" marking each cut end; the start of the text when the hit is
    only in the title."""
    text = " ".join((doc.text or "").split())
    if len(text) <= width:
        return text
    spans = compiled.highlights(replace(doc, text=text))
    start, end = spans[0] if spans else (0, 0)
    room = max(width - 2, 1)  # an ellipsis may go at each end
    # the hit a third of the way in, the window kept inside the text
    left = max(0, min(start - max(room - (end - start), 0) // 3, len(text) - room))
    right = min(len(text), left + room)
    if left > 0:
        left = _word_start(text, left, start)
    if right < len(text):
        right = _word_end(text, right, max(end, left + 1))
    excerpt = text[left:right].strip()
    return (ELLIPSIS if left > 0 else "") + excerpt + (ELLIPSIS if right < len(text) else "")


def _word_start(text: str, cut: int, limit: int) -> int:
    """Move a left cut forward past a partial word (CJK text has no spaces: keep it)."""
    if text[cut - 1] == " ":
        return cut
    space = text.find(" ", cut, min(cut + _WORD_SLACK, limit))
    return space + 1 if space >= 0 else cut


def _word_end(text: str, cut: int, limit: int) -> int:
    """Move a right cut back before a partial word."""
    if text[cut] == " ":
        return cut
    space = text.rfind(" ", max(cut - _WORD_SLACK, limit), cut)
    return space if space >= 0 else cut
