"""Read-side queries of the web reader: keyset-paginated story lists and story cards.

Every list is an index range scan ordered by ``(sort key, id)`` descending and
continued with a row-value comparison against the last row shown ("keyset"), so
page 1000 costs the same as page 1. No query here uses OFFSET.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from feedhub.models import Category, Entry, Place, ReadMark, Source, Star, Story, StoryPlace

TEASER_CHARS = 220
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page: the sort key and the tie-breaking id."""

    at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.at.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """Parse a cursor from a query string; anything malformed means "first page"."""
        if not raw:
            return None
        match = re.fullmatch(r"(-?\d{1,20})\.(\d{1,20})", raw)
        if match is None:
            return None
        try:
            at = EPOCH + timedelta(microseconds=int(match.group(1)))
        except (OverflowError, OSError, ValueError):
            return None
        return cls(at=at, id=int(match.group(2)))


@dataclass(frozen=True)
class SourceRef:
    id: int
    title: str
    url: str  # the original article at this source


@dataclass
class StoryCard:
    """Everything a listing shows about one story."""

    id: int
    title: str
    teaser: str
    sort_at: datetime
    places: list[str]
    category: Category | None
    sponsored: bool
    sponsored_reason: str
    original_url: str
    sources: list[SourceRef] = field(default_factory=list)
    # (display name, place page slug or None when the place has no page)
    place_links: list[tuple[str, str | None]] = field(default_factory=list)
    read: bool = False
    starred: bool = False


@dataclass
class StoryPage:
    cards: list[StoryCard]
    next_cursor: Cursor | None


