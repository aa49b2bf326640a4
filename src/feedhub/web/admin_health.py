"""The health list: every source with its state, failing ones first."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from feedhub.app import db_session
from feedhub.models import Source
from feedhub.web.admin import bp
from feedhub.web.admin_health_data import entries_per_day, host_of
from feedhub.web.admin_health_text import describe_error, source_health
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_source_filter import SourceFilter


@bp.route("/health")
def health() -> Any:
    flt = SourceFilter.from_args(request.args)
    page = keyset_page(
        db_session(),
        flt.query(),
        [(Source.error_count, True), (Source.id, False)],
        lambda s: [s.error_count, s.id],
        request.args.get("cursor"),
    )
    return render_template(
        "admin/health.html",
        page=page,
        flt=flt,
        rates=entries_per_day(db_session(), [s.id for s in page.items]),
        health=source_health,
        describe_error=describe_error,
        host_of=host_of,
    )
