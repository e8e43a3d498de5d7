"""The JSON API under /api/ (OpenAPI at /openapi.json; bodies in monitor.web.schemas). Errors are JSON a
person can act on: {"error": "..."} with the parse position for a rule query that does not parse."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from monitor.alerting import document_for
from monitor.errors import RuleSyntaxError
from monitor.rules import snippet
from monitor.statuses import AlertStatus
from monitor.store import repo, web_queries
from monitor.store.search import SearchBudget, search
from monitor.store.session import session_scope
from monitor.web import schemas
from monitor.web.deps import SEARCH_BUDGET
from monitor.web.schemas import ERROR_RESPONSES, MAX_ROW_ID, ErrorOut, Moment, RowId
from monitor.web.security import csrf_ok
from monitor.web.sources import source_rows

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
NOT_FOUND = {404: {"model": ErrorOut, "description": "no such story, alert or rule"}}
CURSOR = Query(None, max_length=200, pattern=r"^[A-Za-z0-9_-]+$",
               description="the next_cursor of the previous page")
# stories?q= narrows to the stories of the query's newest matches: bounded, so a common word answers quickly.
STORY_SEARCH_ARTICLES = 250
STORY_QUERY_HELP = f"only stories with an article matching this rule query (among its newest {STORY_SEARCH_ARTICLES} matches)"
CSRF_MISSING = "missing or wrong CSRF token: send the X-CSRF-Token header (or use a Bearer token)"


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        self.status, self.message, self.extra = status, message, extra


def syntax_error(exc: RuleSyntaxError) -> ApiError:
    return ApiError(400, str(exc), position=exc.position, query=exc.query)


def _state(request: Request):
    return request.app.state.web


def _article(article, compiled=None) -> schemas.ArticleOut:
    return schemas.ArticleOut(
        id=article.id, story_id=article.story_id, source=article.source, url=article.url, title=article.title,
        language=article.language, fetched_at=article.fetched_at, published_at=article.published_at,
        snippet=snippet(document_for(article), compiled) if compiled is not None else None)


def _search(request: Request, query: str, since: datetime | None, limit: int) -> tuple[list[schemas.ArticleOut], bool]:
    """The matches, and whether the search covered the archive (False: its budget ran out first)."""
    budget = SearchBudget(SEARCH_BUDGET)
    with _state(request).sessions() as session:
        try:
            found = [_article(a, c) for a, c in search(session, query, since=since, limit=limit, budget=budget)]
        except RuleSyntaxError as exc:
            raise syntax_error(exc) from None
    return found, not budget.exhausted


@router.get("/stories", response_model=schemas.StoriesPage)
def stories(request: Request, since: Moment | None = None, source: str | None = Query(None, max_length=100),
            q: str | None = Query(None, max_length=10_000, description=STORY_QUERY_HELP),
            limit: int = Query(50, ge=1, le=500), cursor: str | None = CURSOR) -> schemas.StoriesPage:
    with _state(request).sessions() as session:
        ids = None
        if q:
            try:
                found = search(session, q, since=since, limit=STORY_SEARCH_ARTICLES, budget=SearchBudget(SEARCH_BUDGET))
                ids = sorted({a.story_id for a, _ in found if a.story_id})
            except RuleSyntaxError as exc:
                raise syntax_error(exc) from None
        try:
            page = web_queries.stories_page(session, since=since, source=source, story_ids=ids, limit=limit,
                                            cursor=cursor)
        except web_queries.BadCursor as exc:
            raise ApiError(400, str(exc)) from None
        return schemas.StoriesPage(stories=[schemas.StoryOut.model_validate(s, from_attributes=True) for s in page.items],
                                   next_cursor=page.next_cursor)


@router.get("/stories/{story_id}", response_model=schemas.StoryDetailOut, responses=NOT_FOUND)
def story(request: Request, story_id: RowId) -> schemas.StoryDetailOut:
    with _state(request).sessions() as session:
        detail = web_queries.story_detail(session, story_id)
        if detail is None:
            raise ApiError(404, f"no story with id {story_id}: GET /api/stories lists them")
        articles = [schemas.StoryArticleOut(
            **_article(a).model_dump(), text=a.text,
            revisions=[schemas.RevisionOut(revision=r.revision, title=r.title, text=r.text, until=r.fetched_at)
                       for r in detail.revisions.get(a.id, [])]) for a in detail.articles]
        return schemas.StoryDetailOut(id=detail.story.id, title=detail.story.title,
                                      first_seen_at=detail.story.first_seen_at, articles=articles)


@router.get("/search", response_model=schemas.SearchOut)
def search_api(request: Request, q: str = Query(min_length=1, max_length=10_000, description="a rule query"),
               since: Moment | None = None, limit: int = Query(50, ge=1, le=500)) -> schemas.SearchOut:
    results, complete = _search(request, q, since, limit)
    return schemas.SearchOut(results=results, complete=complete)


@router.get("/sources", response_model=schemas.SourcesOut)
def sources(request: Request) -> schemas.SourcesOut:
    with _state(request).sessions() as session:
        rows = source_rows(_state(request).config, session, sparklines=False)
    return schemas.SourcesOut(sources=[schemas.SourceOut(**row) for row in rows])


@router.get("/alerts", response_model=schemas.AlertsPage)
def alerts(request: Request, status: AlertStatus | None = None, limit: int = Query(100, ge=1, le=500),
           cursor: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="the next_cursor of the previous page")
           ) -> schemas.AlertsPage:
    with _state(request).sessions() as session:
        rows, next_cursor = web_queries.alerts_page(session, status=status, limit=limit, cursor=cursor)
        return schemas.AlertsPage(alerts=[schemas.AlertOut(
            id=a.id, status=a.status, rule=a.rule, channel=a.channel, attempts=a.attempts, last_error=a.last_error,
            article_id=a.article_id, created_at=a.created_at) for a in rows], next_cursor=next_cursor)


def retry(request: Request, alert_id: int) -> tuple[int, str]:
    """(HTTP status, message) of requeueing one alert."""
    with session_scope(_state(request).writer) as session:
        alert = repo.requeue_alert(session, alert_id, repo.utcnow())
        if alert is None:
            return 404, f"no alert with id {alert_id}: GET /api/alerts lists them"
        if alert.status != AlertStatus.PENDING:
            return 409, f"alert {alert_id} is {alert.status}; only dead or pending alerts are retried"
    return 200, f"alert {alert_id} queued for the next delivery pass"


@router.post("/alerts/{alert_id}/retry", response_model=schemas.RetryOut, responses={
    **NOT_FOUND, 409: {"model": ErrorOut, "description": "the alert is being sent or was sent"}})
def retry_api(request: Request, alert_id: RowId) -> schemas.RetryOut:
    """Queue a dead alert for another delivery attempt (as `newsmon alerts retry ID`)."""
    if not csrf_ok(request, None):
        raise ApiError(403, CSRF_MISSING)
    status, message = retry(request, alert_id)
    if status != 200:
        raise ApiError(status, message)
    return schemas.RetryOut(id=alert_id, status=AlertStatus.PENDING, message=message)


@router.get("/rules", response_model=schemas.RulesOut)
def rules(request: Request) -> schemas.RulesOut:
    return schemas.RulesOut(rules=[schemas.RuleOut(name=r.name, query=r.query, channels=r.channels, enabled=r.enabled,
                                                   sources=r.sources) for r in _state(request).config.rules.values()])


def _backtest(request: Request, query: str, since: datetime | None, limit: int) -> schemas.BacktestOut:
    matches, complete = _search(request, query, since, limit)
    return schemas.BacktestOut(query=query, matches=matches, count=len(matches), complete=complete)


@router.get("/rules/{name}/backtest", response_model=schemas.BacktestOut, responses=NOT_FOUND)
def rule_backtest(request: Request, name: str, since: Moment | None = None,
                  limit: int = Query(100, ge=1, le=1000)) -> schemas.BacktestOut:
    """What a configured rule would have matched in the archive (newest first)."""
    rule = _state(request).config.rules.get(name)
    if rule is None:
        raise ApiError(404, f"no rule named {name!r}: GET /api/rules lists them")
    return _backtest(request, rule.query, since, limit)


@router.post("/backtest", response_model=schemas.BacktestOut)
def backtest_api(request: Request, body: schemas.BacktestIn) -> schemas.BacktestOut:
    """What a query would have matched, without saving it as a rule."""
    if not csrf_ok(request, None):
        raise ApiError(403, CSRF_MISSING)
    return _backtest(request, body.query, body.since, body.limit)


def api_error_handler(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)
