"""The app factory: routes, the security middleware, error handlers, static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from monitor import __version__
from monitor.config import NewsmonConfig
from monitor.store.session import make_reader_engine, session_factory
from monitor.web import api, pages
from monitor.web.deps import WebState
from monitor.web.security import SecurityMiddleware


def create_app(config: NewsmonConfig, sessions: sessionmaker[Session],
               readers: sessionmaker[Session] | None = None) -> FastAPI:
    """The app on the archive: `sessions` write (the retry action only), `readers` (by default read-only
    connections to the same archive) serve everything else."""
    token = config.web.token.get_secret_value() if config.web.token else None
    if readers is None:
        bind = sessions.kw["bind"]
        readers = session_factory(make_reader_engine(bind.url.render_as_string(hide_password=False),
                                                     config.database_pool))
    app = FastAPI(title="newsmon", version=__version__, docs_url=None, redoc_url=None,
                  description="The archive of newsmon: stories across outlets, search with the rule language, "
                              "rule backtests, the alerts outbox and source health. Read-only but for retrying "
                              "an alert. Errors are {\"error\": \"...\"}.")
    app.state.web = WebState(config=config, sessions=readers, writer=sessions, token=token)
    app.add_middleware(SecurityMiddleware, token=token, allowed_hosts=tuple(config.web.allowed_hosts))
    app.add_exception_handler(api.ApiError, api.api_error_handler)

    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": f"bad request: {problems}"}, status_code=400)

    app.add_exception_handler(RequestValidationError, invalid)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    return app
