"""Direct inserts of sources, categories, places and stories for the output-feed tests.

The clusterer is built elsewhere; these tests only need rows shaped like the
ones it writes: a story with one entry per reporting source, the first entry
as representative, counts filled in, ``version`` bumped on every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from feedhub.db import Database
from feedhub.models import Category, Entry, Place, Source, Story, StoryPlace

BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Seeder:
    db: Database
    clock: datetime = field(default=BASE_TIME)
    _counter: int = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def category(self, name: str, slug: str | None = None) -> int:
        with self.db.session() as s:
            cat = Category(name=name, slug=slug or name.lower().replace(" ", "-"))
            s.add(cat)
            s.flush()
            return cat.id

    def source(self, title: str, url: str | None = None) -> int:
        with self.db.session() as s:
            n = self._next()
            src = Source(
                url=url or f"https://src{n}.example/feed.xml",
                title=title,
                site_url=f"https://src{n}.example/",
            )
            s.add(src)
            s.flush()
            return src.id

    def place(self, name: str, slug: str | None = None) -> int:
        with self.db.session() as s:
            place = Place(name=name, slug=slug or name.lower())
            s.add(place)
            s.flush()
            return place.id

    def story(
        self,
        title: str,
        sources: list[int],
        *,
        lead: str = "",
        category_id: int | None = None,
        age: timedelta = timedelta(hours=1),
        sponsored: bool = False,
        hidden: bool = False,
        places: list[int] | None = None,
        content: str = "<p>Body</p>",
        author: str = "",
        enclosures: list[dict[str, Any]] | None = None,
    ) -> int:
        """A story ``age`` before the seeder's clock, one entry per source."""
        at = self.clock - age
        with self.db.session() as s:
            place_names = [
                s.scalars(select(Place.name).where(Place.id == pid)).one() for pid in (places or [])
            ]
            story = Story(
                title=title,
                lead=lead,
                category_id=category_id,
                sort_at=at,
                updated_at=at,
                created_at=at,
                sponsored=sponsored,
                hidden=hidden,
                places=place_names,
                entry_count=len(sources),
                source_count=len(set(sources)),
            )
            s.add(story)
            s.flush()
            first: Entry | None = None
            for i, source_id in enumerate(sources):
                n = self._next()
                entry = Entry(
                    source_id=source_id,
                    identity=f"guid:{n}",
                    guid=str(n),
                    url=f"https://news{source_id}.example/article/{n}",
                    canonical_url=f"https://news{source_id}.example/article/{n}",
                    title=title,
                    author=author,
                    content=content,
                    summary=lead,
                    lead=lead,
                    published_at=at + timedelta(minutes=i),
                    updated_at=at + timedelta(minutes=i),
                    first_seen_at=at + timedelta(minutes=i),
                    enclosures=list(enclosures or []) if i == 0 else [],
                    story_id=story.id,
                )
                s.add(entry)
                s.flush()
                first = first or entry
            story.representative_entry_id = first.id if first else None
            for pid in places or []:
                s.add(StoryPlace(story_id=story.id, place_id=pid, sort_at=at))
            return story.id

    def change(self, story_id: int, **values: Any) -> None:
        """Update a story the way the clusterer does: bump version and updated_at."""
        with self.db.session() as s:
            story = s.get(Story, story_id)
            assert story is not None
            for key, value in values.items():
                setattr(story, key, value)
            story.version += 1
            story.updated_at = max(story.updated_at, self.clock) + timedelta(seconds=1)

    def entries(self, story_id: int) -> list[int]:
        with self.db.session() as s:
            return list(
                s.scalars(select(Entry.id).where(Entry.story_id == story_id).order_by(Entry.id))
            )

    def entry_url(self, entry_id: int) -> str:
        with self.db.session() as s:
            return s.scalars(select(Entry.url).where(Entry.id == entry_id)).one()

    def update_entry(self, entry_id: int, **values: Any) -> None:
        with self.db.session() as s:
            entry = s.get(Entry, entry_id)
            assert entry is not None
            for key, value in values.items():
                setattr(entry, key, value)
