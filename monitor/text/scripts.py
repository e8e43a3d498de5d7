"""Script-aware sentence, line and prose rules, for every writing system we see.

Japanese and Chinese are written without spaces, Korean with spaces between
words of a few syllables, Arabic and Hebrew right to left with their own
question mark and full stop, Spanish opens questions with ¿ and quotes with
«». Length thresholds set for English mean the same elsewhere when lengths
are taken with `text_weight`; sentence ends are the ones of all these scripts.
"""

from __future__ import annotations

import re

from monitor.text.cjk import CJK_RANGES, HANGUL_RANGES

# Characters that end a sentence in some script: Latin, CJK full stops and marks,
# Arabic question mark and full stop, Urdu full stop, Devanagari danda, Armenian,
# Ethiopic, Hebrew sof pasuq.
SENTENCE_END_CHARS = ".!?…。！？．｡؟۔।॥։።׃"
# Closing quotes and brackets that may follow the end of a sentence.
CLOSERS = "\"'”’»」』）)]›“"
_WIDE = re.compile(f"[{CJK_RANGES}]")
_HANGUL = re.compile(f"[{HANGUL_RANGES}]")
_SENTENCE = re.compile(f"[^{SENTENCE_END_CHARS}]*(?:[{SENTENCE_END_CHARS}]+[{re.escape(CLOSERS)}]*|$)")
PROSE_WEIGHT = 60  # a line this heavy that ends like a sentence is prose, not a headline or a label


def text_weight(text: str) -> int:
    """Length with a Han or kana character counted three times and a Hangul
    syllable two and a half times ("설명했다" says "explained"), so
    that 'a 60-character line' means the same amount of text in every script."""
    if text.isascii():
        return len(text)
    return len(text) + 2 * len(_WIDE.findall(text)) + (3 * len(_HANGUL.findall(text))) // 2


def ends_sentence(line: str) -> bool:
    """Does the line end like a sentence, in any script (closing quotes allowed)?"""
    stripped = line.rstrip().rstrip(CLOSERS).rstrip()
    return bool(stripped) and stripped[-1] in SENTENCE_END_CHARS


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, in any script: split after a run of
    sentence-end marks and the closing quotes after it."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def is_prose(line: str) -> bool:
    """A line of running text (not a headline, label, link or menu item): heavy
    enough and ending like a sentence, or long enough to hold several sentences."""
    weight = text_weight(line)
    if weight >= 4 * PROSE_WEIGHT:
        return True
    return weight >= PROSE_WEIGHT and ends_sentence(line)


def prose_weight(lines: list[str]) -> int:
    """The weight of the prose lines among `lines`."""
    return sum(text_weight(line) for line in lines if is_prose(line))
