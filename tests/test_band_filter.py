"""The SQLite poller's bitmap of stored band keys: fewer probes, never a missed row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from feedhub.config import Settings
from feedhub.db import Database, session_is_sqlite
from feedhub.ingest.poller import Poller
from feedhub.ingest.sources import add_source
from feedhub.models import Entry, Source
from feedhub.stories import band_filter as band_filter_module
from feedhub.stories.band_filter import BITS, LOOKBACK_DAYS, BandFilter
from feedhub.stories.bulk import BAND_FILTER, band_day, band_hits, insert_bands

from .feedserver import FeedServer, rss

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def build_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests here exercise the bitmap from the first probe on (see the deferral test)."""
    monkeypatch.setattr(band_filter_module, "BUILD_AFTER", 0)


def test_a_built_bitmap_holds_its_keys_and_covers_its_days() -> None:
    band_filter = BandFilter()
    assert not band_filter.covers(10**6)  # not built yet: covers nothing
    band_filter.rebuild(100, token=7, keys=[5, BITS + 9])
    assert band_filter.may_hold(5) and band_filter.may_hold(9)  # low bits of the key
    assert not band_filter.may_hold(6)
    assert band_filter.covers(100) and not band_filter.covers(99)
    band_filter.rebuild(100, token=8, keys=[6])
    assert not band_filter.may_hold(5) and band_filter.may_hold(6)


def test_a_bitmap_is_built_again_when_behind_full_or_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(band_filter_module, "MAX_KEYS", 5)
    today = 20_000
    band_filter = BandFilter()
    band_filter.rebuild(today - LOOKBACK_DAYS, token=7, keys=range(10))
    # the build's own keys do not count: built again at once, it would loop
    assert not band_filter.needs_build(7, today)
    assert band_filter.needs_build(8, today)
    assert band_filter.needs_build(7, today + 2 * LOOKBACK_DAYS)
    band_filter.add(range(10, 16))
    assert band_filter.needs_build(7, today)


def test_a_build_that_fails_half_way_leaves_no_usable_bitmap() -> None:
    band_filter = BandFilter()
    band_filter.rebuild(100, token=7, keys=[1])

    def failing() -> Iterator[int]:
        yield 2
        raise OSError("disk I/O error")

    with pytest.raises(OSError):
        band_filter.rebuild(100, token=7, keys=failing())
    assert band_filter.token is None and not band_filter.covers(100)


@pytest.fixture
def entry_ids(db: Database) -> list[int]:
    with db.session() as session:
        source = Source(url="https://example.de/feed", title="Beispiel")
        entries = [Entry(source=source, identity=f"guid:{n}", title=str(n)) for n in range(3)]
        session.add_all(entries)
        session.flush()
        return [e.id for e in entries]


