"""Account settings: password change (logs out other devices) and the UI language."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from feedhub.db import Database
from feedhub.models import User

from .reader_seed import PASSWORD, Seeder, csrf_token, login

pytest_plugins = ("tests.reader_fixtures",)

NEW_PASSWORD = "a much better passphrase"


def _change(
    client: FlaskClient, current: str, new: str, confirm: str | None = None
) -> TestResponse:
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_account_page_needs_login(client: FlaskClient) -> None:
    assert client.get("/account").status_code == 302


def test_password_change_lets_the_new_password_log_in(
    client: FlaskClient, second_client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    _change(client, PASSWORD, NEW_PASSWORD)

    assert login(second_client, password=NEW_PASSWORD).status_code == 302
    assert client.get("/unread").status_code == 200  # this device stays logged in


def test_password_change_logs_out_other_devices(
    client: FlaskClient, second_client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    seed.session.commit()
    login(client)
    login(second_client)

    _change(client, PASSWORD, NEW_PASSWORD)

    assert second_client.get("/unread").status_code == 302


def test_password_change_needs_the_current_password(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    response = _change(client, "wrong", NEW_PASSWORD)

    assert response.status_code == 400
    with db.session() as s:
        assert s.scalar(select(User.session_version)) == 1


def test_password_change_rejects_short_or_mismatched_passwords(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    assert _change(client, PASSWORD, "short").status_code == 400
    assert _change(client, PASSWORD, NEW_PASSWORD, "different!!").status_code == 400


def test_password_change_without_csrf_token_is_rejected(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 400


def test_language_defaults_to_accept_language(client: FlaskClient) -> None:
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    german = client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    other = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)

    assert '<html lang="en">' in english and "Front page" in english
    assert '<html lang="de">' in german and "Startseite" in german
    assert '<html lang="de">' in other


def test_anonymous_language_choice_is_kept_in_a_cookie(client: FlaskClient) -> None:
    response = client.post(
        "/language", data={"csrf_token": csrf_token(client, "/"), "language": "en", "next": "/"}
    )

    assert "HttpOnly" in response.headers["Set-Cookie"]
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_users_language_is_saved_for_every_device(
    client: FlaskClient, second_client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    seed.session.commit()
    login(client)
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "language": "en"})

    login(second_client)
    html = second_client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)

    assert '<html lang="en">' in html


def test_unknown_language_is_rejected(client: FlaskClient) -> None:
    response = client.post(
        "/language", data={"csrf_token": csrf_token(client, "/"), "language": "xx"}
    )

    assert response.status_code == 400


def test_forged_language_cookie_falls_back(client: FlaskClient) -> None:
    client.set_cookie("lang", "<script>")

    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert '<html lang="en">' in html


def test_translations_outside_a_request_use_german(app: Flask) -> None:
    from flask_babel import gettext

    with app.app_context():
        assert gettext("Published %(date)s", date="23.06.2022") == "Nachricht vom 23.06.2022"
