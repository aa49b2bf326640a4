"""The filter of an output feed and the query that applies it to stories.

A :class:`FeedFilter` is stored as JSON on :class:`~feedhub.models.OutputFeed`.
Selection walks stories newest first in keyset batches: the structural part of
the filter (category, place, source, sponsored, hidden, sources count, age) is
SQL and served by indexes, the text part (keywords, regex) and the per-source
cap are Python, because they need case folding and counting that SQL dialects
do differently.

The selection also reports the *window* it looked at — every story that
matched the SQL part from the newest one down to the last story it considered
— as a :class:`WindowState` (count, sum of versions, sum of ids). Any change
that can alter the feed's output changes that state: a new story enters the
window, a story in it changes (its version is bumped), leaves it (hidden,
re-categorised, deleted, aged out). :func:`window_state` recomputes the state
with a single aggregate query, which is what makes a cache check cheap.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from feedhub.models import Entry, Place, Story, StoryPlace

DEFAULT_MAX_ITEMS = 50
MAX_MAX_ITEMS = 500


class FilterError(ValueError):
    """A filter value that cannot work (bad regex, out-of-range number)."""


def _str_tuple(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise FilterError(f"{name} must be a list of strings")
    out = []
    for item in value:
        if not isinstance(item, str):
            raise FilterError(f"{name} must be a list of strings")
        item = " ".join(item.split())
        if item and item not in out:
            out.append(item)
    return tuple(out)


def _int_tuple(value: Any, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise FilterError(f"{name} must be a list of ids")
    out: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int):
            raise FilterError(f"{name} must be a list of ids")
        if item not in out:
            out.append(item)
    return tuple(out)


def _optional_int(value: Any, name: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FilterError(f"{name} must be a whole number >= {minimum}")
    return value


@dataclass(frozen=True)
class FeedFilter:
    """What an output feed shows. Empty lists mean "no restriction"."""

    categories: tuple[int, ...] = ()  # category ids
    places: tuple[str, ...] = ()  # place names or slugs
    sources: tuple[int, ...] = ()  # source ids: a story qualifies if any entry is from one
    include: tuple[str, ...] = ()  # at least one keyword in title or lead
    exclude: tuple[str, ...] = ()  # none of these keywords in title or lead
    regex: str = ""  # searched in title and lead, case-insensitive
    include_sponsored: bool = False
    min_sources: int = 1
    max_age_hours: float | None = None
    max_items: int = DEFAULT_MAX_ITEMS
    per_source_cap: int | None = None  # at most N items whose original is from one source

    def __post_init__(self) -> None:
        if self.regex:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise FilterError(f"invalid regular expression: {exc}") from None
        if self.min_sources < 1:
            raise FilterError("min_sources must be >= 1")
        if not 1 <= self.max_items <= MAX_MAX_ITEMS:
            raise FilterError(f"max_items must be between 1 and {MAX_MAX_ITEMS}")
        if self.per_source_cap is not None and self.per_source_cap < 1:
            raise FilterError("per_source_cap must be >= 1")
        if self.max_age_hours is not None and not self.max_age_hours > 0:
            raise FilterError("max_age_hours must be > 0")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> FeedFilter:
        """Build from the stored JSON; unknown keys are ignored, wrong types raise."""
        data = data or {}
        max_age = data.get("max_age_hours")
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int | float)
        ):
            raise FilterError("max_age_hours must be a number")
        max_items = _optional_int(data.get("max_items"), "max_items", 1)
        regex = data.get("regex") or ""
        if not isinstance(regex, str):
            raise FilterError("regex must be a string")
        return cls(
            categories=_int_tuple(data.get("categories"), "categories"),
            places=_str_tuple(data.get("places"), "places"),
            sources=_int_tuple(data.get("sources"), "sources"),
            include=_str_tuple(data.get("include"), "include"),
            exclude=_str_tuple(data.get("exclude"), "exclude"),
            regex=regex,
            include_sponsored=bool(data.get("include_sponsored", False)),
            min_sources=_optional_int(data.get("min_sources"), "min_sources", 1) or 1,
            max_age_hours=float(max_age) if max_age is not None else None,
            max_items=max_items if max_items is not None else DEFAULT_MAX_ITEMS,
            per_source_cap=_optional_int(data.get("per_source_cap"), "per_source_cap", 1),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "places": list(self.places),
            "sources": list(self.sources),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "regex": self.regex,
            "include_sponsored": self.include_sponsored,
            "min_sources": self.min_sources,
            "max_age_hours": self.max_age_hours,
            "max_items": self.max_items,
            "per_source_cap": self.per_source_cap,
        }


@dataclass(frozen=True)
class WindowState:
    """Aggregate over the stories a selection considered; equal states, equal output."""

    count: int = 0
    version_sum: int = 0
    id_sum: int = 0
    latest_update: datetime | None = None

    def key(self) -> tuple[int, int, int]:
        """The part that decides validity (``latest_update`` only feeds Last-Modified)."""
        return (self.count, self.version_sum, self.id_sum)


# (sort_at, id) of the last story a selection considered; None: it considered all.
Boundary = tuple[datetime, int] | None


@dataclass(frozen=True)
class Selection:
    story_ids: list[int]
    boundary: Boundary
    state: WindowState


@dataclass
class _TextMatcher:
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    pattern: re.Pattern[str] | None = field(default=None)

    @classmethod
    def for_filter(cls, flt: FeedFilter) -> _TextMatcher:
        return cls(
            include=tuple(k.casefold() for k in flt.include),
            exclude=tuple(k.casefold() for k in flt.exclude),
            pattern=re.compile(flt.regex, re.IGNORECASE) if flt.regex else None,
        )

    def accepts(self, title: str, lead: str) -> bool:
        text = f"{title}\n{lead}"
        folded = text.casefold()
        if self.include and not any(k in folded for k in self.include):
            return False
        if any(k in folded for k in self.exclude):
            return False
        return not (self.pattern is not None and self.pattern.search(text) is None)


def sql_conditions(flt: FeedFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The structural part of the filter, as WHERE clauses on ``stories``."""
    conds: list[ColumnElement[bool]] = [Story.hidden.is_(False)]
    if not flt.include_sponsored:
        conds.append(Story.sponsored.is_(False))
    if flt.min_sources > 1:
        conds.append(Story.source_count >= flt.min_sources)
    if flt.max_age_hours is not None:
        conds.append(Story.sort_at >= now - timedelta(hours=flt.max_age_hours))
    if flt.categories:
        conds.append(Story.category_id.in_(flt.categories))
    if flt.places:
        names = list(flt.places)
        lowered = sorted({p.lower() for p in names})
        conds.append(
            exists(
                select(StoryPlace.story_id)
                .join(Place, Place.id == StoryPlace.place_id)
                .where(
                    StoryPlace.story_id == Story.id,
                    or_(Place.name.in_(names), Place.slug.in_(lowered)),
                )
            )
        )
    if flt.sources:
        conds.append(
            exists(
                select(Entry.id).where(Entry.story_id == Story.id, Entry.source_id.in_(flt.sources))
            )
        )
    return conds


