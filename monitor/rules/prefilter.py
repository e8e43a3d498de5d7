"""Many rules, one pass: the keys each rule needs skip the rules that cannot
match a document.

For every rule we derive a set of keys at least one of which any document
the rule matches has (None: no such set, e.g. a rule that is only NOT,
url: or a source:/lang: prefix; those rules always run). A key is
  ("word", w): w is a whole token of the folded title or text (a word that is
               not a prefix stem and not Chinese/Japanese);
  ("text", s): s is a substring of the folded title or text (CJK runs, prefix
               stems), found with one Aho-Corasick pass;
  ("site", d): the URL's host is d or ends with "." + d;
  ("lang", c): the language is c or c-something (lang:zh: zh, zh-cn);
  ("source", s): the source is s (source: without a wildcard).
Evaluating only the candidate rules gives exactly the answer of evaluating all.

Where a rule offers a choice (any word of a phrase, any operand of an AND), the
key with the lowest cost is taken: short words and whole sites cost more than
long words, and a RuleSet multiplies the cost by how many of its rules mention
the key, so "Zhaiba ONEAR/4 technology" among 10,000 rules is looked up by
the name, not by the word a thousand other rules share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import ahocorasick

from monitor.rules.matcher import CompiledQuery, PreparedDocument, compile_query, value_of
from monitor.rules.model import And, Document, Near, Not, Or, Query, Term
from monitor.rules.text import Pattern, is_cjk
from monitor.text.cjk import has_cjk

Key = tuple[str, str]
Keys = frozenset[Key] | None
Cost = Callable[[Key], float]


def base_cost(key: Key) -> float:
    """How often a key is expected to occur, roughly: short words are common, a site is a whole outlet."""
    kind, value = key
    if kind == "site":
        return 50.0  # the fallback: a word narrows more than a whole site does
    if kind in ("lang", "source"):
        return 100.0
    if kind == "text" and is_cjk(value[0]):
        return 12.0 / len(value)  # a Chinese character says about as much as two letters
    return 24.0 / len(value)


def required_keys(node: Query, cost: Cost = base_cost) -> Keys:
    if isinstance(node, Term):
        keys = list(_term_keys(node))
        if not node.searches_words:
            return frozenset(keys) if keys else None
        if not keys:
            return frozenset()  # no words: never matches
        return frozenset([min(keys, key=cost)])
    if isinstance(node, Near):
        return _best([_any_of(node.left, cost), _any_of(node.right, cost)], cost)
    if isinstance(node, Or):
        return _any_of(node.items, cost)
    if isinstance(node, And):
        return _best([required_keys(item, cost) for item in node.items], cost)
    return None  # Not: a rule may match because a word is absent


def _term_keys(term: Term) -> Iterator[Key]:
    """Every key a term offers (any one is required)."""
    if term.field == "site":
        yield ("site", term.text)
    elif term.field in ("lang", "source"):
        if not term.prefix:
            yield (term.field, value_of(term))
    elif term.searches_words:
        for part in Pattern.of(term.text, term.prefix).parts:
            yield _chunk_key(part)


def mentioned_keys(node: Query) -> set[Key]:
    if isinstance(node, Term):
        return set(_term_keys(node))
    if isinstance(node, Near):
        return {key for term in (*node.left, *node.right) for key in _term_keys(term)}
    if isinstance(node, Not):
        return mentioned_keys(node.item)
    return set().union(*(mentioned_keys(item) for item in node.items))


def required_literals(node: Query) -> frozenset[str] | None:
    """The values of the required keys (for tests and debugging)."""
    keys = required_keys(node)
    return None if keys is None else frozenset(value for _, value in keys)


def _chunk_key(part: Pattern) -> Key:
    text = "".join(part.tokens)
    if part.prefix or is_cjk(part.tokens[0]):
        return ("text", text)  # a prefix's stem is still a substring of the word it matches
    return ("word", text)


def _any_of(items: tuple[Query, ...], cost: Cost) -> Keys:
    sets = [required_keys(item, cost) for item in items]
    if any(s is None for s in sets):
        return None
    return frozenset().union(*sets)  # type: ignore[arg-type]


def _best(sets: list[Keys], cost: Cost) -> Keys:
    """Any one required set will do: take the cheapest (the sum of its keys' costs)."""
    known = [s for s in sets if s is not None]
    if not known:
        return None
    return min(known, key=lambda s: sum(map(cost, s)))


def _host_suffixes(host: str) -> list[str]:
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))] if host else []


