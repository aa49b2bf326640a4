"""The Flask app factory and per-request database access."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from feedhub.config import Settings
from feedhub.db import Database

PACKAGE_DIR = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """Where templates/ and static/ are: the checkout's top level, else inside the wheel."""
    checkout = PACKAGE_DIR.parents[1]
    if (checkout / "templates").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    return PACKAGE_DIR / "_assets"


@dataclass
class Runtime:
    settings: Settings
    db: Database


def _secret_key(instance_path: Path) -> str:
    """A per-instance secret, created once and kept in the instance folder."""
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | Path | None = None
) -> Flask:
    settings = Settings.load(Path(instance_path) if instance_path else None, **(test_config or {}))
    assets = assets_dir()
    app = Flask(
        "feedhub",
        instance_path=str(settings.instance_path),
        instance_relative_config=True,
        template_folder=str(assets / "templates"),
        static_folder=str(assets / "static"),
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FEEDHUB")
    if test_config:
        app.config.update({k.upper(): v for k, v in test_config.items()})
    app.config["SECRET_KEY"] = settings.secret_key or _secret_key(settings.instance_path)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")

    db = Database(settings.effective_database_url)
    app.extensions["feedhub"] = Runtime(settings=settings, db=db)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    from feedhub import web

    web.init_app(app)

    from feedhub.cli import register_commands

    register_commands(app)
    return app


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["feedhub"]
    return rt


def db_session() -> Session:
    """The request's session (opened lazily, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = runtime().db.sessionmaker()
    session: Session = g.db_session
    return session
