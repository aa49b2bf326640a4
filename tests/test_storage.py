"""Schema creation and the SQLite pragmas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from feedhub.cli import main
from feedhub.db import (
    Database,
    SQLiteTooOld,
    check_sqlite_version,
    current_heads,
    script_heads,
    upgrade,
)
from feedhub.models import Category, Source


def test_schema_is_at_head(db: Database) -> None:
    assert current_heads(db) == script_heads() != ()


def test_upgrade_is_idempotent(db: Database) -> None:
    before = current_heads(db)
    upgrade(db)
    assert current_heads(db) == before


def test_source_round_trip_keeps_aware_utc(db: Database) -> None:
    with db.session() as s:
        cat = Category(name="Wirtschaft", slug="wirtschaft", position=1)
        s.add(cat)
        s.flush()
        s.add(Source(url="https://example.org/feed", category_id=cat.id))
    with db.session() as s:
        src = s.scalars(select(Source)).one()
        assert src.next_poll_at.tzinfo is not None
        assert src.category is not None and src.category.name == "Wirtschaft"


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_an_sqlite_without_returning_is_refused_with_the_reason() -> None:
    check_sqlite_version((3, 35, 0))
    with pytest.raises(SQLiteTooOld, match=r"SQLite 3\.31\.1 is too old: feedhub needs 3\.35\.0"):
        check_sqlite_version((3, 31, 1))


@pytest.mark.parametrize("args", [["stats", "--json"], ["users", "list"]])
def test_the_cli_names_a_too_old_sqlite_in_one_line(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDHUB_DATABASE_URL", raising=False)
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    result = CliRunner().invoke(main, ["--instance", str(tmp_path), *args])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: SQLite 3.31.1 is too old: feedhub needs 3.35.0 or newer "
        "(use a newer Python build, or PostgreSQL)"
    )
