"""Many rules, one pass: an Aho-Corasick automaton over the literals each rule
needs skips the rules that cannot match a document.

For every rule we derive a set of literals at least one of which must occur
in the folded title+text for the rule to match (None: no such set, e.g. a
rule that is only NOT or only source:/lang:). Evaluating only candidate rules
gives exactly the same answer as evaluating all of them.
"""

from __future__ import annotations

import ahocorasick

from monitor.rules.matcher import CompiledQuery, PreparedDocument, compile_query
from monitor.rules.model import And, Document, Near, Not, Or, Query, Term
from monitor.rules.text import tokens_of


def required_literals(node: Query) -> frozenset[str] | None:
    if isinstance(node, Term):
        if node.field in ("source", "lang"):
            return None
        tokens = tokens_of(node.text)
        return frozenset([max(tokens, key=len)]) if tokens else None
    if isinstance(node, Near):
        return required_literals(node.left)
    if isinstance(node, Or):
        sets = [required_literals(item) for item in node.items]
        if any(s is None for s in sets):
            return None
        return frozenset().union(*sets)
    if isinstance(node, And):
        sets = [s for s in (required_literals(item) for item in node.items) if s is not None]
        return min(sets, key=len) if sets else None
    return None  # Not, MatchAll


class RuleSet:
    def __init__(self, rules: dict[str, str]):
        self.compiled: dict[str, CompiledQuery] = {name: compile_query(q) for name, q in rules.items()}
        self.always: list[str] = []
        self._automaton = ahocorasick.Automaton()
        owners: dict[str, list[str]] = {}
        for name, compiled in self.compiled.items():
            literals = required_literals(compiled.query)
            if literals is None:
                self.always.append(name)
                continue
            for literal in literals:
                owners.setdefault(literal, []).append(name)
        for literal, names in owners.items():
            self._automaton.add_word(literal, tuple(names))
        if owners:
            self._automaton.make_automaton()
        self._has_literals = bool(owners)

    def candidates(self, doc: PreparedDocument) -> set[str]:
        found = set(self.always)
        if self._has_literals:
            for haystack in (doc.title.folded, doc.text.folded):
                for _end, names in self._automaton.iter(haystack):
                    found.update(names)
        return found

    def match(self, doc: Document) -> list[str]:
        prepared = PreparedDocument(doc)
        return sorted(name for name in self.candidates(prepared) if self.compiled[name].matches(prepared))
