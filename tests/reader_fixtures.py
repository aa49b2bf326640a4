"""Fixtures of the reader tests, loaded with ``pytest_plugins = ("tests.reader_fixtures",)``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedhub.db import Database

from .reader_seed import Seeder


@pytest.fixture
def seed(db: Database) -> Iterator[Seeder]:
    """A seeder on the test database; commit with ``seed.session.commit()``."""
    seeder = Seeder(session=db.sessionmaker())
    yield seeder
    seeder.session.close()


@pytest.fixture
def second_client(app: Flask) -> FlaskClient:
    """Another browser (its own cookies) on the same app: a second device or user."""
    return app.test_client()
