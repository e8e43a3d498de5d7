"""Rule query text -> tokens, each with its character position for errors.

Full-width parentheses, colons and quotes count as their ASCII forms, and
curly quotes as straight ones: queries are often typed with a Chinese input
method or pasted from a word processor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import RuleSyntaxError

QUOTES = '"＂“”„'
_STOP = rf"\s()（）{QUOTES}"  # characters that end a word
_TOKEN = re.compile(
    rf"""
    (?P<lparen>[(（]) | (?P<rparen>[)）]) |
    (?P<phrase>[{QUOTES}](?P<body>[^{QUOTES}]*)(?P<close>[{QUOTES}]?)) |
    (?P<near>NEAR(?:/(?P<distance>[^{_STOP}]*))?)(?=[{_STOP}]|$) |
    (?P<field>[A-Za-z]+)[:：] |
    (?P<word>[^{_STOP}]+)
    """,
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*")
OPERATORS = ("AND", "OR", "NOT")


@dataclass(frozen=True)
class Token:
    kind: str  # lparen rparen phrase near field word AND OR NOT end
    value: str  # phrase body, NEAR distance, field name, word
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = _SPACE.match(text).end()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None  # the word alternative takes any non-space character
        kind = m.lastgroup
        if kind == "phrase":
            if not m.group("close"):
                raise RuleSyntaxError("unclosed quote: add the closing \" after the phrase", pos, text)
            tokens.append(Token("phrase", m.group("body"), pos))
        elif kind == "near":
            distance = m.group("distance")
            if not distance or not distance.isascii() or not distance.isdigit():
                raise RuleSyntaxError("NEAR needs a number of words, e.g. chip NEAR/5 export", pos, text)
            tokens.append(Token("near", distance, pos))
        elif kind == "field":
            tokens.append(Token("field", m.group("field"), pos))
        elif kind == "word" and m.group("word") in OPERATORS:
            tokens.append(Token(m.group("word"), m.group("word"), pos))
        else:
            tokens.append(Token(kind, m.group(kind), pos))
        pos = _SPACE.match(text, m.end()).end()
    tokens.append(Token("end", "", len(text)))
    return tokens
