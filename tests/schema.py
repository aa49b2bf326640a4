"""Tests that start from an older schema revision."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command

from feedhub.db import Database, alembic_config, upgrade


@contextmanager
def downgraded(db: Database, revision: str) -> Iterator[Database]:
    """*db* migrated back to *revision* for the block, and up to the newest after it."""
    cfg = alembic_config(db.url)
    try:
        with db.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)
        yield db
    finally:
        upgrade(db)
