"""Login, logout, account settings and the role checks used by every blueprint.

Sessions are signed cookies. A user's session token carries ``session_version``;
changing the password bumps it, which logs out every other device. Logging in
clears the old session first (no fixation: a fresh CSRF token and nothing else
survives), and the ``next`` target is followed only when it is a local path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_login import login_required as _login_required
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from feedhub.app import db_session
from feedhub.models import User, utcnow
from feedhub.users import hash_password
from feedhub.web import login_limits
from feedhub.web.i18n import LANG_COOKIE, normalize_language

login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])
bp = Blueprint("auth", __name__)

MIN_PASSWORD_LENGTH = 8
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# a fixed hash to compare against when the user does not exist, so timing does not tell
_DUMMY_HASH = generate_password_hash("feedhub-timing-equaliser")


class LoginUser(UserMixin):  # type: ignore[misc]
    """The session's view of a user: id plus role, re-read on every request."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = f"{user.id}:{user.session_version}"
        self.user_id = user.id
        self.username = user.username
        self.is_admin = user.is_admin
        self.language = user.language

    @property
    def is_active(self) -> bool:
        return not self.user.disabled


def _load_user(token: str) -> LoginUser | None:
    try:
        user_id, version = (int(x) for x in token.split(":", 1))
    except ValueError:
        return None
    user = db_session().scalar(select(User).where(User.id == user_id))
    if user is None or user.session_version != version or user.disabled:
        return None
    return LoginUser(user)


login_manager.user_loader(_load_user)


def login_required(view: F) -> F:
    """Flask-Login's decorator with its type kept (the library ships no hints)."""
    return cast(F, _login_required(view))


def admin_required(view: F) -> F:
    """Anonymous → login page; logged-in non-admin → 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not getattr(current_user, "is_admin", False):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Only same-origin relative paths are followed after login (no //host, no scheme)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return url_for("reader.index") if "reader.index" in current_app.view_functions else "/"
    return target


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _begin_session(user: User) -> None:
    """Start a new session for ``user``: drop everything the old one carried."""
    session.clear()
    login_user(LoginUser(user))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("auth/login.html", error=None)
    db = db_session()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    ip = _client_ip()
    now = utcnow()
    wait = login_limits.retry_after(db, ip, username, now)
    if wait is not None:
        html = render_template("auth/login.html", error="limited", retry_after=wait)
        return html, 429, {"Retry-After": str(wait)}
    user = db.scalar(select(User).where(User.username == username)) if username else None
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or user.disabled or not ok:
        login_limits.record_failure(db, ip, username, now)
        db.commit()
        return render_template("auth/login.html", error="invalid"), 401
    login_limits.clear_failures(db, ip, username)
    db.commit()
    _begin_session(user)
    return redirect(safe_next(request.args.get("next") or request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    return redirect(url_for("reader.index"))


@bp.get("/account")
@login_required
def account() -> Any:
    return render_template("auth/account.html", errors=[])


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    db = db_session()
    user = db.get(User, int(current_user.user_id))
    if user is None:  # pragma: no cover - deleted between loader and view
        abort(404)
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    confirm = request.form.get("confirm_password", "")
    errors = []
    if not check_password_hash(user.password_hash, current):
        errors.append(_("The current password is wrong."))
    if len(new) < MIN_PASSWORD_LENGTH:
        errors.append(_("The new password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if new != confirm:
        errors.append(_("The two new passwords differ."))
    if errors:
        return render_template("auth/account.html", errors=errors), 400
    user.password_hash = hash_password(new)
    user.session_version += 1  # every other device is logged out
    db.commit()
    _begin_session(user)
    flash(_("Your password was changed. Other devices are logged out."))
    return redirect(url_for("auth.account"))


@bp.post("/language")
def set_language() -> Any:
    """Pick the UI language: saved for the user, else kept in a cookie."""
    lang = normalize_language(request.form.get("language"))
    if lang is None:
        abort(400)
    if current_user.is_authenticated:
        db = db_session()
        user = db.get(User, int(current_user.user_id))
        if user is not None:
            user.language = lang
            db.commit()
    response = redirect(safe_next(request.form.get("next")))
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to continue.")
    login_manager.session_protection = "strong"
