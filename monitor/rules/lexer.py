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
    (?P<phrase>[{QUOTES}](?P<body>[^{QUOTES}]*)(?P<close>[{QUOTES}]?)(?P<slop>[~～][^{_STOP}]*)?) |
    (?P<near>(?P<ordered>O?)NEAR(?:/(?P<distance>[^{_STOP}]*))?)(?=[{_STOP}]|$) |
    (?P<field>[A-Za-z]+)[:：] |
    (?P<word>[^{_STOP}]+)
    """,
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*")
OPERATORS = ("AND", "OR", "NOT")


@dataclass(frozen=True)
class Token:
    kind: str  # lparen rparen phrase near onear field word AND OR NOT end
    value: str  # phrase body, NEAR distance, field name, word
    pos: int
    slop: int | None = None  # a phrase's ~n


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
            slop = m.group("slop")
            if slop is not None:
                number = slop[1:]
                if not number or not number.isascii() or not number.isdigit():
                    raise RuleSyntaxError('~ after a phrase needs a number of words, e.g. "chip exports"~3',
                                          m.start("slop"), text)
            tokens.append(Token("phrase", m.group("body"), pos, None if slop is None else int(slop[1:])))
        elif kind == "near":
            distance = m.group("distance")
            name = "ONEAR" if m.group("ordered") else "NEAR"
            if not distance or not distance.isascii() or not distance.isdigit():
                raise RuleSyntaxError(f"{name} needs a number of words, e.g. chip {name}/5 export", pos, text)
            tokens.append(Token("onear" if m.group("ordered") else "near", distance, pos))
        elif kind == "field":
            tokens.append(Token("field", m.group("field"), pos))
        elif kind == "word" and m.group("word") in OPERATORS:
            tokens.append(Token(m.group("word"), m.group("word"), pos))
        else:
            tokens.append(Token(kind, m.group(kind), pos))
        pos = _SPACE.match(text, m.end()).end()
    tokens.append(Token("end", "", len(text)))
    return tokens
