"""The web reader: front page, lists, story page, search, read/star state.

Every page works without JavaScript (links and forms); static/reader.js only adds
keyboard shortcuts and in-place toggles. State-changing routes are POST + CSRF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.app import db_session, runtime
from feedhub.config import Settings
from feedhub.models import Category, OutputFeed, Place, Setting, Source
from feedhub.web import reader_queries as q
from feedhub.web import reader_state
from feedhub.web.auth import login_manager, login_required, safe_next
from feedhub.web.highlight import highlight

bp = Blueprint("reader", __name__)

PAGE_SIZE = 30
SECTION_SIZE = 6
PUBLIC_READING_KEY = "public_reading"


# --- the public-reading switch (the admin UI calls these) ------------------------------


def public_reading_enabled(session: Session, settings: Settings) -> bool:
    """The admin's choice stored in the database, else the configured default."""
    row = session.get(Setting, PUBLIC_READING_KEY)
    if row is None or not isinstance(row.value, bool):
        return settings.public_reading
    return row.value


def set_public_reading(session: Session, enabled: bool) -> None:
    """Switch anonymous reading on or off for every web process (caller commits)."""
    row = session.get(Setting, PUBLIC_READING_KEY)
    if row is None:
        session.add(Setting(key=PUBLIC_READING_KEY, value=enabled))
    else:
        row.value = enabled


@bp.before_request
def _require_login_unless_public() -> Any:
    if current_user.is_authenticated:
        return None
    if request.endpoint in {"reader.manifest"}:
        return None
    if _reading_allowed():
        return None
    return login_manager.unauthorized()


# --- helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternate:
    title: str
    href: str
    type: str


FEED_TYPES = (
    ("atom", "application/atom+xml", "Atom"),
    ("rss", "application/rss+xml", "RSS"),
    ("json", "application/feed+json", "JSON Feed"),
)


def _user_id() -> int | None:
    return int(current_user.user_id) if current_user.is_authenticated else None


def _same_place(names: tuple[str, ...], place: Place | None) -> bool:
    """A feed's place list names exactly this place (by name or slug), or no place at all."""
    wanted = {n.lower() for n in names}
    if place is None:
        return not wanted
    return bool(wanted) and wanted <= {place.name.lower(), place.slug.lower()}


def _matching_outputs(
    session: Session,
    *,
    category_id: int | None = None,
    place: Place | None = None,
    source_id: int | None = None,
) -> list[Alternate]:
    """Public saved output feeds whose filter is exactly this page's scope."""
    from feedhub.publish.query import FeedFilter, FilterError

    found = []
    rows = session.scalars(
        select(OutputFeed)
        .where(OutputFeed.public.is_(True), OutputFeed.token.is_(None))
        .order_by(OutputFeed.title)
    )
    for feed in rows:
        try:
            scope = FeedFilter.from_json(feed.filters)
        except FilterError:
            continue
        if (
            scope.categories == ((category_id,) if category_id is not None else ())
            and scope.sources == ((source_id,) if source_id is not None else ())
            and _same_place(scope.places, place)
        ):
            found.append(Alternate(feed.title, f"/feeds/{feed.slug}.atom", "application/atom+xml"))
    return found


def _front_alternates(session: Session) -> list[Alternate]:
    everything = Alternate(_("All stories"), "/feeds/all.atom", "application/atom+xml")
    return [everything, *_matching_outputs(session)]


def _category_alternates(session: Session, category: Category) -> list[Alternate]:
    builtin = [
        Alternate(f"{category.name} ({label})", f"/feeds/category/{category.slug}.{ext}", mime)
        for ext, mime, label in FEED_TYPES
    ]
    return builtin + _matching_outputs(session, category_id=category.id)


def _list_page(
    template_title: str,
    ids: list[int],
    cursor: q.Cursor | None,
    *,
    heading: str,
    alternates: list[Alternate] | None = None,
    intro: str = "",
    status: int = 200,
) -> tuple[str, int]:
    session = db_session()
    cards = q.load_cards(session, ids, _user_id())
    more_url = None
    if cursor is not None:
        args = dict(request.view_args or {})
        args.update({k: v for k, v in request.args.items() if k != "before"})
        more_url = url_for(request.endpoint or "reader.index", before=cursor.encode(), **args)
    html = render_template(
        "reader/list.html",
        title=template_title,
        heading=heading,
        intro=intro,
        cards=cards,
        more_url=more_url,
        alternates=alternates or [],
        view_ids=[c.id for c in cards],
    )
    return html, status


def _before() -> q.Cursor | None:
    return q.Cursor.decode(request.args.get("before"))


# --- pages ----------------------------------------------------------------------------------


@dataclass
class Section:
    heading: str
    cards: list[q.StoryCard]
    more_url: str | None


