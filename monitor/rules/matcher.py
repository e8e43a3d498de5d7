"""Evaluating a parsed query on a document.

A query is compiled once into a tree of small matchers holding precomputed
token patterns; a document is folded and tokenized once per field
(PreparedDocument), however many rules run on it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from functools import cached_property
from urllib.parse import urlsplit

from monitor.rules.model import TEXT_FIELDS, URL_FIELDS, And, Document, Near, Not, Or, Query, Term
from monitor.rules.parser import parse_query
from monitor.rules.text import FieldIndex, Pattern
from monitor.text.normalize import fold_case_and_width

Hit = tuple[int, int]  # first and last token index of an occurrence


class PreparedDocument:
    """A document folded and tokenized on first use, for any number of rules."""

    def __init__(self, doc: Document):
        self.doc = doc

    @cached_property
    def title(self) -> FieldIndex:
        return FieldIndex(self.doc.title or "")

    @cached_property
    def text(self) -> FieldIndex:
        return FieldIndex(self.doc.text or "")

    @cached_property
    def source(self) -> str:
        return fold_case_and_width(self.doc.source or "").strip()

    @cached_property
    def language(self) -> str:
        return _language(self.doc.language or "")

    @cached_property
    def url(self) -> str:
        return fold_case_and_width(self.doc.url or "").strip()

    @cached_property
    def host(self) -> str:
        return url_host(self.url)

    def field(self, name: str) -> FieldIndex:
        return self.title if name == "title" else self.text


def url_host(url: str) -> str:
    """The host of a folded URL, without port or trailing dot ("" when there is none)."""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".")


def site_matches(host: str, site: str) -> bool:
    return host == site or (host.endswith(site) and host[-len(site) - 1] == ".")


def value_of(term: Term) -> str:
    """A source: or lang: value as compared with the document's."""
    if term.field == "source":
        return " ".join(fold_case_and_width(term.text).split())
    return _language(term.text)


def _language(code: str) -> str:
    return fold_case_and_width(code).strip().replace("_", "-")


def _present(index: FieldIndex, pattern: Pattern) -> bool:
    if pattern.needle is not None:  # glued CJK: a plain substring search
        return pattern.needle in index.folded
    tokens = pattern.tokens
    if len(tokens) == 1:
        return index.has(tokens[0], pattern.prefix)
    if not tokens:
        return False
    # every token must be in the field before it is worth walking positions
    vocabulary = index.vocabulary
    if not all(token in vocabulary for token in tokens[:-1]) or not index.has(tokens[-1], pattern.prefix):
        return False
    return next(occurrences(index, pattern), None) is not None


def occurrences(index: FieldIndex, pattern: Pattern) -> Iterator[Hit]:
    if pattern.slop and len(pattern.parts) > 1:
        yield from _sloppy(index, pattern)
        return
    tokens, glued, prefix = pattern.tokens, pattern.glued, pattern.prefix
    n = len(tokens)
    if pattern.needle is not None and n > 1:  # a glued Chinese run: find it as a substring
        for p in index.token_indexes_of(pattern.needle):
            yield p, p + n - 1
        return
    if n == 1:
        for p in index.positions_of(tokens[0], prefix):
            yield p, p
        return
    doc = index.tokens
    spans = index.spans if any(glued) else None
    for p in index.positions_of(tokens[0]):
        if p + n > len(doc):
            break
        if any(doc[p + i] != tokens[i] for i in range(1, n - 1)):
            continue
        last = doc[p + n - 1]
        if last != tokens[-1] and not (prefix and last.startswith(tokens[-1])):
            continue
        if spans and any(g and spans[p + i][1] != spans[p + i + 1][0] for i, g in enumerate(glued)):
            continue
        yield p, p + n - 1


