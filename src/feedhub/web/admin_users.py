"""Admin pages for user accounts: list, create, disable, roles, password, delete."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from feedhub.app import db_session
from feedhub.models import User
from feedhub.users import (
    UserError,
    create_user,
    delete_user,
    set_admin,
    set_disabled,
    set_password,
)
from feedhub.web.admin import bp
from feedhub.web.admin_forms import PasswordForm, UserCreateForm
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_util import add_error, get_or_404


def _refuse_self(user: User, what: str) -> bool:
    if user.id == getattr(current_user, "user_id", None):
        flash(what, "error")
        return True
    return False


def _translated(exc: UserError) -> str:
    return str(_(exc.message, **exc.params))


@bp.route("/users")
def users() -> Any:
    page = keyset_page(
        db_session(),
        select(User),
        [(User.username, False)],
        lambda u: [u.username],
        request.args.get("cursor"),
    )
    return render_template("admin/users.html", page=page)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    form = UserCreateForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            user = create_user(
                db, form.username.data, form.password.data, is_admin=bool(form.is_admin.data)
            )
        except UserError as exc:
            db.rollback()
            add_error(form, exc.field, _translated(exc))
        else:
            db.commit()
            flash(_("User %(name)s created.", name=user.username), "ok")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form), (400 if form.errors else 200)


def _change(user_id: int, change: Any, done: str) -> Any:
    db = db_session()
    user = get_or_404(User, user_id)
    try:
        change(db, user)
    except UserError as exc:
        db.rollback()
        flash(_translated(exc), "error")
    else:
        db.commit()
        flash(done % {"name": user.username}, "ok")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def user_disable(user_id: int) -> Any:
    user = get_or_404(User, user_id)
    if _refuse_self(user, _("You cannot disable your own account.")):
        return redirect(url_for("admin.users"))
    return _change(user_id, lambda db, u: set_disabled(db, u, True), _("User %(name)s disabled."))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def user_enable(user_id: int) -> Any:
    return _change(user_id, lambda db, u: set_disabled(db, u, False), _("User %(name)s enabled."))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def user_role(user_id: int) -> Any:
    make_admin = request.form.get("role") == "admin"
    user = get_or_404(User, user_id)
    if not make_admin and _refuse_self(user, _("You cannot take the admin role from yourself.")):
        return redirect(url_for("admin.users"))
    done = _("%(name)s is now an admin.") if make_admin else _("%(name)s is now a reader.")
    return _change(user_id, lambda db, u: set_admin(db, u, make_admin), done)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def user_password(user_id: int) -> Any:
    user = get_or_404(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            set_password(db, user, form.password.data)
        except UserError as exc:
            db.rollback()
            add_error(form, exc.field, _translated(exc))
        else:
            db.commit()
            flash(
                _("Password of %(name)s changed; their other sessions ended.", name=user.username),
                "ok",
            )
            return redirect(url_for("admin.users"))
    status = 400 if form.errors else 200
    return render_template("admin/user_password.html", form=form, user=user), status


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def user_delete(user_id: int) -> Any:
    user = get_or_404(User, user_id)
    if _refuse_self(user, _("You cannot delete your own account.")):
        return redirect(url_for("admin.users"))
    if request.method == "GET":
        return render_template("admin/user_delete.html", user=user)
    return _change(user_id, delete_user, _("User %(name)s deleted."))
