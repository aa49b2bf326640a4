"""Login: redirects, rate limiting shared by every process, session regeneration, logout."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedhub.web.login_limits import MAX_PER_USERNAME

from .reader_seed import PASSWORD, Seeder, csrf_token, login

pytest_plugins = ("tests.reader_fixtures",)


def _attempt(client: FlaskClient, password: str, username: str = "reader", next_: str = "") -> Any:
    token = csrf_token(client)
    path = f"/login?next={next_}" if next_ else "/login"
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


def test_login_redirects_to_a_local_next_path(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()

    response = _attempt(client, PASSWORD, next_="/starred")

    assert response.status_code == 302 and response.headers["Location"] == "/starred"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_ignores_foreign_next_targets(client: FlaskClient, seed: Seeder, target: str) -> None:
    seed.user()
    seed.session.commit()

    response = _attempt(client, PASSWORD, next_=target)

    assert response.headers["Location"] == "/"


def test_wrong_password_is_401(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()

    response = _attempt(client, "wrong")

    assert response.status_code == 401


def test_login_without_csrf_token_is_rejected(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()

    response = client.post("/login", data={"username": "reader", "password": PASSWORD})

    assert response.status_code == 400


def test_repeated_failures_are_limited_even_with_the_right_password(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    seed.session.commit()
    for _ in range(MAX_PER_USERNAME):
        assert _attempt(client, "wrong").status_code == 401

    response = _attempt(client, PASSWORD)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_the_limit_is_shared_between_web_processes(
    app: Flask, app_config: dict[str, Any], instance_path: Any, seed: Seeder
) -> None:
    from feedhub import create_app

    seed.user()
    seed.session.commit()
    other_process = create_app(app_config, instance_path=instance_path)
    try:
        for _ in range(MAX_PER_USERNAME):
            _attempt(app.test_client(), "wrong")
        response = _attempt(other_process.test_client(), PASSWORD)
    finally:
        other_process.extensions["feedhub"].db.dispose()

    assert response.status_code == 429


def test_the_limit_is_per_username(client: FlaskClient, seed: Seeder) -> None:
    seed.user("anna")
    seed.user("bert")
    seed.session.commit()
    for _ in range(MAX_PER_USERNAME):
        _attempt(client, "wrong", username="anna")

    assert _attempt(client, PASSWORD, username="bert").status_code == 302


def test_login_starts_a_fresh_session(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = csrf_token(client)

    login(client)

    with client.session_transaction() as session:
        assert "planted" not in session
    assert csrf_token(client, "/") != before


def test_logout_ends_the_session(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert response.status_code == 302
    assert client.get("/unread").status_code == 302


def test_logout_needs_a_csrf_token(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    assert client.post("/logout").status_code == 400
    assert client.get("/unread").status_code == 200


def test_admin_sees_the_admin_link_and_readers_do_not(
    client: FlaskClient, second_client: FlaskClient, seed: Seeder
) -> None:
    seed.user("chefin", admin=True)
    seed.user("leser")
    seed.session.commit()
    login(client, "chefin")
    login(second_client, "leser")

    assert 'href="/admin"' in client.get("/").get_data(as_text=True)
    assert 'href="/admin"' not in second_client.get("/").get_data(as_text=True)
