"""The source list with its filter and bulk actions (enable, disable, poll, category, delete)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from feedhub.app import db_session
from feedhub.models import Category, Source
from feedhub.web.admin import bp
from feedhub.web.admin_health_data import entries_per_day, host_of
from feedhub.web.admin_health_text import describe_error, source_health
from feedhub.web.admin_jobs import poll_many_in_background
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_source_filter import SourceFilter
from feedhub.web.admin_source_ops import delete_source, set_enabled

BULK_ACTIONS = ("enable", "disable", "poll", "category", "delete")


def _categories() -> list[Category]:
    return list(db_session().scalars(select(Category).order_by(Category.position, Category.id)))


@bp.route("/sources")
def sources() -> Any:
    flt = SourceFilter.from_args(request.args)
    page = keyset_page(
        db_session(),
        flt.query(),
        [(Source.id, False)],
        lambda s: [s.id],
        request.args.get("cursor"),
    )
    rates = entries_per_day(db_session(), [s.id for s in page.items])
    return render_template(
        "admin/sources.html",
        page=page,
        flt=flt,
        rates=rates,
        categories=_categories(),
        health=source_health,
        describe_error=describe_error,
        host_of=host_of,
    )


def _selected(flt: SourceFilter) -> list[Source]:
    db = db_session()
    if request.form.get("scope") == "matching":
        return list(db.scalars(flt.query().order_by(Source.id)).unique())
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    if not ids:
        return []
    return list(db.scalars(select(Source).where(Source.id.in_(ids)).order_by(Source.id)).unique())


@bp.route("/sources/bulk", methods=["POST"])
def sources_bulk() -> Any:
    flt = SourceFilter.from_args(request.form)
    back = redirect(url_for("admin.sources", **flt.as_args()))  # type: ignore[arg-type]
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        flash(_("Pick an action."), "error")
        return back
    chosen = _selected(flt)
    if not chosen:
        flash(_("Select at least one source, or apply to all matching sources."), "error")
        return back
    db = db_session()
    if action == "delete":
        if request.form.get("confirmed") != "1":
            return render_template("admin/sources_bulk_delete.html", sources=chosen, flt=flt)
        entries = sum(delete_source(db, source) for source in chosen)
        db.commit()
        flash(_("%(n)d sources and %(e)d entries deleted.", n=len(chosen), e=entries), "ok")
        return back
    if action in ("enable", "disable"):
        enable = action == "enable"
        detail = _("enabled by an admin") if enable else _("disabled by an admin")
        changed = sum(set_enabled(db, source, enable, detail) for source in chosen)
        db.commit()
        message = (
            ngettext("%(num)d source enabled.", "%(num)d sources enabled.", changed)
            if enable
            else ngettext("%(num)d source disabled.", "%(num)d sources disabled.", changed)
        )
        flash(message, "ok")
        return back
    if action == "category":
        raw = request.form.get("category_id", "")
        category_id = int(raw) if raw.isdigit() else None
        if category_id is not None and db.get(Category, category_id) is None:
            flash(_("That category does not exist any more."), "error")
            return back
        for source in chosen:
            source.category_id = category_id
        db.commit()
        flash(
            ngettext(
                "Category set for %(num)d source.", "Category set for %(num)d sources.", len(chosen)
            ),
            "ok",
        )
        return back
    poll_many_in_background([source.id for source in chosen])
    flash(
        ngettext(
            "Polling %(num)d source in the background.",
            "Polling %(num)d sources in the background.",
            len(chosen),
        ),
        "ok",
    )
    return back
