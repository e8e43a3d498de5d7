"""Rule query tokens -> AST.

Grammar (precedence NOT > NEAR > AND > OR; adjacent operands mean AND):
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := "NOT" unary | near
    near    := primary (("NEAR/" | "ONEAR/") N primary)?
    primary := [field ":"] (WORD | PHRASE ["~" N] | "(" or ")")
               | ("site:" | "url:") (WORD | PHRASE)
A NEAR operand is a term, a phrase or a parenthesized OR of them, so
`NOT a NEAR/3 b` can only mean NOT (a NEAR/3 b). ONEAR is NEAR with the left
operand first.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import replace

from monitor.errors import RuleSyntaxError
from monitor.rules.lexer import _STOP, Token, tokenize
from monitor.rules.model import FIELDS, URL_FIELDS, And, Near, Not, Or, Query, Term
from monitor.rules.text import Pattern
from monitor.text.normalize import fold_case_and_width

MAX_DEPTH = 64  # nested groups and NOTs; deeper is a generated query gone wrong
_OPERAND_STARTS = ("word", "phrase", "lparen", "field", "NOT")
_RAW_VALUE = re.compile(rf"[^{_STOP}]*")
_OPERATOR_HINTS = {"&": "AND", "&&": "AND", "|": "OR", "||": "OR"}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, pos: int | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(message, self.tok.pos if pos is None else pos, self.text)

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the query is nested more than {MAX_DEPTH} levels deep", pos)

    def parse(self) -> Query:
        if self.tok.kind == "end":
            raise self.error("empty query: write at least one term", 0)
        query = self.parse_or()
        if self.tok.kind == "rparen":
            raise self.error("unbalanced ')': there is no '(' for it to close")
        assert self.tok.kind == "end", self.tok  # parse_and takes every operand that can follow
        return query

    def parse_or(self) -> Query:
        items = [self.parse_and()]
        while self.tok.kind == "OR":
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Query:
        items = [self.parse_unary()]
        while self.tok.kind == "AND" or self.tok.kind in _OPERAND_STARTS:
            if self.tok.kind == "AND":
                self.advance()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Query:
        if self.tok.kind != "NOT":
            return self.parse_near()
        self.nest(self.advance().pos)
        item = self.parse_unary()
        self.depth -= 1
        return Not(item)

    def parse_near(self) -> Query:
        left_pos = self.tok.pos
        left = self.parse_primary()
        if self.tok.kind not in ("near", "onear"):
            return left
        near = self.advance()
        right_pos = self.tok.pos
        right = self.parse_primary()
        if self.tok.kind in ("near", "onear"):
            raise self.error("NEAR cannot be chained: join two NEAR pairs with AND, "
                             "e.g. (a NEAR/5 b) AND (b NEAR/5 c)")
        return self.near(left, left_pos, right, right_pos, int(near.value), near.pos, near.kind == "onear")

    def near(self, left: Query, left_pos: int, right: Query, right_pos: int, distance: int, pos: int,
             ordered: bool = False) -> Near:
        name = "ONEAR" if ordered else "NEAR"
        sides = (_alternatives(left), _alternatives(right))
        for side, side_pos in zip(sides, (left_pos, right_pos)):
            if side is None:
                raise self.error(f"{name} joins terms, phrases or (a OR b) groups of them; "
                                 "use AND for anything else", side_pos)
            if not all(term.searches_words for term in side):
                raise self.error(f"{name} only works on words in the title and text, "
                                 "not on source:, lang:, site: or url:", side_pos)
        left_fields, right_fields = ({f for term in side for f in term.fields} for side in sides)
        if not left_fields & right_fields:
            raise self.error(f"{name} needs both sides in the same field (title: or text:)", pos)
        return Near(sides[0], sides[1], distance, ordered)

    def parse_primary(self) -> Query:
        token = self.tok
        if token.kind == "field":
            return self.parse_scope()
        if token.kind == "lparen":
            self.nest(self.advance().pos)
            if self.tok.kind == "rparen":
                raise self.error("empty parentheses: put a term between them")
            inner = self.parse_or()
            if self.tok.kind != "rparen":
                raise self.error("unbalanced '(': add the missing ')'", token.pos)
            self.advance()
            self.depth -= 1
            return inner
        if token.kind == "phrase":
            self.advance()
            term = self.term(token.value, token.pos, phrase=True)
            return term if not token.slop else replace(term, slop=token.slop)
        if token.kind == "word":
            self.advance()
            return self.term(token.value, token.pos, phrase=False)
        if token.kind == "end":
            raise self.error("the query ends where a term was expected")
        if token.kind == "rparen":
            raise self.error("a term is missing before ')'")
        name = {"near": "NEAR", "onear": "ONEAR"}.get(token.kind, token.kind)
        raise self.error(f"a term is missing before {name}")

    def parse_scope(self) -> Query:
        token = self.advance()
        name = token.value.lower()
        if name not in FIELDS:
            known = ", ".join(f + ":" for f in FIELDS)
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f" (did you mean {close[0]}:?)" if close else ""
            raise self.error(f"unknown field scope {token.value + ':'!r}{hint}; the known scopes are {known}; "
                             "to search for the word itself, put it in quotes", token.pos)
        if name in URL_FIELDS:
            return self.parse_url_value(name, token.pos)
        if self.tok.kind == "field":
            raise self.error("a field scope cannot follow another; give each term its own")
        if self.tok.kind not in ("word", "phrase", "lparen"):
            raise self.error(f"{name}: must be followed by a term, a phrase or a group in parentheses", token.pos)
        start = self.tok.pos
        inner = self.parse_primary()
        return self.scope(inner, name, start)

    def parse_url_value(self, name: str, pos: int) -> Term:
        example = "site:xinhuanet.com" if name == "site" else "url:/2024-03/ or url:*/world/*.htm"
        value = self.tok
        if value.kind not in ("word", "phrase", "field"):
            raise self.error(f"{name}: must be followed by a value, e.g. {example} "
                             f"(for several, write {name}:a OR {name}:b)", pos)
        if value.kind == "phrase":
            self.advance()
            text = value.value.strip()
        else:  # the raw characters up to a space, parenthesis or quote: URLs have colons of their own
            end = _RAW_VALUE.match(self.text, value.pos).end()
            while self.tok.kind != "end" and self.tok.pos < end:
                self.advance()
            text = self.text[value.pos:end]
        if name == "site":
            text = site_value(text)
            if not text or "*" in text or " " in text:
                raise self.error("site: takes a host name or a domain, e.g. site:xinhuanet.com", value.pos)
        elif not text.replace("*", "").strip():
            raise self.error(f"url: needs some characters of the URL to look for, e.g. {example}", value.pos)
        if value.kind == "phrase" and value.slop:
            raise self.error("~ only applies to phrases searched in the title and text", value.pos)
        return Term(text, phrase=value.kind == "phrase", field=name)

    def scope(self, query: Query, field: str, pos: int) -> Query:
        """Push a field scope down onto the terms of a group; inner scopes win."""
        if isinstance(query, Term):
            if query.field:
                return query
            if query.slop and field in ("source", "lang"):
                raise self.error("~ only applies to phrases searched in the title and text", pos)
            return replace(query, field=field)
        if isinstance(query, And | Or):
            return type(query)(tuple(self.scope(q, field, pos) for q in query.items))
        if isinstance(query, Not):
            return Not(self.scope(query.item, field, pos))
        left = tuple(self.scope(t, field, pos) for t in query.left)
        right = tuple(self.scope(t, field, pos) for t in query.right)
        return self.near(Or(left), pos, Or(right), pos, query.distance, pos, query.ordered)

    def term(self, text: str, pos: int, phrase: bool) -> Term:
        if not phrase and (text in _OPERATOR_HINTS or text.startswith(("&&", "||"))):
            op = _OPERATOR_HINTS.get(text) or _OPERATOR_HINTS[text[:2]]
            raise self.error(f"{text!r} is not an operator here: write {op} (in capitals)", pos)
        if not phrase and text.startswith("-") and len(text) > 1:
            raise self.error(f"to leave out documents with a term write NOT {text[1:]}, not {text}", pos)
        stem = text.rstrip().removesuffix("*").rstrip() if phrase else text.removesuffix("*")
        prefix = stem != text.rstrip()
        has_words = bool(Pattern.of(stem).tokens)
        if "*" in stem or (prefix and not has_words):
            raise self.error("a wildcard can only end a word, after its first letters, e.g. innovat*", pos)
        if phrase and not stem.strip():
            raise self.error("empty phrase: put words between the quotes", pos)
        if not has_words:
            what = "the phrase" if phrase else repr(text)
            raise self.error(f"{what} has no letters or digits to search for", pos)
        return Term(" ".join(stem.split()) if phrase else stem, phrase=phrase, prefix=prefix)


def site_value(text: str) -> str:
    """`site:` as written -> the host or domain compared: folded, without a scheme,
    path, port, leading `*.` or `.` and trailing dot (site:https://www.x.com/a -> www.x.com)."""
    value = fold_case_and_width(text).strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.removeprefix("*.").strip(".")


def _alternatives(query: Query) -> tuple[Term, ...] | None:
    """A NEAR operand as the terms any of which may match; None if it is not one."""
    if isinstance(query, Term):
        return (query,)
    if isinstance(query, Or):
        found: list[Term] = []
        for item in query.items:
            terms = _alternatives(item)
            if terms is None:
                return None
            found += terms
        return tuple(found)
    return None


def _control_character(text: str) -> int | None:
    """Where the first control character is (a NUL ends a string in SQLite's full-text index)."""
    return next((i for i, ch in enumerate(text) if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r"), None)


def parse_query(text: str) -> Query:
    """Parse a rule query; raises RuleSyntaxError saying what is wrong and where."""
    position = _control_character(text)
    if position is not None:
        raise RuleSyntaxError(f"control character U+{ord(text[position]):04X} in the query: remove it", position,
                              text)
    return _Parser(text).parse()