def _sloppy(index: FieldIndex, pattern: Pattern) -> Iterator[Hit]:
    """The parts in order, at most `slop` tokens between one and the next; for
    each start of the first part, the earliest way to complete it."""
    parts = [list(occurrences(index, part)) for part in pattern.parts]
    if not all(parts):
        return
    starts = [[first for first, _ in hits] for hits in parts[1:]]
    for first, last in parts[0]:
        end = last
        for hits, firsts in zip(parts[1:], starts):
            i = bisect_right(firsts, end)
            if i == len(firsts) or firsts[i] > end + pattern.slop + 1:
                break
            end = hits[i][1]
        else:
            yield first, end


def _followed(hits: list[Hit], others: list[Hit], distance: int) -> Iterator[Hit]:
    """The hits with one of `others` starting after them, at most `distance` tokens between."""
    starts = sorted(first for first, _ in others)
    for first, last in hits:
        i = bisect_right(starts, last)
        if i < len(starts) and starts[i] <= last + distance + 1:
            yield first, last


def _preceded(hits: list[Hit], others: list[Hit], distance: int) -> Iterator[Hit]:
    """The hits with one of `others` ending before them, at most `distance` tokens between."""
    ends = sorted(last for _, last in others)
    for first, last in hits:
        j = bisect_left(ends, first - distance - 1)
        if j < len(ends) and ends[j] < first:
            yield first, last


def _partnered(hits: list[Hit], others: list[Hit], distance: int) -> Iterator[Hit]:
    """The hits with one of `others` at most `distance` tokens away, before or after."""
    starts = sorted(first for first, _ in others)
    ends = sorted(last for _, last in others)
    for first, last in hits:
        i = bisect_right(starts, last)
        if i < len(starts) and starts[i] <= last + distance + 1:
            yield first, last
            continue
        j = bisect_left(ends, first - distance - 1)
        if j < len(ends) and ends[j] < first:
            yield first, last


class _Node:
    def matches(self, doc: PreparedDocument) -> bool:
        raise NotImplementedError

    def collect(self, doc: PreparedDocument, out: list[Hit]) -> None:
        """Add the positive hits in the text field; only called when the node matches."""


class _Words(_Node):
    def __init__(self, term: Term):
        self.pattern = Pattern.of_term(term)
        self.fields = term.fields

    def matches(self, doc: PreparedDocument) -> bool:
        for name in self.fields:
            if _present(doc.field(name), self.pattern):
                return True
        return False

    def collect(self, doc: PreparedDocument, out: list[Hit]) -> None:
        if "text" in self.fields:
            out.extend(occurrences(doc.text, self.pattern))


class _Value(_Node):
    """source: is the source name exactly; lang: a language code or its subtags (zh: zh-cn)."""

    def __init__(self, term: Term):
        self.is_source = term.field == "source"
        self.value = value_of(term)
        self.prefix = term.prefix

    def matches(self, doc: PreparedDocument) -> bool:
        actual = doc.source if self.is_source else doc.language
        if self.prefix:
            return actual.startswith(self.value)
        return actual == self.value or (not self.is_source and actual.startswith(self.value + "-"))


class _Url(_Node):
    """site: is the URL's host or a parent domain of it; url: a substring of the
    URL, `*` standing for any characters."""

    def __init__(self, term: Term):
        self.is_site = term.field == "site"
        value = fold_case_and_width(term.text).strip()
        self.value = value
        self.regex = None
        if not self.is_site and "*" in value:
            self.regex = re.compile(".*?".join(re.escape(part) for part in value.split("*")), re.DOTALL)

    def matches(self, doc: PreparedDocument) -> bool:
        if self.is_site:
            return site_matches(doc.host, self.value)
        if self.regex is not None:
            return self.regex.search(doc.url) is not None
        return self.value in doc.url


