"""The rule query AST (frozen dataclasses) and the document rules run on."""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("title", "text", "source", "lang")


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    source: str = ""
    language: str | None = None


@dataclass(frozen=True)
class Term:
    """A word (`chip`), a prefix (`innovat*`) or an exact phrase (`"new quality"`)."""

    text: str
    phrase: bool = False
    prefix: bool = False
    field: str | None = None  # None: title and text


@dataclass(frozen=True)
class And:
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    item: Query


@dataclass(frozen=True)
class Near:
    left: Term
    right: Term
    distance: int


@dataclass(frozen=True)
class MatchAll:
    """The empty conjunction; only appears as the base of a lone NOT."""


Query = Term | And | Or | Not | Near | MatchAll
