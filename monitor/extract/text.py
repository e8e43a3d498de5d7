"""Text clean-up after trafilatura: metadata lines (date, source, byline)
into fields, chrome lines, the headline again, captions, learned site
boilerplate, related-headline tails and repeated paragraphs out."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.extract import chrome
from monitor.extract.metadata import PageMetadata
from monitor.extract.metadata_lines import take_metadata
from monitor.text.cjk import display_weight
from monitor.text.normalize import normalize_text
from monitor.text.scripts import ends_sentence, prose_weight, text_weight

LONG_PARAGRAPH = 200  # characters, CJK counting triple


@dataclass
class CleanText:
    text: str
    meta: PageMetadata = field(default_factory=PageMetadata)  # what the metadata lines in it said
    fallbacks: list[str] = field(default_factory=list)  # rules that were not applied because they cut too much


def clean_text(raw: str, *, title: str | None, captions: list[str], boilerplate: frozenset[str],
               title_variants: list[str] = ()) -> CleanText:
    result = CleanText(text="")
    caption_keys = {normalize_text(c) for c in captions}
    title_key = normalize_text(title) if title else None
    head_titles = {normalize_text(t) for t in title_variants} - {""}
    kept: list[str] = []
    kept_keys: list[str] = []
    lines = [_strip_table_row(" ".join(line.split())) for line in raw.splitlines()]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        key = normalize_text(line)
        head = i < 8  # metadata lines sit at the top of the article
        if head and take_metadata(line, result.meta):
            continue
        if chrome.is_tail_marker(line):
            if _rest_is_listy(lines[i + 1:]):
                rest = prose_weight(lines[i + 1:])
                if rest <= max(prose_weight(kept), 200):
                    break
                # Cutting there would lose more prose than is kept: the heading was a sub-heading.
                result.fallbacks.append(f"text: kept {rest} of prose after the heading {line[:60]!r}")
            continue  # the heading itself is chrome even when real text follows
        if not key or chrome.is_chrome_line(line) or key in boilerplate or key in caption_keys:
            continue
        if len(line) < 200 and (key == title_key or (head and key in head_titles)):
            continue  # the headline again (top of the text, hidden microdata, a sticky header)
        if chrome.is_bare_value(line):
            continue
        kept.append(line)
        kept_keys.append(key)
    result.text = "\n\n".join(_drop_repeats(kept, kept_keys))
    return result


def _drop_repeats(lines: list[str], keys: list[str] | None = None) -> list[str]:
    """Content farms repeat whole prose paragraphs: keep the first copy.
    Short lines, list items and recipe or table lines repeat legitimately
    (meal plans), and so does a short question asked again between different
    answers (interviews) - unless it repeats in a run with its neighbours."""
    keys = keys if keys is not None else [normalize_text(line) for line in lines]
    first: dict[str, int] = {}
    kept = []
    for i, (line, key) in enumerate(zip(lines, keys)):
        j = first.get(key)
        if j is None:
            first[key] = i
        elif _is_prose(line, key) and (
                not _is_question(line)
                or display_weight(line) >= LONG_PARAGRAPH
                or (i > 0 and j > 0 and keys[i - 1] == keys[j - 1])
                or (i + 1 < len(keys) and keys[i + 1] == keys[j + 1])):
            continue
        kept.append(line)
    return kept


def _is_question(line: str) -> bool:
    return line.rstrip().rstrip("\"”’'»」』").endswith(("?", "？", "؟"))


def _is_prose(line: str, key: str) -> bool:
    # Sixty characters of key, or as much text in a denser script (Japanese, Chinese, Korean).
    return ends_sentence(line) and (len(key) > 60 or (len(key) > 20 and text_weight(key) > 60))


def _strip_table_row(line: str) -> str:
    """trafilatura renders data-table rows as '| a | b |': drop chrome cells."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    cells = [c.strip() for c in line.strip("|").split("|")]
    if not any(c and chrome.is_chrome_line(c) for c in cells):
        return line
    kept = [c for c in cells if c and not chrome.is_chrome_line(c)]
    return "| " + " | ".join(kept) + " |" if kept else ""


def _rest_is_listy(rest: list[str]) -> bool:
    """After a 'Related Articles' heading: only headlines remain, i.e. short
    lines that mostly do not end like sentences."""
    if len(rest) >= 40 or any(len(line) >= 160 for line in rest[:30]):
        return False
    sentences = sum(1 for line in rest if ends_sentence(line))
    return sentences * 2 <= len(rest)