class _Near(_Node):
    def __init__(self, near: Near):
        self.left = [(Pattern.of_term(t), t.fields) for t in near.left]
        self.right = [(Pattern.of_term(t), t.fields) for t in near.right]
        self.distance = near.distance
        self.ordered = near.ordered
        self.fields = [f for f in TEXT_FIELDS
                       if any(f in fs for _, fs in self.left) and any(f in fs for _, fs in self.right)]

    @staticmethod
    def _hits(side: list[tuple[Pattern, tuple[str, ...]]], name: str, index: FieldIndex) -> list[Hit]:
        if not any(name in fields and _present(index, pattern) for pattern, fields in side):
            return []
        return [hit for pattern, fields in side if name in fields for hit in occurrences(index, pattern)]

    def matches(self, doc: PreparedDocument) -> bool:
        for name in self.fields:
            index = doc.field(name)
            left = self._hits(self.left, name, index)
            right = self._hits(self.right, name, index) if left else []
            pairs = _followed if self.ordered else _partnered
            if right and next(pairs(left, right, self.distance), None) is not None:
                return True
        return False

    def collect(self, doc: PreparedDocument, out: list[Hit]) -> None:
        if "text" in self.fields:
            left = self._hits(self.left, "text", doc.text)
            right = self._hits(self.right, "text", doc.text)
            if self.ordered:
                out.extend(_followed(left, right, self.distance))
                out.extend(_preceded(right, left, self.distance))
            else:
                out.extend(_partnered(left, right, self.distance))
                out.extend(_partnered(right, left, self.distance))


class _And(_Node):
    def __init__(self, items: Iterable[_Node]):
        self.items = list(items)

    def matches(self, doc: PreparedDocument) -> bool:
        for item in self.items:
            if not item.matches(doc):
                return False
        return True

    def collect(self, doc: PreparedDocument, out: list[Hit]) -> None:
        for item in self.items:
            item.collect(doc, out)


class _Or(_Node):
    def __init__(self, items: Iterable[_Node]):
        self.items = list(items)

    def matches(self, doc: PreparedDocument) -> bool:
        for item in self.items:
            if item.matches(doc):
                return True
        return False

    def collect(self, doc: PreparedDocument, out: list[Hit]) -> None:
        for item in self.items:
            if item.matches(doc):  # only the branches that made it match
                item.collect(doc, out)


class _Not(_Node):
    def __init__(self, item: _Node):
        self.item = item

    def matches(self, doc: PreparedDocument) -> bool:
        return not self.item.matches(doc)


def _compile(node: Query) -> _Node:
    if isinstance(node, Term):
        if node.field in URL_FIELDS:
            return _Url(node)
        return _Words(node) if node.searches_words else _Value(node)
    if isinstance(node, And):
        return _And(_compile(item) for item in node.items)
    if isinstance(node, Or):
        return _Or(_compile(item) for item in node.items)
    if isinstance(node, Not):
        return _Not(_compile(node.item))
    if isinstance(node, Near):
        return _Near(node)
    raise TypeError(f"not a query node: {node!r}")


class CompiledQuery:
    def __init__(self, query: Query):
        self.query = query
        self._root = _compile(query)

    def matches(self, doc: Document | PreparedDocument) -> bool:
        return self._root.matches(_prepared(doc))

    def highlights(self, doc: Document | PreparedDocument) -> list[tuple[int, int]]:
        """Character spans in doc.text of the term and phrase hits that make the
        document match, sorted, overlaps merged; [] when it does not match."""
        prepared = _prepared(doc)
        if not self._root.matches(prepared):
            return []
        hits: list[Hit] = []
        self._root.collect(prepared, hits)
        spans: list[tuple[int, int]] = []
        for start, end in sorted(prepared.text.original_span(first, last) for first, last in set(hits)):
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        return spans


def _prepared(doc: Document | PreparedDocument) -> PreparedDocument:
    return doc if isinstance(doc, PreparedDocument) else PreparedDocument(doc)


def compile_query(query: Query | str) -> CompiledQuery:
    return CompiledQuery(parse_query(query) if isinstance(query, str) else query)
