"""Health pages: failing sources in plain words, fetch timelines with SVG charts, dashboard."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from feedhub.config import Settings
from feedhub.db import Database
from feedhub.ingest.poller import poll_source_now
from feedhub.ingest.sources import add_source
from feedhub.models import Fetch, Source, utcnow
from feedhub.web.admin_health_data import polls_per_hour, slowest_hosts
from feedhub.web.admin_health_text import describe_error
from feedhub.web.charts import Bar, bar_chart

from . import admin_seed
from .feedserver import FeedServer, Response, rss

# fixtures shared by the admin tests
admin_client = admin_seed.admin_client
admin_id = admin_seed.admin_id


def _source(db: Database, settings: Settings, url: str) -> int:
    with db.session() as session:
        return add_source(session, settings, url).id


def test_errors_read_as_plain_words_in_english(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert describe_error("timed out after 20 s") == "Timed out after 20 s"
        assert describe_error("410 Gone").startswith("410 Gone: the publisher removed the feed")
        assert describe_error("could not resolve nowhere.example") == (
            "The host name nowhere.example does not exist"
        )
        assert describe_error("something new") == "something new"


def test_errors_read_as_plain_words_in_german(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert describe_error("timed out after 20 s") == "Abgebrochen nach 20 s"
        assert describe_error("410 Gone") == (
            "410 Gone: der Anbieter hat den Feed entfernt; Quelle deaktiviert"
        )


def test_a_timeout_shows_with_its_reason_on_the_health_list(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    url = feed_server.add("/slow.xml", Response(body=rss([]), delay=3.0))
    source_id = _source(db, settings, url)
    poll_source_now(db, replace(settings, total_timeout=1.0), source_id)
    html = admin_client.get("/admin/health", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    row = re.search(rf'data-source-id="{source_id}".*?</tr>', html, re.S)
    assert row, html
    assert "Failing" in row.group(0)
    assert "Timed out after 1 s" in row.group(0)


def test_a_gone_feed_is_disabled_and_says_why(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    source_id = _source(db, settings, feed_server.add("/gone.xml", status=410, body=b"gone"))
    poll_source_now(db, settings, source_id)
    html = admin_client.get(
        f"/admin/sources/{source_id}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert 'id="source-status">Disabled<' in html
    assert "410 Gone: the publisher removed the feed; source disabled" in html


def test_failing_sources_come_first(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    healthy = _source(db, settings, "https://ok.example/feed")
    failing = _source(db, settings, "https://bad.example/feed")
    with db.session() as session:
        source = session.get(Source, failing)
        assert source is not None
        source.error_count = 4
        source.last_error = "connection refused"
    html = admin_client.get("/admin/health").get_data(as_text=True)
    assert html.index(f'data-source-id="{failing}"') < html.index(f'data-source-id="{healthy}"')


def test_the_source_page_draws_the_fetch_timeline(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    url = feed_server.add(
        "/feed.xml", body=rss([{"title": "A", "guid": "a"}]), headers={"ETag": '"v1"'}
    )
    source_id = _source(db, settings, url)
    poll_source_now(db, settings, source_id)
    poll_source_now(db, settings, source_id)  # answered 304
    html = admin_client.get(f"/admin/sources/{source_id}").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 3
    assert html.count('class="bar bar-ok"') >= 2  # duration and bytes of the 200
    assert 'class="bar bar-not_modified"' in html
    assert "Not modified (304): 1/2 (50%)" in html
    assert "<script" not in html.split("</head>", 1)[1]


def test_bar_heights_follow_the_values() -> None:
    svg = str(bar_chart([Bar(10, "a"), Bar(5, "b"), Bar(0, "c")], title="t", height=41))
    heights = [float(h) for h in re.findall(r'<rect[^>]*height="([\d.]+)"', svg)]
    assert heights == [39.0, 19.5, 0.0]


def test_chart_labels_are_escaped() -> None:
    svg = str(bar_chart([Bar(1, "<b>x</b>")], title="<script>"))
    assert "<script>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


def _fetch(db: Database, source_id: int, minutes_ago: int, outcome: str, ms: int) -> None:
    with db.session() as session:
        session.add(
            Fetch(
                source_id=source_id,
                started_at=utcnow() - timedelta(minutes=minutes_ago),
                outcome=outcome,
                duration_ms=ms,
                status=200 if outcome == "ok" else 500,
            )
        )


def test_polls_are_counted_per_hour(db: Database, settings: Settings) -> None:
    source_id = _source(db, settings, "https://a.example/feed")
    now = utcnow()
    _fetch(db, source_id, 0, "ok", 10)
    _fetch(db, source_id, 0, "error", 10)
    _fetch(db, source_id, 120, "ok", 10)  # always in the hour two hours back
    with db.session() as session:
        buckets = polls_per_hour(session, now=now)
    assert len(buckets) == 24
    assert (buckets[-1].polls, buckets[-1].errors) == (2, 1)
    assert sum(b.polls for b in buckets) == 3
    assert buckets[-3].polls == 1


def test_slowest_hosts_pool_their_sources(db: Database, settings: Settings) -> None:
    a1 = _source(db, settings, "https://slow.example/a")
    a2 = _source(db, settings, "https://slow.example/b")
    b = _source(db, settings, "https://fast.example/feed")
    _fetch(db, a1, 1, "ok", 900)
    _fetch(db, a2, 1, "ok", 1100)
    _fetch(db, b, 1, "ok", 50)
    with db.session() as session:
        hosts = slowest_hosts(session, utcnow() - timedelta(hours=1))
    assert [(h.host, h.polls, h.avg_ms) for h in hosts] == [
        ("slow.example", 2, 1000.0),
        ("fast.example", 1, 50.0),
    ]


def test_the_dashboard_shows_totals_and_error_rate(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    source_id = _source(db, settings, "https://a.example/feed")
    _fetch(db, source_id, 1, "ok", 10)
    _fetch(db, source_id, 2, "error", 10)
    html = admin_client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 polls, 1 failed (error rate 50.0 %)" in html
    assert "a.example" in html
    assert "Database size" in html
