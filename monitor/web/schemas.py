"""The JSON API's bodies as pydantic models: what /openapi.json documents and what the routes return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, Field

from monitor.text.dates import as_utc

MAX_ROW_ID = 2**63 - 1  # the largest id either backend stores; a larger number is no row, not a server error
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id from a listing")]


def in_utc(value: datetime) -> datetime:
    """A time as the archive stores it (UTC); one without an offset is taken as UTC."""
    try:
        return as_utc(value)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


Moment = Annotated[datetime, AfterValidator(in_utc)]


class ErrorOut(BaseModel):
    error: str = Field(description="what went wrong and what to do about it")
    position: int | None = Field(None, description="rule syntax errors: the character the parser stopped at")
    query: str | None = Field(None, description="rule syntax errors: the query that failed to parse")


ERROR_RESPONSES: dict[int | str, dict] = {
    400: {"model": ErrorOut, "description": "a parameter, cursor or rule query that cannot be used"},
    401: {"model": ErrorOut, "description": "web.token is set and the request did not carry it"},
    403: {"model": ErrorOut, "description": "a POST without its CSRF token, or a Host this server does not answer"},
}


class StoryOut(BaseModel):
    id: int
    title: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    article_count: int
    outlet_count: int
    outlets: list[str] = Field(description="sources that carried the story, in the order they first did")
    languages: list[str]
    follow_seconds: float | None = Field(description="from the first outlet's article to the last outlet's first")


class StoriesPage(BaseModel):
    stories: list[StoryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null on the last")


class ArticleOut(BaseModel):
    id: int
    story_id: int | None
    source: str
    url: str
    title: str | None
    language: str | None
    fetched_at: datetime
    published_at: datetime | None
    snippet: str | None = Field(None, description="search and backtest: the text around the first hit")


class RevisionOut(BaseModel):
    revision: int
    title: str | None
    text: str
    until: datetime = Field(description="when this text was replaced by the next one")


class StoryArticleOut(ArticleOut):
    text: str | None
    revisions: list[RevisionOut] = Field(description="earlier texts of the article, oldest first")


class StoryDetailOut(BaseModel):
    id: int
    title: str | None
    first_seen_at: datetime
    articles: list[StoryArticleOut] = Field(description="every article of the story across outlets, oldest first")


COMPLETE = Field(description="false when the query could not be narrowed by the index and the search stopped "
                             "after checking its budget of newest articles: add since or a more specific term")


class SearchOut(BaseModel):
    results: list[ArticleOut]
    complete: bool = COMPLETE


class SourceOut(BaseModel):
    source: str
    state: str
    last_success_at: datetime | None
    last_new_article_at: datetime | None
    consecutive_failures: int
    lag_seconds: float | None
    articles: int
    pending_alerts: int
    dead_alerts: int
    last_error: str | None


class SourcesOut(BaseModel):
    sources: list[SourceOut]


class AlertOut(BaseModel):
    id: int
    status: str
    rule: str
    channel: str
    attempts: int
    last_error: str | None
    article_id: int | None
    created_at: datetime


class AlertsPage(BaseModel):
    alerts: list[AlertOut]
    next_cursor: int | None


class RetryOut(BaseModel):
    id: int
    status: str
    message: str


class RuleOut(BaseModel):
    name: str
    query: str
    channels: list[str]
    enabled: bool
    sources: list[str]


class RulesOut(BaseModel):
    rules: list[RuleOut]


class BacktestIn(BaseModel):
    query: str = Field(min_length=1, max_length=10_000, description="a query in the rule language")
    since: Moment | None = None
    limit: int = Field(100, ge=1, le=1000)


class BacktestOut(BaseModel):
    query: str
    matches: list[ArticleOut]
    count: int
    complete: bool = COMPLETE
