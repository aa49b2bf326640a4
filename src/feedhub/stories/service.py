"""Bootstrap placeholder: one story per entry (replaced by the stories work)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedhub.ingest.records import EntryData
from feedhub.models import Entry, Story


def attach_entry(session: Session, entry: Entry, data: EntryData, *, is_new: bool) -> None:
    if entry.story_id is None:
        story = Story(title=entry.title, lead=entry.lead, sort_at=entry.effective_date)
        session.add(story)
        session.flush()
        entry.story_id = story.id
        story.representative_entry_id = entry.id
        story.entry_count = 1
        story.source_count = 1


def detach_entries(session: Session, entry_ids: list[int]) -> None:
    pass
