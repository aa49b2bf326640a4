"""The admin blueprint under /admin: one guard for every route, views in admin_*.py.

Access is checked once, in ``before_request``, so no view can forget it: an
instance without any admin sends everyone to the local-only setup page,
anonymous visitors go to the login page, logged-in readers get 403. CSRF is
enforced app-wide by :mod:`feedhub.web.security` on every POST.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from feedhub.app import db_session
from feedhub.users import has_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")

# endpoints that work before any admin exists (the one-time setup)
OPEN_ENDPOINTS = frozenset({"admin.setup"})


@bp.before_request
def _guard() -> Any:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not has_admin(db_session()):
        return redirect(url_for("admin.setup"))
    if not current_user.is_authenticated:
        from feedhub.web.auth import login_manager

        return login_manager.unauthorized()
    if not getattr(current_user, "is_admin", False):
        abort(403)
    return None


@bp.context_processor
def _admin_globals() -> dict[str, Any]:
    """Links to admin pages other blueprints provide (output feeds), when present."""
    outputs_url = None
    for rule in current_app.url_map.iter_rules():
        if rule.rule.rstrip("/") == "/admin/outputs" and "GET" in (rule.methods or ()):
            outputs_url = url_for(rule.endpoint)
            break
    return {"outputs_url": outputs_url, "safe_href": safe_href}


def safe_href(url: str | None) -> str | None:
    """Feed-supplied links are shown only when they are plain http(s) links."""
    if url and urlsplit(url.strip()).scheme.lower() in {"http", "https"}:
        return url.strip()
    return None


def init_app(app: Flask) -> None:
    # The view modules attach their routes to ``bp`` when imported.
    from feedhub.web import (  # noqa: F401
        admin_categories,
        admin_dashboard,
        admin_health,
        admin_opml,
        admin_rules,
        admin_settings,
        admin_setup,
        admin_source_add,
        admin_source_detail,
        admin_sources,
        admin_stories,
        admin_users,
    )
    from feedhub.web.admin_jobs import init_jobs

    init_jobs(app)
    app.register_blueprint(bp)
