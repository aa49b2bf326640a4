"""State changes on sources that the admin triggers: enable, disable, edit, delete.

Each change that matters for a source's history writes a SourceEvent, so the
health page can show who disabled a source and when, next to the poller's
own 301 moves and 410 disables.

Deleting a source deletes its entries (the foreign key cascades). Stories
that only this source reported disappear with them; stories also reported by
other sources stay, with their counts and representative entry recomputed.
An admin who wants to keep the stories disables the source instead: nothing
is polled any more and nothing is lost. There is no third way that keeps a
story's entries without their source, because an entry is "one item from
one source" and means nothing without it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.models import Entry, Source, SourceEvent, utcnow
from feedhub.stories.service import delete_entries, detach_entries


def set_enabled(session: Session, source: Source, enabled: bool, detail: str) -> bool:
    """Enable or disable; returns False when nothing changed."""
    if source.enabled == enabled:
        return False
    source.enabled = enabled
    if enabled:
        source.disabled_reason = None
        source.error_count = 0
        source.next_poll_at = utcnow()
    else:
        source.disabled_reason = detail
    session.add(
        SourceEvent(source_id=source.id, kind="enabled" if enabled else "disabled", detail=detail)
    )
    session.flush()
    return True


def delete_source(session: Session, source: Source) -> int:
    """Delete the source and its entries; returns how many entries went."""
    entry_ids = list(session.scalars(select(Entry.id).where(Entry.source_id == source.id)))
    # Stories let go of these entries first: emptied ones are deleted, the others
    # get a new representative, counts and search document.
    detach_entries(session, entry_ids)
    delete_entries(session, Entry.source_id == source.id)
    session.delete(source)
    session.flush()
    return len(entry_ids)
