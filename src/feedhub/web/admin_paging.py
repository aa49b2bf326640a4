"""Keyset pagination for admin lists.

Lists never use OFFSET: the next page starts after the last row's sort key,
so page 500 of the fetch log costs the same as page 1. The cursor is the sort
key of the last row, JSON-encoded and base64url'd; a cursor that does not
decode (typed in by hand, from an old version) simply yields the first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")
PAGE_SIZE = 50

# (column, descending)
SortKey = tuple[InstrumentedAttribute[Any], bool]


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    is_first: bool


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(plain, list) or len(plain) != size:
        return None
    values: list[Any] = []
    for item in plain:
        if isinstance(item, dict) and isinstance(item.get("t"), str):
            try:
                values.append(datetime.fromisoformat(item["t"]))
            except ValueError:
                return None
        elif isinstance(item, int | float | str) and not isinstance(item, bool):
            values.append(item)
        else:
            return None
    return values


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the lexicographic order of ``keys``."""
    clauses = []
    for index, (column, descending) in enumerate(keys):
        equal = [keys[i][0] == values[i] for i in range(index)]
        step = column < values[index] if descending else column > values[index]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def keyset_page(
    session: Session,
    stmt: Select[T],
    keys: Sequence[SortKey],
    key_of: Callable[[T], Sequence[Any]],
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> Page[T]:
    values = decode_cursor(cursor, len(keys))
    if values is not None:
        stmt = stmt.where(_after(keys, values))
    stmt = stmt.order_by(*[col.desc() if desc else col.asc() for col, desc in keys])
    rows = list(session.scalars(stmt.limit(limit + 1)).unique().all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key_of(rows[-1])) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor, is_first=values is None)
