"""Output feeds over HTTP: /feeds/<slug>.atom|.rss|.json, per category, and /feeds.opml.

Feed apps poll these every few minutes, often many at once, so the common case
is made cheap: the definition lookup and the window check are two small
indexed queries on a plain connection (no ORM session, no rendering), after
which the cached bytes — precompressed — or a 304 go out. Rendering happens
only in a process that has nothing cached yet or when the window changed.

Private output feeds are addressed as ``/feeds/<slug>.atom?token=…``; a
missing or wrong token is indistinguishable from a feed that does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy import Connection
from werkzeug.http import http_date

from feedhub.app import db_session, runtime
from feedhub.publish.cache import RenderCache, Rendered, not_modified
from feedhub.publish.definitions import (
    ALL_KEY,
    FeedDefinition,
    all_definition,
    category_definition,
    output_definition,
    public_definitions,
)
from feedhub.publish.opml import OpmlOutline, render_opml
from feedhub.publish.render import RenderContext, alternate_path, render_entry, still_current
from feedhub.publish.tagging import tag_authority

bp = Blueprint("feeds", __name__)

DEFAULT_MAX_AGE = 300  # seconds feed apps may reuse a response without asking
FORMAT_RULE = "<any(atom, rss, json):fmt>"


@dataclass
class OutputsState:
    """Per-process state of this app: the render cache and the tag authority."""

    cache: RenderCache = field(default_factory=RenderCache)
    authority: str | None = None


def outputs_state(app: Flask | None = None) -> OutputsState:
    target = app or current_app
    state: OutputsState = target.extensions["feedhub_outputs"]
    return state


def base_url() -> str:
    """``PUBLIC_URL`` when configured (behind proxies that rewrite hosts), else the request's."""
    configured = current_app.config.get("PUBLIC_URL")
    url = str(configured) if configured else request.url_root
    return url if url.endswith("/") else url + "/"


def icon_url(root: str) -> str:
    configured = current_app.config.get("OUTPUT_ICON_URL")
    if configured:
        return str(configured)
    return root + "static/icons/icon-192.png"


def _authority() -> str:
    state = outputs_state()
    if state.authority is None:
        state.authority = tag_authority(
            db_session(),
            current_app.config.get("TAG_AUTHORITY"),
            request.host,
            datetime.now(UTC).date(),
        )
    return state.authority


def _authorized(definition: FeedDefinition) -> bool:
    if definition.public:
        return True
    given = request.args.get("token", "")
    return bool(definition.token) and hmac.compare_digest(
        given.encode(), (definition.token or "").encode()
    )


def _encoding() -> str | None:
    accept = request.accept_encodings
    if accept.quality("br") > 0:
        return "br"
    if accept.quality("gzip") > 0:
        return "gzip"
    return None


def _max_age() -> int:
    return int(current_app.config.get("OUTPUT_MAX_AGE", DEFAULT_MAX_AGE))


def _respond(rendered: Rendered, public: bool) -> Response:
    encoding = _encoding()
    body, etag = rendered.variant(encoding)
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(rendered.last_modified),
        "Cache-Control": f"{'public' if public else 'private'}, max-age={_max_age()}",
        "Vary": "Accept-Encoding",
    }
    if public:
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        headers["X-Robots-Tag"] = "noindex"
    if not_modified(rendered, request.headers.get("If-None-Match"), request.if_modified_since):
        return Response(status=304, headers=headers)
    response = Response(body, content_type=rendered.content_type, headers=headers)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    return response


def serve(resolve: Callable[[Connection], FeedDefinition | None], fmt: str) -> Response:
    """Check the cache with one query; render only when the window changed."""
    state = outputs_state()
    now = datetime.now(UTC)
    root = base_url()
    with runtime().db.engine.connect() as conn:
        definition = resolve(conn)
        if definition is None or not _authorized(definition):
            abort(404)
        key = (definition.key, fmt, root)
        entry = state.cache.get(key)
        if entry is not None and still_current(conn, entry, definition, now):
            return _respond(entry.rendered, definition.public)
    settings = runtime().settings
    ctx = RenderContext(
        base_url=root,
        authority=_authority(),
        icon_url=icon_url(root),
        hub_url=settings.websub_hub or None,
    )
    entry = render_entry(db_session(), definition, fmt, ctx, now)
    state.cache.put(key, entry)
    return _respond(entry.rendered, definition.public)


@bp.route(f"/feeds/<slug>.{FORMAT_RULE}")
def output_feed(slug: str, fmt: str) -> Response:
    if slug == ALL_KEY:
        return serve(lambda _conn: all_definition(), fmt)
    return serve(lambda conn: output_definition(conn, slug), fmt)


@bp.route(f"/feeds/category/<slug>.{FORMAT_RULE}")
def category_feed(slug: str, fmt: str) -> Response:
    return serve(lambda conn: category_definition(conn, slug), fmt)


@bp.route("/feeds.opml")
def opml() -> Response:
    """Every public feed as Atom, with the reader page it mirrors."""
    session = db_session()
    root = base_url()
    outlines = [
        OpmlOutline(
            title=definition.title,
            xml_url=f"{root}{definition.path.lstrip('/')}.atom",
            html_url=root + alternate_path(session, definition),
        )
        for definition in public_definitions(session)
    ]
    body = render_opml("feedhub", datetime.now(UTC), outlines)
    response = Response(body, content_type="text/x-opml; charset=utf-8")
    # dateCreated changes every second; the tag depends only on what is listed
    listed = repr([(o.title, o.xml_url, o.html_url) for o in outlines]).encode()
    response.set_etag(hashlib.sha256(listed).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={_max_age()}"
    response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    app.extensions["feedhub_outputs"] = OutputsState()
    app.register_blueprint(bp)