class RuleSet:
    """Named rules compiled once; `match` gives the names matching a document."""

    def __init__(self, rules: dict[str, str]):
        self.compiled: dict[str, CompiledQuery] = {name: compile_query(q) for name, q in rules.items()}
        self.always: list[str] = []  # rules without required keys
        owners: dict[str, dict[str, list[str]]] = {"word": {}, "text": {}, "site": {}, "lang": {}, "source": {}}
        mentions = Counter(key for compiled in self.compiled.values() for key in mentioned_keys(compiled.query))

        def cost(key: Key) -> float:
            return base_cost(key) * mentions[key]

        for name, compiled in self.compiled.items():
            keys = required_keys(compiled.query, cost)
            if keys is None:
                self.always.append(name)
            else:
                for kind, value in keys:
                    owners[kind].setdefault(value, []).append(name)
        self._words = {word: tuple(names) for word, names in owners["word"].items()}
        self._word_set = frozenset(self._words)
        self._sites = {site: tuple(names) for site, names in owners["site"].items()}
        self._langs = {code: tuple(names) for code, names in owners["lang"].items()}
        self._sources = {source: tuple(names) for source, names in owners["source"].items()}
        # Two automata: pyahocorasick looks a character up among a node's children one by one, and
        # Chinese keys give the root thousands of them; so those are matched as UTF-16 in hex (16 a node)
        self._texts: list[tuple[str, ...]] = []
        latin = {k: v for k, v in owners["text"].items() if not is_cjk(k[0])}
        cjk = {k.encode("utf-16-be").hex(): v for k, v in owners["text"].items() if is_cjk(k[0])}
        self._automaton = self._build(latin)
        self._cjk_automaton = self._build(cjk)

    def _build(self, keys: dict[str, list[str]]) -> ahocorasick.Automaton | None:
        if not keys:
            return None
        automaton = ahocorasick.Automaton()
        for literal, names in keys.items():
            automaton.add_word(literal, (len(self._texts), len(literal)))
            self._texts.append(tuple(names))
        automaton.make_automaton()
        return automaton

    def __len__(self) -> int:
        return len(self.compiled)

    def candidates(self, doc: PreparedDocument) -> set[str]:
        found = set(self.always)
        if self._word_set:
            for word in (self._word_set & doc.title.vocabulary) | (self._word_set & doc.text.vocabulary):
                found.update(self._words[word])
        if self._automaton is not None or self._cjk_automaton is not None:
            # literals never contain a newline, so none can span the two fields
            both = f"{doc.title.folded}\n{doc.text.folded}"
            seen: set[int] = set()
            if self._automaton is not None:
                seen.update(i for _end, (i, _n) in self._automaton.iter(both))
            if self._cjk_automaton is not None and has_cjk(both):
                # a hit must start on a character (4 hex digits), not inside one
                seen.update(i for end, (i, n) in self._cjk_automaton.iter(both.encode("utf-16-be").hex())
                            if (end + 1 - n) % 4 == 0)
            for i in seen:
                found.update(self._texts[i])
        if self._sites:
            for suffix in _host_suffixes(doc.host):
                found.update(self._sites.get(suffix, ()))
        if self._langs and doc.language:
            subtags = doc.language.split("-")
            for i in range(1, len(subtags) + 1):
                found.update(self._langs.get("-".join(subtags[:i]), ()))
        if self._sources:
            found.update(self._sources.get(doc.source, ()))
        return found

    def match(self, doc: Document | PreparedDocument) -> list[str]:
        prepared = doc if isinstance(doc, PreparedDocument) else PreparedDocument(doc)
        return sorted(name for name in self.candidates(prepared) if self.compiled[name].matches(prepared))
