"""Entry points the ingest store calls inside a source poll's transaction.

``attach_entry`` clusters a new entry into a story (or starts one), flags it,
finds its dateline place, and refreshes the story's aggregates and search
document; ``detach_entries`` takes entries out before retention deletes them.
Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from feedhub.ingest.records import EntryData
from feedhub.models import Entry, LshBand, Story, StoryMerge, utcnow
from feedhub.stories.aggregate import refresh_stories, refresh_story
from feedhub.stories.classify import load_context, sponsored_reason
from feedhub.stories.cluster import find_story, store_bands
from feedhub.stories.fingerprint import fingerprint
from feedhub.stories.places import extract_dateline

_CHUNK = 500


def attach_entry(session: Session, entry: Entry, data: EntryData, *, is_new: bool) -> None:
    """Cluster (new entries only), classify and index *entry*; the entry row is flushed."""
    context = load_context(session)
    now = utcnow()
    entry.place = extract_dateline(entry.lead) or ""
    reason = sponsored_reason(context, entry, rel_sponsored=data.rel_sponsored)
    entry.sponsored = bool(reason)
    entry.sponsored_reason = reason
    fp = fingerprint(entry.title, entry.lead)

    if entry.story_id is not None:
        # a changed entry keeps its story (and an admin's split stays split)
        store_bands(session, entry, fp, replace=True)
        refresh_stories(session, [entry.story_id])
        return

    assignment = find_story(session, entry, fp)
    story = session.get(Story, assignment.story_id) if assignment.story_id is not None else None
    if story is None:
        story = Story(sort_at=entry.effective_date, created_at=now, updated_at=now, version=0)
        session.add(story)
        session.flush()
        assignment_reason, matched, key, sim = "new", None, "", None
    else:
        assignment_reason = assignment.reason
        matched, key, sim = assignment.matched_entry_id, assignment.key, assignment.similarity
    entry.story_id = story.id
    session.add(
        StoryMerge(
            story_id=story.id,
            entry_id=entry.id,
            at=now,
            reason=assignment_reason,
            matched_entry_id=matched,
            key=key,
            similarity=sim,
        )
    )
    store_bands(session, entry, fp, replace=not is_new)
    if assignment_reason == "new":
        refresh_story(session, story, [entry], context, now)
    else:
        session.flush()
        refresh_stories(session, [story.id])


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
        session.execute(delete(LshBand).where(LshBand.entry_id.in_(chunk)))
    refresh_stories(session, affected)
