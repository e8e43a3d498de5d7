"""Server-rendered pages: stories, a story, search, rules, alerts, sources, login."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor.alerting import document_for
from monitor.errors import RuleSyntaxError
from monitor.store import repo, web_queries
from monitor.store.search import SearchBudget, search
from monitor.text.dates import utc_midnight
from monitor.web import views
from monitor.web.api import retry as requeue
from monitor.web.deps import SEARCH_BUDGET, TEMPLATES
from monitor.web.schemas import MAX_ROW_ID, RowId, in_utc
from monitor.web.security import SESSION_COOKIE, csrf_ok, csrf_token, same, session_value
from monitor.web.sources import SPARK_DAYS, source_rows

router = APIRouter(include_in_schema=False)
SEARCH_LIMIT = 50
PREVIEW_LIMIT = 100


def render(request: Request, name: str, code: int = 200, **context) -> HTMLResponse:
    context.update(csrf=csrf_token(request), span=views.span, when=views.when, href=views.external_url,
                   auth=request.app.state.web.token is not None)
    return TEMPLATES.TemplateResponse(request, name, context, status_code=code)


def _date(value: str | None) -> datetime | None:
    """A date or time from a page's form, in UTC; one that does not parse (or cannot be UTC) is no filter."""
    if not value:
        return None
    try:
        return in_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


@router.get("/")
def stories(request: Request, source: str | None = None, lang: str | None = None, rule: str | None = None,
            since: str | None = None, cursor: str | None = None):
    state = request.app.state.web
    with state.sessions() as session:
        try:
            page = web_queries.stories_page(session, source=source or None, language=lang or None,
                                            rule=rule or None, since=_date(since), cursor=cursor)
        except web_queries.BadCursor as exc:
            return render(request, "error.html", 400, message=str(exc))
        languages = web_queries.known_languages(session)
    return render(request, "stories.html", page=page, sources=sorted(state.config.sources), languages=languages,
                  rules=sorted(state.config.rules), filters=dict(source=source, lang=lang, rule=rule, since=since))


@router.get("/stories/{story_id}")
def story(request: Request, story_id: RowId):
    with request.app.state.web.sessions() as session:
        detail = web_queries.story_detail(session, story_id)
        if detail is None:
            return render(request, "error.html", 404, message=f"no story with id {story_id}")
        diffs = {}
        for article in detail.articles:
            texts = [r.text for r in detail.revisions.get(article.id, [])] + [article.text]
            diffs[article.id] = [views.diff_lines(a, b) for a, b in zip(texts, texts[1:])]
        return render(request, "story.html", detail=detail, diffs=diffs)


@dataclass
class Outcome:
    """What a search or preview shows: the matches, or the parse error; `partial` when the search budget
    ran out before the archive did."""

    results: list = field(default_factory=list)
    error: RuleSyntaxError | None = None
    partial: bool = False


def _try_query(session, query: str, since: datetime | None, limit: int) -> Outcome:
    if not query:
        return Outcome()
    budget = SearchBudget(SEARCH_BUDGET)
    try:
        found = list(search(session, query, since=since, limit=limit, budget=budget))
    except RuleSyntaxError as exc:
        return Outcome(error=exc)
    results = []
    for article, compiled in found:
        doc = document_for(article)
        results.append(dict(article=article, title=views.title_segments(doc, compiled),
                            text=views.highlighted(doc, compiled)))
    return Outcome(results, partial=budget.exhausted)


@router.get("/search")
def search_page(request: Request, q: str = "", since: str | None = None):
    with request.app.state.web.sessions() as session:
        outcome = _try_query(session, q, _date(since), SEARCH_LIMIT)
    return render(request, "search.html", q=q, since=since or "", outcome=outcome, limit=SEARCH_LIMIT)


def _preview(session, preview: str, since: str | None) -> dict:
    """What the rule preview shows: the matches of an edited query (nothing saved), or its parse error."""
    outcome = _try_query(session, preview, _date(since), PREVIEW_LIMIT)
    return dict(preview=preview, since=since or "", outcome=outcome, limit=PREVIEW_LIMIT)


@router.get("/rules")
def rules(request: Request, preview: str = "", since: str | None = None):
    state = request.app.state.web
    today = datetime.now(timezone.utc).date()
    spark_days = web_queries.days(today, SPARK_DAYS)
    with state.sessions() as session:
        hits = web_queries.rule_hits_per_day(session, utc_midnight(spark_days[0]))
        shown = _preview(session, preview, since)
    rows = [dict(rule=r, spark=views.sparkline([hits.get(r.name, {}).get(d, 0) for d in spark_days]),
                 total=sum(hits.get(r.name, {}).values())) for r in state.config.rules.values()]
    return render(request, "rules.html", rows=rows, **shown)


@router.get("/rules/preview")
def rule_preview(request: Request, preview: str = "", since: str | None = None):
    """The preview alone, for the page's script to swap in as the query is edited."""
    with request.app.state.web.sessions() as session:
        shown = _preview(session, preview, since)
    return render(request, "_preview.html", **shown)


@router.get("/alerts")
def alerts(request: Request, status: str | None = None, cursor: int | None = Query(None, ge=1, le=MAX_ROW_ID),
           retried: int | None = Query(None, ge=1, le=MAX_ROW_ID)):
    # The note after a retry is made here from the id: a link cannot put words of its own on the page.
    message = f"alert {retried} queued for the next delivery pass" if retried else None
    with request.app.state.web.sessions() as session:
        rows, next_cursor = web_queries.alerts_page(session, status=status or None, cursor=cursor)
        counts = repo.alert_counts(session)
        return render(request, "alerts.html", alerts=rows, next_cursor=next_cursor, counts=counts,
                      status=status or "", message=message)


@router.post("/alerts/{alert_id}/retry")
def retry(request: Request, alert_id: RowId, csrf_token: str = Form("")):
    if not csrf_ok(request, csrf_token):
        return render(request, "error.html", 403, message="the form's CSRF token is missing or wrong: "
                      "reload the alerts page and try again")
    status, message = requeue(request, alert_id)
    if status != 200:
        return render(request, "error.html", status, message=message)
    return RedirectResponse(f"/alerts?status=pending&retried={alert_id}", status_code=303)


@router.get("/sources")
def sources(request: Request):
    state = request.app.state.web
    with state.sessions() as session:
        rows = source_rows(state.config, session)
    return render(request, "sources.html", rows=rows)


@router.get("/login")
def login_form(request: Request):
    return render(request, "login.html", error=None)


@router.post("/login")
def login(request: Request, token: str = Form(""), csrf_token: str = Form("")) -> Response:
    expected = request.app.state.web.token
    if not csrf_ok(request, csrf_token):
        return render(request, "login.html", 403, error="the form expired: try again")
    if expected is None:
        return RedirectResponse("/", status_code=303)
    if not same(token, expected):
        return render(request, "login.html", 401, error="wrong token")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_value(expected), httponly=True, secure=True, samesite="strict",
                        max_age=int(timedelta(days=7).total_seconds()))
    return response
