"""Safe by default: the token check, CSRF and the security headers.

With `web.token` set every request needs it: `Authorization: Bearer TOKEN`, or the session cookie
the login form sets (a digest of the token, never the token itself). Every POST carries a CSRF
token equal to the `newsmon_csrf` cookie (a form field or the X-CSRF-Token header) unless it
is authenticated by a Bearer header, which a browser never sends on its own."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

SESSION_COOKIE = "newsmon_session"
CSRF_COOKIE = "newsmon_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
PUBLIC_PATHS = ("/login", "/static/")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, without its port ('[::1]:8080' -> '::1')."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_allowed(header: str | None, allowed: tuple[str, ...]) -> bool:
    """Requests to a server without a token must name it by a loopback name or address, or an allowed host:
    a page that rebinds its own name to 127.0.0.1 (DNS rebinding) is refused."""
    if not header:
        return False
    name = host_name(header)
    return is_loopback(name) or name in allowed


def session_value(token: str) -> str:
    """What the session cookie holds: a keyed digest of the token (the cookie never holds it)."""
    return hmac.new(token.encode(), b"newsmon-web-session", hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, credential = value.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def authenticated(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    offered = bearer(request)
    if offered is not None:
        return same(offered, token)
    return same(request.cookies.get(SESSION_COOKIE), session_value(token))


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (its cookie), or a new one the response will set."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and len(current) >= 32:
        return current
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = secrets.token_urlsafe(32)
    return request.state.new_csrf


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """A POST's CSRF check: a Bearer request is exempt; otherwise the token sent (form field or header)
    must equal the cookie."""
    if bearer(request) is not None:
        return True
    return same(submitted or request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE))


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


class SecurityMiddleware(BaseHTTPMiddleware):
    """The token check before any route, and the headers and CSRF cookie after it."""

    def __init__(self, app, token: str | None, allowed_hosts: tuple[str, ...] = ()):
        super().__init__(app)
        self.token = token
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)

    async def dispatch(self, request: Request, call_next) -> Response:
        path = request.url.path
        if self.token is None and not host_allowed(request.headers.get("host"), self.allowed_hosts):
            response: Response = JSONResponse(
                {"error": f"this server answers to its loopback address only (Host {request.headers.get('host')!r}): "
                          "add the name to web.allowed_hosts, or set web.token"}, status_code=403)
        elif not authenticated(request, self.token) and not path.startswith(PUBLIC_PATHS):
            if _wants_json(request) or request.method != "GET":
                response = JSONResponse(
                    {"error": "this server needs its token: send `Authorization: Bearer TOKEN` (web.token)"},
                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            else:
                response = RedirectResponse("/login", status_code=303)
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        new = getattr(request.state, "new_csrf", None)
        if new:
            response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", secure=True, path="/")
        return response
