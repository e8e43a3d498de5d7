"""One source a file: sources/<name>.yaml, and its extraction hints."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from monitor.config._base import Duration, Strict


def _css_selector(selector: str) -> str:
    """A CSS selector lxml can run (extraction uses lxml's cssselect), or a ValueError saying why not."""
    from cssselect import HTMLTranslator, SelectorError  # local: only hints need it

    try:
        HTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise ValueError(f"{selector!r} is not a CSS selector extraction can use: {exc}") from None
    return selector


class ExtractHints(Strict):
    """Per-source extraction hints: a few lines of config that beat heuristics."""

    content_selector: str | None = None
    drop_selectors: list[str] = Field(default_factory=list)
    date_selector: str | None = None
    date_pattern: str | None = None

    # Checked here, like allow/deny: a bad selector found during extraction is only a log line per page.
    @field_validator("content_selector", "date_selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return None if value is None else _css_selector(value)

    @field_validator("drop_selectors")
    @classmethod
    def _selectors(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            try:
                _css_selector(value)
            except ValueError as exc:
                raise ValueError(f"[{i}]: {exc}") from None
        return values

    @field_validator("date_pattern")
    @classmethod
    def _date_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
        return value


class SourceConfig(Strict):
    name: str
    kind: Literal["feed", "sitemap", "listing"]
    start_urls: list[str] = Field(min_length=1)
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    interval: Duration | None = None
    language: str | None = None
    live: bool = False  # a real public site: never fetched by tests or CI
    enabled: bool = True
    max_articles: int | None = Field(None, ge=1)  # article pages fetched per cycle
    max_age: Duration | None = None  # skip feed/sitemap entries older than this
    max_sitemaps: int = Field(20, ge=1)  # child sitemaps followed from an index per cycle
    private_addresses: Literal["auto", "allow", "deny"] | None = None  # overrides crawl.private_addresses
    max_sitemap_depth: int | None = Field(None, ge=0)  # overrides crawl.max_sitemap_depth
    revisit: Duration | None = None  # refetch archived articles still listed after this long (None: never)
    hints: ExtractHints = Field(default_factory=ExtractHints)

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return urls

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return patterns
