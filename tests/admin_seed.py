"""Helpers for the admin tests: users, logged-in clients, CSRF tokens, waiting for polls."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedhub.db import Database
from feedhub.users import create_user

PASSWORD = "admin secret 123"
T = TypeVar("T")


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a page that renders a form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def make_user(db: Database, username: str, *, admin: bool, password: str = PASSWORD) -> int:
    with db.session() as session:
        return create_user(session, username, password, is_admin=admin).id


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    # the admin tests read English texts; the German catalog has its own tests
    client.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def wait_for(probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll ``probe`` until it returns something truthy (background work landing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for background work")
        time.sleep(0.1)


@pytest.fixture
def admin_id(db: Database) -> int:
    return make_user(db, "admin", admin=True)


@pytest.fixture
def admin_client(app: Flask, admin_id: int) -> FlaskClient:
    client = app.test_client()
    login(client, "admin")
    return client


@pytest.fixture
def reader_client(app: Flask, db: Database, admin_id: int) -> FlaskClient:
    make_user(db, "reader", admin=False)
    client = app.test_client()
    login(client, "reader")
    return client


def token(client: FlaskClient) -> str:
    """A CSRF token for a logged-in admin client."""
    return csrf_token(client, "/admin/settings")
