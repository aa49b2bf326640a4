"""Instance settings an admin may change at runtime (stored in the database)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from feedhub.app import db_session
from feedhub.web.admin import bp
from feedhub.web.admin_forms import SettingsForm
from feedhub.web.admin_util import settings as instance_settings
from feedhub.web.reader import public_reading_enabled, set_public_reading


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> Any:
    db = db_session()
    form = SettingsForm(public_reading=public_reading_enabled(db, instance_settings()))
    if form.validate_on_submit():
        set_public_reading(db, bool(form.public_reading.data))
        db.commit()
        flash(_("Settings saved."), "ok")
        return redirect(url_for("admin.settings"))
    status = 400 if form.errors else 200
    return render_template("admin/settings.html", form=form), status
