"""Story aggregates: representative, counts, category, flags, places, search document.

Recomputed from the story's entries whenever one of them joins, changes or
leaves, so the aggregate never drifts from what the entries say. The
computation (:func:`compute_story`) is a pure function over :class:`Member`
records; :func:`refresh_stories` loads members of many stories in a few Core
queries and writes the results back in a few statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feedhub.db import core
from feedhub.models import Entry, Place, Source, Story, StoryPlace, entry_body, utcnow
from feedhub.slug import slugify
from feedhub.sqlite_insert import insert_all
from feedhub.stories.classify import (
    ClassifyContext,
    EntryDecision,
    decide_fields,
    load_context,
    story_category_of,
)
from feedhub.stories.places import split_places
from feedhub.stories.rules import EntryFields
from feedhub.stories.search import document_text, index_documents, unindex_stories
from feedhub.stories.session_sync import expire_rows, forget_rows
from feedhub.stories.stemming import index_text

_CHUNK = 500
_STORIES = cast(Table, Story.__table__)
_STORY_PLACES = cast(Table, StoryPlace.__table__)


@dataclass(frozen=True)
class Member:
    """What a story's aggregate needs from one of its entries."""

    id: int
    source_id: int
    priority: int
    source_title: str  # the source's display title
    source_category_id: int | None
    effective_date: datetime
    title: str
    lead: str
    place: str
    sponsored: bool
    sponsored_reason: str
    fields: EntryFields


@dataclass(frozen=True)
class StoryState:
    """A story's aggregate columns, computed from its members."""

    representative_entry_id: int
    title: str
    lead: str
    sort_at: datetime
    entry_count: int
    source_count: int
    category_id: int
    category_reason: str
    sponsored: bool
    sponsored_reason: str
    hidden: bool
    places: list[str]
    sources: list[str]  # display titles, representative's first
    other_titles: list[str]

    def columns(self) -> dict[str, Any]:
        return {
            "representative_entry_id": self.representative_entry_id,
            "title": self.title,
            "lead": self.lead,
            "sort_at": self.sort_at,
            "entry_count": self.entry_count,
            "source_count": self.source_count,
            "category_id": self.category_id,
            "category_reason": self.category_reason,
            "sponsored": self.sponsored,
            "sponsored_reason": self.sponsored_reason,
            "hidden": self.hidden,
            "places": self.places,
        }


def member_order_key(member: Member) -> tuple[int, datetime, int]:
    """Higher source priority first, then the earliest published, then the oldest row."""
    return (-member.priority, member.effective_date, member.id)


def place_names(dateline_places: Iterable[str]) -> list[str]:
    """Distinct place names of several datelines, in order ("A/B" names two)."""
    names: list[str] = []
    for dateline in dateline_places:
        for name in split_places(dateline) if dateline else ():
            if name not in names:
                names.append(name)
    return names


def compute_story(
    context: ClassifyContext,
    members: Sequence[Member],
    decisions: dict[int, EntryDecision] | None = None,
) -> StoryState:
    """The aggregate of a non-empty story; *decisions* may carry precomputed ones by entry id."""
    ordered = sorted(members, key=member_order_key)
    known = decisions or {}
    decided = [known.get(m.id) or decide_fields(context, m.fields) for m in ordered]
    rep = ordered[0]
    category_id, category_reason = story_category_of(
        context, decided, [m.source_category_id for m in ordered]
    )
    sponsored = next((m for m in ordered if m.sponsored), None)
    sources: list[str] = []
    for member in ordered:
        if member.source_title and member.source_title not in sources:
            sources.append(member.source_title)
    return StoryState(
        representative_entry_id=rep.id,
        title=rep.title,
        lead=rep.lead,
        sort_at=min(m.effective_date for m in ordered),
        entry_count=len(ordered),
        source_count=len({m.source_id for m in ordered}),
        category_id=category_id,
        category_reason=category_reason,
        sponsored=sponsored is not None,
        sponsored_reason=sponsored.sponsored_reason if sponsored else "",
        hidden=any(d.hidden_by for d in decided),
        places=place_names(m.place for m in ordered),
        sources=sources,
        other_titles=[m.title for m in ordered[1:] if m.title != rep.title],
    )


# -- places -------------------------------------------------------------------------------
_PLACE_IDS = select(Place.name, Place.id).where(Place.name.in_(bindparam("names", expanding=True)))


