"""Rule query text -> AST.

Grammar (precedence NOT > NEAR > AND > OR; adjacent operands mean AND):
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := "NOT" unary | near
    near    := primary ("NEAR/" N primary)*
    primary := [field ":"] (WORD | PHRASE | "(" or ")")
Operators are recognised only in upper case; "and"/"or" are ordinary words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import RuleSyntaxError
from monitor.rules.model import FIELDS, And, Near, Not, Or, Query, Term

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<phrase>"(?P<phrase_body>[^"]*)"?) |
        (?P<near>NEAR(?:/(?P<distance>\d*))?(?=[\s()"]|$)) |
        (?P<field>[A-Za-z]+):(?=\S) |
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # lparen rparen phrase near field word op end
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:  # pragma: no cover - the word pattern takes anything else
            raise RuleSyntaxError("unexpected character", pos, text)
        start = match.start(match.lastgroup)
        kind = match.lastgroup
        if kind == "phrase":
            if not match.group("phrase").endswith('"') or len(match.group("phrase")) == 1:
                raise RuleSyntaxError("unclosed quote", start, text)
            tokens.append(Token("phrase", match.group("phrase_body"), start))
        elif kind == "near":
            if not match.group("distance"):
                raise RuleSyntaxError("NEAR needs a distance, e.g. NEAR/5", start, text)
            tokens.append(Token("near", match.group("distance"), start))
        elif kind == "field":
            tokens.append(Token("field", match.group("field"), start))
        elif kind == "word":
            word = match.group("word")
            tokens.append(Token("op" if word in ("AND", "OR", "NOT") else "word", word, start))
        else:
            tokens.append(Token(kind, match.group(kind), start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, token: Token | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(message, (token or self.tok).pos, self.text)

    def parse(self) -> Query:
        if self.tok.kind == "end":
            raise self.error("empty query")
        query = self.parse_or()
        if self.tok.kind == "rparen":
            raise self.error("unbalanced ')': no '(' to close")
        if self.tok.kind != "end":  # pragma: no cover - parse_or consumes every operand
            raise self.error(f"unexpected {self.tok.value!r}")
        return query

    def parse_or(self) -> Query:
        items = [self.parse_and()]
        while self.tok.kind == "op" and self.tok.value == "OR":
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _starts_operand(self) -> bool:
        t = self.tok
        return t.kind in ("word", "phrase", "lparen", "field") or (t.kind == "op" and t.value == "NOT")

    def parse_and(self) -> Query:
        items = [self.parse_unary()]
        while True:
            if self.tok.kind == "op" and self.tok.value == "AND":
                self.advance()
                items.append(self.parse_unary())
            elif self._starts_operand():
                items.append(self.parse_unary())  # adjacent terms mean AND
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Query:
        if self.tok.kind == "op" and self.tok.value == "NOT":
            self.advance()
            return Not(self.parse_unary())
        return self.parse_near()

    def parse_near(self) -> Query:
        left = self.parse_primary()
        while self.tok.kind == "near":
            near = self.advance()
            right = self.parse_primary()
            if not isinstance(left, Term) or not isinstance(right, Term):
                raise self.error("NEAR joins two terms or phrases, not groups", near)
            left = Near(left, right, int(near.value))
        return left

    def parse_primary(self, field: str | None = None) -> Query:
        token = self.tok
        if token.kind == "field":
            self.advance()
            name = token.value.lower()
            if name not in FIELDS:
                raise self.error(f"unknown field scope {token.value + ':'!r}; known: "
                                 + ", ".join(f + ":" for f in FIELDS), token)
            if field is not None:
                raise self.error("a field scope cannot be nested inside another", token)
            return self.parse_primary(field=name)
        if token.kind == "lparen":
            self.advance()
            if self.tok.kind == "rparen":
                raise self.error("empty parentheses")
            inner = self.parse_or()
            if self.tok.kind != "rparen":
                raise self.error("unbalanced '(': missing ')'", token)
            self.advance()
            return _scope(inner, field) if field else inner
        if token.kind == "phrase":
            self.advance()
            if not token.value.strip():
                raise self.error("empty phrase", token)
            return Term(" ".join(token.value.split()), phrase=True, field=field)
        if token.kind == "word":
            self.advance()
            word = token.value
            prefix = word.endswith("*")
            stem = word.rstrip("*")
            if not stem or "*" in stem:
                raise self.error("a wildcard goes at the end of a word, e.g. innovat*", token)
            return Term(stem, prefix=prefix, field=field)
        if token.kind == "end":
            raise self.error("the query ends where a term was expected")
        if token.kind == "rparen":
            raise self.error("unbalanced ')': a term was expected first")
        raise self.error(f"{token.value!r} needs a term before it" if token.kind != "near"
                         else "NEAR needs a term on each side")


def _scope(query: Query, field: str) -> Query:
    """Push a field scope down onto every term of a parenthesised group."""
    if isinstance(query, Term):
        return query if query.field else Term(query.text, query.phrase, query.prefix, field)
    if isinstance(query, And):
        return And(tuple(_scope(q, field) for q in query.items))
    if isinstance(query, Or):
        return Or(tuple(_scope(q, field) for q in query.items))
    if isinstance(query, Not):
        return Not(_scope(query.item, field))
    if isinstance(query, Near):
        return Near(_scope(query.left, field), _scope(query.right, field), query.distance)
    return query


def parse_query(text: str) -> Query:
    """Parse a rule query; raises RuleSyntaxError saying what and where."""
    return _Parser(text).parse()
