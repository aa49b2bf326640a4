"""Adding a source by feed URL or by any web page URL (autodiscovery).

The page behind the URL is fetched once, with tighter time limits than a
poll, to learn which feeds it offers: one feed is added at once, several are
offered for the admin to pick. The first real poll of the new source then
runs in the background and the source page shows its outcome when it lands.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from feedhub.app import db_session
from feedhub.config import Settings
from feedhub.ingest.discover import Discovery, discover
from feedhub.ingest.sources import SourceError, add_source
from feedhub.models import Category
from feedhub.web.admin import bp
from feedhub.web.admin_forms import SourceAddForm, SourcePickForm
from feedhub.web.admin_health_text import describe_error
from feedhub.web.admin_jobs import poll_in_background
from feedhub.web.admin_util import add_error, category_choices, settings

# Discovery runs inside the request: it gets less time than a background poll.
DISCOVERY_TOTAL_TIMEOUT = 12.0
DISCOVERY_CONNECT_TIMEOUT = 5.0


def discovery_settings(base: Settings) -> Settings:
    return replace(
        base,
        total_timeout=min(base.total_timeout, DISCOVERY_TOTAL_TIMEOUT),
        connect_timeout=min(base.connect_timeout, DISCOVERY_CONNECT_TIMEOUT),
    )


def _category_name(category_id: int | None) -> str | None:
    if category_id is None:
        return None
    category = db_session().get(Category, category_id)
    return category.name if category else None


def _add(url: str, title: str, category_id: int | None) -> Any:
    """Add the feed, start its first poll in the background, show its page."""
    db = db_session()
    source = add_source(
        db, settings(), url, category=_category_name(category_id), title=title or None
    )
    db.commit()
    poll_in_background(source.id)
    flash(_("Source added. Its first fetch runs in the background."), "ok")
    return redirect(url_for("admin.source_detail", source_id=source.id))


def _discover(url: str) -> Discovery:
    return discover(discovery_settings(settings()), url)


@bp.route("/sources/add", methods=["GET", "POST"])
def source_add() -> Any:
    form = SourceAddForm()
    form.category_id.choices = category_choices(_("No category"))
    if not form.validate_on_submit():
        return render_template("admin/source_add.html", form=form), (400 if form.errors else 200)
    url = form.url.data.strip()
    found = _discover(url)
    if found.error:
        add_error(
            form,
            "url",
            _("Could not load the address: %(reason)s", reason=describe_error(found.error)),
        )
    elif not found.feeds:
        add_error(form, "url", _("No feed found at this address or at the usual feed paths."))
    elif len(found.feeds) == 1:
        feed = found.feeds[0]
        try:
            return _add(feed.url, form.title.data or feed.title, form.category_id.data)
        except SourceError as exc:
            db_session().rollback()
            add_error(form, "url", str(exc))
    else:
        pick = SourcePickForm(
            formdata=None,
            page_url=url,
            title=form.title.data or "",
            category_id=str(form.category_id.data or ""),
        )
        pick.feed_url.choices = [
            SelectChoice(feed.url, f"{feed.title or feed.url} ({feed.kind.upper()}) – {feed.url}")
            for feed in found.feeds
        ]
        return render_template("admin/source_pick.html", form=pick, page_url=url)
    return render_template("admin/source_add.html", form=form), 400


@bp.route("/sources/add/pick", methods=["POST"])
def source_pick() -> Any:
    form = SourcePickForm()
    chosen = form.feed_url.raw_data[0] if form.feed_url.raw_data else ""
    form.feed_url.choices = [SelectChoice(chosen, chosen)] if chosen else []
    if form.validate_on_submit():
        raw_category = form.category_id.data or ""
        category_id = int(raw_category) if raw_category.isdigit() else None
        try:
            return _add(chosen, form.title.data or "", category_id)
        except SourceError as exc:
            db_session().rollback()
            add_error(form, "feed_url", str(exc))
    return render_template("admin/source_pick.html", form=form, page_url=form.page_url.data), 400
