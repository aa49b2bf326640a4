"""Schema creation and the SQLite pragmas."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import delete, select, text

from feedhub.cli import main
from feedhub.db import (
    Database,
    SQLiteTooOld,
    check_sqlite_version,
    current_heads,
    script_heads,
    upgrade,
)
from feedhub.models import Base, Category, Entry, Source, Story, utcnow

from .schema import downgraded


def test_schema_is_at_head(db: Database) -> None:
    assert current_heads(db) == script_heads() != ()


def _not_search_index(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
    """The search index is raw SQL per dialect (FTS5, tsvector), not a model."""
    return not (name or "").startswith(("story_fts", "story_search", "ix_story_search"))


def _drift(db: Database) -> list[Any]:
    """How the migrated schema differs from the models' tables, columns, indexes and
    foreign keys (types aside: SQLite reflects its own affinities)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_object": _not_search_index}
        )
        return list(compare_metadata(context, Base.metadata))


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    assert _drift(db) == []


def test_deleting_a_storys_representative_entry_clears_the_reference(db: Database) -> None:
    with db.session() as s:
        src = Source(url="https://example.org/feed")
        story = Story(title="Brücke gesperrt")
        s.add_all([src, story])
        s.flush()
        entry = Entry(source_id=src.id, identity="guid:a", story_id=story.id)
        s.add(entry)
        s.flush()
        story.representative_entry_id = entry.id
        s.flush()
        s.execute(delete(Entry).where(Entry.id == entry.id))
        s.expire_all()
        assert s.get(Story, story.id).representative_entry_id is None  # type: ignore[union-attr]


def test_the_upgrade_clears_dangling_representatives_and_keeps_them_out(db: Database) -> None:
    """Migration 0014: on PostgreSQL the key was missing, so ids could dangle."""
    with downgraded(db, "0013_drop_duplicate_entry_index"):
        with db.engine.connect() as conn:
            if db.dialect == "sqlite":  # the key is in CREATE TABLE: only this gets past it
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.execute(
                text(
                    "INSERT INTO stories (id, title, lead, category_reason, "
                    "representative_entry_id, sort_at, updated_at, created_at, "
                    "entry_count, source_count, sponsored, sponsored_reason, hidden, "
                    "places, version) VALUES (7, 't', '', '', 4242, :at, :at, :at, "
                    "0, 0, false, '', false, '[]', 1)"
                ),
                {"at": utcnow()},
            )
            conn.commit()
        db.dispose()  # no connection keeps foreign keys off
    with db.engine.connect() as conn:
        dangling = conn.execute(text("SELECT representative_entry_id FROM stories WHERE id = 7"))
        assert dangling.scalar_one() is None
    assert _drift(db) == []


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
