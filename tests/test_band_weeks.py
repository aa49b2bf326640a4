"""LSH band rows carry the week of their time; the migration fills it like the code does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from feedhub.db import Database, alembic_config, upgrade
from feedhub.models import Entry, LshBand, Source
from feedhub.stories.bulk import band_hits, band_week, insert_bands

TIMES = [
    datetime(1969, 12, 31, 23, 0),  # before the epoch: week 0
    datetime(1970, 1, 7, 23, 59, 59),
    datetime(1970, 1, 8, 0, 0),
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


def test_band_week_counts_whole_weeks_from_the_epoch() -> None:
    assert band_week(datetime(1970, 1, 7, 23, 59, 59, tzinfo=UTC)) == 0
    assert band_week(datetime(1970, 1, 8, tzinfo=UTC)) == 1
    assert band_week(datetime(1960, 1, 1, tzinfo=UTC)) == 0
    # naive times are UTC, as the database stores them
    assert band_week(datetime(2026, 11, 27)) == band_week(datetime(2026, 11, 27, tzinfo=UTC))


def test_insert_bands_stores_the_week(db: Database, entry_id: int) -> None:
    at = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with db.session() as session:
        insert_bands(session, [(11, entry_id, at), (12, entry_id, at)])
    with db.session() as session:
        weeks = set(session.scalars(select(LshBand.week)))
    assert weeks == {band_week(at)}


def test_probe_window_across_a_week_boundary_finds_both_weeks(db: Database, entry_id: int) -> None:
    # Thursday 00:00 UTC starts an epoch week; rows on either side of it
    boundary = datetime(2026, 11, 26, tzinfo=UTC)
    assert band_week(boundary) == band_week(boundary - timedelta(seconds=1)) + 1
    with db.session() as session:
        insert_bands(session, [(7, entry_id, boundary - timedelta(hours=30))])
        insert_bands(session, [(8, entry_id, boundary + timedelta(hours=30))])
    window = (boundary - timedelta(hours=72), boundary + timedelta(hours=72))
    with db.session() as session:
        hits = band_hits(session, [(0, 7, *window), (0, 8, *window)], best=5)
        outside = band_hits(session, [(0, 7, boundary, boundary + timedelta(hours=72))], best=5)
    assert hits == [(0, entry_id, 2)]
    assert outside == []


def test_a_window_of_several_weeks_probes_every_week(db: Database, entry_id: int) -> None:
    start = datetime(2026, 11, 5, 12, tzinfo=UTC)
    days = [0, 8, 15, 22]  # four consecutive epoch weeks
    assert len({band_week(start + timedelta(days=d)) for d in days}) == 4
    with db.session() as session:
        insert_bands(session, [(30 + d, entry_id, start + timedelta(days=d)) for d in days])
    window = (start - timedelta(hours=1), start + timedelta(days=23))
    with db.session() as session:
        hits = band_hits(session, [(0, 30 + d, *window) for d in days], best=5)
    assert hits == [(0, entry_id, 4)]


@pytest.fixture
def at_0009(db: Database) -> Iterator[Database]:
    """The database migrated back to the revision before band weeks, and forward after."""
    cfg = alembic_config(db.url)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0009_merge")
    try:
        yield db
    finally:
        upgrade(db)


def test_migration_fills_weeks_as_band_week_computes_them(at_0009: Database, entry_id: int) -> None:
    with at_0009.engine.begin() as conn:
        for key, at in enumerate(TIMES):
            conn.execute(
                text("INSERT INTO lsh_bands (band_key, entry_id, at) VALUES (:k, :e, :at)"),
                {"k": key, "e": entry_id, "at": at},
            )
    upgrade(at_0009)
    with at_0009.engine.connect() as conn:
        weeks = dict(conn.execute(text("SELECT band_key, week FROM lsh_bands")).all())
    assert weeks == {key: band_week(at) for key, at in enumerate(TIMES)}
