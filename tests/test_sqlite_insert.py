"""Plain-SQL multi-row INSERTs on SQLite write what SQLAlchemy's INSERT would (real SQLite)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError

from feedhub import sqlite_insert
from feedhub.db import Database
from feedhub.models import Entry, Source, Story
from feedhub.sqlite_insert import insert_rows

ENTRIES = cast(Table, Entry.__table__)
STORIES = cast(Table, Story.__table__)


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with db.session() as s:
        s.add(Source(url="https://neuwied.example/feed.xml"))
    yield db
    db.dispose()


def entry_row(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "source_id": 1,
        "identity": f"guid:{n}",
        "guid": None if n % 2 else f"urn:{n}",
        "title": f"Neuwied. Brücke gesperrt {n}",
        "first_seen_at": datetime(2026, 11, 27, 8, n % 60, tzinfo=UTC),
        "published_at": datetime(2026, 11, 27, 9, 30, tzinfo=UTC) + timedelta(hours=n % 5),
        # another zone and microseconds: both must be written as SQLAlchemy writes them
        "updated_at": datetime(
            2026, 11, 27, 10, 15, 7, 1234 * n, tzinfo=timezone(timedelta(hours=1))
        ),
        "feed_categories": ["Wirtschaft", "Neuwied"],
        "enclosures": [{"url": f"https://neuwied.example/{n}.jpg", "type": "image/jpeg"}],
        "sponsored": bool(n % 3 == 0),
        "signature": bytes([n % 256]) * 8,
        **extra,
    }


def stored(db: Database, table: Table) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).mappings()
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def raw(db: Database, table: Table) -> list[tuple[Any, ...]]:
    """The rows as SQLite holds them (times as text: their format decides comparisons)."""
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY id")]


def test_rows_read_back_as_sqlalchemys_insert_writes_them(sqlite_db: Database) -> None:
    rows = [entry_row(n) for n in range(5)]
    with sqlite_db.session() as s:
        s.connection().execute(insert(ENTRIES), rows)
    expected, expected_raw = stored(sqlite_db, ENTRIES), raw(sqlite_db, ENTRIES)
    with sqlite_db.session() as s:
        s.connection().exec_driver_sql("DELETE FROM entries")
        insert_rows(s, ENTRIES, rows)
    assert stored(sqlite_db, ENTRIES) == expected
    # the same text, not just the same values: "09:30:00.000000" sorts after "09:30:00"
    assert [r[1:] for r in raw(sqlite_db, ENTRIES)] == [r[1:] for r in expected_raw]
    assert expected[0]["feed_categories"] == ["Wirtschaft", "Neuwied"]
    assert expected[3]["sponsored"] is True and expected[1]["guid"] is None


def test_python_defaults_are_applied_for_missing_columns(sqlite_db: Database) -> None:
    before = datetime.now(UTC)
    with sqlite_db.session() as s:
        insert_rows(s, STORIES, [{"title": "Koblenz"}, {"title": "Mainz"}])
    rows = stored(sqlite_db, STORIES)
    assert [r["title"] for r in rows] == ["Koblenz", "Mainz"]
    assert rows[0]["places"] == [] and rows[0]["version"] == 1 and rows[0]["hidden"] is False
    assert rows[0]["created_at"] >= before.replace(microsecond=0)


def test_returning_gives_every_new_id_across_statements(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_insert, "MAX_ROWS", 3)  # 8 rows: three statements
    with sqlite_db.session() as s:
        ids = insert_rows(s, ENTRIES, [entry_row(n) for n in range(8)], returning="id")
    with sqlite_db.engine.connect() as conn:
        assert sorted(ids) == list(conn.scalars(select(ENTRIES.c.id).order_by(ENTRIES.c.id)))
    assert len(ids) == 8


def test_rows_with_different_keys_are_refused(sqlite_db: Database) -> None:
    with sqlite_db.session() as s, pytest.raises(ValueError, match="differ in their keys"):
        insert_rows(s, ENTRIES, [entry_row(1), {"source_id": 1, "identity": "x"}])


def test_constraint_errors_arrive_as_sqlalchemy_errors(sqlite_db: Database) -> None:
    with sqlite_db.session() as s, pytest.raises(IntegrityError):
        insert_rows(s, ENTRIES, [entry_row(1, source_id=999)])  # no such source


def test_times_a_fold_apart_are_written_apart(sqlite_db: Database) -> None:
    """01:30 happens twice in New York on 2024-11-03: equal as Python datetimes,
    an hour apart in UTC."""
    new_york = ZoneInfo("America/New_York")
    first = datetime(2024, 11, 3, 1, 30, tzinfo=new_york)
    rows = [entry_row(1, updated_at=first), entry_row(2, updated_at=first.replace(fold=1))]
    with sqlite_db.session() as s:
        insert_rows(s, ENTRIES, rows)
    with sqlite_db.engine.connect() as conn:
        stored_times = list(conn.exec_driver_sql("SELECT updated_at FROM entries ORDER BY id"))
    assert [t for (t,) in stored_times] == [
        "2024-11-03 05:30:00.000000",
        "2024-11-03 06:30:00.000000",
    ]
