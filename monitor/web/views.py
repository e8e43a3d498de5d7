"""Pure helpers the pages share: sparklines as SVG, highlighted text, revision diffs, durations."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from markupsafe import Markup

from monitor.rules import CompiledQuery, Document


def sparkline(values: Sequence[int], width: int = 120, height: int = 24) -> Markup:
    """An inline SVG polyline of the values (numbers only: nothing from the archive goes in)."""
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    total = sum(values)
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<title>{int(total)} in {len(values)} days, at most {int(top)} a day</title>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>')


def segments(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_hit) for the template to wrap hits in <mark> (escaped there)."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def highlighted(doc: Document, compiled: CompiledQuery, width: int = 400) -> list[tuple[str, bool]]:
    """The part of the text around the first hits, cut into segments."""
    text = " ".join((doc.text or "").split())
    spans = compiled.highlights(replace(doc, text=text))
    if len(text) > width:
        first = spans[0][0] if spans else 0
        left = max(0, first - width // 3)
        right = min(len(text), left + width)
        spans = [(max(s, left) - left, min(e, right) - left) for s, e in spans if e > left and s < right]
        text = ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")
        if left:
            spans = [(s + 1, e + 1) for s, e in spans]
    return segments(text, spans)


def title_segments(doc: Document, compiled: CompiledQuery) -> list[tuple[str, bool]]:
    title = doc.title or ""
    spans = compiled.highlights(replace(doc, text=title))
    return segments(title, spans)


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """(kind, line) of a line diff: kind is 'add', 'del' or 'same' (unchanged runs kept short)."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            out.append(("hunk", "…"))
        elif line.startswith("+"):
            out.append(("add", line[1:]))
        elif line.startswith("-"):
            out.append(("del", line[1:]))
        else:
            out.append(("same", line[1:]))
    return out


def external_url(url: str | None) -> str:
    """An archived article's address as a link target: http(s) only (never javascript: or data:)."""
    return url if url and urlsplit(url).scheme.lower() in ("http", "https") else "#"


def when(moment: datetime | None) -> str:
    """A stored time as the pages show it: UTC to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def span(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"
