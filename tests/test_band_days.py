"""LSH band rows carry the day of their time; the migrations fill day and time like the code."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, select, text

from feedhub.db import Database, alembic_config, session_is_sqlite, upgrade
from feedhub.models import Entry, LshBand, Source
from feedhub.stories.bulk import (
    DAYS_PER_PROBE,
    _days_with_rows,
    band_day,
    band_hits,
    band_micros,
    delete_bands,
    insert_bands,
    pack_band_keys,
)

from .schema import downgraded

TIMES = [
    datetime(1969, 12, 31, 23, 0),  # before the epoch: day 0
    datetime(1970, 1, 1, 23, 59, 59),
    datetime(1970, 1, 2, 0, 0),
    datetime(2026, 11, 26, 23, 59, 59, 999999),
    datetime(2026, 11, 27, 0, 0, 0, 1),
]


@pytest.fixture
def entry_id(db: Database) -> int:
    with db.session() as session:
        source = Source(url="https://example.de/feed", title="Beispiel")
        entry = Entry(source=source, identity="guid:1", title="Eins")
        session.add(entry)
        session.flush()
        return entry.id


def test_band_day_counts_whole_days_from_the_epoch() -> None:
    assert band_day(datetime(1970, 1, 1, 23, 59, 59, tzinfo=UTC)) == 0
    assert band_day(datetime(1970, 1, 2, tzinfo=UTC)) == 1
    assert band_day(datetime(1960, 1, 1, tzinfo=UTC)) == 0
    # the last microsecond of a day belongs to it, however far from the epoch
    assert band_day(datetime(2500, 1, 1) - timedelta(microseconds=1)) == band_day(
        datetime(2499, 12, 31)
    )
    # naive times are UTC, as the database stores them
    assert band_day(datetime(2026, 11, 27)) == band_day(datetime(2026, 11, 27, tzinfo=UTC))
    # an aware time in another zone counts by its UTC day
    berlin = datetime(2026, 11, 27, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert (
        band_day(berlin)
        == band_day(datetime(2026, 11, 26, 23, 30))
        != band_day(datetime(2026, 11, 27))
    )


def _rows(db: Database) -> set[tuple[int, ...]]:
    columns = (LshBand.day, LshBand.band_key, LshBand.at, LshBand.entry_id)
    with db.session() as session:
        return {tuple(row) for row in session.execute(select(*columns))}


def test_band_micros_counts_microseconds_from_the_epoch() -> None:
    assert band_micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005
    assert band_micros(datetime(1969, 12, 31, 23, 59, 59, 999999)) == -1
    berlin = datetime(1970, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert band_micros(berlin) == 0


def test_insert_bands_stores_day_and_time(db: Database, entry_id: int) -> None:
    at = datetime(2026, 11, 27, 9, 30, 0, 123456, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(11, entry_id, at), (12, entry_id, at)])
    rows = _rows(db)
    assert rows == {(band_day(at), key, band_micros(at), entry_id) for key in (11, 12)}


def test_inserting_a_stored_band_row_again_keeps_one(db: Database, entry_id: int) -> None:
    at = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(1, entry_id, at)])
    with db.session() as session:
        insert_bands(session, [(1, entry_id, at), (2, entry_id, at)])
    with db.session() as session:
        keys = sorted(session.scalars(select(LshBand.band_key)))
    assert keys == [1, 2]


def test_delete_bands_deletes_only_the_entries_rows(db: Database, entry_id: int) -> None:
    with db.session() as session:
        other = Entry(source_id=session.get(Entry, entry_id).source_id, identity="guid:2")
        session.add(other)
        session.flush()
        other_id = other.id
    at = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(1, entry_id, at), (2, other_id, at)])
    with db.session() as session:  # its keys unknown (stored before it kept them): by day
        delete_bands(session, [(entry_id, at, None)])
    assert {row[3] for row in _rows(db)} == {other_id}


def test_delete_bands_deletes_the_rows_of_an_entrys_keys(db: Database, entry_id: int) -> None:
    at = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(1, entry_id, at), (2, entry_id, at), (3, entry_id, at)])
    with db.session() as session:
        delete_bands(session, [(entry_id, at, pack_band_keys([1, 3]))])
    assert [row[1] for row in _rows(db)] == [2]


def test_a_window_finds_rows_on_every_day_it_touches(db: Database, entry_id: int) -> None:
    centre = datetime(2026, 11, 20, 12, tzinfo=UTC)
    offsets = [-71, -40, -20, 0, 20, 40, 71]  # hours: seven different days
    assert len({band_day(centre + timedelta(hours=h)) for h in offsets}) == 7
    with db.session() as session:
        insert_bands(
            session,
            [(100 + n, entry_id, centre + timedelta(hours=h)) for n, h in enumerate(offsets)],
        )
    window = (centre - timedelta(hours=72), centre + timedelta(hours=72))
    with db.session() as session:
        hits = band_hits(session, [(0, 100 + n, *window) for n in range(len(offsets))], best=5)
    assert hits == [(0, entry_id, len(offsets))]


def test_a_row_outside_the_window_on_a_probed_day_does_not_count(
    db: Database, entry_id: int
) -> None:
    centre = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(7, entry_id, centre - timedelta(hours=73))])
    window = (centre - timedelta(hours=72), centre + timedelta(hours=72))
    assert band_day(window[0]) == band_day(centre - timedelta(hours=73))
    with db.session() as session:
        assert band_hits(session, [(0, 7, *window)], best=5) == []


def test_a_window_longer_than_one_probe_row_probes_every_day(db: Database, entry_id: int) -> None:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    days = range(0, 3 * DAYS_PER_PROBE + 2, 3)
    with db.session() as session:
        insert_bands(session, [(200 + d, entry_id, start + timedelta(days=d)) for d in days])
    window = (start - timedelta(hours=1), start + timedelta(days=max(days), hours=1))
    with db.session() as session:
        hits = band_hits(session, [(0, 200 + d, *window) for d in days], best=5)
    assert hits == [(0, entry_id, len(days))]


@pytest.fixture
def at_0009(db: Database) -> Iterator[Database]:
    """The database migrated back to the revision before band days, and forward after."""
    with downgraded(db, "0009_merge"):
        yield db


def test_migration_fills_days_as_band_day_computes_them(entry_id: int, at_0009: Database) -> None:
    with at_0009.engine.begin() as conn:
        for key, at in enumerate(TIMES):
            conn.execute(
                text("INSERT INTO lsh_bands (band_key, entry_id, at) VALUES (:k, :e, :at)"),
                {"k": key, "e": entry_id, "at": at},
            )
    upgrade(at_0009)
    with at_0009.engine.connect() as conn:
        rows = conn.execute(text("SELECT band_key, day, at FROM lsh_bands")).all()
    assert {key: (day, at) for key, day, at in rows} == {
        key: (band_day(at), band_micros(at)) for key, at in enumerate(TIMES)
    }


def test_migration_copies_band_rows_without_sorting_them(tmp_path: Path) -> None:
    """In the old index's order: a table of tens of millions of rows must not be
    sorted (in memory, with temp_store=MEMORY)."""
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    cfg = alembic_config(db.url)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0010_band_days")
    migration = importlib.import_module("feedhub.migrations.versions.0011_band_rows_clustered")
    with db.engine.connect() as conn:
        plan = " / ".join(
            str(row[3])
            for row in conn.execute(
                text("EXPLAIN QUERY PLAN " + migration.rows_in_key_order("sqlite"))
            )
        )
    db.dispose()
    assert "COVERING INDEX ix_lsh_bands_day_key" in plan and "TEMP B-TREE" not in plan, plan


def test_downgrade_turns_band_times_back_into_timestamps(db: Database, entry_id: int) -> None:
    with db.session() as session:
        insert_bands(session, [(key, entry_id, at) for key, at in enumerate(TIMES)])
    with downgraded(db, "0010_band_days"), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT band_key, at FROM lsh_bands")).all()
    stored = {
        key: at if isinstance(at, datetime) else datetime.fromisoformat(at) for key, at in rows
    }
    assert stored == dict(enumerate(TIMES))


@pytest.fixture
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database while the test runs, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _probe_statements(sent: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(sql, params) for sql, params in sent if "row_number()" in sql]


def test_probes_of_different_widths_share_one_statement(
    db: Database, entry_id: int, statements: list[tuple[str, Any]]
) -> None:
    """One window holds rows on three days, another on one: one statement with three
    day columns, the shorter probe row repeating its day, each row counted once."""
    centre = datetime(2026, 11, 20, 12, tzinfo=UTC)
    offsets = [-48, 0, 48]  # hours: three days of the first window
    with db.session() as session:
        insert_bands(
            session,
            [(300 + n, entry_id, centre + timedelta(hours=h)) for n, h in enumerate(offsets)],
        )
    wide = (centre - timedelta(hours=72), centre + timedelta(hours=72))
    narrow = (centre - timedelta(hours=1), centre + timedelta(hours=1))
    statements.clear()
    with db.session() as session:
        hits = band_hits(
            session,
            [(0, 300 + n, *wide) for n in range(len(offsets))] + [(1, 301, *narrow)],
            best=5,
        )
    assert sorted(hits) == [(0, entry_id, 3), (1, entry_id, 1)]
    ((sql, _params),) = _probe_statements(statements)
    assert "d2" in sql and "d3" not in sql


def test_a_window_without_band_rows_sends_no_probe(
    db: Database, entry_id: int, statements: list[tuple[str, Any]]
) -> None:
    centre = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(9, entry_id, centre)])
    later = (centre + timedelta(days=30), centre + timedelta(days=36))
    statements.clear()
    with db.session() as session:
        assert band_hits(session, [(0, 9, *later)], best=5) == []
    assert _probe_statements(statements) == []


def test_only_days_that_hold_band_rows_are_probed(db: Database, entry_id: int) -> None:
    centre = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(9, entry_id, centre)])
    day = band_day(centre)
    with db.session() as session:
        found = _days_with_rows(session, session_is_sqlite(session), {day - 1, day, day + 1})
    assert found == {day}
