"""Many rules, one pass: an Aho-Corasick automaton over the literals each rule
needs skips the rules that cannot match a document.

For every rule we derive a set of literals at least one of which occurs in
the folded title or text of any document the rule matches (None: no such set,
e.g. a rule that is only NOT, source: or lang:; those rules always run).
Evaluating only the candidate rules gives exactly the answer of evaluating all.
"""

from __future__ import annotations

import ahocorasick

from monitor.rules.matcher import CompiledQuery, PreparedDocument, compile_query
from monitor.rules.model import And, Document, Near, Or, Query, Term
from monitor.rules.text import Pattern

Literals = frozenset[str] | None


def required_literals(node: Query) -> Literals:
    if isinstance(node, Term):
        if not node.searches_words:
            return None
        # a prefix term's stem is still a substring of the word it matches
        chunks = Pattern.of(node.text, node.prefix).chunks
        return frozenset([max(chunks, key=len)]) if chunks else frozenset()  # no words: never matches
    if isinstance(node, Near):
        return _best([_any_of(node.left), _any_of(node.right)])
    if isinstance(node, Or):
        return _any_of(node.items)
    if isinstance(node, And):
        return _best([required_literals(item) for item in node.items])
    return None  # Not: a rule may match because a word is absent


def _any_of(items: tuple[Query, ...]) -> Literals:
    sets = [required_literals(item) for item in items]
    if any(s is None for s in sets):
        return None
    return frozenset().union(*sets)  # type: ignore[arg-type]


def _best(sets: list[Literals]) -> Literals:
    """Any one required set will do: take the most selective (longest shortest literal)."""
    known = [s for s in sets if s is not None]
    if not known:
        return None
    return max(known, key=lambda s: (min(map(len, s), default=0), -len(s)))


class RuleSet:
    """Named rules compiled once; `match` gives the names matching a document."""

    def __init__(self, rules: dict[str, str]):
        self.compiled: dict[str, CompiledQuery] = {name: compile_query(q) for name, q in rules.items()}
        self.always: list[str] = []  # rules without required literals
        owners: dict[str, list[str]] = {}
        for name, compiled in self.compiled.items():
            literals = required_literals(compiled.query)
            if literals is None:
                self.always.append(name)
            else:
                for literal in literals:
                    owners.setdefault(literal, []).append(name)
        self._automaton = ahocorasick.Automaton() if owners else None
        if self._automaton is not None:
            for literal, names in owners.items():
                self._automaton.add_word(literal, tuple(names))
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.compiled)

    def candidates(self, doc: PreparedDocument) -> set[str]:
        found = set(self.always)
        if self._automaton is not None:
            # literals never contain a newline, so none can span the two fields
            for _end, names in self._automaton.iter(f"{doc.title.folded}\n{doc.text.folded}"):
                found.update(names)
        return found

    def match(self, doc: Document | PreparedDocument) -> list[str]:
        prepared = doc if isinstance(doc, PreparedDocument) else PreparedDocument(doc)
        return sorted(name for name in self.candidates(prepared) if self.compiled[name].matches(prepared))
