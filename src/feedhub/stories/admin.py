"""Admin corrections of the clustering: split a story, merge two stories.

Moved entries are pinned (``story_pinned``), and the clusterer never moves an
entry that already has a story, so the next poll does not undo the admin's
decision. Every move is logged as a StoryMerge row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedhub.models import Entry, ReadMark, Star, Story, StoryMerge, utcnow
from feedhub.stories.aggregate import refresh_stories


class StoryError(ValueError):
    """An admin request that cannot be carried out; the message says why."""


def _story(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise StoryError(f"story {story_id} does not exist")
    return story


def split_entries(session: Session, story_id: int, entry_ids: Sequence[int]) -> Story:
    """Move *entry_ids* out of story *story_id* into a new story of their own."""
    story = _story(session, story_id)
    wanted = set(entry_ids)
    if not wanted:
        raise StoryError("name at least one entry to split off")
    entries = list(session.scalars(select(Entry).where(Entry.story_id == story.id)))
    moving = [e for e in entries if e.id in wanted]
    stray = wanted - {e.id for e in moving}
    if stray:
        raise StoryError(
            f"entries {', '.join(map(str, sorted(stray)))} are not in story {story_id}"
        )
    if len(moving) == len(entries):
        raise StoryError("a split must leave at least one entry in the story")
    now = utcnow()
    new_story = Story(
        sort_at=min(e.effective_date for e in moving), created_at=now, updated_at=now, version=0
    )
    session.add(new_story)
    session.flush()
    for entry in moving:
        entry.story_id = new_story.id
        entry.story_pinned = True
        session.add(
            StoryMerge(
                story_id=new_story.id,
                entry_id=entry.id,
                at=now,
                reason="manual_split",
                key=f"split from story {story.id}",
            )
        )
    session.flush()
    refresh_stories(session, [story.id, new_story.id])
    return new_story


def merge_stories(session: Session, target_id: int, other_id: int) -> Story:
    """Move every entry of story *other_id* into *target_id* and delete the other story."""
    if target_id == other_id:
        raise StoryError("cannot merge a story with itself")
    target = _story(session, target_id)
    other = _story(session, other_id)
    now = utcnow()
    moving = list(session.scalars(select(Entry).where(Entry.story_id == other.id)))
    for entry in moving:
        entry.story_id = target.id
        entry.story_pinned = True
    session.execute(
        update(Entry)
        .where(Entry.story_id == target.id)
        .values(story_pinned=True)
        .execution_options(synchronize_session="fetch")
    )
    # keep the history of the other story's entries with them
    session.execute(
        update(StoryMerge).where(StoryMerge.story_id == other.id).values(story_id=target.id)
    )
    for entry in moving:
        session.add(
            StoryMerge(
                story_id=target.id,
                entry_id=entry.id,
                at=now,
                reason="manual_merge",
                key=f"merged from story {other.id}",
            )
        )
    # readers keep their stars and read marks (unless they already have one on the target)
    for model in (Star, ReadMark):
        has_target = select(model.user_id).where(model.story_id == target.id)
        session.execute(
            update(model)
            .where(model.story_id == other.id, model.user_id.not_in(has_target))
            .values(story_id=target.id)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    refresh_stories(session, [target.id, other.id])
    return target
