"""The rule query AST (frozen dataclasses) and the document rules run on."""

from __future__ import annotations

from dataclasses import dataclass

TEXT_FIELDS = ("title", "text")
FIELDS = (*TEXT_FIELDS, "source", "lang")


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    source: str = ""
    language: str | None = None


@dataclass(frozen=True)
class Term:
    """A word (`chip`), a prefix (`innovat*`) or an exact phrase (`"new quality"`).

    `field` None searches title and text; `source` and `lang` compare the
    whole value instead of searching words.
    """

    text: str
    phrase: bool = False
    prefix: bool = False
    field: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return TEXT_FIELDS if self.field is None else (self.field,)

    @property
    def searches_words(self) -> bool:
        """True for title/text terms, False for source: and lang: values."""
        return self.field is None or self.field in TEXT_FIELDS


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
    """Some term of `left` within `distance` words of some term of `right`, in
    either order; `distance` counts the words between them (0: adjacent)."""

    left: tuple[Term, ...]
    right: tuple[Term, ...]
    distance: int


Query = Term | And | Or | Not | Near
