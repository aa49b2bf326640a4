"""Write one parsed feed into the database, inside the caller's transaction.

Re-polls update entries in place, entries whose identity was pruned stay
pruned (tombstones), and the poll's new and changed entries go to the stories
service as one batch, which writes them and clusters, classifies and indexes
them in the same transaction.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from feedhub import sqlite_exec
from feedhub.ingest import identify
from feedhub.ingest.records import EntryData, FeedData
from feedhub.models import Entry, Fetch, Source, Star, Tombstone, stored_content
from feedhub.stories.bulk import delete_bands_before
from feedhub.stories.cluster import WINDOW
from feedhub.stories.service import (
    ChangedEntry,
    NewEntry,
    attach_batch,
    delete_entries,
    detach_entries,
)

# an entry dated this far in the future is taken as first seen now
MAX_FUTURE = timedelta(days=2)
CHUNK = 500
_LOAD = select(
    Entry.id, Entry.identity, Entry.content_hash, Entry.story_id, Entry.first_seen_at
).where(
    Entry.source_id == bindparam("source"), Entry.identity.in_(bindparam("keys", expanding=True))
)
_TOMBSTONES = select(Tombstone.identity).where(
    Tombstone.source_id == bindparam("source"),
    Tombstone.identity.in_(bindparam("keys", expanding=True)),
)
_KNOWN_URLS = select(Entry.canonical_url).where(
    Entry.source_id == bindparam("source"),
    Entry.canonical_url.in_(bindparam("urls", expanding=True)),
)


SOURCES = cast(Table, Source.__table__)


@functools.lru_cache(maxsize=64)
def source_update(names: tuple[str, ...]) -> Update:
    """An UPDATE of the source ``b_id`` setting columns *names* from ``v_<name>``,
    built once per column set: a poll writes its source without the ORM's flush."""
    return (
        update(SOURCES)
        .where(SOURCES.c.id == bindparam("b_id"))
        .values({name: bindparam("v_" + name) for name in names})
    )


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    skipped_old: int = 0
    tombstoned: int = 0


@dataclass(frozen=True)
class _Stored:
    """The parts of a stored entry that storing a re-poll looks at."""

    id: int
    identity: str
    content_hash: str
    story_id: int | None
    first_seen_at: datetime


def _columns(data: EntryData) -> dict[str, Any]:
    """Entry columns that come straight from the parsed item."""
    return {
        "guid": data.guid,
        "url": data.url,
        "canonical_url": data.canonical_url,
        "title": data.title,
        "author": data.author,
        "summary": data.summary,
        "content": stored_content(data.summary, data.content),
        "lead": data.lead,
        "published_at": data.published_at,
        "updated_at": data.updated_at,
        "feed_categories": list(data.feed_categories),
        "enclosures": list(data.enclosures),
        "content_hash": data.content_hash,
    }


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
    """Insert new entries, update changed ones, and hand both to the stories stage.

    A fixed number of statements per poll: one query for the stored identities,
    one for tombstones, then the stories stage's batch (``attach_batch``).
    """
    result = StoreResult()
    _adopt_feed_details(session, source, feed)
    entries = feed.entries
    if not entries:
        return result

    use_guid = not source.unstable_guids
    wanted = {identify.identity(e, use_guid=use_guid) for e in entries}
    if use_guid:
        wanted |= {k for e in entries if (k := identify.url_key(e))}
    existing: dict[str, _Stored | NewEntry] = dict(_load(session, source.id, wanted))
    if use_guid and _guids_look_unstable(session, source.id, entries, existing):
        _switch_to_url_identity(session, source)
        session.flush()
        use_guid = False
        existing = dict(
            _load(session, source.id, {identify.identity(e, use_guid=False) for e in entries})
        )
    tombstones = _tombstones(session, source.id, wanted)
    cutoff = now - timedelta(days=retention_days)

    seen: set[str] = set()
    new: list[NewEntry] = []
    changed: dict[int, ChangedEntry] = {}
    for data in entries:
        ident = identify.identity(data, use_guid=use_guid)
        if ident in seen:
            continue
        seen.add(ident)
        if ident in tombstones:
            result.tombstoned += 1
            continue
        stored = existing.get(ident)
        if stored is None and use_guid:
            # a feed that started sending guids: find the entry stored under its URL
            url_ident = identify.url_key(data)
            stored = existing.get(url_ident) if url_ident else None
        if isinstance(stored, NewEntry):
            # an earlier item of this poll under the same key: the later one wins
            if stored.data.content_hash != data.content_hash:
                stored.row.update(_columns(data))
                stored.data = data
                result.updated += 1
            continue
        if stored is not None:
            if stored.content_hash != data.content_hash:
                changed[stored.id] = ChangedEntry(
                    stored.id, stored.story_id, stored.first_seen_at, _columns(data), data
                )
                result.updated += 1
            continue
        date = data.published_at or data.updated_at
        if date is not None and date < cutoff:
            result.skipped_old += 1
            continue
        if date is not None and date > now + MAX_FUTURE:
            # a copy: a poll stored again (see store_group) must see the item as parsed
            data = dataclasses.replace(data, published_at=None)
        item = NewEntry(
            {"source_id": source.id, "identity": ident, "first_seen_at": now, **_columns(data)},
            data,
        )
        new.append(item)
        existing[ident] = item
        result.new += 1
    attach_batch(session, source, now, new, list(changed.values()))
    return result


