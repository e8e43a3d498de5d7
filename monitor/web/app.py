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
from monitor.web import api, pages
from monitor.web.deps import WebState
from monitor.web.security import SecurityMiddleware


def create_app(config: NewsmonConfig, sessions: sessionmaker[Session]) -> FastAPI:
    token = config.web.token.get_secret_value() if config.web.token else None
    app = FastAPI(title="newsmon", version=__version__, docs_url=None, redoc_url=None)
    app.state.web = WebState(config=config, sessions=sessions, token=token)
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