def teaser(text: str, limit: int = TEASER_CHARS) -> str:
    """Cut plain text at a word boundary; a cut text ends in ' …'."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else cut[:limit]
    return cut.rstrip(" ,;:.-–—") + " …"


# --- id lists (index range scans) ----------------------------------------------------


def _after(cursor: Cursor) -> ColumnElement[Any]:
    """The cursor as a row value; naive UTC, like the columns, so indexes stay usable."""
    naive = cursor.at.astimezone(UTC).replace(tzinfo=None)
    return tuple_(naive, cursor.id)


Row = tuple[int, datetime, int]  # story id, sort key, tie-breaker


def _page(rows: Sequence[Row], limit: int) -> tuple[list[int], Cursor | None]:
    """Deduplicate story ids (a source may list one story twice) and find the next cursor."""
    seen: set[int] = set()
    ids: list[int] = []
    for story_id, _, _ in rows[:limit]:
        if story_id not in seen:
            seen.add(story_id)
            ids.append(story_id)
    cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        cursor = Cursor(at=last[1], id=last[2])
    return ids, cursor


def _story_rows(
    session: Session, where: Iterable[ColumnElement[bool]], before: Cursor | None, limit: int
) -> list[Row]:
    stmt = select(Story.id, Story.sort_at, Story.id).where(Story.hidden == false(), *where)
    if before is not None:
        stmt = stmt.where(tuple_(Story.sort_at, Story.id) < _after(before))
    stmt = stmt.order_by(Story.sort_at.desc(), Story.id.desc()).limit(limit)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def latest_ids(
    session: Session, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    return _page(_story_rows(session, [], before, limit + 1), limit)


def category_ids(
    session: Session, category: Category, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    """Stories of one category; the fallback category also holds uncategorized stories."""
    rows = _story_rows(session, [Story.category_id == category.id], before, limit + 1)
    if category.is_fallback:
        rows += _story_rows(session, [Story.category_id.is_(None)], before, limit + 1)
        rows.sort(key=lambda r: (r[1], r[2]), reverse=True)
    return _page(rows, limit)


def uncategorized_ids(
    session: Session, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    return _page(_story_rows(session, [Story.category_id.is_(None)], before, limit + 1), limit)


def place_ids(
    session: Session, place_id: int, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    stmt = (
        select(StoryPlace.story_id, StoryPlace.sort_at, StoryPlace.story_id)
        .join(Story, Story.id == StoryPlace.story_id)
        .where(StoryPlace.place_id == place_id, Story.hidden == false())
    )
    if before is not None:
        stmt = stmt.where(tuple_(StoryPlace.sort_at, StoryPlace.story_id) < _after(before))
    stmt = stmt.order_by(StoryPlace.sort_at.desc(), StoryPlace.story_id.desc()).limit(limit + 1)
    return _page([(r[0], r[1], r[2]) for r in session.execute(stmt)], limit)


def source_ids(
    session: Session, source_id: int, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    """Stories a source reported, newest entry first (keyset over the source's entries)."""
    stmt = (
        select(Entry.story_id, Entry.first_seen_at, Entry.id)
        .join(Story, Story.id == Entry.story_id)
        .where(Entry.source_id == source_id, Story.hidden == false())
    )
    if before is not None:
        stmt = stmt.where(tuple_(Entry.first_seen_at, Entry.id) < _after(before))
    stmt = stmt.order_by(Entry.first_seen_at.desc(), Entry.id.desc()).limit(limit + 1)
    rows = [(r[0], r[1], r[2]) for r in session.execute(stmt) if r[0] is not None]
    return _page(rows, limit)


def starred_ids(
    session: Session, user_id: int, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    """Starred stories, most recently starred first."""
    stmt = (
        select(Star.story_id, Star.at, Star.story_id)
        .join(Story, Story.id == Star.story_id)
        .where(Star.user_id == user_id, Story.hidden == false())
    )
    if before is not None:
        stmt = stmt.where(tuple_(Star.at, Star.story_id) < _after(before))
    stmt = stmt.order_by(Star.at.desc(), Star.story_id.desc()).limit(limit + 1)
    return _page([(r[0], r[1], r[2]) for r in session.execute(stmt)], limit)


def unread_ids(
    session: Session, user_id: int, before: Cursor | None, limit: int
) -> tuple[list[int], Cursor | None]:
    """Newest stories without a read mark of this user (anti-join on the mark's primary key)."""
    is_read = exists().where(ReadMark.user_id == user_id, ReadMark.story_id == Story.id)
    return _page(_story_rows(session, [~is_read], before, limit + 1), limit)


# --- cards ----------------------------------------------------------------------------


def load_cards(session: Session, ids: Sequence[int], user_id: int | None) -> list[StoryCard]:
    """Story cards in the order of ``ids``: one query each for stories, entries, state."""
    if not ids:
        return []
    stories = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(ids)))}
    entry_rows = session.execute(
        select(Entry.story_id, Entry.id, Entry.url, Source.id, Source.title, Source.url)
        .join(Source, Source.id == Entry.source_id)
        .where(Entry.story_id.in_(ids))
        .order_by(Entry.story_id, Entry.id)
    ).all()
    sources: dict[int, list[SourceRef]] = {}
    original: dict[int, str] = {}
    for story_id, entry_id, entry_url, src_id, src_title, src_url in entry_rows:
        if story_id is None:  # pragma: no cover - excluded by the IN condition
            continue
        story = stories.get(story_id)
        if story is not None and story.representative_entry_id == entry_id:
            original[story_id] = entry_url
        refs = sources.setdefault(story_id, [])
        if all(ref.id != src_id for ref in refs):
            refs.append(SourceRef(id=src_id, title=src_title or src_url, url=entry_url))
    read, starred = story_states(session, user_id, ids)
    place_names = [str(p) for s in stories.values() for p in (s.places or [])]
    slugs = {name: place.slug for name, place in places_by_name(session, place_names).items()}
    cards = []
    for story_id in ids:
        story = stories.get(story_id)
        if story is None:
            continue
        refs = sources.get(story_id, [])
        cards.append(
            StoryCard(
                id=story.id,
                title=story.title,
                teaser=teaser(story.lead),
                sort_at=story.sort_at,
                places=[str(p) for p in (story.places or [])],
                category=story.category,
                sponsored=story.sponsored,
                sponsored_reason=story.sponsored_reason,
                original_url=original.get(story_id) or (refs[0].url if refs else ""),
                sources=refs,
                place_links=[(str(p), slugs.get(str(p))) for p in (story.places or [])],
                read=story_id in read,
                starred=story_id in starred,
            )
        )
    return cards


