"""Evaluating a parsed query on a document.

A query is compiled once into nested closures; a document is folded and
tokenized once per field (PreparedDocument) however many rules run on it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from monitor.rules.model import And, Document, MatchAll, Near, Not, Or, Query, Term
from monitor.rules.parser import parse_query
from monitor.rules.text import FieldIndex, fold, tokens_of

Occurrence = tuple[int, int]  # first and last token index of a hit


class PreparedDocument:
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
        return fold(self.doc.source or "")

    @cached_property
    def language(self) -> str:
        return fold(self.doc.language or "")

    def fields(self, name: str | None) -> tuple[FieldIndex, ...]:
        if name == "title":
            return (self.title,)
        if name == "text":
            return (self.text,)
        return (self.title, self.text)


def _occurrences(index: FieldIndex, tokens: list[str], prefix: bool) -> list[Occurrence]:
    """Where the token sequence occurs; with `prefix`, its last token may be longer."""
    if not tokens:
        return []
    n = len(tokens)
    if n == 1:
        starts = index.positions_with_prefix(tokens[0]) if prefix else index.positions.get(tokens[0], [])
        return [(p, p) for p in starts]
    found = []
    doc = index.tokens
    for p in index.positions.get(tokens[0], []):
        if p + n > len(doc):
            break
        if all(doc[p + i] == tokens[i] for i in range(1, n - 1)):
            last = doc[p + n - 1]
            if last == tokens[-1] or (prefix and last.startswith(tokens[-1])):
                found.append((p, p + n - 1))
    return found


class _TermMatcher:
    def __init__(self, term: Term):
        self.term = term
        self.tokens = tokens_of(term.text)
        self.folded = fold(term.text).strip()

    def hits(self, doc: PreparedDocument) -> list[tuple[FieldIndex, list[Occurrence]]]:
        return [(index, occ) for index in doc.fields(self.term.field)
                if (occ := _occurrences(index, self.tokens, self.term.prefix))]

    def matches(self, doc: PreparedDocument) -> bool:
        field = self.term.field
        if field == "source":
            return doc.source.startswith(self.folded) if self.term.prefix else doc.source == self.folded
        if field == "lang":
            return doc.language == self.folded or doc.language.startswith(self.folded + "-") or (
                self.term.prefix and doc.language.startswith(self.folded))
        return any(_occurrences(index, self.tokens, self.term.prefix) for index in doc.fields(field))


def _near(left: _TermMatcher, right: _TermMatcher, distance: int, doc: PreparedDocument) -> bool:
    fields = {id(i): i for i in doc.fields(left.term.field)}
    for index in doc.fields(right.term.field):
        if id(index) not in fields:
            continue
        a = _occurrences(index, left.tokens, left.term.prefix)
        b = _occurrences(index, right.tokens, right.term.prefix)
        for a0, a1 in a:
            for b0, b1 in b:
                # tokens strictly between the two hits, in either order
                gap = b0 - a1 - 1 if b0 > a1 else a0 - b1 - 1
                if gap <= distance and not (b0 <= a1 and a0 <= b1):
                    return True
    return False


Predicate = Callable[[PreparedDocument], bool]


class CompiledQuery:
    def __init__(self, query: Query):
        self.query = query
        self.positive_terms: list[_TermMatcher] = []
        self._predicate = self._compile(query, negated=False)

    def _compile(self, node: Query, negated: bool) -> Predicate:
        if isinstance(node, Term):
            matcher = _TermMatcher(node)
            if not negated and node.field not in ("source", "lang"):
                self.positive_terms.append(matcher)
            return matcher.matches
        if isinstance(node, And):
            parts = [self._compile(item, negated) for item in node.items]
            return lambda doc: all(p(doc) for p in parts)
        if isinstance(node, Or):
            parts = [self._compile(item, negated) for item in node.items]
            return lambda doc: any(p(doc) for p in parts)
        if isinstance(node, Not):
            inner = self._compile(node.item, not negated)
            return lambda doc: not inner(doc)
        if isinstance(node, Near):
            left, right = _TermMatcher(node.left), _TermMatcher(node.right)
            if not negated:
                self.positive_terms += [left, right]
            return lambda doc: _near(left, right, node.distance, doc)
        if isinstance(node, MatchAll):
            return lambda doc: True
        raise TypeError(f"not a query node: {node!r}")  # pragma: no cover

    def matches(self, doc: Document | PreparedDocument) -> bool:
        prepared = doc if isinstance(doc, PreparedDocument) else PreparedDocument(doc)
        return self._predicate(prepared)

    def highlights(self, doc: Document | PreparedDocument) -> list[tuple[int, int]]:
        """Character spans in doc.text where positive terms matched, in order."""
        prepared = doc if isinstance(doc, PreparedDocument) else PreparedDocument(doc)
        spans = set()
        for term in self.positive_terms:
            if term.term.field in ("title",):
                continue
            for first, last in _occurrences(prepared.text, term.tokens, term.term.prefix):
                spans.add(prepared.text.original_span(first, last))
        return sorted(spans)


def compile_query(query: Query | str) -> CompiledQuery:
    return CompiledQuery(parse_query(query) if isinstance(query, str) else query)


def snippet(doc: Document, compiled: CompiledQuery, width: int = 240) -> str:
    """An excerpt of the text around the first hit, cut at word boundaries."""
    text = " ".join((doc.text or "").split())
    if not text:
        return ""
    spans = compiled.highlights(Document(title=doc.title, text=text, source=doc.source, language=doc.language))
    if not spans or len(text) <= width:
        return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"
    start, end = spans[0]
    left = max(0, start - (width - (end - start)) // 3)
    right = min(len(text), left + width)
    left = max(0, right - width)
    excerpt = text[left:right]
    if left > 0:
        cut = excerpt.find(" ")
        excerpt = "… " + (excerpt[cut + 1:] if 0 <= cut < 30 else excerpt)
    if right < len(text):
        cut = excerpt.rfind(" ")
        excerpt = (excerpt[:cut] if cut > len(excerpt) - 30 else excerpt) + " …"
    return excerpt
