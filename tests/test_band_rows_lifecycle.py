"""Band rows leave with their entries, though no foreign key ties them (migration 0016)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from feedhub.db import Database
from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.store import prune, store_feed
from feedhub.models import Entry, LshBand, Source
from feedhub.stories.bulk import band_day, insert_bands
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.service import ChangedEntry, attach_batch, delete_entries, detach_entries
from feedhub.web.admin_source_ops import delete_source

from .schema import downgraded

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
LEAD = "Neuwied. Die Stadt saniert die Brücke über den Wiedbach ab dem kommenden Juni"


def item(n: int, published: datetime | None, lead: str = LEAD) -> EntryData:
    return EntryData(
        guid=f"g{n}",
        url=f"https://example.org/{n}",
        canonical_url=f"example.org/{n}",
        title=f"Brücke über den Wiedbach wird saniert ({n})",
        author="",
        summary=lead,
        content="",
        lead=lead,
        published_at=published,
        updated_at=None,
        content_hash=hashlib.sha256(f"{n}{lead}".encode()).hexdigest(),
    )


# published long before it was seen, just now, and (cleared) far in the future:
# the rows of each lie on another day
ITEMS = [item(1, NOW - timedelta(days=40)), item(2, NOW), item(3, NOW + timedelta(days=30))]


def _store(db: Database, url: str, items: list[EntryData], now: datetime = NOW) -> int:
    with db.session() as s:
        ensure_default_categories(s, "Weitere Artikel")
        source = s.scalars(select(Source).where(Source.url == url)).one_or_none()
        if source is None:
            source = Source(url=url, title=url)
            s.add(source)
            s.flush()
        store_feed(s, source, FeedData(entries=items), now)
        return source.id


def _band_owners(db: Database) -> dict[int, int]:
    """Entry id -> number of band rows."""
    with db.session() as s:
        rows = s.execute(select(LshBand.entry_id)).scalars().all()
    owners: dict[int, int] = {}
    for entry_id in rows:
        owners[entry_id] = owners.get(entry_id, 0) + 1
    return owners


def _entry_ids(db: Database, source_id: int) -> set[int]:
    with db.session() as s:
        return set(s.scalars(select(Entry.id).where(Entry.source_id == source_id)))


def test_a_deleted_sources_band_rows_go_with_its_entries(db: Database) -> None:
    gone = _store(db, "https://kurier.example/feed", ITEMS)
    kept = _store(db, "https://blatt.example/feed", [item(4, NOW)])
    assert set(_band_owners(db)) == _entry_ids(db, gone) | _entry_ids(db, kept)
    with db.session() as s:
        source = s.get(Source, gone)
        assert source is not None
        delete_source(s, source)
    assert set(_band_owners(db)) == _entry_ids(db, kept) != set()


def test_pruned_entries_leave_no_band_rows(db: Database) -> None:
    old = _store(db, "https://kurier.example/feed", ITEMS, now=NOW - timedelta(days=200))
    kept = _store(db, "https://blatt.example/feed", [item(4, NOW)])
    with db.session() as s:
        assert prune(s, NOW, retention_days=180) == len(_entry_ids(db, old)) == 3
    assert set(_band_owners(db)) == _entry_ids(db, kept) != set()


def test_a_changed_entry_keeps_only_its_new_band_rows(db: Database) -> None:
    source = _store(db, "https://kurier.example/feed", [item(1, NOW)])
    (entry_id,) = _entry_ids(db, source)
    before = _band_owners(db)[entry_id]
    other = "Koblenz. Ein ganz anderer Text über den neuen Stadtrat und Haushalt"
    changed = item(1, NOW, lead=other)
    _store(db, "https://kurier.example/feed", [changed], now=NOW + timedelta(hours=1))
    with db.session() as s:
        keys = set(s.scalars(select(LshBand.band_key).where(LshBand.entry_id == entry_id)))
        assert s.get(Entry, entry_id).lead == changed.lead  # type: ignore[union-attr]
    assert len(keys) == _band_owners(db)[entry_id] == before  # none of the old ones left


def test_the_upgrade_keeps_band_rows_and_the_downgrade_drops_orphans(db: Database) -> None:
    source = _store(db, "https://kurier.example/feed", ITEMS)
    rows = _band_owners(db)
    with downgraded(db, "0014_story_representative_fk"):  # back under the foreign key
        assert _band_owners(db) == rows
    assert _band_owners(db) == rows
    with db.engine.begin() as conn:  # a row that points nowhere, which 0016 allows
        conn.execute(
            text("INSERT INTO lsh_bands (day, band_key, at, entry_id) VALUES (1, 1, 1, 99999)")
        )
    with downgraded(db, "0014_story_representative_fk"):
        assert _band_owners(db) == rows  # the orphan could not stay under the key
    assert _entry_ids(db, source) == set(rows)


def test_a_redated_entry_leaves_no_rows_on_its_old_day(db: Database) -> None:
    source = _store(db, "https://kurier.example/feed", [item(1, NOW - timedelta(days=5))])
    (entry_id,) = _entry_ids(db, source)
    before = _band_owners(db)[entry_id]
    redated = item(1, NOW, lead=LEAD + " (aktualisiert)")
    _store(db, "https://kurier.example/feed", [redated], now=NOW + timedelta(hours=1))
    with db.session() as s:
        days = set(s.scalars(select(LshBand.day).where(LshBand.entry_id == entry_id)))
    assert days == {band_day(NOW)}
    assert _band_owners(db)[entry_id] == before


def test_rows_of_entries_stored_without_their_keys_are_found_by_day(db: Database) -> None:
    """Entries stored before migration 0016 have no band keys on their row."""
    gone = _store(db, "https://kurier.example/feed", ITEMS)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE entries SET band_keys = NULL"))
    with db.session() as s:
        source = s.get(Source, gone)
        assert source is not None
        delete_source(s, source)
    assert _band_owners(db) == {}


def test_entries_stored_after_the_ids_were_read_leave_no_band_rows(db: Database) -> None:
    """A poll may store entries of a source while an admin deletes it."""
    gone = _store(db, "https://kurier.example/feed", [item(1, NOW)])
    with db.session() as s:
        seen = list(s.scalars(select(Entry.id).where(Entry.source_id == gone)))
    _store(db, "https://kurier.example/feed", [item(2, NOW)])  # the poll, meanwhile
    with db.session() as s:
        detach_entries(s, seen)
        assert delete_entries(s, Entry.source_id == gone) == 2
    assert _band_owners(db) == {}


def test_a_changed_entry_deleted_meanwhile_gets_no_band_rows(db: Database) -> None:
    source_id = _store(db, "https://kurier.example/feed", [item(1, NOW)])
    (entry_id,) = _entry_ids(db, source_id)
    with db.session() as s:
        delete_entries(s, Entry.id == entry_id)
    with db.session() as s:
        source = s.get(Source, source_id)
        assert source is not None
        data = item(1, NOW, lead="Koblenz. Ein anderer Text")
        changed = ChangedEntry(entry_id, None, NOW, {"lead": data.lead}, data)
        attach_batch(s, source, NOW + timedelta(hours=1), [], [changed])
    assert _band_owners(db) == {}


def test_retention_clears_band_rows_no_probe_reaches(db: Database) -> None:
    """Rows an entry could not take along go once their days are past retention."""
    with db.session() as s:
        source = Source(url="https://kurier.example/feed", title="Kurier")
        s.add(source)
        s.flush()
        entry = Entry(source_id=source.id, identity="guid:x", title="x")
        s.add(entry)
        s.flush()
        cutoff = NOW - timedelta(days=180)
        insert_bands(
            s,
            [
                (1, entry.id, cutoff - timedelta(days=4)),  # before every window
                (2, entry.id, cutoff - timedelta(days=2)),  # a window may still reach it
            ],
        )
    with db.session() as s:
        prune(s, NOW, retention_days=180)
        keys = set(s.scalars(select(LshBand.band_key)))
    assert keys == {2}
