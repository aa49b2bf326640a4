"""``feedhub users …``: manage accounts from the shell.

This is how the first admin comes into being (``feedhub users create NAME
--admin``), so it works without a running web server: it reads the same
settings as the app (instance folder, FEEDHUB_* variables) and brings the
schema up to date before touching the users table.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.config import Settings
from feedhub.db import Database, SQLiteTooOld, upgrade
from feedhub.models import User
from feedhub.users import (
    UserError,
    create_user,
    get_user,
    set_disabled,
    set_password,
)


def _database() -> tuple[Database, bool]:
    """The app's database inside ``flask --app feedhub``; else one from the settings.

    The flag says whether this command opened it (and must dispose of it).
    """
    from flask import current_app, has_app_context

    if has_app_context() and "feedhub" in current_app.extensions:
        db: Database = current_app.extensions["feedhub"].db
        return db, False
    try:
        return Database(Settings.load().effective_database_url), True
    except SQLiteTooOld as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _session() -> Iterator[Session]:
    db, owned = _database()
    try:
        upgrade(db)
        with db.session() as session:
            yield session
    finally:
        if owned:
            db.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _fail(exc: UserError) -> None:
    raise click.ClickException(str(exc))


@click.group("users")
def users_cli() -> None:
    """Create and manage user accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option("--admin", "is_admin", is_flag=True, help="Give the account the admin role.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def create_command(username: str, is_admin: bool, password_stdin: bool) -> None:
    """Create an account (prompts for the password unless --password-stdin)."""
    password = _read_password(password_stdin)
    try:
        with _session() as session:
            user = create_user(session, username, password, is_admin=is_admin)
            role = "admin" if user.is_admin else "reader"
            name = user.username
    except UserError as exc:
        _fail(exc)
    click.echo(f"Created {role} {name}.")


@users_cli.command("list")
def list_command() -> None:
    """List accounts with their role and state."""
    with _session() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        for user in users:
            role = "admin" if user.is_admin else "reader"
            state = "disabled" if user.disabled else "active"
            click.echo(f"{user.username}\t{role}\t{state}")
        if not users:
            click.echo(
                "No users yet. Create the first admin with: feedhub users create NAME --admin"
            )


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account: it can no longer log in, its sessions end."""
    try:
        with _session() as session:
            user = get_user(session, username)
            if user is None:
                raise click.ClickException(f"No user named {username!r}.")
            set_disabled(session, user, True)
    except UserError as exc:
        _fail(exc)
    click.echo(f"Disabled {username}.")


@users_cli.command("set-password")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password (ends the user's other sessions)."""
    password = _read_password(password_stdin)
    try:
        with _session() as session:
            user = get_user(session, username)
            if user is None:
                raise click.ClickException(f"No user named {username!r}.")
            set_password(session, user, password)
    except UserError as exc:
        _fail(exc)
    click.echo(f"Password of {username} changed.")