def story_states(
    session: Session, user_id: int | None, ids: Sequence[int]
) -> tuple[set[int], set[int]]:
    """Which of ``ids`` this user has read and starred (primary-key lookups)."""
    if user_id is None or not ids:
        return set(), set()
    read = set(
        session.scalars(
            select(ReadMark.story_id).where(ReadMark.user_id == user_id, ReadMark.story_id.in_(ids))
        )
    )
    starred = set(
        session.scalars(
            select(Star.story_id).where(Star.user_id == user_id, Star.story_id.in_(ids))
        )
    )
    return read, starred


# --- story page -------------------------------------------------------------------------


@dataclass
class StoryDetail:
    story: Story
    representative: Entry | None
    entries: list[Entry]
    sources: list[SourceRef]
    previous_id: int | None
    next_id: int | None


def story_detail(session: Session, story_id: int) -> StoryDetail | None:
    story = session.get(Story, story_id)
    if story is None or story.hidden:
        return None
    entries = list(
        session.scalars(
            select(Entry).where(Entry.story_id == story.id).order_by(Entry.first_seen_at, Entry.id)
        )
    )
    representative = next(
        (e for e in entries if e.id == story.representative_entry_id),
        entries[0] if entries else None,
    )
    refs: list[SourceRef] = []
    for entry in entries:
        if all(ref.id != entry.source_id for ref in refs):
            refs.append(
                SourceRef(id=entry.source_id, title=entry.source.display_title, url=entry.url)
            )
    previous_id, next_id = neighbours(session, story)
    return StoryDetail(story, representative, entries, refs, previous_id, next_id)


def neighbours(session: Session, story: Story) -> tuple[int | None, int | None]:
    """Newer (previous in the list) and older (next) story of the same category."""
    same = (
        Story.category_id == story.category_id
        if story.category_id is not None
        else Story.category_id.is_(None)
    )
    key = tuple_(Story.sort_at, Story.id)
    here = _after(Cursor(story.sort_at, story.id))
    newer = session.scalar(
        select(Story.id)
        .where(same, Story.hidden == false(), key > here)
        .order_by(Story.sort_at.asc(), Story.id.asc())
        .limit(1)
    )
    older = session.scalar(
        select(Story.id)
        .where(same, Story.hidden == false(), key < here)
        .order_by(Story.sort_at.desc(), Story.id.desc())
        .limit(1)
    )
    return newer, older


# --- lookups ----------------------------------------------------------------------------


def categories_in_order(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def category_by_slug(session: Session, slug: str) -> Category | None:
    return session.scalar(select(Category).where(Category.slug == slug))


def place_by_slug(session: Session, slug: str) -> Place | None:
    return session.scalar(select(Place).where(Place.slug == slug))


def places_by_name(session: Session, names: Iterable[str]) -> dict[str, Place]:
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    return {p.name: p for p in session.scalars(select(Place).where(Place.name.in_(wanted)))}


def unread_story_ids_among(session: Session, user_id: int, ids: Sequence[int]) -> list[int]:
    read, _ = story_states(session, user_id, ids)
    return [i for i in ids if i not in read]


def visible_story_ids(session: Session, ids: Sequence[int]) -> list[int]:
    """The subset of ``ids`` that exist and are not hidden, in the given order."""
    if not ids:
        return []
    found = set(session.scalars(select(Story.id).where(Story.id.in_(ids), Story.hidden == false())))
    return [i for i in ids if i in found]


def has_uncategorized(session: Session) -> bool:
    """Whether any visible story lacks a category (cheap: stops at the first row)."""
    return (
        session.scalar(
            select(Story.id)
            .where(and_(Story.category_id.is_(None), Story.hidden == false()))
            .limit(1)
        )
        is not None
    )