@bp.get("/")
def index() -> Any:
    """One keyset query per category, then every card of the page in one batch."""
    session = db_session()
    planned: list[tuple[str, list[int], str | None]] = []
    has_fallback = False
    for category in _nav_categories():
        has_fallback = has_fallback or category.is_fallback
        ids, cursor = q.category_ids(session, category, None, SECTION_SIZE)
        if ids:
            more = url_for("reader.category", slug=category.slug) if cursor else None
            planned.append((category.heading or category.name, ids, more))
    if not has_fallback:
        ids, cursor = q.uncategorized_ids(session, None, SECTION_SIZE)
        if ids:
            more = url_for("reader.latest") if cursor else None
            planned.append((runtime().settings.fallback_category, ids, more))
    all_ids = [i for _, ids, _ in planned for i in ids]
    cards = {c.id: c for c in q.load_cards(session, all_ids, _user_id())}
    sections = [
        Section(heading=heading, cards=[cards[i] for i in ids if i in cards], more_url=more)
        for heading, ids, more in planned
    ]
    return render_template(
        "reader/index.html",
        sections=sections,
        alternates=_front_alternates(session),
        view_ids=all_ids,
    )


@bp.get("/latest")
def latest() -> Any:
    ids, cursor = q.latest_ids(db_session(), _before(), PAGE_SIZE)
    return _list_page(_("Latest stories"), ids, cursor, heading=_("Latest stories"))


@bp.get("/category/<slug>")
def category(slug: str) -> Any:
    session = db_session()
    cat = q.category_by_slug(session, slug)
    if cat is None:
        abort(404)
    ids, cursor = q.category_ids(session, cat, _before(), PAGE_SIZE)
    return _list_page(
        cat.name,
        ids,
        cursor,
        heading=cat.heading or cat.name,
        alternates=_category_alternates(session, cat),
    )


@bp.get("/place/<slug>")
def place(slug: str) -> Any:
    session = db_session()
    found = q.place_by_slug(session, slug)
    if found is None:
        abort(404)
    ids, cursor = q.place_ids(session, found.id, _before(), PAGE_SIZE)
    heading = _("News from %(place)s", place=found.name)
    alternates = _matching_outputs(session, place=found)
    return _list_page(found.name, ids, cursor, heading=heading, alternates=alternates)


@bp.get("/source/<int:source_id>")
def source(source_id: int) -> Any:
    session = db_session()
    src = session.get(Source, source_id)
    if src is None:
        abort(404)
    ids, cursor = q.source_ids(session, src.id, _before(), PAGE_SIZE)
    heading = _("Stories from %(source)s", source=src.display_title)
    alternates = _matching_outputs(session, source_id=src.id)
    return _list_page(src.display_title, ids, cursor, heading=heading, alternates=alternates)


@bp.get("/starred")
@login_required
def starred() -> Any:
    user_id = int(current_user.user_id)
    ids, cursor = q.starred_ids(db_session(), user_id, _before(), PAGE_SIZE)
    return _list_page(_("Starred"), ids, cursor, heading=_("Starred stories"))


@bp.get("/unread")
@login_required
def unread() -> Any:
    user_id = int(current_user.user_id)
    ids, cursor = q.unread_ids(db_session(), user_id, _before(), PAGE_SIZE)
    return _list_page(_("Unread"), ids, cursor, heading=_("Unread stories"))


@bp.get("/story/<int:story_id>")
def story(story_id: int) -> Any:
    session = db_session()
    detail = q.story_detail(session, story_id)
    if detail is None:
        abort(404)
    user_id = _user_id()
    read = starred_now = False
    if user_id is not None:
        # opening a story reads it, as in every feed reader; "m" undoes it
        reader_state.set_read(session, user_id, story_id, True)
        session.commit()
        read_ids, star_ids = q.story_states(session, user_id, [story_id])
        read, starred_now = story_id in read_ids, story_id in star_ids
    places = q.places_by_name(session, [str(p) for p in detail.story.places or []])
    category = detail.story.category
    alternates = _category_alternates(session, category) if category else []
    return render_template(
        "reader/story.html",
        detail=detail,
        story=detail.story,
        places=places,
        read=read,
        starred=starred_now,
        alternates=alternates,
        view_ids=[story_id],
    )


# --- search ---------------------------------------------------------------------------------


