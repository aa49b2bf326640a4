"""User management in the admin and on the command line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import check_password_hash

from feedhub.db import Database
from feedhub.models import User
from feedhub.users_cli import users_cli

from . import admin_seed
from .admin_seed import login, make_user, token

# fixtures shared by the admin tests
admin_client = admin_seed.admin_client
admin_id = admin_seed.admin_id


def user(db: Database, name: str) -> User | None:
    with db.session() as session:
        return session.scalar(select(User).where(User.username == name))


def test_create_shows_a_short_password_next_to_the_field(
    admin_client: FlaskClient, db: Database
) -> None:
    response = admin_client.post(
        "/admin/users/new",
        data={"username": "lena", "password": "kurz", "csrf_token": token(admin_client)},
    )
    assert response.status_code == 400
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert user(db, "lena") is None


def test_create_shows_a_taken_username_next_to_the_field(admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/users/new",
        data={"username": "admin", "password": "long enough", "csrf_token": token(admin_client)},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="username-error"' in html and "taken" in html


def test_create_a_reader(admin_client: FlaskClient, db: Database) -> None:
    response = admin_client.post(
        "/admin/users/new",
        data={"username": "lena", "password": "long enough", "csrf_token": token(admin_client)},
    )
    assert response.status_code == 302
    created = user(db, "lena")
    assert created is not None and not created.is_admin
    assert check_password_hash(created.password_hash, "long enough")


def test_the_last_admin_cannot_lose_the_role(
    admin_client: FlaskClient, db: Database, admin_id: int
) -> None:
    make_user(db, "second", admin=False)
    second = user(db, "second")
    assert second is not None
    admin_client.post(
        f"/admin/users/{second.id}/role", data={"role": "admin", "csrf_token": token(admin_client)}
    )
    assert user(db, "second").is_admin  # type: ignore[union-attr]
    admin_client.post(
        f"/admin/users/{second.id}/role", data={"role": "reader", "csrf_token": token(admin_client)}
    )
    assert not user(db, "second").is_admin  # type: ignore[union-attr]
    # the remaining admin cannot demote themselves
    admin_client.post(
        f"/admin/users/{admin_id}/role", data={"role": "reader", "csrf_token": token(admin_client)}
    )
    assert user(db, "admin").is_admin  # type: ignore[union-attr]


def test_reset_password_ends_the_users_sessions(
    app: Flask, admin_client: FlaskClient, db: Database
) -> None:
    make_user(db, "lena", admin=False)
    lena = app.test_client()
    login(lena, "lena")
    assert lena.get("/account").status_code == 200
    lena_id = user(db, "lena").id  # type: ignore[union-attr]
    response = admin_client.post(
        f"/admin/users/{lena_id}/password",
        data={
            "password": "new password 1",
            "confirm": "new password 1",
            "csrf_token": token(admin_client),
        },
    )
    assert response.status_code == 302
    assert check_password_hash(user(db, "lena").password_hash, "new password 1")  # type: ignore[union-attr]
    assert lena.get("/account").status_code == 302


def test_reset_password_needs_matching_repetition(admin_client: FlaskClient, db: Database) -> None:
    make_user(db, "lena", admin=False)
    lena_id = user(db, "lena").id  # type: ignore[union-attr]
    response = admin_client.post(
        f"/admin/users/{lena_id}/password",
        data={
            "password": "new password 1",
            "confirm": "other password",
            "csrf_token": token(admin_client),
        },
    )
    assert response.status_code == 400
    assert 'id="confirm-error"' in response.get_data(as_text=True)


def test_delete_asks_first(admin_client: FlaskClient, db: Database) -> None:
    make_user(db, "lena", admin=False)
    lena_id = user(db, "lena").id  # type: ignore[union-attr]
    page = admin_client.get(f"/admin/users/{lena_id}/delete")
    assert page.status_code == 200 and "cannot be undone" in page.get_data(as_text=True)
    assert user(db, "lena") is not None
    admin_client.post(f"/admin/users/{lena_id}/delete", data={"csrf_token": token(admin_client)})
    assert user(db, "lena") is None


# --- command line ----------------------------------------------------------------


@pytest.fixture
def cli_env(db_url: str, instance_path: object, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FEEDHUB_DATABASE_URL", db_url)
    monkeypatch.setenv("FEEDHUB_INSTANCE_PATH", str(instance_path))
    return CliRunner()


def test_cli_creates_the_first_admin_from_stdin(cli_env: CliRunner, db: Database) -> None:
    result = cli_env.invoke(
        users_cli, ["create", "root", "--admin", "--password-stdin"], input="long enough pw\n"
    )
    assert result.exit_code == 0, result.output
    created = user(db, "root")
    assert created is not None and created.is_admin
    assert check_password_hash(created.password_hash, "long enough pw")


def test_cli_prompts_for_the_password_twice(cli_env: CliRunner, db: Database) -> None:
    result = cli_env.invoke(users_cli, ["create", "lena"], input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0, result.output
    created = user(db, "lena")
    assert created is not None and not created.is_admin


def test_cli_refuses_a_short_password(cli_env: CliRunner, db: Database) -> None:
    result = cli_env.invoke(users_cli, ["create", "root", "--password-stdin"], input="kurz\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert user(db, "root") is None


def test_cli_lists_disables_and_sets_passwords(cli_env: CliRunner, db: Database) -> None:
    make_user(db, "root", admin=True)
    make_user(db, "lena", admin=False)
    listed = cli_env.invoke(users_cli, ["list"])
    assert listed.output.splitlines() == ["lena\treader\tactive", "root\tadmin\tactive"]
    assert cli_env.invoke(users_cli, ["disable", "lena"]).exit_code == 0
    assert user(db, "lena").disabled  # type: ignore[union-attr]
    result = cli_env.invoke(
        users_cli, ["set-password", "root", "--password-stdin"], input="brand new pw\n"
    )
    assert result.exit_code == 0
    assert check_password_hash(user(db, "root").password_hash, "brand new pw")  # type: ignore[union-attr]


def test_cli_will_not_disable_the_last_admin(cli_env: CliRunner, db: Database) -> None:
    make_user(db, "root", admin=True)
    result = cli_env.invoke(users_cli, ["disable", "root"])
    assert result.exit_code != 0 and "last active admin" in result.output
    assert not user(db, "root").disabled  # type: ignore[union-attr]