@pytest.fixture
def probe_payloads(db: Database) -> Iterator[list[list[Any]]]:
    """The probe rows of every probe statement sent (SQLite sends them as JSON)."""
    sent: list[list[Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "row_number()" in statement:
            sent.append(json.loads(parameters[0]) if isinstance(parameters, tuple) else [])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _window(at: datetime) -> tuple[datetime, datetime]:
    return at - timedelta(hours=72), at + timedelta(hours=72)


def _hits(db: Database, probes: list[Any], band_filter: BandFilter | None) -> list[Any]:
    with db.session() as session:
        if band_filter is not None:
            session.info[BAND_FILTER] = band_filter
        return sorted(band_hits(session, probes, best=5))


def test_hits_are_the_same_with_and_without_the_bitmap(db: Database, entry_ids: list[int]) -> None:
    old = NOW - timedelta(days=40)  # before the days the bitmap covers
    rows = [
        (101, entry_ids[0], NOW),
        (102, entry_ids[0], NOW),
        (102, entry_ids[1], NOW - timedelta(hours=30)),
        (103, entry_ids[2], old),
    ]
    with db.session() as session:
        insert_bands(session, rows)
    probes = [
        (0, key, *_window(when))
        for key in (101, 102, 103, 104, 105)
        for when in (NOW, NOW + timedelta(hours=10), old)
    ]
    probes = [(i, *p[1:]) for i, p in enumerate(probes)]
    expected = _hits(db, probes, None)
    # 101 now and soon after, 102 (two entries) now and soon after, 103 in the old window
    assert len(expected) == 7
    assert _hits(db, probes, BandFilter()) == expected


def test_keys_without_stored_rows_are_not_probed(
    db: Database, entry_ids: list[int], probe_payloads: list[list[Any]]
) -> None:
    with db.session() as session:
        insert_bands(session, [(201, entry_ids[0], NOW)])
        sqlite = session_is_sqlite(session)
    band_filter = BandFilter()
    probes = [(0, key, *_window(NOW)) for key in (201, 202, 203)]
    assert _hits(db, probes, band_filter) == [(0, entry_ids[0], 1)]
    sent_keys = [row[1] for payload in probe_payloads for row in payload]
    if sqlite:
        assert sent_keys == [201]
        probe_payloads.clear()
        assert _hits(db, [(0, 202, *_window(NOW))], band_filter) == []
        assert probe_payloads == []  # nothing could hit: no statement at all
    else:  # several pollers: PostgreSQL probes every key
        assert band_filter.token is None and len(probe_payloads) == 1


def test_a_bitmap_is_built_only_once_enough_probes_went_out_without_one(
    db: Database,
    entry_ids: list[int],
    monkeypatch: pytest.MonkeyPatch,
    probe_payloads: list[list[Any]],
) -> None:
    monkeypatch.setattr(band_filter_module, "BUILD_AFTER", 5)
    band_filter = BandFilter()
    with db.session() as session:
        insert_bands(session, [(601, entry_ids[0], NOW)])
        sqlite = session_is_sqlite(session)
    probes = [(0, key, *_window(NOW)) for key in (601, 602, 603)]
    assert _hits(db, probes, band_filter) == [(0, entry_ids[0], 1)]
    assert band_filter.token is None  # three probes: not worth a bitmap yet
    assert _hits(db, probes, band_filter) == [(0, entry_ids[0], 1)]
    sent = [len(payload) for payload in probe_payloads]
    if sqlite:  # the second three make six: built, and two probes dropped
        assert band_filter.token is not None
        assert sent == [3, 1]
    else:
        assert band_filter.token is None and sent == [0, 0]


def test_a_row_on_the_first_day_of_the_bitmap_is_in_it(db: Database, entry_ids: list[int]) -> None:
    """The build reads the days it covers, its first one included."""
    first_day = band_day(NOW) - LOOKBACK_DAYS
    at = datetime.fromtimestamp(first_day * 86400 + 60, UTC)
    assert band_day(at) == first_day
    with db.session() as session:
        insert_bands(session, [(801, entry_ids[0], at)])
    band_filter = BandFilter()
    probe = [(0, 801, at - timedelta(seconds=30), at + timedelta(hours=72))]
    assert _hits(db, probe, band_filter) == [(0, entry_ids[0], 1)]
    if db.dialect == "sqlite":
        assert band_filter.covers(first_day) and band_filter.may_hold(801)


def test_rows_another_writer_inserts_are_found(db: Database, entry_ids: list[int]) -> None:
    """A web process's "poll now" writes band rows the poller's bitmap has never seen."""
    band_filter = BandFilter()
    probe = [(0, 301, *_window(NOW))]
    assert _hits(db, probe, band_filter) == []
    with db.session() as session:  # another writer: no bitmap of its own
        insert_bands(session, [(301, entry_ids[1], NOW)])
    assert _hits(db, probe, band_filter) == [(0, entry_ids[1], 1)]


def test_one_session_sees_another_writers_rows_in_its_next_transaction(
    db: Database, entry_ids: list[int]
) -> None:
    """The token a transaction has seen is not taken for the next one's."""
    band_filter = BandFilter()
    probe = [(0, 311, *_window(NOW))]
    with db.sessionmaker() as poller:
        poller.info[BAND_FILTER] = band_filter
        with poller.begin():
            insert_bands(poller, [(310, entry_ids[0], NOW)])
            assert band_hits(poller, probe, best=5) == []
        with db.session() as other:
            insert_bands(other, [(311, entry_ids[1], NOW)])
        with poller.begin():
            assert band_hits(poller, probe, best=5) == [(0, entry_ids[1], 1)]


def test_a_rolled_back_savepoint_never_hides_a_row(db: Database, entry_ids: list[int]) -> None:
    """Its token stays remembered: the bitmap holds a key too many, not one too few."""
    band_filter = BandFilter()
    with db.session() as session:
        session.info[BAND_FILTER] = band_filter
        band_hits(session, [(0, 321, *_window(NOW))], best=5)
        with pytest.raises(RuntimeError), session.begin_nested():
            insert_bands(session, [(321, entry_ids[0], NOW)])
            raise RuntimeError("the poll failed")
        insert_bands(session, [(322, entry_ids[1], NOW)])
        probes = [(0, 321, *_window(NOW)), (1, 322, *_window(NOW))]
        assert band_hits(session, probes, best=5) == [(1, entry_ids[1], 1)]
    assert _hits(db, probes, band_filter) == [(1, entry_ids[1], 1)]


def test_another_bitmap_finds_every_insert_of_one_transaction(
    db: Database, entry_ids: list[int]
) -> None:
    """One new token per transaction tells other pollers of all its rows."""
    elsewhere = BandFilter()
    probes = [(0, 331, *_window(NOW)), (1, 332, *_window(NOW))]
    assert _hits(db, probes, elsewhere) == []
    with db.session() as session:
        session.info[BAND_FILTER] = BandFilter()
        insert_bands(session, [(331, entry_ids[0], NOW)])
        insert_bands(session, [(332, entry_ids[1], NOW)])
    assert _hits(db, probes, elsewhere) == [(0, entry_ids[0], 1), (1, entry_ids[1], 1)]


def test_a_token_a_savepoint_took_back_is_written_again(db: Database, entry_ids: list[int]) -> None:
    elsewhere = BandFilter()
    probe = [(0, 342, *_window(NOW))]
    assert _hits(db, probe, elsewhere) == []
    with db.session() as session:
        session.info[BAND_FILTER] = BandFilter()
        with pytest.raises(RuntimeError), session.begin_nested():
            insert_bands(session, [(341, entry_ids[0], NOW)])
            raise RuntimeError("the poll failed")
        insert_bands(session, [(342, entry_ids[1], NOW)])
    assert _hits(db, probe, elsewhere) == [(0, entry_ids[1], 1)]


def test_the_pollers_own_rows_go_into_its_bitmap(db: Database, entry_ids: list[int]) -> None:
    band_filter = BandFilter()
    with db.session() as session:
        session.info[BAND_FILTER] = band_filter
        assert band_hits(session, [(0, 401, *_window(NOW))], best=5) == []
        insert_bands(session, [(401, entry_ids[0], NOW)])
        sqlite = session_is_sqlite(session)
    assert band_filter.may_hold(401) == sqlite
    token = band_filter.token
    assert _hits(db, [(0, 401, *_window(NOW))], band_filter) == [(0, entry_ids[0], 1)]
    if sqlite:  # it did not have to be built again
        assert band_filter.token == token is not None


def test_a_rolled_back_insert_leaves_the_bitmap_to_be_built_again(
    db: Database, entry_ids: list[int]
) -> None:
    band_filter = BandFilter()
    with pytest.raises(RuntimeError), db.session() as session:
        session.info[BAND_FILTER] = band_filter
        band_hits(session, [(0, 501, *_window(NOW))], best=5)
        insert_bands(session, [(501, entry_ids[0], NOW)])
        raise RuntimeError("the poll failed")
    with db.session() as session:
        stored = session.execute(text("SELECT token FROM band_writes WHERE id = 1")).scalar()
        sqlite = session_is_sqlite(session)
    assert band_filter.needs_build(stored or 0, band_day(NOW))
    assert _hits(db, [(0, 501, *_window(NOW))], band_filter) == []
    if sqlite:  # built again from the table, which does not hold the rolled-back key
        assert band_filter.token == stored and not band_filter.may_hold(501)


def test_a_window_that_starts_before_the_bitmaps_days_is_probed(
    db: Database, entry_ids: list[int]
) -> None:
    first_day_of_bitmap = band_day(NOW) - LOOKBACK_DAYS
    day_before = NOW - timedelta(days=LOOKBACK_DAYS + 1)
    assert band_day(day_before) < first_day_of_bitmap
    with db.session() as session:  # stored before the bitmap is built: not in it
        insert_bands(session, [(701, entry_ids[0], day_before)])
    band_filter = BandFilter()
    probe = [(0, 701, day_before - timedelta(hours=1), day_before + timedelta(days=3))]
    assert _hits(db, probe, band_filter) == [(0, entry_ids[0], 1)]


def test_a_story_from_two_sources_merges_through_the_pollers_bitmap(
    db: Database, settings: Settings, feed_server: FeedServer
) -> None:
    story = {
        "title": "Neuwied: Stadtrat beschließt neuen Haushalt für das kommende Jahr",
        "description": "Neuwied. Der Stadtrat hat am Dienstagabend den Haushalt für 2027 "
        "beschlossen, mit Investitionen in Schulen, Straßen und den Hochwasserschutz am Rhein.",
        "pubDate": NOW.strftime("%a, %d %b %Y %H:%M:%S +0000"),
    }
    with db.session() as session:
        for name in ("rz", "nr"):
            item = {**story, "link": f"https://{name}.example/haushalt", "guid": f"{name}-1"}
            add_source(session, settings, feed_server.add(f"/{name}", body=rss([item])))
    poller = Poller(db, settings, workers=1)
    try:
        poller.acquire_lock()
        summary = poller.run_round(all_sources=True)
    finally:
        poller.release_lock()
        poller.close()
    assert summary.new_entries == 2
    with db.session() as session:
        stories = set(session.scalars(select(Entry.story_id)))
    assert len(stories) == 1
    if db.dialect == "sqlite":  # the bitmap was used, and is complete for what is stored
        assert poller.band_filter is not None and poller.band_filter.token is not None
    else:
        assert poller.band_filter is None