def _parse_day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@bp.get("/search")
def search() -> Any:
    from feedhub.stories.search import highlight_terms, search_stories

    session = db_session()
    query = request.args.get("q", "").strip()[:200]
    cat = q.category_by_slug(session, request.args.get("category", ""))
    plc = q.place_by_slug(session, request.args.get("place", ""))
    src_arg = request.args.get("source", "")
    src = session.get(Source, int(src_arg)) if src_arg.isdigit() else None
    since_day = _parse_day(request.args.get("since"))
    until_day = _parse_day(request.args.get("until"))
    since = datetime.combine(since_day, time.min, UTC) if since_day else None
    until = datetime.combine(until_day, time.min, UTC) + timedelta(days=1) if until_day else None
    before = _before()
    cards: list[q.StoryCard] = []
    more_url = None
    if query:
        ids = search_stories(
            session,
            query,
            category_id=cat.id if cat else None,
            place_id=plc.id if plc else None,
            source_id=src.id if src else None,
            since=since,
            until=until,
            limit=PAGE_SIZE + 1,
            before=(before.at, before.id) if before else None,
        )
        cards = q.load_cards(session, ids[:PAGE_SIZE], _user_id())
        if len(ids) > PAGE_SIZE and cards:
            last = cards[-1]
            args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before"}
            more_url = url_for(
                "reader.search", before=q.Cursor(last.sort_at, last.id).encode(), **args
            )
    # the stems find "Rathäuser" for "rathaus"; the typed words keep umlauts and ß
    terms = [*highlight_terms(query), *re.findall(r"\w{2,}", query)] if query else []
    return render_template(
        "reader/search.html",
        query=query,
        cards=cards,
        terms=terms,
        more_url=more_url,
        categories=q.categories_in_order(session),
        places=list(session.scalars(select(Place).order_by(Place.name))),
        sources=list(session.scalars(select(Source).order_by(Source.title, Source.id))),
        selected={
            "category": cat.slug if cat else "",
            "place": plc.slug if plc else "",
            "source": src.id if src else None,
            "since": since_day.isoformat() if since_day else "",
            "until": until_day.isoformat() if until_day else "",
        },
        view_ids=[c.id for c in cards],
    )


# --- state changes (POST + CSRF) --------------------------------------------------------------


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _back(default: str) -> Any:
    return redirect(safe_next(request.form.get("next") or default))


def _flag(name: str) -> bool:
    return request.form.get(name, "1") not in {"0", "false", ""}


def _visible_story_or_404(story_id: int) -> None:
    if not q.visible_story_ids(db_session(), [story_id]):
        abort(404)


@bp.post("/story/<int:story_id>/star")
@login_required
def star(story_id: int) -> Any:
    _visible_story_or_404(story_id)
    value = _flag("starred")
    session = db_session()
    reader_state.set_starred(session, int(current_user.user_id), story_id, value)
    session.commit()
    if _wants_json():
        return jsonify(id=story_id, starred=value)
    return _back(url_for("reader.story", story_id=story_id))


@bp.post("/story/<int:story_id>/read")
@login_required
def read(story_id: int) -> Any:
    _visible_story_or_404(story_id)
    value = _flag("read")
    session = db_session()
    reader_state.set_read(session, int(current_user.user_id), story_id, value)
    session.commit()
    if _wants_json():
        return jsonify(id=story_id, read=value)
    return _back(url_for("reader.story", story_id=story_id))


@bp.post("/mark-read")
@login_required
def mark_read() -> Any:
    """Mark every story the page showed as read (ids come from the page's own form)."""
    raw = request.form.get("ids", "")
    ids = [int(x) for x in raw.split(",") if x.strip().isdigit()]
    session = db_session()
    visible = q.visible_story_ids(session, ids[: reader_state.MAX_MARK_READ])
    count = reader_state.mark_read(session, int(current_user.user_id), visible)
    session.commit()
    if _wants_json():
        return jsonify(marked=count)
    return _back(url_for("reader.index"))


# --- small static-ish pages -------------------------------------------------------------------


@bp.get("/shortcuts")
def shortcuts() -> Any:
    return render_template("reader/shortcuts.html")


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    body = render_template("reader/manifest.webmanifest")
    return Response(body, mimetype="application/manifest+json")


def _nav_categories() -> list[Category]:
    if "nav_categories" not in g:
        g.nav_categories = q.categories_in_order(db_session())
    cats: list[Category] = g.nav_categories
    return cats


def _reading_allowed() -> bool:
    """Whether this visitor may see stories (drives the nav on the login page)."""
    if current_user.is_authenticated:
        return True
    if "reading_allowed" not in g:
        g.reading_allowed = public_reading_enabled(db_session(), runtime().settings)
    allowed: bool = g.reading_allowed
    return allowed


def safe_href(url: str | None) -> str:
    """Only http(s) links leave the reader; anything else (javascript:, data:) is dropped."""
    if not url:
        return ""
    value = url.strip()
    scheme = urlsplit(value).scheme.lower()
    return value if scheme in {"http", "https"} else ""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["nav_categories"] = _nav_categories
    app.jinja_env.globals["reading_allowed"] = _reading_allowed
    app.jinja_env.filters["safe_href"] = safe_href
    app.jinja_env.globals["highlight"] = highlight