def place_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Get-or-create places by name; racing writers are absorbed by ON CONFLICT DO NOTHING."""
    wanted = {name: slugify(name) for name in names}
    if not wanted:
        return {}
    found = dict(core(session).execute(_PLACE_IDS, {"names": list(wanted)}).all())
    missing = [n for n in wanted if n not in found]
    if missing:
        dialect = session.get_bind().dialect.name
        maker = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = maker(Place).on_conflict_do_nothing()
        session.execute(stmt, [{"name": n, "slug": wanted[n]} for n in missing])
        rows = session.execute(
            select(Place.id, Place.name, Place.slug).where(
                Place.name.in_(missing) | Place.slug.in_([wanted[n] for n in missing])
            )
        ).all()
        by_slug = {r.slug: r.id for r in rows}
        for row in rows:
            if row.name in wanted:
                found[row.name] = row.id
        for name in missing:
            # "Koeln" when "Köln" exists: same slug, same place
            found.setdefault(name, by_slug[wanted[name]])
    return found


def sync_places(
    session: Session, stories: dict[int, tuple[list[str], datetime]], *, fresh: bool = False
) -> None:
    """Make ``story_places`` say what *stories* (id → (place names, sort_at)) say.

    *fresh* stories have no rows yet, which saves the lookup of the current ones.
    """
    ids = place_ids(session, {name for names, _at in stories.values() for name in names})
    current: dict[int, dict[int, datetime]] = defaultdict(dict)
    if not fresh and stories:
        for story_id, place_id, sort_at in session.execute(
            select(StoryPlace.story_id, StoryPlace.place_id, StoryPlace.sort_at).where(
                StoryPlace.story_id.in_(stories)
            )
        ):
            current[story_id][place_id] = sort_at
    stale: list[tuple[int, int]] = []
    new: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for story_id, (names, sort_at) in stories.items():
        wanted = {ids[n] for n in names}
        have = current.get(story_id, {})
        stale.extend((story_id, p) for p in have if p not in wanted)
        for place_id in wanted:
            if place_id not in have:
                new.append({"story_id": story_id, "place_id": place_id, "sort_at": sort_at})
            elif have[place_id] != sort_at:
                moved.append({"b_story": story_id, "b_place": place_id, "b_sort": sort_at})
    if stale:
        session.execute(
            delete(StoryPlace).where(tuple_(StoryPlace.story_id, StoryPlace.place_id).in_(stale))
        )
    insert_all(session, _STORY_PLACES, new)
    if moved:
        session.connection().execute(
            update(_STORY_PLACES)
            .where(
                _STORY_PLACES.c.story_id == bindparam("b_story"),
                _STORY_PLACES.c.place_id == bindparam("b_place"),
            )
            .values(sort_at=bindparam("b_sort")),
            moved,
        )


# -- refreshing stored stories ---------------------------------------------------------------
def _members(session: Session, story_ids: Sequence[int]) -> dict[int, list[Member]]:
    by_story: dict[int, list[Member]] = defaultdict(list)
    rows = session.execute(
        select(
            Entry.id,
            Entry.story_id,
            Entry.source_id,
            Entry.published_at,
            Entry.updated_at,
            Entry.first_seen_at,
            Entry.title,
            Entry.lead,
            Entry.author,
            Entry.feed_categories,
            Entry.place,
            Entry.sponsored,
            Entry.sponsored_reason,
            Source.priority,
            Source.title.label("source_title"),
            Source.url.label("source_url"),
            Source.category_id,
        )
        .join(Source, Source.id == Entry.source_id)
        .where(Entry.story_id.in_(story_ids))
    )
    for r in rows:
        assert r.story_id is not None
        source_title = r.source_title or r.source_url
        by_story[r.story_id].append(
            Member(
                id=r.id,
                source_id=r.source_id,
                priority=r.priority or 0,
                source_title=source_title,
                source_category_id=r.category_id,
                effective_date=r.published_at or r.updated_at or r.first_seen_at,
                title=r.title,
                lead=r.lead,
                place=r.place,
                sponsored=bool(r.sponsored),
                sponsored_reason=r.sponsored_reason,
                fields=EntryFields(
                    title=r.title,
                    lead=r.lead,
                    feed_categories=tuple(str(c) for c in r.feed_categories or ()),
                    author=r.author,
                    source=source_title,
                ),
            )
        )
    return by_story


def write_states(session: Session, states: dict[int, StoryState], now: datetime) -> None:
    """Store computed aggregates of existing stories: updated_at = now, version + 1."""
    if not states:
        return
    params = [
        {"b_id": story_id, **{"v_" + k: v for k, v in state.columns().items()}}
        for story_id, state in states.items()
    ]
    names = next(iter(states.values())).columns()
    session.connection().execute(
        update(_STORIES)
        .where(_STORIES.c.id == bindparam("b_id"))
        .values(
            {
                **{name: bindparam("v_" + name) for name in names},
                "updated_at": now,
                "version": _STORIES.c.version + 1,
            }
        ),
        params,
    )


def refresh_stories(session: Session, story_ids: Iterable[int]) -> None:
    """Recompute several stories, loading their entries in a few queries.

    Stories left without entries are deleted. ORM objects of the touched stories
    in *session* are expired (or forgotten, when deleted), so they read anew.
    """
    ids = sorted(set(story_ids))
    if not ids:
        return
    session.flush()
    context = load_context(session)
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # lock the story rows first (in id order, so two pollers cannot deadlock): on
        # PostgreSQL the entry query below then sees a concurrent poller's committed entry
        present = list(
            session.scalars(
                select(Story.id).where(Story.id.in_(chunk)).order_by(Story.id).with_for_update()
            )
        )
        members = _members(session, present)
        states = {sid: compute_story(context, members[sid]) for sid in present if members.get(sid)}
        empty = [sid for sid in present if sid not in states]
        if empty:
            unindex_stories(session, empty)
            forget_rows(session, Story, empty)
            session.execute(delete(Story).where(Story.id.in_(empty)))
        write_states(session, states, now)
        sync_places(session, {sid: (s.places, s.sort_at) for sid, s in states.items()})
        index_documents(session, _documents(session, states))
        expire_rows(session, Story, list(states))


def _documents(session: Session, states: dict[int, StoryState]) -> list[tuple[int, str, str]]:
    """(story id, document, stemmed document) of each story, from its representative."""
    reps = {s.representative_entry_id: sid for sid, s in states.items()}
    bodies: dict[int, str] = {}
    for entry_id, content, summary in session.execute(
        select(Entry.id, Entry.content, Entry.summary).where(Entry.id.in_(reps))
    ):
        bodies[reps[entry_id]] = entry_body(content, summary)
    docs = []
    for sid, state in states.items():
        document = document_text(
            title=state.title,
            lead=state.lead,
            content_html=bodies.get(sid, ""),
            sources=state.sources,
            places=state.places,
            other_titles=state.other_titles,
        )
        docs.append((sid, document, index_text(document)))
    return docs
