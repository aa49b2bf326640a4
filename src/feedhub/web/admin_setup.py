"""One-time setup: create the first admin from the machine the server runs on.

An instance without any admin would otherwise be unusable until someone runs
``feedhub users create NAME --admin``. The page exists only while there is
no admin, and answers only requests that come from the loopback interface
without a proxy header naming another client, so a freshly started server
on a public address cannot be claimed by a stranger.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from feedhub.app import db_session
from feedhub.users import UserError, create_user, has_admin
from feedhub.web.admin import bp
from feedhub.web.admin_forms import SetupForm
from feedhub.web.auth import LoginUser

PROXY_HEADERS = ("X-Forwarded-For", "X-Real-Ip", "Forwarded")


def _is_loopback(address: str) -> bool:
    address = address.strip().strip('"').strip("[]")
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _forwarded_addresses() -> list[str]:
    addresses: list[str] = []
    for header in PROXY_HEADERS:
        value = request.headers.get(header)
        if not value:
            continue
        if header == "Forwarded":
            addresses += re.findall(r'for="?\[?([^;,"\]]+)', value, flags=re.IGNORECASE)
            if not addresses:
                addresses.append(value)
        else:
            addresses += [part for part in value.split(",") if part.strip()]
    return addresses


def request_is_local() -> bool:
    """The client is this machine: loopback peer, and no proxy speaking for someone else."""
    peer = request.environ.get("REMOTE_ADDR") or ""
    if not _is_loopback(peer):
        return False
    return all(_is_loopback(address) for address in _forwarded_addresses())


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    if has_admin(db_session()):
        abort(404)
    if not request_is_local():
        return render_template("admin/setup_remote.html"), 403
    form = SetupForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            user = create_user(db, form.username.data, form.password.data, is_admin=True)
        except UserError as exc:
            db.rollback()
            target = getattr(form, exc.field, None) if exc.field else None
            (target.errors if target is not None else form.form_errors).append(
                _(exc.message, **exc.params)
            )
        else:
            db.commit()
            session.clear()
            login_user(LoginUser(user))
            flash(_("Welcome! You are the first admin of this instance."), "ok")
            return redirect(url_for("admin.dashboard"))
    return render_template("admin/setup.html", form=form)
