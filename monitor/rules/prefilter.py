"""Many rules, one pass: the keys each rule needs skip the rules that cannot
match a document.

For every rule we derive a set of keys at least one of which any document
the rule matches has (None: no such set, e.g. a rule that is only NOT,
source: or lang:; those rules always run). A key is
  ("word", w): w is a whole token of the folded title or text (a word that is
               not a prefix stem and not Chinese/Japanese);
  ("text", s): s is a substring of the folded title or text (CJK runs, prefix
               stems), found with one Aho-Corasick pass;
  ("site", d): the URL's host is d or ends with "." + d.
Evaluating only the candidate rules gives exactly the answer of evaluating all.
"""

from __future__ import annotations

import ahocorasick

from monitor.rules.matcher import CompiledQuery, PreparedDocument, compile_query
from monitor.rules.model import And, Document, Near, Or, Query, Term
from monitor.rules.text import Pattern, is_cjk

Key = tuple[str, str]
Keys = frozenset[Key] | None


def required_keys(node: Query) -> Keys:
    if isinstance(node, Term):
        if node.field == "site":
            return frozenset([("site", node.text)])
        if not node.searches_words:
            return None
        pattern = Pattern.of(node.text, node.prefix)
        if not pattern.tokens:
            return frozenset()  # no words: never matches
        keys = [_chunk_key(part) for part in pattern.parts]
        return frozenset([max(keys, key=_selectivity)])
    if isinstance(node, Near):
        return _best([_any_of(node.left), _any_of(node.right)])
    if isinstance(node, Or):
        return _any_of(node.items)
    if isinstance(node, And):
        return _best([required_keys(item) for item in node.items])
    return None  # Not: a rule may match because a word is absent


def required_literals(node: Query) -> frozenset[str] | None:
    """The values of the required keys (for tests and debugging)."""
    keys = required_keys(node)
    return None if keys is None else frozenset(value for _, value in keys)


def _chunk_key(part: Pattern) -> Key:
    text = "".join(part.tokens)
    if part.prefix or is_cjk(part.tokens[0]):
        return ("text", text)  # a prefix's stem is still a substring of the word it matches
    return ("word", text)


def _selectivity(key: Key) -> int:
    kind, value = key
    if kind == "site":
        return 1  # a site is the fallback: a word narrows more than a whole site does
    if kind == "text" and is_cjk(value[0]):
        return 2 * len(value)  # a Chinese character says about as much as two letters
    return len(value)


def _any_of(items: tuple[Query, ...]) -> Keys:
    sets = [required_keys(item) for item in items]
    if any(s is None for s in sets):
        return None
    return frozenset().union(*sets)  # type: ignore[arg-type]


def _best(sets: list[Keys]) -> Keys:
    """Any one required set will do: take the most selective (most selective weakest key)."""
    known = [s for s in sets if s is not None]
    if not known:
        return None
    return max(known, key=lambda s: (min(map(_selectivity, s), default=1 << 30), -len(s)))


def _host_suffixes(host: str) -> list[str]:
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))] if host else []


class RuleSet:
    """Named rules compiled once; `match` gives the names matching a document."""

    def __init__(self, rules: dict[str, str]):
        self.compiled: dict[str, CompiledQuery] = {name: compile_query(q) for name, q in rules.items()}
        self.always: list[str] = []  # rules without required keys
        owners: dict[str, dict[str, list[str]]] = {"word": {}, "text": {}, "site": {}}
        for name, compiled in self.compiled.items():
            keys = required_keys(compiled.query)
            if keys is None:
                self.always.append(name)
            else:
                for kind, value in keys:
                    owners[kind].setdefault(value, []).append(name)
        self._words = {word: tuple(names) for word, names in owners["word"].items()}
        self._word_set = frozenset(self._words)
        self._sites = {site: tuple(names) for site, names in owners["site"].items()}
        self._texts: list[tuple[str, ...]] = []
        self._automaton = ahocorasick.Automaton() if owners["text"] else None
        if self._automaton is not None:
            for literal, names in owners["text"].items():
                self._automaton.add_word(literal, len(self._texts))
                self._texts.append(tuple(names))
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.compiled)

    def candidates(self, doc: PreparedDocument) -> set[str]:
        found = set(self.always)
        if self._word_set:
            for word in (self._word_set & doc.title.vocabulary) | (self._word_set & doc.text.vocabulary):
                found.update(self._words[word])
        if self._automaton is not None:
            # literals never contain a newline, so none can span the two fields
            seen = {i for _end, i in self._automaton.iter(f"{doc.title.folded}\n{doc.text.folded}")}
            for i in seen:
                found.update(self._texts[i])
        if self._sites:
            for suffix in _host_suffixes(doc.host):
                found.update(self._sites.get(suffix, ()))
        return found

    def match(self, doc: Document | PreparedDocument) -> list[str]:
        prepared = doc if isinstance(doc, PreparedDocument) else PreparedDocument(doc)
        return sorted(name for name in self.candidates(prepared) if self.compiled[name].matches(prepared))
