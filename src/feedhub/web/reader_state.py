"""A reader's server-side state: read marks and stars, so every device sees the same.

Writes are idempotent ("set to read", not "toggle"), so a double-submitted form or
two devices racing each other end in the state the reader asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feedhub.models import ReadMark, Star, utcnow

MAX_MARK_READ = 500


def _insert_ignore(
    session: Session, model: type[ReadMark] | type[Star], rows: list[dict[str, object]]
) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(model).values(rows).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(model).values(rows).on_conflict_do_nothing())


def set_read(session: Session, user_id: int, story_id: int, read: bool) -> None:
    if read:
        _insert_ignore(
            session, ReadMark, [{"user_id": user_id, "story_id": story_id, "at": utcnow()}]
        )
    else:
        session.execute(
            delete(ReadMark).where(ReadMark.user_id == user_id, ReadMark.story_id == story_id)
        )


def set_starred(session: Session, user_id: int, story_id: int, starred: bool) -> None:
    if starred:
        _insert_ignore(session, Star, [{"user_id": user_id, "story_id": story_id, "at": utcnow()}])
    else:
        session.execute(delete(Star).where(Star.user_id == user_id, Star.story_id == story_id))


def mark_read(session: Session, user_id: int, story_ids: Sequence[int]) -> int:
    """Mark the stories a view showed as read; returns how many were asked for."""
    wanted = list(dict.fromkeys(story_ids))[:MAX_MARK_READ]
    now = utcnow()
    _insert_ignore(
        session, ReadMark, [{"user_id": user_id, "story_id": i, "at": now} for i in wanted]
    )
    return len(wanted)
