"""Which charts the health pages draw, from which fetch and poll numbers."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from markupsafe import Markup

from feedhub.models import Fetch
from feedhub.web.admin_health_data import HourBucket
from feedhub.web.charts import Bar, bar_chart, ratio_bar


def _label(fetch: Fetch) -> str:
    when = fetch.started_at.strftime("%Y-%m-%d %H:%M")
    status = str(fetch.status) if fetch.status is not None else fetch.outcome
    return f"{when} · {status}"


def fetch_charts(fetches: Sequence[Fetch]) -> dict[str, Markup]:
    """Duration, size and new entries per fetch (oldest first), plus the 304 ratio."""
    not_modified = sum(1 for f in fetches if f.outcome in ("not_modified", "unchanged"))
    return {
        "duration": bar_chart(
            [Bar(f.duration_ms, _label(f), f.outcome) for f in fetches],
            title=_("Fetch duration"),
            unit="ms",
        ),
        "bytes": bar_chart(
            [Bar(f.bytes, _label(f), f.outcome) for f in fetches],
            title=_("Bytes received"),
            unit="B",
        ),
        "new_entries": bar_chart(
            [Bar(f.new_entries, _label(f), "ok" if f.new_entries else "") for f in fetches],
            title=_("New entries per fetch"),
        ),
        "not_modified": ratio_bar(not_modified, len(fetches), title=_("Not modified (304)")),
    }


def hourly_charts(buckets: Sequence[HourBucket]) -> dict[str, Markup]:
    def label(bucket: HourBucket) -> str:
        return bucket.start.strftime("%Y-%m-%d %H:00 UTC")

    return {
        "polls": bar_chart(
            [Bar(b.polls, label(b), "ok") for b in buckets], title=_("Polls per hour"), width=480
        ),
        "errors": bar_chart(
            [Bar(b.errors, label(b), "error") for b in buckets],
            title=_("Failed polls per hour"),
            width=480,
        ),
    }
