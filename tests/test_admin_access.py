"""Every admin route needs a login and the admin role; state changes need CSRF; setup is local."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedhub.db import Database

from . import admin_seed
from .admin_seed import login, make_user, token

# fixtures shared by the admin tests
admin_client = admin_seed.admin_client
admin_id = admin_seed.admin_id
reader_client = admin_seed.reader_client

ADMIN_PAGES = [
    "/admin/",
    "/admin/sources",
    "/admin/sources/add",
    "/admin/sources/import",
    "/admin/sources/export.opml",
    "/admin/health",
    "/admin/categories",
    "/admin/rules",
    "/admin/rules/new",
    "/admin/stories",
    "/admin/users",
    "/admin/users/new",
    "/admin/categories/new",
    "/admin/settings",
]


def admin_get_routes(app: Flask) -> list[str]:
    """Every parameterless GET route of the admin blueprint (so new pages are covered too)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        and "GET" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint != "admin.setup"
    )


def test_the_page_list_covers_every_admin_page(app: Flask) -> None:
    assert set(admin_get_routes(app)) - {"/admin/rules/preview"} == set(ADMIN_PAGES)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(
    client: FlaskClient, admin_id: int, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_readers_are_forbidden(reader_client: FlaskClient, path: str) -> None:
    assert reader_client.get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admins_see_every_page(admin_client: FlaskClient, path: str) -> None:
    response = admin_client.get(path)
    assert response.status_code == 200


def test_a_reader_cannot_post_admin_changes(reader_client: FlaskClient) -> None:
    from .admin_seed import csrf_token

    response = reader_client.post(
        "/admin/categories/new",
        data={"name": "Sport", "csrf_token": csrf_token(reader_client, "/login")},
    )
    assert response.status_code == 403


def test_a_post_without_csrf_token_is_rejected(admin_client: FlaskClient, db: Database) -> None:
    response = admin_client.post("/admin/categories/new", data={"name": "Sport"})
    assert response.status_code == 400
    from sqlalchemy import select

    from feedhub.models import Category

    with db.session() as session:
        assert session.scalar(select(Category).where(Category.name == "Sport")) is None


def test_a_post_with_a_wrong_csrf_token_is_rejected(admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/categories/new", data={"name": "Sport", "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_the_same_post_with_the_token_succeeds(admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/categories/new", data={"name": "Sport", "csrf_token": token(admin_client)}
    )
    assert response.status_code == 302


# --- one-time setup -------------------------------------------------------------


def test_without_an_admin_the_admin_area_leads_to_setup(client: FlaskClient) -> None:
    response = client.get("/admin/sources")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/setup")


def test_setup_answers_the_local_machine(client: FlaskClient) -> None:
    response = client.get("/admin/setup", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200
    assert 'name="username"' in response.get_data(as_text=True)


def test_setup_refuses_a_remote_client(client: FlaskClient) -> None:
    response = client.get("/admin/setup", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 403
    assert "feedhub users create" in response.get_data(as_text=True)


def test_setup_refuses_a_remote_client_behind_a_local_proxy(client: FlaskClient) -> None:
    response = client.get(
        "/admin/setup",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 403


def test_setup_creates_the_first_admin_once(client: FlaskClient) -> None:
    from .admin_seed import csrf_token

    data = {
        "username": "root",
        "password": "long enough pw",
        "confirm": "long enough pw",
        "csrf_token": csrf_token(client, "/admin/setup"),
    }
    response = client.post("/admin/setup", data=data)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200  # logged in as the new admin
    assert client.get("/admin/setup").status_code == 404


def test_setup_shows_errors_next_to_the_fields(client: FlaskClient) -> None:
    from .admin_seed import csrf_token

    data = {
        "username": "root",
        "password": "short",
        "confirm": "different",
        "csrf_token": csrf_token(client, "/admin/setup"),
    }
    response = client.post("/admin/setup", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="password-error"' in html
    assert 'id="confirm-error"' in html


def test_setup_is_gone_once_an_admin_exists(client: FlaskClient, db: Database) -> None:
    make_user(db, "boss", admin=True)
    assert client.get("/admin/setup").status_code == 404


def test_a_disabled_admin_loses_access(app: Flask, db: Database, admin_id: int) -> None:
    make_user(db, "second", admin=True)
    other = app.test_client()
    login(other, "second")
    first = app.test_client()
    login(first, "admin")
    response = first.post(f"/admin/users/{admin_id + 1}/disable", data={"csrf_token": token(first)})
    assert response.status_code == 302
    assert other.get("/admin/").status_code == 302
