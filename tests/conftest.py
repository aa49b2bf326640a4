"""Shared fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from feedhub.config import Settings
from feedhub.db import Database, upgrade
from feedhub.models import Base

from .feedserver import FeedServer
from .test_feedparser_corpus import load_benchmark

PG_ADMIN_URL = os.environ.get(
    "FEEDHUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_KINDS = [
    k for k in os.environ.get("FEEDHUB_TEST_DATABASES", "sqlite,postgresql").split(",") if k
]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this xdist worker, dropped at the end."""
    import psycopg

    name = f"feedhub_test_{_worker()}_{os.getpid()}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    db = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database: SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "feedhub.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_url")
        _truncate_pg(url)
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def settings(instance_path: Path, db_url: str) -> Settings:
    return Settings(
        instance_path=instance_path,
        database_url=db_url,
        secret_key="test-secret",
        allow_private_networks=True,
        load_sample_sources=False,
        connect_timeout=2.0,
        total_timeout=5.0,
    )


@pytest.fixture
def app_config(instance_path: Path, db_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret",
        "ALLOW_PRIVATE_NETWORKS": True,
        "LOAD_SAMPLE_SOURCES": False,
    }


@pytest.fixture
def app(app_config: dict[str, Any], instance_path: Path) -> Iterator[Flask]:
    from feedhub import create_app

    application = create_app(app_config, instance_path=instance_path)
    yield application
    application.extensions["feedhub"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


# -- feedparser's own corpus (tests/test_feedparser_corpus.py, tests/test_corpus_poll.py)
@pytest.fixture(scope="session")
def corpus() -> ModuleType:
    return load_benchmark()


@pytest.fixture(scope="session")
def corpus_root(corpus: ModuleType) -> Path:
    try:
        root: Path = corpus.ensure_corpus(corpus.default_cache_dir())
    except RuntimeError as exc:
        pytest.skip(f"feedparser's sdist is not available: {exc}")
    return root
