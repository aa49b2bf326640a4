"""Adding, editing, polling, deleting and bulk-changing sources through the admin pages."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from feedhub.config import Settings
from feedhub.db import Database
from feedhub.ingest.sources import add_source
from feedhub.models import Entry, Fetch, Source, SourceEvent, Story

from . import admin_seed
from .admin_seed import token, wait_for
from .feedserver import FeedServer, rss

# fixtures shared by the admin tests
admin_client = admin_seed.admin_client
admin_id = admin_seed.admin_id

ITEMS = [
    {
        "title": "Rathaus beschließt Haushalt",
        "link": "https://example.org/a",
        "guid": "a",
        "description": "Der Rat hat den Haushalt beschlossen.",
    },
    {
        "title": "Neue Radwege im Süden",
        "link": "https://example.org/b",
        "guid": "b",
        "description": "Die Stadt baut drei neue Radwege.",
    },
]
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page_linking(*feeds: tuple[str, str]) -> bytes:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="{t}" href="{h}">'
        for h, t in feeds
    )
    return f"<html><head>{links}</head><body>Hallo</body></html>".encode()


def source_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Source)) or 0)


def test_adding_a_page_url_adds_its_feed_and_polls_it(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database
) -> None:
    feed_url = feed_server.add("/news.rss", body=rss(ITEMS, title="Stadtanzeiger"))
    page = feed_server.add("/", body=page_linking(("/news.rss", "Nachrichten")), headers=HTML)
    response = admin_client.post(
        "/admin/sources/add",
        data={"url": page, "category_id": "", "csrf_token": token(admin_client)},
    )
    assert response.status_code == 302
    with db.session() as session:
        source = session.scalar(select(Source))
        assert source is not None and source.url == feed_url
        source_id = source.id
    assert response.headers["Location"].endswith(f"/admin/sources/{source_id}")

    def polled() -> int:
        with db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Entry)) or 0)

    assert wait_for(polled) == 2
    html = admin_client.get(f"/admin/sources/{source_id}").get_data(as_text=True)
    assert "Rathaus beschließt Haushalt" in html
    assert 'http-equiv="refresh"' not in html


def test_a_page_with_several_feeds_lets_the_admin_pick(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database
) -> None:
    feed_server.add("/a.rss", body=rss(ITEMS))
    feed_server.add("/b.rss", body=rss(ITEMS))
    page = feed_server.add(
        "/", body=page_linking(("/a.rss", "Alles"), ("/b.rss", "Sport")), headers=HTML
    )
    csrf = token(admin_client)
    response = admin_client.post("/admin/sources/add", data={"url": page, "csrf_token": csrf})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert feed_server.url("/a.rss") in html and feed_server.url("/b.rss") in html
    assert source_count(db) == 0
    response = admin_client.post(
        "/admin/sources/add/pick",
        data={
            "feed_url": feed_server.url("/b.rss"),
            "title": "",
            "category_id": "",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    with db.session() as session:
        assert session.scalars(select(Source.url)).all() == [feed_server.url("/b.rss")]


def test_an_invalid_url_is_reported_next_to_the_field(
    admin_client: FlaskClient, db: Database
) -> None:
    response = admin_client.post(
        "/admin/sources/add", data={"url": "ftp://example.org/x", "csrf_token": token(admin_client)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="url-error"' in html and "http://" in html
    assert source_count(db) == 0


def test_a_page_without_feeds_is_reported_next_to_the_field(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database
) -> None:
    page = feed_server.add("/", body=b"<html><body>nichts</body></html>", headers=HTML)
    response = admin_client.post(
        "/admin/sources/add", data={"url": page, "csrf_token": token(admin_client)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="url-error"' in html and "No feed found" in html
    assert source_count(db) == 0


def test_a_duplicate_is_reported_next_to_the_field(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    url = feed_server.add("/feed.xml", body=rss(ITEMS))
    with db.session() as session:
        add_source(session, settings, url)
    response = admin_client.post(
        "/admin/sources/add", data={"url": url, "csrf_token": token(admin_client)}
    )
    assert response.status_code == 400
    assert "already subscribed" in response.get_data(as_text=True)
    assert source_count(db) == 1


def _source(db: Database, settings: Settings, url: str, **fields: object) -> int:
    with db.session() as session:
        source = add_source(session, settings, url)
        for key, value in fields.items():
            setattr(source, key, value)
        return source.id


def test_edit_rejects_a_longest_interval_below_the_shortest(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    source_id = _source(db, settings, "https://example.org/feed")
    response = admin_client.post(
        f"/admin/sources/{source_id}/edit",
        data={
            "title": "X",
            "category_id": "",
            "priority": "0",
            "min_interval": "60",
            "max_interval": "30",
            "enabled": "y",
            "csrf_token": token(admin_client),
        },
    )
    assert response.status_code == 400
    assert 'id="max_interval-error"' in response.get_data(as_text=True)
    with db.session() as session:
        assert session.get(Source, source_id).max_interval is None  # type: ignore[union-attr]


def test_edit_saves_title_priority_and_interval_bounds(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    source_id = _source(db, settings, "https://example.org/feed")
    response = admin_client.post(
        f"/admin/sources/{source_id}/edit",
        data={
            "title": "Stadtanzeiger",
            "category_id": "",
            "priority": "5",
            "min_interval": "10",
            "max_interval": "120",
            "enabled": "y",
            "csrf_token": token(admin_client),
        },
    )
    assert response.status_code == 302
    with db.session() as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert (source.title, source.priority, source.min_interval, source.max_interval) == (
            "Stadtanzeiger",
            5,
            600,
            7200,
        )


def test_poll_now_fetches_in_the_background(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    source_id = _source(db, settings, feed_server.add("/feed.xml", body=rss(ITEMS)))
    response = admin_client.post(
        f"/admin/sources/{source_id}/poll", data={"csrf_token": token(admin_client)}
    )
    assert response.status_code == 302

    def fetched() -> list[str]:
        with db.session() as session:
            return list(session.scalars(select(Fetch.outcome).where(Fetch.source_id == source_id)))

    assert wait_for(fetched) == ["ok"]


def test_delete_asks_first_and_offers_to_keep_the_stories(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    from feedhub.ingest.poller import poll_source_now

    source_id = _source(db, settings, feed_server.add("/feed.xml", body=rss(ITEMS)))
    poll_source_now(db, settings, source_id)
    html = admin_client.get(f"/admin/sources/{source_id}/delete").get_data(as_text=True)
    assert f"/admin/sources/{source_id}/disable" in html  # the keep-the-stories choice
    assert source_count(db) == 1


def test_keeping_the_stories_disables_the_source(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    from feedhub.ingest.poller import poll_source_now

    source_id = _source(db, settings, feed_server.add("/feed.xml", body=rss(ITEMS)))
    poll_source_now(db, settings, source_id)
    admin_client.post(
        f"/admin/sources/{source_id}/disable", data={"csrf_token": token(admin_client)}
    )
    with db.session() as session:
        source = session.get(Source, source_id)
        assert source is not None and not source.enabled
        assert session.scalar(select(func.count()).select_from(Story)) == 2
        assert (
            session.scalars(
                select(SourceEvent.kind).where(SourceEvent.source_id == source_id)
            ).all()[-1]
            == "disabled"
        )


def test_deleting_removes_entries_and_stories_only_this_source_had(
    admin_client: FlaskClient, feed_server: FeedServer, db: Database, settings: Settings
) -> None:
    from feedhub.ingest.poller import poll_source_now

    source_id = _source(db, settings, feed_server.add("/feed.xml", body=rss(ITEMS)))
    poll_source_now(db, settings, source_id)
    response = admin_client.post(
        f"/admin/sources/{source_id}/delete", data={"csrf_token": token(admin_client)}
    )
    assert response.status_code == 302
    with db.session() as session:
        assert session.get(Source, source_id) is None
        assert session.scalar(select(func.count()).select_from(Entry)) == 0
        assert session.scalar(select(func.count()).select_from(Story)) == 0


def test_bulk_disable_applies_to_the_failing_filter(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    failing = _source(db, settings, "https://a.example/feed", error_count=3)
    healthy = _source(db, settings, "https://b.example/feed")
    response = admin_client.post(
        "/admin/sources/bulk",
        data={
            "status": "failing",
            "scope": "matching",
            "action": "disable",
            "csrf_token": token(admin_client),
        },
    )
    assert response.status_code == 302
    with db.session() as session:
        assert not session.get(Source, failing).enabled  # type: ignore[union-attr]
        assert session.get(Source, healthy).enabled  # type: ignore[union-attr]


def test_bulk_category_by_host(admin_client: FlaskClient, db: Database, settings: Settings) -> None:
    from feedhub.models import Category

    with db.session() as session:
        category = Category(name="Lokales", slug="lokales", position=1)
        session.add(category)
        session.flush()
        category_id = category.id
    on_host = _source(db, settings, "https://www.zeitung.example/rss")
    other = _source(db, settings, "https://andere.example/rss")
    admin_client.post(
        "/admin/sources/bulk",
        data={
            "host": "zeitung.example",
            "scope": "matching",
            "action": "category",
            "category_id": str(category_id),
            "csrf_token": token(admin_client),
        },
    )
    with db.session() as session:
        assert session.get(Source, on_host).category_id == category_id  # type: ignore[union-attr]
        assert session.get(Source, other).category_id is None  # type: ignore[union-attr]


def test_bulk_delete_asks_for_confirmation(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    source_id = _source(db, settings, "https://a.example/feed")
    csrf = token(admin_client)
    response = admin_client.post(
        "/admin/sources/bulk", data={"ids": str(source_id), "action": "delete", "csrf_token": csrf}
    )
    assert response.status_code == 200 and 'name="confirmed"' in response.get_data(as_text=True)
    assert source_count(db) == 1
    admin_client.post(
        "/admin/sources/bulk",
        data={"ids": str(source_id), "action": "delete", "confirmed": "1", "csrf_token": csrf},
    )
    assert source_count(db) == 0


def test_the_source_list_is_paginated(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    for n in range(55):
        _source(db, settings, f"https://s{n}.example/feed")
    first = admin_client.get("/admin/sources").get_data(as_text=True)
    assert "s0.example" in first and "s54.example" not in first
    import re

    cursor = re.search(r'href="(/admin/sources\?cursor=[^"]+)"', first)
    assert cursor
    second = admin_client.get(cursor.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "s54.example" in second and "s0.example" not in second