def _at_or_after(boundary: tuple[datetime, int]) -> ColumnElement[bool]:
    sort_at, story_id = boundary
    return or_(Story.sort_at > sort_at, and_(Story.sort_at == sort_at, Story.id >= story_id))


def _before(boundary: tuple[datetime, int]) -> ColumnElement[bool]:
    sort_at, story_id = boundary
    return or_(Story.sort_at < sort_at, and_(Story.sort_at == sort_at, Story.id < story_id))


def select_stories(db: Session | Connection, flt: FeedFilter, now: datetime) -> Selection:
    """Ids of the stories the feed shows, newest first, plus the window it considered."""
    rep = aliased(Entry)
    conds = sql_conditions(flt, now)
    matcher = _TextMatcher.for_filter(flt)
    batch = max(flt.max_items * 2, 100)
    chosen: list[int] = []
    per_source: Counter[int] = Counter()
    count = version_sum = id_sum = 0
    latest: datetime | None = None
    after: tuple[datetime, int] | None = None
    while True:
        stmt = (
            select(
                Story.id,
                Story.sort_at,
                Story.updated_at,
                Story.version,
                Story.title,
                Story.lead,
                rep.source_id,
            )
            .outerjoin(rep, rep.id == Story.representative_entry_id)
            .where(*conds)
            .order_by(Story.sort_at.desc(), Story.id.desc())
            .limit(batch)
        )
        if after is not None:
            stmt = stmt.where(_before(after))
        rows = db.execute(stmt).all()
        for story_id, sort_at, updated_at, version, title, lead, source_id in rows:
            count += 1
            version_sum += version
            id_sum += story_id
            latest = updated_at if latest is None or updated_at > latest else latest
            if not matcher.accepts(title or "", lead or ""):
                continue
            if flt.per_source_cap is not None and source_id is not None:
                if per_source[source_id] >= flt.per_source_cap:
                    continue
                per_source[source_id] += 1
            chosen.append(story_id)
            if len(chosen) >= flt.max_items:
                state = WindowState(count, version_sum, id_sum, latest)
                return Selection(chosen, (sort_at, story_id), state)
        if len(rows) < batch:
            return Selection(chosen, None, WindowState(count, version_sum, id_sum, latest))
        last = rows[-1]
        after = (last[1], last[0])


def window_state(
    db: Session | Connection, flt: FeedFilter, now: datetime, boundary: Boundary
) -> WindowState:
    """The state of the window a previous selection considered, as it is now: one query."""
    conds = sql_conditions(flt, now)
    if boundary is not None:
        conds.append(_at_or_after(boundary))
    stmt = select(
        func.count(Story.id),
        func.coalesce(func.sum(Story.version), 0),
        func.coalesce(func.sum(Story.id), 0),
        func.max(Story.updated_at),
    ).where(*conds)
    count, version_sum, id_sum, latest = db.execute(stmt).one()
    return WindowState(int(count), int(version_sum), int(id_sum), latest)
