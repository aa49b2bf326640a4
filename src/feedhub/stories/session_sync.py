"""Keep a session's identity map honest after Core statements changed rows behind it.

The stories stage writes with Core statements (fast, no unit of work); an ORM
object of the same row that a caller already holds would otherwise keep its old
attribute values, or, for a deleted row, still be returned by ``session.get``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key


def _held(session: Session, model: type[object], ids: Iterable[int]) -> list[object]:
    if not session.identity_map:
        return []
    held = []
    for row_id in ids:
        obj = session.identity_map.get(identity_key(model, row_id))
        if obj is not None:
            held.append(obj)
    return held


def expire_rows(session: Session, model: type[object], ids: Iterable[int]) -> None:
    """Expire held objects of *model* with these ids: their next read loads the row."""
    for obj in _held(session, model, ids):
        session.expire(obj)


def forget_rows(session: Session, model: type[object], ids: Iterable[int]) -> None:
    """Drop held objects of rows that a Core statement is about to delete."""
    for obj in _held(session, model, ids):
        session.expunge(obj)
