"""Security headers on every response and CSRF protection on every form."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self' https: http: data:; "
    "media-src 'self' https: http:; "
    "font-src 'self'; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)


class RequestAwareSessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever this request came over HTTPS.

    Decided per request (directly or behind a proxy that ProxyFix trusts), so plain
    HTTP installs keep working and no shared config is mutated between threads.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        if has_request_context() and request.is_secure:
            return True
        return bool(app.config.get("SESSION_COOKIE_SECURE"))


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # Flask ships these keys as None/False, so setdefault elsewhere does not take.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.session_interface = RequestAwareSessionInterface()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
