"""Folding and tokenizing text the same way for queries and documents.

Folding is NFKC + casefold, so case, full-width letters and ligatures don't
matter. Tokens are runs of word characters, except that each CJK ideograph or
kana is a token of its own: Chinese and Japanese have no spaces, so a term
matches inside longer words, and NEAR counts characters there.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from monitor.text.cjk import CJK, CJK_RANGES
from monitor.text.normalize import fold_case_and_width

# (?=\w) keeps CJK punctuation (・, ゛) out of the tokens
TOKEN_RE = re.compile(rf"(?=\w)[{CJK_RANGES}]|(?:(?![{CJK_RANGES}])\w)+")


def is_cjk(token: str) -> bool:
    return len(token) == 1 and CJK.match(token) is not None


@dataclass(frozen=True)
class Pattern:
    """A term or phrase as a token sequence.

    `glued[i]` says tokens i and i+1 must touch in the text: CJK characters
    written together in the query are a substring, not a sequence of words.
    """

    tokens: tuple[str, ...]
    glued: tuple[bool, ...]
    prefix: bool = False  # the last token may be longer (innovat*)
    slop: int = 0  # up to this many tokens between consecutive chunks ("a b"~2)

    @classmethod
    def of(cls, text: str, prefix: bool = False, slop: int = 0) -> Pattern:
        matches = list(TOKEN_RE.finditer(fold_case_and_width(text)))
        tokens = tuple(m.group() for m in matches)
        glued = tuple(a.end() == b.start() and is_cjk(a.group()) and is_cjk(b.group())
                      for a, b in zip(matches, matches[1:]))
        return cls(tokens, glued, prefix, slop)

    @classmethod
    def of_term(cls, term) -> Pattern:
        return cls.of(term.text, term.prefix, term.slop)

    @cached_property
    def parts(self) -> tuple[Pattern, ...]:
        """The chunks as patterns of their own (the prefix on the last): what a
        phrase with slop matches in order, with gaps."""
        parts: list[Pattern] = []
        start = 0
        for i in range(len(self.tokens)):
            if i == len(self.tokens) - 1 or not self.glued[i]:
                last = i == len(self.tokens) - 1
                parts.append(Pattern(self.tokens[start:i + 1], self.glued[start:i], self.prefix and last))
                start = i + 1
        return tuple(parts)

    @cached_property
    def chunks(self) -> tuple[str, ...]:
        """Runs of glued tokens joined: each is a substring of any matching text."""
        if not self.tokens:
            return ()
        runs = [self.tokens[0]]
        for token, glued in zip(self.tokens[1:], self.glued):
            if glued:
                runs[-1] += token
            else:
                runs.append(token)
        return tuple(runs)

    @cached_property
    def needle(self) -> str | None:
        """The substring to look for when the pattern is one glued CJK run."""
        if len(self.chunks) == 1 and is_cjk(self.tokens[0]):
            return self.chunks[0]
        return None


class FieldIndex:
    """One field of a document, folded and tokenized once, indexed lazily."""

    def __init__(self, original: str):
        self.original = original
        self.folded = fold_case_and_width(original)
        self.tokens: list[str] = TOKEN_RE.findall(self.folded)
        self._few: dict[str, list[int]] = {}  # positions of the first tokens asked for
        self._stem_lookups = 0

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self.tokens)

    @cached_property
    def positions(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            index.setdefault(token, []).append(i)
        return index

    @cached_property
    def spans(self) -> list[tuple[int, int]]:
        """Folded-text span of each token."""
        return [m.span() for m in TOKEN_RE.finditer(self.folded)]

    @cached_property
    def _sorted_vocabulary(self) -> list[str]:
        return sorted(self.vocabulary)

    def _prefixed(self, stem: str) -> list[str]:
        if "_sorted_vocabulary" not in self.__dict__ and self._stems() <= 4:  # a scan beats sorting, for a few
            return sorted(word for word in self.vocabulary if word.startswith(stem))
        vocab = self._sorted_vocabulary
        i = bisect_left(vocab, stem)
        found = []
        while i < len(vocab) and vocab[i].startswith(stem):
            found.append(vocab[i])
            i += 1
        return found

    def has(self, token: str, prefix: bool = False) -> bool:
        if token in self.vocabulary:
            return True
        if not prefix:
            return False
        if "_sorted_vocabulary" not in self.__dict__ and self._stems() <= 4:
            return any(word.startswith(token) for word in self.vocabulary)
        vocab = self._sorted_vocabulary
        i = bisect_left(vocab, token)
        return i < len(vocab) and vocab[i].startswith(token)

    def token_indexes_of(self, needle: str) -> Iterator[int]:
        """The token index where each occurrence of `needle` (CJK characters, each a
        token) starts, without the spans of every token: counts the tokens between hits."""
        folded = self.folded
        at = folded.find(needle)
        previous, p = 0, 0
        while at >= 0:
            p += len(TOKEN_RE.findall(folded, previous, at))  # `previous` and `at` start CJK tokens
            yield p
            previous, at = at, folded.find(needle, at + 1)

    def _stems(self) -> int:
        self._stem_lookups += 1
        return self._stem_lookups

    def _positions_of(self, token: str) -> list[int]:
        """One token's positions: scanned for alone while few are asked for (most
        rules on a document need one or two), the whole index after that."""
        if "positions" in self.__dict__:
            return self.positions.get(token, [])
        cache = self._few
        found = cache.get(token)
        if found is None:
            if len(cache) >= 8:
                return self.positions.get(token, [])
            if token not in self.vocabulary:
                return []
            found = cache[token] = []
            tokens, i = self.tokens, -1
            try:
                while True:  # list.index compares in C: quicker than a loop for a word that is rare
                    i = tokens.index(token, i + 1)
                    found.append(i)
            except ValueError:
                pass
        return found

    def positions_of(self, token: str, prefix: bool = False) -> list[int]:
        if not prefix:
            return self._positions_of(token)
        words = self._prefixed(token)
        if len(words) == 1:
            return self._positions_of(words[0])
        return sorted(p for word in words for p in self._positions_of(word))

    @cached_property
    def _origin(self) -> list[int] | None:
        """For each folded character, where it came from in the original (None: unknown)."""
        return _fold_origin(self.original, self.folded)

    def original_span(self, first_token: int, last_token: int) -> tuple[int, int]:
        """The characters of the original text that tokens first..last came from."""
        start, end = self.spans[first_token][0], self.spans[last_token][1]
        origin = self._origin
        if origin is None:  # folding moved characters about: scale, staying in bounds
            scale = len(self.original) / max(len(self.folded), 1)
            return int(start * scale), max(int(start * scale) + 1, min(len(self.original), round(end * scale)))
        return origin[start], max(origin[start] + 1, origin[end])


def _fold_origin(original: str, folded: str) -> list[int] | None:
    """Folds each character with its combining marks on its own and records the
    offsets; only needed for highlights, so only computed for them."""
    if original.isascii():
        return list(range(len(original) + 1))
    origin: list[int] = []
    parts: list[str] = []
    start = 0
    for i in range(1, len(original) + 1):
        if i < len(original) and unicodedata.combining(original[i]):
            continue
        part = fold_case_and_width(original[start:i])
        parts.append(part)
        origin.extend([start] * len(part))
        start = i
    origin.append(len(original))
    return origin if "".join(parts) == folded else None
