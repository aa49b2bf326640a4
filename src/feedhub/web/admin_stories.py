"""Stories: why entries were merged, split a story, merge two stories.

Each entry's StoryMerge rows say how it joined its story (same URL, same
guid, near-duplicate text with its similarity, or an admin's hand). Splits
and merges go through :mod:`feedhub.stories.admin`, which pins the moved
entries so the clusterer does not undo the admin's decision.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from feedhub.app import db_session
from feedhub.models import Entry, Story, StoryMerge
from feedhub.stories.admin import StoryError, merge_stories, split_entries
from feedhub.web.admin import bp
from feedhub.web.admin_forms import StoryMergeForm
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_util import add_error, get_or_404


@bp.route("/stories")
def stories() -> Any:
    multi = request.args.get("multi") == "1"
    stmt = select(Story)
    if multi:
        stmt = stmt.where(Story.entry_count > 1)
    page = keyset_page(
        db_session(),
        stmt,
        [(Story.sort_at, True), (Story.id, True)],
        lambda s: [s.sort_at, s.id],
        request.args.get("cursor"),
    )
    return render_template("admin/stories.html", page=page, multi=multi)


def _story_page(story: Story, merge_form: StoryMergeForm, status: int = 200) -> Any:
    db = db_session()
    entries = list(
        db.scalars(
            select(Entry).where(Entry.story_id == story.id).order_by(Entry.first_seen_at, Entry.id)
        )
    )
    reasons: dict[int, list[StoryMerge]] = defaultdict(list)
    for merge in db.scalars(
        select(StoryMerge).where(StoryMerge.story_id == story.id).order_by(StoryMerge.at)
    ):
        reasons[merge.entry_id].append(merge)
    return render_template(
        "admin/story_detail.html",
        story=story,
        entries=entries,
        reasons=reasons,
        merge_form=merge_form,
    ), status


@bp.route("/stories/<int:story_id>")
def story_detail(story_id: int) -> Any:
    return _story_page(get_or_404(Story, story_id), StoryMergeForm(formdata=None))


@bp.route("/stories/<int:story_id>/split", methods=["POST"])
def story_split(story_id: int) -> Any:
    db = db_session()
    story = get_or_404(Story, story_id)
    entry_ids = [int(v) for v in request.form.getlist("entry_ids") if v.isdigit()]
    try:
        new_story = split_entries(db, story.id, entry_ids)
    except StoryError as exc:
        db.rollback()
        flash(_("Could not split: %(why)s", why=str(exc)), "error")
        return redirect(url_for("admin.story_detail", story_id=story_id))
    db.commit()
    flash(_("Split off into story %(id)d.", id=new_story.id), "ok")
    return redirect(url_for("admin.story_detail", story_id=new_story.id))


@bp.route("/stories/<int:story_id>/merge", methods=["POST"])
def story_merge(story_id: int) -> Any:
    db = db_session()
    story = get_or_404(Story, story_id)
    form = StoryMergeForm()
    if not form.validate_on_submit():
        return _story_page(story, form, 400)
    other = db.get(Story, form.other_id.data)
    if other is None or other.id == story.id:
        add_error(form, "other_id", _("There is no other story with this number."))
        return _story_page(story, form, 400)
    if request.form.get("confirmed") != "1":
        return render_template("admin/story_merge.html", story=story, other=other)
    try:
        merge_stories(db, story.id, other.id)
    except StoryError as exc:
        db.rollback()
        add_error(form, "other_id", str(exc))
        return _story_page(story, form, 400)
    db.commit()
    flash(_("Story %(other)d merged into this story.", other=other.id), "ok")
    return redirect(url_for("admin.story_detail", story_id=story.id))
