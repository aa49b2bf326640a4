"""One source: its health, fetch timeline with charts, history, preview, edit, delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from feedhub.app import db_session
from feedhub.models import Entry, Fetch, Source, SourceEvent, utcnow
from feedhub.web.admin import bp
from feedhub.web.admin_charts import fetch_charts
from feedhub.web.admin_forms import SourceEditForm
from feedhub.web.admin_health_data import entries_per_day, recent_fetches, summarize
from feedhub.web.admin_health_text import describe_error, source_health
from feedhub.web.admin_jobs import poll_in_background
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_source_ops import delete_source, set_enabled
from feedhub.web.admin_util import category_choices, get_or_404

PREVIEW_ENTRIES = 10
# while a new source waits for its first fetch, the page reloads itself this long
FIRST_FETCH_WAIT = timedelta(minutes=2)


def _first_fetch_pending(source: Source) -> bool:
    return source.last_polled_at is None and utcnow() - source.created_at < FIRST_FETCH_WAIT


@bp.route("/sources/<int:source_id>")
def source_detail(source_id: int) -> Any:
    db = db_session()
    source = get_or_404(Source, source_id)
    fetches = keyset_page(
        db,
        select(Fetch).where(Fetch.source_id == source_id),
        [(Fetch.started_at, True), (Fetch.id, True)],
        lambda f: [f.started_at, f.id],
        request.args.get("cursor"),
        limit=30,
    )
    events = keyset_page(
        db,
        select(SourceEvent).where(SourceEvent.source_id == source_id),
        [(SourceEvent.at, True), (SourceEvent.id, True)],
        lambda e: [e.at, e.id],
        request.args.get("events"),
        limit=20,
    )
    window = recent_fetches(db, source_id)
    preview = db.scalars(
        select(Entry)
        .where(Entry.source_id == source_id)
        .order_by(Entry.first_seen_at.desc(), Entry.id.desc())
        .limit(PREVIEW_ENTRIES)
    ).all()
    return render_template(
        "admin/source_detail.html",
        source=source,
        health=source_health(source.enabled, source.error_count, source.last_polled_at is not None),
        error_text=describe_error(source.last_error, source.last_status),
        fetches=fetches,
        events=events,
        summary=summarize(window),
        charts=fetch_charts(window),
        rate=entries_per_day(db, [source_id]).get(source_id, 0.0),
        preview=preview,
        pending=_first_fetch_pending(source),
        describe_error=describe_error,
    )


@bp.route("/sources/<int:source_id>/edit", methods=["GET", "POST"])
def source_edit(source_id: int) -> Any:
    source = get_or_404(Source, source_id)
    form = SourceEditForm(
        obj=source,
        min_interval=source.min_interval // 60 if source.min_interval else None,
        max_interval=source.max_interval // 60 if source.max_interval else None,
    )
    form.category_id.choices = category_choices(_("No category"))
    if form.validate_on_submit():
        db = db_session()
        source.title = (form.title.data or "").strip()
        source.category_id = form.category_id.data
        source.priority = form.priority.data
        source.min_interval = form.min_interval.data * 60 if form.min_interval.data else None
        source.max_interval = form.max_interval.data * 60 if form.max_interval.data else None
        if bool(form.enabled.data) != source.enabled:
            detail = _("enabled by an admin") if form.enabled.data else _("disabled by an admin")
            set_enabled(db, source, bool(form.enabled.data), detail)
        db.commit()
        flash(_("Source saved."), "ok")
        return redirect(url_for("admin.source_detail", source_id=source_id))
    status = 400 if form.errors else 200
    return render_template("admin/source_edit.html", form=form, source=source), status


@bp.route("/sources/<int:source_id>/poll", methods=["POST"])
def source_poll(source_id: int) -> Any:
    source = get_or_404(Source, source_id)
    poll_in_background(source.id)
    flash(_("Polling in the background; reload this page in a moment."), "ok")
    return redirect(url_for("admin.source_detail", source_id=source_id))


@bp.route("/sources/<int:source_id>/enable", methods=["POST"])
def source_enable(source_id: int) -> Any:
    db = db_session()
    source = get_or_404(Source, source_id)
    set_enabled(db, source, True, _("enabled by an admin"))
    db.commit()
    flash(_("Source enabled; it is polled again."), "ok")
    return redirect(url_for("admin.source_detail", source_id=source_id))


@bp.route("/sources/<int:source_id>/disable", methods=["POST"])
def source_disable(source_id: int) -> Any:
    db = db_session()
    source = get_or_404(Source, source_id)
    set_enabled(db, source, False, _("disabled by an admin"))
    db.commit()
    flash(_("Source disabled; its stories stay."), "ok")
    return redirect(url_for("admin.source_detail", source_id=source_id))


@bp.route("/sources/<int:source_id>/delete", methods=["GET", "POST"])
def source_delete(source_id: int) -> Any:
    db = db_session()
    source = get_or_404(Source, source_id)
    if request.method == "GET":
        entries = db.scalar(select(Entry.id).where(Entry.source_id == source_id).limit(1))
        return render_template("admin/source_delete.html", source=source, has_entries=entries)
    title = source.display_title
    count = delete_source(db, source)
    db.commit()
    flash(_("%(title)s deleted with %(n)d entries.", title=title, n=count), "ok")
    return redirect(url_for("admin.sources"))
