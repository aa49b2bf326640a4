"""Admin pages for output feeds: list, create/edit with a live preview, delete, rotate token.

The form is parsed by hand into an :class:`OutputSpec` (the same one the CLI
builds), so both paths share one set of rules in :mod:`feedhub.publish.outputs`.
"Preview" runs the filter the form currently describes without saving it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from feedhub.app import db_session
from feedhub.models import Category, OutputFeed, Source
from feedhub.publish.items import FeedItem, build_items
from feedhub.publish.outputs import (
    OutputError,
    OutputSpec,
    create_output,
    describe_filter,
    feed_path,
    rotate_token,
    update_output,
    validate_slug,
)
from feedhub.publish.query import DEFAULT_MAX_ITEMS, FeedFilter, FilterError, select_stories
from feedhub.web.auth import admin_required

bp = Blueprint("outputs_admin", __name__, url_prefix="/admin/outputs")

PREVIEW_AUTHORITY = "preview.invalid,2000"


@dataclass
class FormState:
    """What the form shows: the submitted (or stored) values and any error."""

    slug: str = ""
    title: str = ""
    subtitle: str = ""
    private: bool = False
    categories: list[int] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)
    places: str = ""
    include: str = ""
    exclude: str = ""
    regex: str = ""
    include_sponsored: bool = False
    min_sources: str = "1"
    max_age_hours: str = ""
    max_items: str = "50"
    per_source_cap: str = ""

    @classmethod
    def from_feed(cls, feed: OutputFeed) -> FormState:
        flt = FeedFilter.from_json(feed.filters)
        return cls(
            slug=feed.slug,
            title=feed.title,
            subtitle=feed.subtitle,
            private=not feed.public,
            categories=list(flt.categories),
            sources=list(flt.sources),
            places=", ".join(flt.places),
            include=", ".join(flt.include),
            exclude=", ".join(flt.exclude),
            regex=flt.regex,
            include_sponsored=flt.include_sponsored,
            min_sources=str(flt.min_sources),
            max_age_hours=f"{flt.max_age_hours:g}" if flt.max_age_hours is not None else "",
            max_items=str(flt.max_items),
            per_source_cap=str(flt.per_source_cap) if flt.per_source_cap else "",
        )

    @classmethod
    def from_request(cls, slug: str | None = None) -> FormState:
        form = request.form
        return cls(
            slug=slug if slug is not None else form.get("slug", "").strip(),
            title=form.get("title", ""),
            subtitle=form.get("subtitle", ""),
            private=form.get("private") == "on",
            categories=_ints(form.getlist("categories")),
            sources=_ints(form.getlist("sources")),
            places=form.get("places", ""),
            include=form.get("include", ""),
            exclude=form.get("exclude", ""),
            regex=form.get("regex", ""),
            include_sponsored=form.get("include_sponsored") == "on",
            min_sources=form.get("min_sources", "1").strip(),
            max_age_hours=form.get("max_age_hours", "").strip(),
            max_items=form.get("max_items", "50").strip(),
            per_source_cap=form.get("per_source_cap", "").strip(),
        )

    def to_filter(self) -> FeedFilter:
        return FeedFilter(
            categories=tuple(dict.fromkeys(self.categories)),
            places=_words(self.places),
            sources=tuple(dict.fromkeys(self.sources)),
            include=_words(self.include),
            exclude=_words(self.exclude),
            regex=self.regex.strip(),
            include_sponsored=self.include_sponsored,
            min_sources=_int(self.min_sources, _("Minimum sources")) or 1,
            max_age_hours=_float(self.max_age_hours, _("Maximum age")),
            max_items=_int(self.max_items, _("Maximum items")) or DEFAULT_MAX_ITEMS,
            per_source_cap=_int(self.per_source_cap, _("Per-source cap")),
        )

    def to_spec(self) -> OutputSpec:
        return OutputSpec(
            slug=self.slug,
            title=self.title,
            subtitle=self.subtitle,
            public=not self.private,
            filter=self.to_filter(),
        )


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


def _words(value: str) -> tuple[str, ...]:
    """Comma-separated input → tuple without blanks or repeats."""
    parts = (" ".join(p.split()) for p in value.split(","))
    return tuple(dict.fromkeys(p for p in parts if p))


def _float(value: str, label: str) -> float | None:
    if not value:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise OutputError(_("%(label)s must be a number.", label=label)) from None


def _int(value: str, label: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise OutputError(_("%(label)s must be a whole number.", label=label)) from None


def _choices(session: Session) -> dict[str, Any]:
    categories = session.execute(
        select(Category.id, Category.name).order_by(Category.position, Category.name)
    ).all()
    sources = session.execute(
        select(Source.id, Source.title, Source.url).order_by(Source.title)
    ).all()
    return {"categories": categories, "sources": sources}


def _preview(session: Session, flt: FeedFilter) -> list[FeedItem]:
    selection = select_stories(session, flt, datetime.now(UTC))
    return build_items(session, selection.story_ids, PREVIEW_AUTHORITY, request.url_root)


def _feed_or_404(feed_id: int) -> OutputFeed:
    feed = db_session().get(OutputFeed, feed_id)
    if feed is None:
        abort(404)
    return feed


@bp.context_processor
def _layout_globals() -> dict[str, Any]:
    """admin/layout.html links here when ``outputs_url`` is set."""
    return {"outputs_url": url_for("outputs_admin.index")}


@bp.route("")
@admin_required
def index() -> str:
    session = db_session()
    feeds = session.scalars(select(OutputFeed).order_by(OutputFeed.title)).all()
    rows = [
        {
            "feed": feed,
            "paths": {fmt: feed_path(feed, fmt) for fmt in ("atom", "rss", "json")},
            "description": describe_filter(session, FeedFilter.from_json(feed.filters)),
        }
        for feed in feeds
    ]
    categories = session.execute(
        select(Category.name, Category.slug).order_by(Category.position, Category.name)
    ).all()
    return render_template("outputs/list.html", rows=rows, categories=categories)


def _form_page(
    state: FormState, feed: OutputFeed | None, error: str | None, status: int = 200
) -> tuple[str, int]:
    session = db_session()
    preview: list[FeedItem] | None = None
    if error is None:
        try:
            preview = _preview(session, state.to_filter())
        except (OutputError, FilterError) as exc:
            error, status = str(exc), 400
    return (
        render_template(
            "outputs/form.html",
            state=state,
            feed=feed,
            error=error,
            preview=preview,
            **_choices(session),
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new() -> Any:
    if request.method == "GET":
        return _form_page(FormState(), None, None)
    state = FormState.from_request()
    if request.form.get("action") == "preview":
        return _form_page(state, None, None)
    session = db_session()
    try:
        validate_slug(state.slug)
        feed = create_output(session, state.to_spec())
        session.commit()
    except (OutputError, FilterError) as exc:
        session.rollback()
        return _form_page(state, None, str(exc), 400)
    flash(_("Output feed %(title)s created.", title=feed.title), "ok")
    return redirect(url_for("outputs_admin.index"))


@bp.route("/<int:feed_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(feed_id: int) -> Any:
    feed = _feed_or_404(feed_id)
    if request.method == "GET":
        return _form_page(FormState.from_feed(feed), feed, None)
    state = FormState.from_request(slug=feed.slug)
    if request.form.get("action") == "preview":
        return _form_page(state, feed, None)
    session = db_session()
    try:
        update_output(session, feed, state.to_spec())
        session.commit()
    except (OutputError, FilterError) as exc:
        session.rollback()
        return _form_page(state, _feed_or_404(feed_id), str(exc), 400)
    flash(_("Output feed %(title)s saved.", title=feed.title), "ok")
    return redirect(url_for("outputs_admin.index"))


@bp.route("/<int:feed_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(feed_id: int) -> Any:
    feed = _feed_or_404(feed_id)
    if request.method == "GET":
        return render_template("outputs/delete.html", feed=feed)
    session = db_session()
    title = feed.title
    session.delete(feed)
    session.commit()
    flash(_("Output feed %(title)s deleted.", title=title), "ok")
    return redirect(url_for("outputs_admin.index"))


@bp.route("/<int:feed_id>/rotate-token", methods=["POST"])
@admin_required
def rotate(feed_id: int) -> WerkzeugResponse:
    feed = _feed_or_404(feed_id)
    session = db_session()
    try:
        rotate_token(session, feed)
        session.commit()
    except OutputError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        flash(
            _("New secret URL for %(title)s; the old one no longer works.", title=feed.title), "ok"
        )
    return redirect(url_for("outputs_admin.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
