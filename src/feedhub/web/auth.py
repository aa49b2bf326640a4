"""Login, logout and the role checks used by every blueprint."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_login import LoginManager, UserMixin, current_user, login_required
from sqlalchemy import select

from feedhub.app import db_session
from feedhub.models import User

login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])


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


@login_manager.user_loader
def _load_user(token: str) -> LoginUser | None:
    try:
        user_id, version = (int(x) for x in token.split(":", 1))
    except ValueError:
        return None
    user = db_session().scalar(select(User).where(User.id == user_id))
    if user is None or user.session_version != version or user.disabled:
        return None
    return LoginUser(user)


def admin_required(view: F) -> F:
    """Anonymous → login page; logged-in non-admin → 403."""

    @wraps(view)
    @login_required  # type: ignore[misc]
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not getattr(current_user, "is_admin", False):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"


# --- views (the reader issue adds rate limiting, password change, language) ---
from flask import Blueprint, redirect, render_template, request, url_for  # noqa: E402
from flask_login import login_user, logout_user  # noqa: E402
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: E402

bp = Blueprint("auth", __name__)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def safe_next(target: str | None) -> str:
    """Only same-origin relative paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("reader.index") if "reader.index" in _endpoints() else "/"
    return target


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = db_session().scalar(select(User).where(User.username == username))
        if user and not user.disabled and check_password_hash(user.password_hash, password):
            from flask import session

            session.clear()  # regenerate: no fixation
            login_user(LoginUser(user))
            return redirect(safe_next(request.args.get("next")))
        error = "invalid"
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    return redirect("/")
