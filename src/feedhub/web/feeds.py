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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy import Connection

from feedhub.app import db_session, runtime
from feedhub.publish.cache import CacheEntry, CacheKey, RenderCache, Rendered, reply
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
DEFAULT_REVALIDATE = 1.0  # seconds a checked cache entry is served without a query
FORMAT_RULE = "<any(atom, rss, json):fmt>"


@dataclass
class Fresh:
    """A cache entry checked against the database at ``checked_at`` (monotonic seconds).

    ``replay`` holds the headers the full Flask stack added to the last response
    for this key (security headers and the like), so the fast path can answer
    exactly like Flask would, without running it.
    """

    checked_at: float
    entry: CacheEntry
    public: bool
    token: str | None
    replay: tuple[tuple[str, str], ...] | None = None


@dataclass
class OutputsState:
    """Per-process state of this app: the render cache and the tag authority."""

    cache: RenderCache = field(default_factory=RenderCache)
    authority: str | None = None
    fresh: dict[CacheKey, Fresh] = field(default_factory=dict)


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


def token_allows(public: bool, token: str | None, given: str) -> bool:
    """Public feeds need nothing; private ones the exact token (compared in constant time)."""
    if public:
        return True
    return bool(token) and hmac.compare_digest(given.encode(), (token or "").encode())


def _authorized(definition: FeedDefinition) -> bool:
    return token_allows(definition.public, definition.token, request.args.get("token", ""))


def max_age(app: Flask | None = None) -> int:
    return int((app or current_app).config.get("OUTPUT_MAX_AGE", DEFAULT_MAX_AGE))


def revalidate_seconds(app: Flask | None = None) -> float:
    """How long a process trusts a checked cache entry without asking the database again."""
    return float((app or current_app).config.get("OUTPUT_REVALIDATE_SECONDS", DEFAULT_REVALIDATE))


def _respond(rendered: Rendered, public: bool) -> Response:
    status, headers, body = reply(
        rendered,
        public=public,
        max_age=max_age(),
        accept_encoding=request.headers.get("Accept-Encoding"),
        if_none_match=request.headers.get("If-None-Match"),
        if_modified_since=request.if_modified_since,
    )
    if status == 304:
        return Response(status=304, headers=headers)
    return Response(body, status=status, headers=headers)


def _remember(key: CacheKey, entry: CacheEntry, definition: FeedDefinition) -> None:
    """Mark the entry as checked now; the replay headers do not depend on the entry."""
    state = outputs_state()
    previous = state.fresh.pop(key, None)
    while len(state.fresh) >= state.cache.max_entries:  # Host headers vary: stay bounded
        state.fresh.pop(next(iter(state.fresh)))
    state.fresh[key] = Fresh(
        time.monotonic(),
        entry,
        definition.public,
        definition.token,
        previous.replay if previous is not None else None,
    )


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
            _remember(key, entry, definition)
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
    _remember(key, entry, definition)
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
    response.headers["Cache-Control"] = f"public, max-age={max_age()}"
    response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    from feedhub.web.feeds_fast import FeedFastPath

    app.extensions["feedhub_outputs"] = OutputsState()
    app.register_blueprint(bp)
    app.wsgi_app = FeedFastPath(app.wsgi_app, app)  # type: ignore[method-assign]
