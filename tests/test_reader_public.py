"""The public-reading switch: on by default, off sends anonymous readers to the login page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from feedhub.config import Settings
from feedhub.db import Database
from feedhub.web.reader import public_reading_enabled, set_public_reading

from .reader_seed import Seeder, login

pytest_plugins = ("tests.reader_fixtures",)


def _switch(db: Database, enabled: bool) -> None:
    with db.session() as session:
        set_public_reading(session, enabled)


def test_public_reading_defaults_to_the_setting(db: Database, settings: Settings) -> None:
    with db.session() as session:
        assert public_reading_enabled(session, settings) is True


def test_public_reading_follows_the_stored_switch(db: Database, settings: Settings) -> None:
    _switch(db, False)
    with db.session() as session:
        assert public_reading_enabled(session, settings) is False
    _switch(db, True)
    with db.session() as session:
        assert public_reading_enabled(session, settings) is True


def test_anonymous_reader_sees_the_front_page_when_public(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.story("Öffentlich")
    seed.session.commit()

    response = client.get("/")

    assert response.status_code == 200 and "Öffentlich" in response.get_data(as_text=True)


def test_private_install_sends_anonymous_readers_to_login(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    story = seed.story("Geheim")
    seed.session.commit()
    _switch(db, False)

    for path in ("/", "/latest", f"/story/{story.id}", "/search?q=geheim"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_private_login_page_does_not_leak_categories(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    seed.category("Vertrauliches Ressort", slug="vertraulich", position=1)
    seed.session.commit()
    _switch(db, False)

    html = client.get("/login").get_data(as_text=True)

    assert "Vertrauliches Ressort" not in html


def test_private_install_serves_logged_in_readers(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    seed.user()
    seed.story("Geheim")
    seed.session.commit()
    _switch(db, False)

    login(client)

    assert "Geheim" in client.get("/").get_data(as_text=True)


def test_config_can_make_a_fresh_install_private(
    app_config: dict[str, object], instance_path: object, seed: Seeder
) -> None:
    from feedhub import create_app

    app: Flask = create_app(
        {**app_config, "PUBLIC_READING": False}, instance_path=str(instance_path)
    )
    try:
        response = app.test_client().get("/")
    finally:
        app.extensions["feedhub"].db.dispose()

    assert response.status_code == 302
