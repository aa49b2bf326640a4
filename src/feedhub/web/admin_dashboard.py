"""The admin dashboard: totals, polls per hour, error rate, slowest hosts, database size."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template

from feedhub.app import db_session
from feedhub.models import utcnow
from feedhub.web.admin import bp
from feedhub.web.admin_charts import hourly_charts
from feedhub.web.admin_health_data import (
    database_size,
    polls_per_hour,
    slowest_hosts,
    totals,
    window_summary,
)


@bp.route("/")
def dashboard() -> Any:
    db = db_session()
    since = utcnow() - timedelta(hours=24)
    buckets = polls_per_hour(db)
    day = window_summary(db, since)
    return render_template(
        "admin/dashboard.html",
        totals=totals(db),
        buckets=buckets,
        charts=hourly_charts(buckets),
        day=day,
        error_rate=(day.errors / day.total) if day.total else 0.0,
        hosts=slowest_hosts(db, since),
        db_size=database_size(db),
    )
