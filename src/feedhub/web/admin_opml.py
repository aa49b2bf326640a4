"""OPML import (upload with a size cap, safe parsing, summary) and export."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request
from flask_babel import gettext as _

from feedhub.app import db_session
from feedhub.ingest.opml import MAX_OPML_BYTES, OpmlError
from feedhub.ingest.sources import export_sources_opml, import_opml
from feedhub.web.admin import bp
from feedhub.web.admin_forms import OpmlImportForm
from feedhub.web.admin_util import add_error, settings

HARD_UPLOAD_LIMIT = 2 * MAX_OPML_BYTES


def _read_capped(stream: Any, cap: int) -> bytes | None:
    """The upload's bytes, or None when it is larger than ``cap`` (read no further)."""
    data: bytes = stream.read(cap + 1)
    return None if len(data) > cap else data


@bp.route("/sources/import", methods=["GET", "POST"])
def opml_import() -> Any:
    # Hard limit on the whole request (answered with 413), so a huge upload is
    # never spooled to disk; files between the two limits get a field error.
    request.max_content_length = HARD_UPLOAD_LIMIT
    form = OpmlImportForm()
    if form.validate_on_submit():
        data = _read_capped(form.file.data.stream, MAX_OPML_BYTES)
        if data is None:
            add_error(
                form,
                "file",
                _("The file is larger than %(mib)d MiB.", mib=MAX_OPML_BYTES // (1024 * 1024)),
            )
        else:
            db = db_session()
            try:
                summary = import_opml(db, settings(), data)
            except OpmlError as exc:
                db.rollback()
                add_error(form, "file", _("This is not a usable OPML file: %(why)s", why=str(exc)))
            else:
                db.commit()
                return render_template("admin/opml_result.html", summary=summary)
    status = 400 if form.errors else 200
    return render_template("admin/opml_import.html", form=form), status


@bp.route("/sources/export.opml")
def opml_export() -> Any:
    body = export_sources_opml(db_session())
    return Response(
        body,
        mimetype="text/x-opml",
        headers={"Content-Disposition": 'attachment; filename="feedhub-sources.opml"'},
    )
