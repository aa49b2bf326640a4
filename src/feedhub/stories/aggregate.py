"""Story aggregates: representative, counts, category, flags, places, search document.

Recomputed from the story's entries whenever one of them joins, changes or
leaves, so the aggregate never drifts from what the entries say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feedhub.models import Entry, Place, Story, StoryPlace, utcnow
from feedhub.stories.categories import slugify
from feedhub.stories.classify import ClassifyContext, decide_entry, load_context, story_category
from feedhub.stories.places import split_places
from feedhub.stories.search import document_text, index_story, unindex_stories

_CHUNK = 500


def representative_order(entries: Iterable[Entry]) -> list[Entry]:
    """Higher source priority first, then the earliest published, then the oldest row."""
    return sorted(
        entries,
        key=lambda e: (-(e.source.priority if e.source else 0), e.effective_date, e.id),
    )


def _place_ids(session: Session, names: Sequence[str]) -> dict[str, int]:
    """Get-or-create places by name; racing writers are absorbed by ON CONFLICT DO NOTHING."""
    if not names:
        return {}
    wanted = {name: slugify(name) for name in names}
    found = {p.name: p.id for p in session.scalars(select(Place).where(Place.name.in_(wanted)))}
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


def _sync_places(session: Session, story: Story, names: Sequence[str]) -> None:
    ids = _place_ids(session, names)
    wanted = set(ids.values())
    current = dict(
        session.execute(
            select(StoryPlace.place_id, StoryPlace.sort_at).where(StoryPlace.story_id == story.id)
        ).all()
    )
    stale = set(current) - wanted
    if stale:
        session.execute(
            delete(StoryPlace).where(
                StoryPlace.story_id == story.id, StoryPlace.place_id.in_(stale)
            )
        )
    new = wanted - set(current)
    if new:
        session.execute(
            insert(cast(Table, StoryPlace.__table__)),
            [{"story_id": story.id, "place_id": p, "sort_at": story.sort_at} for p in new],
        )
    moved = [p for p in wanted & set(current) if current[p] != story.sort_at]
    if moved:
        session.execute(
            update(StoryPlace)
            .where(StoryPlace.story_id == story.id, StoryPlace.place_id.in_(moved))
            .values(sort_at=story.sort_at)
        )


def refresh_story(
    session: Session,
    story: Story,
    entries: Sequence[Entry],
    context: ClassifyContext,
    now: datetime,
) -> bool:
    """Recompute *story* from *entries* (all of them); an empty story is deleted.

    Returns False when the story was deleted.
    """
    if not entries:
        unindex_stories(session, [story.id])
        session.delete(story)
        return False
    ordered = representative_order(entries)
    decisions = [(e, decide_entry(context, e)) for e in ordered]
    rep = ordered[0]
    story.representative_entry_id = rep.id
    story.title = rep.title
    story.lead = rep.lead
    story.sort_at = min(e.effective_date for e in ordered)
    story.entry_count = len(ordered)
    story.source_count = len({e.source_id for e in ordered})
    story.category_id, story.category_reason = story_category(context, decisions)
    sponsored = next((e for e in ordered if e.sponsored), None)
    story.sponsored = sponsored is not None
    story.sponsored_reason = sponsored.sponsored_reason if sponsored else ""
    story.hidden = any(d.hidden_by for _e, d in decisions)
    places: list[str] = []
    for entry in ordered:
        for name in split_places(entry.place) if entry.place else ():
            if name not in places:
                places.append(name)
    story.places = places
    story.updated_at = now
    story.version = (story.version or 0) + 1
    session.flush()
    _sync_places(session, story, places)
    sources = []
    for entry in ordered:
        title = entry.source.display_title if entry.source else ""
        if title and title not in sources:
            sources.append(title)
    index_story(
        session,
        story.id,
        document_text(
            title=rep.title,
            lead=rep.lead,
            content_html=rep.content or rep.summary,
            sources=sources,
            places=places,
            other_titles=[e.title for e in ordered[1:] if e.title != rep.title],
        ),
    )
    return True


def refresh_stories(session: Session, story_ids: Iterable[int]) -> None:
    """Recompute several stories, loading their entries in a few queries."""
    ids = sorted(set(story_ids))
    if not ids:
        return
    context = load_context(session)
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # lock the story rows first (in id order, so two pollers cannot deadlock): on
        # PostgreSQL the entry query below then sees a concurrent poller's committed entry
        stories = list(
            session.scalars(
                select(Story)
                .where(Story.id.in_(chunk))
                .order_by(Story.id)
                .with_for_update(of=Story)
            )
        )
        by_story: dict[int, list[Entry]] = defaultdict(list)
        for entry in session.scalars(select(Entry).where(Entry.story_id.in_(chunk))):
            assert entry.story_id is not None
            by_story[entry.story_id].append(entry)
        for story in stories:
            refresh_story(session, story, by_story.get(story.id, []), context, now)