def _adopt_feed_details(session: Session, source: Source, feed: FeedData) -> None:
    """Give a source without a title or site URL the feed's own.

    Written by an UPDATE of its own and set on the object as loaded state, not
    as a pending change: the next statement would flush that through the ORM's
    unit of work, about half a millisecond for each source's first poll.
    """
    values: dict[str, str] = {}
    if feed.title and not source.title:
        values["title"] = feed.title[:500]
    if feed.site_url and not source.site_url:
        values["site_url"] = feed.site_url[:2048]
    if not values:
        return
    sqlite_exec.execute(
        session,
        source_update(tuple(values)),
        {"b_id": source.id, **{"v_" + name: value for name, value in values.items()}},
    )
    for name, value in values.items():
        set_committed_value(source, name, value)


def _guids_look_unstable(
    session: Session,
    source_id: int,
    entries: list[EntryData],
    existing: Mapping[str, object],
) -> bool:
    """Only when enough guids are new is it worth looking up their URLs."""
    unknown = [e for e in entries if (k := identify.guid_key(e)) and k not in existing]
    if len(unknown) < identify.MIN_EVIDENCE:
        return False
    urls = sorted({e.canonical_url for e in unknown if e.canonical_url})[:CHUNK]
    known_urls = dict.fromkeys(
        sqlite_exec.scalars(session, _KNOWN_URLS, {"source": source_id, "urls": urls}), True
    )
    return identify.guids_look_unstable(entries, existing, known_urls)


def _load(session: Session, source_id: int, identities: set[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    keys = sorted(identities)
    for i in range(0, len(keys), CHUNK):
        params = {"source": source_id, "keys": keys[i : i + CHUNK]}
        for row in sqlite_exec.rows(session, _LOAD, params):
            stored = _Stored(*row)
            found[stored.identity] = stored
    return found


def _tombstones(session: Session, source_id: int, identities: set[str]) -> set[str]:
    found: set[str] = set()
    keys = sorted(identities)
    for i in range(0, len(keys), CHUNK):
        params = {"source": source_id, "keys": keys[i : i + CHUNK]}
        found.update(sqlite_exec.scalars(session, _TOMBSTONES, params))
    return found


def prune(session: Session, now: datetime, retention_days: int, limit: int = 2000) -> int:
    """Delete entries older than the retention age, keeping starred stories.

    The entry's identity stays behind as a tombstone so the next poll does not
    bring it back. Fetch log rows older than the retention age go too.
    """
    cutoff = now - timedelta(days=retention_days)
    # an entry older than the cutoff is not stored, so no probe window starts
    # before cutoff - WINDOW
    delete_bands_before(session, cutoff - WINDOW)
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
    delete_entries(session, Entry.id.in_(ids))
    session.execute(delete(Fetch).where(Fetch.started_at < cutoff))
    return len(ids)
