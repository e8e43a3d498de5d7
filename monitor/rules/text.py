"""Folding and tokenizing text the same way for queries and documents.

Folding is NFKC + casefold (full-width letters, ligatures and case don't
matter), done per character so every folded character maps back to its
position in the original text (for highlights). Tokens are runs of word
characters, except that each CJK ideograph or kana is a token of its own:
Chinese has no spaces, so a term matches anywhere, and NEAR counts characters.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+")
_HAS_CJK = re.compile(rf"[{_CJK}]")


def has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, its index in `text`."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).casefold() if not ch.isascii() else ch.lower()
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin


def tokens_of(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@dataclass
class FieldIndex:
    """One field of a document, folded and tokenized once."""

    original: str
    folded: str = field(init=False)
    origin: list[int] = field(init=False)
    tokens: list[str] = field(init=False)
    spans: list[tuple[int, int]] = field(init=False)  # folded-text spans per token

    def __post_init__(self) -> None:
        self.folded, self.origin = fold_with_offsets(self.original)
        self.tokens, self.spans = [], []
        for m in _TOKEN.finditer(self.folded):
            self.tokens.append(m.group())
            self.spans.append(m.span())

    @cached_property
    def positions(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            index.setdefault(token, []).append(i)
        return index

    @cached_property
    def sorted_vocabulary(self) -> list[str]:
        return sorted(self.positions)

    def positions_with_prefix(self, prefix: str) -> list[int]:
        vocab = self.sorted_vocabulary
        found: list[int] = []
        i = bisect_left(vocab, prefix)
        while i < len(vocab) and vocab[i].startswith(prefix):
            found.extend(self.positions[vocab[i]])
            i += 1
        return sorted(found)

    def original_span(self, first_token: int, last_token: int) -> tuple[int, int]:
        start = self.spans[first_token][0]
        end = self.spans[last_token][1]
        return self.origin[start], self.origin[end - 1] + 1
