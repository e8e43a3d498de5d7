"""The JSON API under /api/ (OpenAPI at /openapi.json). Errors are JSON a person can act on."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from monitor.alerting import document_for
from monitor.errors import RuleSyntaxError
from monitor.rules import snippet
from monitor.store import repo, web_queries
from monitor.store.search import search
from monitor.store.session import session_scope
from monitor.web.security import csrf_ok

router = APIRouter(prefix="/api")


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        self.status, self.message, self.extra = status, message, extra


def syntax_error(exc: RuleSyntaxError) -> ApiError:
    return ApiError(400, str(exc), position=exc.position, query=exc.query)


def _state(request: Request):
    return request.app.state.web


def _article_json(article, compiled=None) -> dict:
    row = dict(id=article.id, story_id=article.story_id, source=article.source, url=article.url,
               title=article.title, language=article.language, fetched_at=article.fetched_at.isoformat(),
               published_at=article.published_at.isoformat() if article.published_at else None)
    if compiled is not None:
        row["snippet"] = snippet(document_for(article), compiled)
    return row


@router.get("/stories")
def stories(request: Request, since: datetime | None = None, source: str | None = None, q: str | None = None,
            limit: int = Query(50, ge=1, le=500), cursor: str | None = None) -> dict:
    with _state(request).sessions() as session:
        ids = None
        if q:
            try:
                ids = sorted({a.story_id for a, _ in search(session, q, since=since, limit=1000) if a.story_id})
            except RuleSyntaxError as exc:
                raise syntax_error(exc) from None
        try:
            page = web_queries.stories_page(session, since=since, source=source, story_ids=ids, limit=limit,
                                            cursor=cursor)
        except web_queries.BadCursor as exc:
            raise ApiError(400, str(exc)) from None
        return {"stories": [s.as_json() for s in page.items], "next_cursor": page.next_cursor}


@router.get("/stories/{story_id}")
def story(request: Request, story_id: int) -> dict:
    with _state(request).sessions() as session:
        detail = web_queries.story_detail(session, story_id)
        if detail is None:
            raise ApiError(404, f"no story with id {story_id}")
        return {"id": detail.story.id, "title": detail.story.title,
                "first_seen_at": detail.story.first_seen_at.isoformat(),
                "articles": [{**_article_json(a), "text": a.text,
                              "revisions": [dict(revision=r.revision, title=r.title, text=r.text,
                                                 until=r.fetched_at.isoformat())
                                            for r in detail.revisions.get(a.id, [])]} for a in detail.articles]}


@router.get("/search")
def search_api(request: Request, q: str, since: datetime | None = None, limit: int = Query(50, ge=1, le=500)) -> dict:
    with _state(request).sessions() as session:
        try:
            return {"results": [_article_json(a, c) for a, c in search(session, q, since=since, limit=limit)]}
        except RuleSyntaxError as exc:
            raise syntax_error(exc) from None


@router.get("/sources")
def sources(request: Request) -> dict:
    from monitor.web.pages import source_rows

    with _state(request).sessions() as session:
        return {"sources": [{k: v for k, v in row.items() if k != "spark"} for row in source_rows(
            _state(request).config, session)]}


@router.get("/alerts")
def alerts(request: Request, status: str | None = None, limit: int = Query(100, ge=1, le=500),
           cursor: int | None = None) -> dict:
    with _state(request).sessions() as session:
        rows, next_cursor = web_queries.alerts_page(session, status=status, limit=limit, cursor=cursor)
        return {"alerts": [dict(id=a.id, status=a.status, rule=a.rule, channel=a.channel, attempts=a.attempts,
                                last_error=a.last_error, article_id=a.article_id,
                                created_at=a.created_at.isoformat()) for a in rows],
                "next_cursor": next_cursor}


def retry(request: Request, alert_id: int) -> tuple[int, str]:
    """(HTTP status, message) of requeueing one alert."""
    with session_scope(_state(request).sessions) as session:
        alert = repo.requeue_alert(session, alert_id, repo.utcnow())
        if alert is None:
            return 404, f"no alert with id {alert_id}"
        if alert.status != "pending":
            return 409, f"alert {alert_id} is {alert.status}; only dead or pending alerts are retried"
    return 200, f"alert {alert_id} queued for the next delivery pass"


@router.post("/alerts/{alert_id}/retry")
def retry_api(request: Request, alert_id: int) -> dict:
    if not csrf_ok(request, None):
        raise ApiError(403, "missing or wrong CSRF token: send the X-CSRF-Token header (or use a Bearer token)")
    status, message = retry(request, alert_id)
    if status != 200:
        raise ApiError(status, message)
    return {"id": alert_id, "status": "pending", "message": message}


@router.get("/rules")
def rules(request: Request) -> dict:
    config = _state(request).config
    return {"rules": [dict(name=r.name, query=r.query, channels=r.channels, enabled=r.enabled, sources=r.sources)
                      for r in config.rules.values()]}


def backtest(request: Request, query: str, since: datetime | None, limit: int) -> dict:
    with _state(request).sessions() as session:
        try:
            results = [_article_json(a, c) for a, c in search(session, query, since=since, limit=limit)]
        except RuleSyntaxError as exc:
            raise syntax_error(exc) from None
    return {"query": query, "matches": results, "count": len(results)}


@router.get("/rules/{name}/backtest")
def rule_backtest(request: Request, name: str, since: datetime | None = None,
                  limit: int = Query(100, ge=1, le=1000)) -> dict:
    rule = _state(request).config.rules.get(name)
    if rule is None:
        raise ApiError(404, f"no rule named {name!r} (GET /api/rules lists them)")
    return backtest(request, rule.query, since, limit)


class BacktestRequest(BaseModel):
    query: str = Field(min_length=1)
    since: datetime | None = None
    limit: int = Field(100, ge=1, le=1000)


@router.post("/backtest")
def backtest_api(request: Request, body: BacktestRequest) -> dict:
    if not csrf_ok(request, None):
        raise ApiError(403, "missing or wrong CSRF token: send the X-CSRF-Token header (or use a Bearer token)")
    return backtest(request, body.query, body.since, body.limit)


def api_error_handler(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)
