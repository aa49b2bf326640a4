"""Write one parsed feed into the database, inside the caller's transaction.

Re-polls update entries in place, entries whose identity was pruned stay
pruned (tombstones), and each new or changed entry is handed to the stories
service, which clusters, classifies and indexes it in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from feedhub.ingest import identify
from feedhub.ingest.records import EntryData, FeedData
from feedhub.models import Entry, Fetch, Source, Star, Tombstone
from feedhub.stories.service import attach_entry, detach_entries

# an entry dated this far in the future is taken as first seen now
MAX_FUTURE = timedelta(days=2)
CHUNK = 500


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    skipped_old: int = 0
    tombstoned: int = 0


def _apply(entry: Entry, data: EntryData, ident: str) -> None:
    entry.identity = ident
    entry.guid = data.guid
    entry.url = data.url
    entry.canonical_url = data.canonical_url
    entry.title = data.title
    entry.author = data.author
    entry.summary = data.summary
    entry.content = data.content
    entry.lead = data.lead
    entry.published_at = data.published_at
    entry.updated_at = data.updated_at
    entry.feed_categories = list(data.feed_categories)
    entry.enclosures = list(data.enclosures)
    entry.content_hash = data.content_hash


def _switch_to_url_identity(session: Session, source: Source) -> None:
    """Re-key a source's stored entries from guid to URL identity."""
    source.unstable_guids = True
    rows = session.execute(
        select(Entry.id, Entry.canonical_url).where(
            Entry.source_id == source.id, Entry.identity.like("guid:%")
        )
    ).all()
    taken: set[str] = set()
    for entry_id, canonical in rows:
        if not canonical:
            continue
        key = "url:" + canonical
        if key in taken:
            continue
        taken.add(key)
        session.execute(update(Entry).where(Entry.id == entry_id).values(identity=key))


def store_feed(
    session: Session,
    source: Source,
    feed: FeedData,
    now: datetime,
    *,
    retention_days: int = 180,
) -> StoreResult:
    result = StoreResult()
    if feed.title and not source.title:
        source.title = feed.title[:500]
    if feed.site_url and not source.site_url:
        source.site_url = feed.site_url[:2048]
    entries = feed.entries
    if not entries:
        return result

    use_guid = not source.unstable_guids
    wanted = {identify.identity(e, use_guid=use_guid) for e in entries}
    if use_guid:
        wanted |= {k for e in entries if (k := identify.url_key(e))}
    existing = _load(session, source.id, wanted)
    if use_guid and _guids_look_unstable(session, source.id, entries, existing):
        _switch_to_url_identity(session, source)
        session.flush()
        use_guid = False
        existing = _load(session, source.id, {identify.identity(e, use_guid=False) for e in entries})
    tombstones = _tombstones(session, source.id, wanted)
    cutoff = now - timedelta(days=retention_days)

    seen: set[str] = set()
    for data in entries:
        ident = identify.identity(data, use_guid=use_guid)
        if ident in seen:
            continue
        seen.add(ident)
        if ident in tombstones:
            result.tombstoned += 1
            continue
        entry = existing.get(ident)
        if entry is None and use_guid:
            # a feed that started sending guids: find the entry stored under its URL
            url_ident = identify.url_key(data)
            entry = existing.get(url_ident) if url_ident else None
        if entry is not None:
            if entry.content_hash != data.content_hash:
                _apply(entry, data, entry.identity)
                session.flush()
                attach_entry(session, entry, data, is_new=False)
                result.updated += 1
            continue
        date = data.published_at or data.updated_at
        if date is not None and date < cutoff:
            result.skipped_old += 1
            continue
        if date is not None and date > now + MAX_FUTURE:
            data.published_at = None
        entry = Entry(source_id=source.id, first_seen_at=now)
        _apply(entry, data, ident)
        entry.source = source
        session.add(entry)
        session.flush()
        existing[ident] = entry
        attach_entry(session, entry, data, is_new=True)
        result.new += 1
    return result


def _guids_look_unstable(
    session: Session, source_id: int, entries: list[EntryData], existing: dict[str, Entry]
) -> bool:
    """Only when enough guids are new is it worth looking up their URLs."""
    unknown = [e for e in entries if (k := identify.guid_key(e)) and k not in existing]
    if len(unknown) < identify.MIN_EVIDENCE:
        return False
    urls = sorted({e.canonical_url for e in unknown if e.canonical_url})[:CHUNK]
    known_urls = {
        url: True
        for url in session.scalars(
            select(Entry.canonical_url).where(
                Entry.source_id == source_id, Entry.canonical_url.in_(urls)
            )
        )
    }
    return identify.guids_look_unstable(entries, existing, known_urls)


def _load(session: Session, source_id: int, identities: set[str]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    keys = sorted(identities)
    for i in range(0, len(keys), CHUNK):
        rows = session.scalars(
            select(Entry).where(Entry.source_id == source_id, Entry.identity.in_(keys[i : i + CHUNK]))
        )
        for entry in rows:
            found[entry.identity] = entry
    return found


def _tombstones(session: Session, source_id: int, identities: set[str]) -> set[str]:
    found: set[str] = set()
    keys = sorted(identities)
    for i in range(0, len(keys), CHUNK):
        found.update(
            session.scalars(
                select(Tombstone.identity).where(
                    Tombstone.source_id == source_id, Tombstone.identity.in_(keys[i : i + CHUNK])
                )
            )
        )
    return found


def prune(session: Session, now: datetime, retention_days: int, limit: int = 2000) -> int:
    """Delete entries older than the retention age, keeping starred stories.

    The entry's identity stays behind as a tombstone so the next poll does not
    bring it back. Fetch log rows older than the retention age go too.
    """
    cutoff = now - timedelta(days=retention_days)
    starred = select(Star.story_id)
    rows = session.execute(
        select(Entry.id, Entry.source_id, Entry.identity)
        .where(Entry.first_seen_at < cutoff)
        .where((Entry.story_id.is_(None)) | (Entry.story_id.not_in(starred)))
        .limit(limit)
    ).all()
    if not rows:
        session.execute(delete(Fetch).where(Fetch.started_at < cutoff))
        return 0
    ids = [r.id for r in rows]
    for r in rows:
        session.add(Tombstone(source_id=r.source_id, identity=r.identity, pruned_at=now))
    detach_entries(session, ids)
    session.execute(delete(Entry).where(Entry.id.in_(ids)))
    session.execute(delete(Fetch).where(Fetch.started_at < cutoff))
    return len(ids)
