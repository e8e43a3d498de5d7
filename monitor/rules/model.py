"""The rule query AST (frozen dataclasses) and the document rules run on."""

from __future__ import annotations

from dataclasses import dataclass

TEXT_FIELDS = ("title", "text")
URL_FIELDS = ("site", "url")
FIELDS = (*TEXT_FIELDS, "source", "lang", *URL_FIELDS)


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    source: str = ""
    language: str | None = None
    url: str = ""  # the article's URL, for site: and url:


@dataclass(frozen=True)
class Term:
    """A word (`chip`), a prefix (`innovat*`) or an exact phrase (`"new quality"`).

    `field` None searches title and text; `source` and `lang` compare the
    whole value instead of searching words; `site` is the URL's host or a
    parent domain of it, `url` a substring of the URL (`*`: any characters).
    `slop` (`"a b"~2`): up to that many words between consecutive phrase words.
    """

    text: str
    phrase: bool = False
    prefix: bool = False
    field: str | None = None
    slop: int = 0

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
    either order (`ordered`, ONEAR: left first); `distance` counts the words
    between them (0: adjacent)."""

    left: tuple[Term, ...]
    right: tuple[Term, ...]
    distance: int
    ordered: bool = False


Query = Term | And | Or | Not | Near
