"""Categories: create, rename, reorder, pick the fallback, delete.

The order here is the order of the reader's front page. Exactly one category
is the fallback ("Weitere Artikel"): stories no rule placed go there, and it
cannot be deleted; deleting another category moves its stories to it.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from feedhub.app import db_session
from feedhub.models import Category, Rule, Source, Story
from feedhub.stories.categories import unique_category_slug
from feedhub.web.admin import bp
from feedhub.web.admin_forms import CategoryForm
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_util import add_error, get_or_404


def _ordered(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def _name_taken(session: Session, name: str, own_id: int | None = None) -> bool:
    found = session.scalar(select(Category.id).where(Category.name == name))
    return found is not None and found != own_id


@bp.route("/categories")
def categories() -> Any:
    page = keyset_page(
        db_session(),
        select(Category),
        [(Category.position, False), (Category.id, False)],
        lambda c: [c.position, c.id],
        request.args.get("cursor"),
    )
    return render_template("admin/categories.html", page=page, form=CategoryForm(formdata=None))


@bp.route("/categories/new", methods=["GET", "POST"])
def category_new() -> Any:
    form = CategoryForm()
    db = db_session()
    if form.validate_on_submit():
        name = form.name.data.strip()
        if _name_taken(db, name):
            add_error(form, "name", _("A category with this name exists."))
        else:
            last = db.scalar(select(func.max(Category.position)))
            category = Category(
                name=name,
                slug=unique_category_slug(db, name),
                heading=(form.heading.data or "").strip(),
                position=(last or 0) + 1,
                is_fallback=db.scalar(select(func.count()).select_from(Category)) == 0,
            )
            db.add(category)
            db.commit()
            flash(_("Category %(name)s created.", name=name), "ok")
            return redirect(url_for("admin.categories"))
    status = 400 if form.errors else 200
    return render_template("admin/category_form.html", form=form, category=None), status


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
def category_edit(category_id: int) -> Any:
    db = db_session()
    category = get_or_404(Category, category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        name = form.name.data.strip()
        if _name_taken(db, name, category.id):
            add_error(form, "name", _("A category with this name exists."))
        else:
            if name != category.name:
                category.slug = unique_category_slug(db, name, category.id)
            category.name = name
            category.heading = (form.heading.data or "").strip()
            db.commit()
            flash(_("Category saved."), "ok")
            return redirect(url_for("admin.categories"))
    status = 400 if form.errors else 200
    return render_template("admin/category_form.html", form=form, category=category), status


@bp.route("/categories/<int:category_id>/move", methods=["POST"])
def category_move(category_id: int) -> Any:
    db = db_session()
    get_or_404(Category, category_id)
    ordered = _ordered(db)
    index = next(i for i, c in enumerate(ordered) if c.id == category_id)
    other = index - 1 if request.form.get("direction") == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, category in enumerate(ordered):
        category.position = position
    db.commit()
    return redirect(url_for("admin.categories"))


@bp.route("/categories/<int:category_id>/fallback", methods=["POST"])
def category_fallback(category_id: int) -> Any:
    db = db_session()
    category = get_or_404(Category, category_id)
    db.execute(update(Category).values(is_fallback=False))
    db.flush()
    category.is_fallback = True
    db.commit()
    flash(_("%(name)s is now the fallback category.", name=category.name), "ok")
    return redirect(url_for("admin.categories"))


@bp.route("/categories/<int:category_id>/delete", methods=["GET", "POST"])
def category_delete(category_id: int) -> Any:
    db = db_session()
    category = get_or_404(Category, category_id)
    if category.is_fallback:
        flash(_("The fallback category cannot be deleted; pick another fallback first."), "error")
        return redirect(url_for("admin.categories"))
    fallback = db.scalar(select(Category).where(Category.is_fallback))
    if request.method == "GET":
        rules = db.scalar(
            select(func.count()).select_from(Rule).where(Rule.category_id == category_id)
        )
        stories = db.scalar(
            select(func.count()).select_from(Story).where(Story.category_id == category_id)
        )
        return render_template(
            "admin/category_delete.html",
            category=category,
            rules=rules or 0,
            stories=stories or 0,
            fallback=fallback,
        )
    db.execute(
        update(Story)
        .where(Story.category_id == category_id)
        .values(category_id=fallback.id if fallback else None, version=Story.version + 1)
    )
    db.execute(update(Source).where(Source.category_id == category_id).values(category_id=None))
    name = category.name
    db.delete(category)
    db.commit()
    flash(_("Category %(name)s deleted.", name=name), "ok")
    return redirect(url_for("admin.categories"))
