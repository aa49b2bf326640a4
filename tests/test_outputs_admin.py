"""Admin pages for output feeds: list, create with preview, edit, delete, rotate token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feedhub.db import Database
from feedhub.models import OutputFeed
from feedhub.publish.query import FeedFilter
from feedhub.users import create_user

from .outputs_seed import Seeder

PASSWORD = "outputs admin secret"


def csrf(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def logged_in(app: Flask, db: Database, name: str, *, admin: bool) -> FlaskClient:
    with db.session() as s:
        create_user(s, name, PASSWORD, is_admin=admin)
    client = app.test_client()
    data = {"username": name, "password": PASSWORD, "csrf_token": csrf(client, "/login")}
    assert client.post("/login", data=data).status_code == 302
    return client


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def admin(app: Flask, db: Database) -> FlaskClient:
    return logged_in(app, db, "chefin", admin=True)


@pytest.fixture
def world(seed: Seeder) -> dict[str, int]:
    src = seed.source("Bonner Blatt")
    cat = seed.category("Wirtschaft", "wirtschaft")
    seed.story("Hafen wächst", [src], category_id=cat, age=timedelta(hours=1))
    seed.story("Fußball <b>live</b>", [src], age=timedelta(hours=2))
    return {"source": src, "category": cat}


def form(client: FlaskClient, path: str, **values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf(client, path), "slug": "", "title": "", "subtitle": "",
        "places": "", "include": "", "exclude": "", "regex": "", "min_sources": "1",
        "max_age_hours": "", "max_items": "50", "per_source_cap": "", "action": "save",
    }  # fmt: skip
    data.update(values)
    return data


def stored(db: Database) -> list[OutputFeed]:
    with db.session() as s:
        return list(s.scalars(select(OutputFeed).order_by(OutputFeed.slug)))


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/admin/outputs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_non_admin_is_forbidden(app: Flask, db: Database) -> None:
    reader = logged_in(app, db, "leser", admin=False)
    assert reader.get("/admin/outputs").status_code == 403


def test_create_saves_the_filter(admin: FlaskClient, db: Database, world: dict[str, int]) -> None:
    data = form(
        admin, "/admin/outputs/new", slug="hafen", title="Hafen", include="hafen, kai",
        categories=[str(world["category"])], sources=[str(world["source"])], per_source_cap="2",
    )  # fmt: skip
    response = admin.post("/admin/outputs/new", data=data)
    assert response.status_code == 302
    (feed,) = stored(db)
    assert (feed.slug, feed.title, feed.public) == ("hafen", "Hafen", True)
    flt = FeedFilter.from_json(feed.filters)
    assert flt.include == ("hafen", "kai")
    assert flt.categories == (world["category"],) and flt.sources == (world["source"],)
    assert flt.per_source_cap == 2


def test_preview_shows_current_items_without_saving(
    admin: FlaskClient, db: Database, world: dict[str, int]
) -> None:
    data = form(admin, "/admin/outputs/new", slug="x", title="X", include="fußball")
    data["action"] = "preview"
    response = admin.post("/admin/outputs/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fußball &lt;b&gt;live&lt;/b&gt;" in html
    assert "Hafen wächst" not in html
    assert stored(db) == []


def test_invalid_input_is_shown_not_saved(
    admin: FlaskClient, db: Database, world: dict[str, int]
) -> None:
    data = form(admin, "/admin/outputs/new", slug="x", title="X", regex="(kaputt")
    response = admin.post("/admin/outputs/new", data=data)
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert stored(db) == []


def test_edit_page_previews_the_saved_filter(admin: FlaskClient, world: dict[str, int]) -> None:
    admin.post("/admin/outputs/new", data=form(admin, "/admin/outputs/new", slug="w",
               title="W", categories=[str(world["category"])]))  # fmt: skip
    feed_id = re.search(r"/admin/outputs/(\d+)/edit", admin.get("/admin/outputs").get_data(True))
    assert feed_id
    html = admin.get(f"/admin/outputs/{feed_id.group(1)}/edit").get_data(as_text=True)
    assert "Hafen wächst" in html and "Fußball" not in html


def test_edit_changes_title_and_makes_private(
    admin: FlaskClient, db: Database, world: dict[str, int]
) -> None:
    admin.post("/admin/outputs/new", data=form(admin, "/admin/outputs/new", slug="w", title="W"))
    feed = stored(db)[0]
    path = f"/admin/outputs/{feed.id}/edit"
    response = admin.post(path, data=form(admin, path, title="Neu", private="on"))
    assert response.status_code == 302
    changed = stored(db)[0]
    assert (changed.slug, changed.title, changed.public) == ("w", "Neu", False)
    assert changed.token


def test_delete_needs_confirmation(admin: FlaskClient, db: Database) -> None:
    admin.post("/admin/outputs/new", data=form(admin, "/admin/outputs/new", slug="d", title="D"))
    feed = stored(db)[0]
    page = admin.get(f"/admin/outputs/{feed.id}/delete")
    assert page.status_code == 200 and stored(db)
    token = csrf(admin, f"/admin/outputs/{feed.id}/delete")
    assert (
        admin.post(f"/admin/outputs/{feed.id}/delete", data={"csrf_token": token}).status_code
        == 302
    )
    assert stored(db) == []


def test_delete_without_csrf_token_is_refused(admin: FlaskClient, db: Database) -> None:
    admin.post("/admin/outputs/new", data=form(admin, "/admin/outputs/new", slug="d", title="D"))
    feed = stored(db)[0]
    assert admin.post(f"/admin/outputs/{feed.id}/delete").status_code == 400
    assert stored(db)


def test_rotate_token(admin: FlaskClient, db: Database) -> None:
    admin.post("/admin/outputs/new", data=form(admin, "/admin/outputs/new", slug="p",
               title="P", private="on"))  # fmt: skip
    old = stored(db)[0]
    token = csrf(admin, "/admin/outputs")
    response = admin.post(f"/admin/outputs/{old.id}/rotate-token", data={"csrf_token": token})
    assert response.status_code == 302
    new = stored(db)[0]
    assert new.token and new.token != old.token


def test_list_shows_feeds_and_addresses(admin: FlaskClient, db: Database) -> None:
    admin.post("/admin/outputs/new", data=form(admin, "/admin/outputs/new", slug="p",
               title="Privat <i>", private="on"))  # fmt: skip
    html = admin.get("/admin/outputs").get_data(as_text=True)
    feed = stored(db)[0]
    assert "Privat &lt;i&gt;" in html
    assert f"/feeds/p.atom?token={feed.token}" in html
