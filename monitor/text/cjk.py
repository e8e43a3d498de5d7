"""Which characters are CJK: one definition for extraction, dedup, rules and search.

Chinese and Japanese are written without spaces, so wherever text is split
into words, weighed by length or checked for its script, these characters
are treated one by one. Han covers the unified ideographs with Extension A,
the compatibility block and Extensions B and beyond (rare names and Hong Kong
characters live there), plus 々〆〇 (iteration mark, closing mark and the
ideographic zero, as in 二〇二四年).
"""

from __future__ import annotations

import re

# Character-class bodies (no brackets), to be combined inside other classes.
HAN_RANGES = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
KANA_RANGES = "\u3040-\u30ff"
HANGUL_RANGES = "\uac00-\ud7af"
CJK_RANGES = HAN_RANGES + KANA_RANGES  # the characters that are each a word of their own
# Ideographic punctuation (、。「」) and full-width forms (，：！): Chinese text's non-letters.
CJK_PUNCTUATION_RANGES = "\u3000-\u303f\uff00-\uffef"

HAN = re.compile(f"[{HAN_RANGES}]")
KANA = re.compile(f"[{KANA_RANGES}]")
HANGUL = re.compile(f"[{HANGUL_RANGES}]")
CJK = re.compile(f"[{CJK_RANGES}]")


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def display_weight(text: str) -> int:
    """Length with each CJK character counted three times: a CJK character
    carries about as much as a short word, so paragraph-length thresholds set
    for English mean the same for Chinese."""
    if text.isascii():
        return len(text)
    return len(text) + 2 * len(CJK.findall(text))
