"""Rule query tokens -> AST.

Grammar (precedence NOT > NEAR > AND > OR; adjacent operands mean AND):
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := "NOT" unary | near
    near    := primary ("NEAR/" N primary)?
    primary := [field ":"] (WORD | PHRASE | "(" or ")")
A NEAR operand is a term, a phrase or a parenthesized OR of them, so
`NOT a NEAR/3 b` can only mean NOT (a NEAR/3 b).
"""

from __future__ import annotations

import difflib

from monitor.errors import RuleSyntaxError
from monitor.rules.lexer import Token, tokenize
from monitor.rules.model import FIELDS, And, Near, Not, Or, Query, Term
from monitor.rules.text import Pattern

MAX_DEPTH = 64  # nested groups and NOTs; deeper is a generated query gone wrong
_OPERAND_STARTS = ("word", "phrase", "lparen", "field", "NOT")
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
        if self.tok.kind != "near":
            return left
        near = self.advance()
        right_pos = self.tok.pos
        right = self.parse_primary()
        if self.tok.kind == "near":
            raise self.error("NEAR cannot be chained: join two NEAR pairs with AND, "
                             "e.g. (a NEAR/5 b) AND (b NEAR/5 c)")
        return self.near(left, left_pos, right, right_pos, int(near.value), near.pos)

    def near(self, left: Query, left_pos: int, right: Query, right_pos: int, distance: int, pos: int) -> Near:
        sides = (_alternatives(left), _alternatives(right))
        for side, side_pos in zip(sides, (left_pos, right_pos)):
            if side is None:
                raise self.error("NEAR joins terms, phrases or (a OR b) groups of them; "
                                 "use AND for anything else", side_pos)
            if not all(term.searches_words for term in side):
                raise self.error("NEAR only works on words in the title and text, not on source: or lang:", side_pos)
        left_fields, right_fields = ({f for term in side for f in term.fields} for side in sides)
        if not left_fields & right_fields:
            raise self.error("NEAR needs both sides in the same field (title: or text:)", pos)
        return Near(sides[0], sides[1], distance)

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
            return self.term(token.value, token.pos, phrase=True)
        if token.kind == "word":
            self.advance()
            return self.term(token.value, token.pos, phrase=False)
        if token.kind == "end":
            raise self.error("the query ends where a term was expected")
        if token.kind == "rparen":
            raise self.error("a term is missing before ')'")
        name = "NEAR" if token.kind == "near" else token.kind
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
        if self.tok.kind == "field":
            raise self.error("a field scope cannot follow another; give each term its own")
        if self.tok.kind not in ("word", "phrase", "lparen"):
            raise self.error(f"{name}: must be followed by a term, a phrase or a group in parentheses", token.pos)
        start = self.tok.pos
        inner = self.parse_primary()
        return self.scope(inner, name, start)

    def scope(self, query: Query, field: str, pos: int) -> Query:
        """Push a field scope down onto the terms of a group; inner scopes win."""
        if isinstance(query, Term):
            return query if query.field else Term(query.text, query.phrase, query.prefix, field)
        if isinstance(query, And | Or):
            return type(query)(tuple(self.scope(q, field, pos) for q in query.items))
        if isinstance(query, Not):
            return Not(self.scope(query.item, field, pos))
        left = tuple(self.scope(t, field, pos) for t in query.left)
        right = tuple(self.scope(t, field, pos) for t in query.right)
        return self.near(Or(left), pos, Or(right), pos, query.distance, pos)

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



def parse_query(text: str) -> Query:
    """Parse a rule query; raises RuleSyntaxError saying what is wrong and where."""
    return _Parser(text).parse()
