"""Entry points the ingest store calls inside a source poll's transaction.

``attach_batch`` writes one poll's new and changed entries and their stories:
it clusters the new entries (``cluster.assign_batch``), creates the stories they
start, inserts the entries, their LSH bands, merge log rows, places and search
documents, and recomputes the stored stories that gained or changed an entry.
Everything textual was derived in the parse worker (``features.prepare_feed``);
here are lookups and a fixed number of statements per poll, not per entry.
``detach_entries`` takes entries out before retention deletes them. Nothing here
commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from feedhub import sqlite_exec
from feedhub.db import core
from feedhub.ingest.records import EntryData
from feedhub.models import Entry, Source, Story, StoryMerge
from feedhub.sqlite_insert import insert_all
from feedhub.stories.aggregate import (
    Member,
    StoryState,
    compute_story,
    refresh_stories,
    sync_places,
)
from feedhub.stories.bulk import (
    BandRow,
    delete_bands,
    insert_bands,
    insert_returning_ids,
    pack_band_keys,
)
from feedhub.stories.classify import EntryDecision, decide_fields, load_context, sponsored_reason
from feedhub.stories.cluster import Assignment, Pending, assign_batch, band_time
from feedhub.stories.features import ensure_prepared
from feedhub.stories.rules import EntryFields
from feedhub.stories.search import MAX_DOCUMENT_CHARS, index_documents
from feedhub.stories.session_sync import expire_rows
from feedhub.stories.stemming import index_text

_CHUNK = 500
ENTRIES = cast(Table, Entry.__table__)
STORIES = cast(Table, Story.__table__)
MERGES = cast(Table, StoryMerge.__table__)
# a one-entry story's representative is its entry
_SET_REPRESENTATIVE = (
    update(STORIES)
    .where(STORIES.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        representative_entry_id=select(func.min(ENTRIES.c.id))
        .where(ENTRIES.c.story_id == STORIES.c.id)
        .scalar_subquery()
    )
)


@dataclass
class NewEntry:
    """An entry to insert: its column values (as the store sets them) and its parsed data."""

    row: dict[str, Any]
    data: EntryData


@dataclass
class ChangedEntry:
    """A stored entry whose content changed: its new column values and parsed data."""

    entry_id: int
    story_id: int | None
    first_seen_at: datetime
    row: dict[str, Any]
    data: EntryData


@dataclass
class _Prepared:
    data: EntryData
    decision: EntryDecision
    sponsored_reason: str
    fields: EntryFields


def _prepare(source: Source, data: EntryData, context: Any) -> _Prepared:
    ensure_prepared(data)
    fields = EntryFields(
        title=data.title,
        lead=data.lead,
        feed_categories=tuple(str(c) for c in data.feed_categories),
        author=data.author,
        source=source.display_title,
    )
    decision = decide_fields(context, fields)
    return _Prepared(data, decision, sponsored_reason(data.sponsored_marker, decision), fields)


def _story_columns(prepared: _Prepared) -> dict[str, Any]:
    """Columns the stories stage sets on an entry row."""
    return {
        "place": prepared.data.place,
        "sponsored": bool(prepared.sponsored_reason),
        "sponsored_reason": prepared.sponsored_reason,
        "signature": prepared.data.signature,
        "band_keys": pack_band_keys(prepared.data.band_keys),
    }


def _pending(source_id: int, prepared: _Prepared, at: datetime, entry_id: int | None) -> Pending:
    data = prepared.data
    return Pending(
        source_id=source_id,
        canonical_url=data.canonical_url,
        band_keys=data.band_keys,
        band_at=at,
        signature_blob=data.signature,
        title=data.title,
        lead=data.lead,
        place=data.place,
        sponsored=bool(prepared.sponsored_reason),
        entry_id=entry_id,
    )


def attach_batch(
    session: Session,
    source: Source,
    now: datetime,
    new: Sequence[NewEntry],
    changed: Sequence[ChangedEntry] = (),
) -> list[int]:
    """Store one poll's new and changed entries with their stories; returns the new entry ids.

    Changed entries keep their story (an admin's split stays split); only a
    stored entry without a story is clustered again, like a new one.
    """
    if not new and not changed:
        return []
    context = load_context(session)
    touched: set[int] = set()
    batch: list[Pending] = []
    batch_items: list[tuple[_Prepared, NewEntry | ChangedEntry]] = []

    # (locked on PostgreSQL: an entry that retention or an admin deletes meanwhile
    # is left alone, rather than given band rows for an id that is gone)
    stored = _stored_bands(session, [c.entry_id for c in changed])
    present = {entry_id for entry_id, _at, _keys in stored}
    changed = [c for c in changed if c.entry_id in present]
    delete_bands(session, stored)  # before the rows forget their keys
    if changed:
        prepared_changed = [_prepare(source, c.data, context) for c in changed]
        ids = [c.entry_id for c in changed]
        session.connection().execute(
            update(ENTRIES)
            .where(ENTRIES.c.id == bindparam("b_id"))
            .values({name: bindparam("v_" + name) for name in _changed_names(changed[0])}),
            [
                {
                    "b_id": c.entry_id,
                    **{"v_" + k: v for k, v in {**c.row, **_story_columns(p)}.items()},
                }
                for c, p in zip(changed, prepared_changed, strict=True)
            ],
        )
        bands: list[BandRow] = []
        for item, prepared in zip(changed, prepared_changed, strict=True):
            at = band_time(prepared.data.published_at, prepared.data.updated_at, item.first_seen_at)
            if item.story_id is not None:
                touched.add(item.story_id)
                bands.extend((k, item.entry_id, at) for k in prepared.data.band_keys)
            else:
                batch.append(_pending(source.id, prepared, at, item.entry_id))
                batch_items.append((prepared, item))
        insert_bands(session, bands)
        expire_rows(session, Entry, ids)

    for new_item in new:
        prepared = _prepare(source, new_item.data, context)
        at = band_time(new_item.data.published_at, new_item.data.updated_at, now)
        batch.append(_pending(source.id, prepared, at, None))
        batch_items.append((prepared, new_item))

    assignments = assign_batch(session, source.id, batch)
    founded, states = _create_stories(session, source, now, context, batch_items, assignments)
    story_ids = _story_ids(assignments, founded)
    entry_ids = _write_entries(session, batch_items, story_ids)
    _write_bands_and_merges(session, now, batch, assignments, story_ids, entry_ids)

    members = Counter(story_ids)
    fresh = set(founded.values())
    single = [i for i in founded if members[founded[i]] == 1]
    # stored stories that gained an entry, and new ones that more than one entry joined
    touched.update(sid for sid in story_ids if sid not in fresh or members[sid] > 1)
    _finish_new_stories(session, source, batch_items, founded, states, single)
    refresh_stories(session, touched)
    return [entry_ids[i] for i, (_p, item) in enumerate(batch_items) if isinstance(item, NewEntry)]


def _changed_names(item: ChangedEntry) -> list[str]:
    return [*item.row, "place", "sponsored", "sponsored_reason", "signature", "band_keys"]


def _create_stories(
    session: Session,
    source: Source,
    now: datetime,
    context: Any,
    items: Sequence[tuple[_Prepared, NewEntry | ChangedEntry]],
    assignments: Sequence[Assignment],
) -> tuple[dict[int, int], dict[int, StoryState]]:
    """Insert the stories that batch entries start.

    Returns batch index → story id, and batch index → the one-entry story's
    aggregate (what the story stays if no other batch entry joins it).
    """
    founders = [i for i, a in enumerate(assignments) if a.story is None]
    if not founders:
        return {}, {}
    rows = []
    states: dict[int, StoryState] = {}
    for index in founders:
        prepared, item = items[index]
        state = states[index] = compute_story(
            context, [_member(source, prepared, item, now, 0)], {0: prepared.decision}
        )
        columns = state.columns()
        columns.update(representative_entry_id=None, created_at=now, updated_at=now, version=1)
        rows.append(columns)
    ids = insert_returning_ids(session, STORIES, rows)
    return dict(zip(founders, ids, strict=True)), states


def _member(
    source: Source, prepared: _Prepared, item: NewEntry | ChangedEntry, now: datetime, entry_id: int
) -> Member:
    data = prepared.data
    first_seen = item.first_seen_at if isinstance(item, ChangedEntry) else now
    return Member(
        id=entry_id,
        source_id=source.id,
        priority=source.priority or 0,
        source_title=source.display_title,
        source_category_id=source.category_id,
        effective_date=data.published_at or data.updated_at or first_seen,
        title=data.title,
        lead=data.lead,
        place=data.place,
        sponsored=bool(prepared.sponsored_reason),
        sponsored_reason=prepared.sponsored_reason,
        fields=prepared.fields,
    )


def _story_ids(assignments: Sequence[Assignment], founded: dict[int, int]) -> list[int]:
    out: list[int] = []
    for index, assignment in enumerate(assignments):
        ref = assignment.story
        if ref is None:
            out.append(founded[index])
        elif ref.story_id is not None:
            out.append(ref.story_id)
        else:
            assert ref.founder is not None
            out.append(out[ref.founder])
    return out


def _write_entries(
    session: Session,
    items: Sequence[tuple[_Prepared, NewEntry | ChangedEntry]],
    story_ids: Sequence[int],
) -> list[int]:
    """Insert the new entries (ids back in order); give re-clustered ones their story."""
    ids: list[int | None] = [None] * len(items)
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    moved: list[dict[str, Any]] = []
    for index, (prepared, item) in enumerate(items):
        if isinstance(item, ChangedEntry):
            ids[index] = item.entry_id
            moved.append({"b_id": item.entry_id, "v_story": story_ids[index]})
            continue
        rows.append({**item.row, **_story_columns(prepared), "story_id": story_ids[index]})
        positions.append(index)
    if rows:
        new_ids = insert_returning_ids(session, ENTRIES, rows)
        for index, entry_id in zip(positions, new_ids, strict=True):
            ids[index] = entry_id
    if moved:
        session.connection().execute(
            update(ENTRIES)
            .where(ENTRIES.c.id == bindparam("b_id"))
            .values(story_id=bindparam("v_story")),
            moved,
        )
    return [i for i in ids if i is not None]


def _write_bands_and_merges(
    session: Session,
    now: datetime,
    batch: Sequence[Pending],
    assignments: Sequence[Assignment],
    story_ids: Sequence[int],
    entry_ids: Sequence[int],
) -> None:
    insert_bands(
        session,
        [
            (key, entry_ids[i], pending.band_at)
            for i, pending in enumerate(batch)
            for key in pending.band_keys
        ],
    )
    merges = []
    for index, assignment in enumerate(assignments):
        matched = assignment.matched_entry_id
        if assignment.matched_index is not None:
            matched = entry_ids[assignment.matched_index]
        merges.append(
            {
                "story_id": story_ids[index],
                "entry_id": entry_ids[index],
                "at": now,
                "reason": assignment.reason,
                "matched_entry_id": matched,
                "key": assignment.key,
                "similarity": assignment.similarity,
            }
        )
    insert_all(session, MERGES, merges)


def _finish_new_stories(
    session: Session,
    source: Source,
    items: Sequence[tuple[_Prepared, NewEntry | ChangedEntry]],
    founded: dict[int, int],
    states: dict[int, StoryState],
    single: Sequence[int],
) -> None:
    """Representative, places and search document of stories with one entry of this batch.

    Stories that more than one batch entry joined are recomputed in full instead.
    """
    if not single:
        return
    sqlite_exec.execute(session, _SET_REPRESENTATIVE, {"ids": [founded[i] for i in single]})
    source_title = source.display_title
    source_stem = index_text(source_title)
    places: dict[int, tuple[list[str], datetime]] = {}
    documents: list[tuple[int, str, str]] = []
    for index in single:
        prepared, state = items[index][0], states[index]
        story_id = founded[index]
        if state.places:
            places[story_id] = (state.places, state.sort_at)
        documents.append(
            (story_id, *_document(prepared.data, source_title, source_stem, state.places))
        )
    sync_places(session, places, fresh=True)
    index_documents(session, documents, new=True)


def _document(
    data: EntryData, source_title: str, source_stem: str, places: list[str]
) -> tuple[str, str]:
    """(document, stemmed document) of a one-entry story, from the worker's stemmed pieces."""
    raw_parts = [data.title, data.lead, data.content_text, source_title, " ".join(places)]
    document = "\n".join(p for p in raw_parts if p)
    if len(document) > MAX_DOCUMENT_CHARS:
        document = document[:MAX_DOCUMENT_CHARS]
        return document, index_text(document)
    title, lead, content, place = data.search_stems
    stems = [title, lead, content, source_stem if source_title else "", place]
    return document, " ".join(s for s in stems if s)


# what an entry's band rows are found by (``delete_bands``)
_BAND_COLUMNS = (
    Entry.id,
    Entry.published_at,
    Entry.updated_at,
    Entry.first_seen_at,
    Entry.band_keys,
)
# locked on PostgreSQL until the transaction ends (SQLite's writer holds the whole
# database already)
_STORED_BANDS = (
    select(*_BAND_COLUMNS).where(Entry.id.in_(bindparam("ids", expanding=True))).with_for_update()
)


_BandRow = tuple[int, datetime | None, datetime | None, datetime, bytes | None]


def _band_entries(rows: Iterable[_BandRow]) -> list[tuple[int, datetime, bytes | None]]:
    """(entry id, band time, band keys) of rows of ``_BAND_COLUMNS``."""
    return [
        (entry_id, band_time(published, updated, first_seen), keys)
        for entry_id, published, updated, first_seen, keys in rows
    ]


def _stored_bands(
    session: Session, entry_ids: Sequence[int]
) -> list[tuple[int, datetime, bytes | None]]:
    """``_band_entries`` of stored entries, for ``delete_bands``."""
    if not entry_ids:
        return []
    rows = core(session).execute(_STORED_BANDS, {"ids": list(entry_ids)})
    return _band_entries(cast(Iterable[_BandRow], rows))


def delete_entries(session: Session, condition: ColumnElement[bool]) -> int:
    """Delete the entries matching *condition* with their band rows; how many went.

    The band rows go by what the DELETE returns: entries a poll stored after the
    caller looked (and so never detached) leave none behind.
    """
    gone = session.execute(delete(Entry).where(condition).returning(*_BAND_COLUMNS)).all()
    delete_bands(session, _band_entries(cast(Iterable[_BandRow], gone)))
    return len(gone)


def detach_entries(session: Session, entry_ids: list[int]) -> None:
    """Take entries out of their stories before the caller deletes them.

    Stories left empty are deleted; the others get new aggregates (another
    entry may become the representative) and a new search document.
    """
    ids = sorted(set(entry_ids))
    affected: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        affected.update(
            sid
            for sid in session.scalars(
                select(Entry.story_id).where(Entry.id.in_(chunk), Entry.story_id.is_not(None))
            )
            if sid is not None
        )
        session.execute(
            update(Entry).where(Entry.id.in_(chunk)).values(story_id=None),
            execution_options={"synchronize_session": "fetch"},
        )
    refresh_stories(session, affected)
