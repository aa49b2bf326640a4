"""Seeding helpers for the reader tests: model rows inserted directly, no pipeline."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from feedhub.models import Category, Entry, Place, Source, Story, StoryPlace, User
from feedhub.stories.search import document_text, index_story
from feedhub.users import hash_password

BASE_TIME = datetime(2022, 6, 23, 10, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@dataclass
class Seeder:
    """Creates categories, sources, places and stories with their entries."""

    session: Session
    counter: int = 0
    sources: dict[str, Source] = field(default_factory=dict)

    def category(
        self, name: str, *, slug: str, position: int, heading: str = "", fallback: bool = False
    ) -> Category:
        cat = Category(
            name=name, slug=slug, position=position, heading=heading, is_fallback=fallback
        )
        self.session.add(cat)
        self.session.flush()
        return cat

    def source(self, title: str) -> Source:
        if title not in self.sources:
            self.counter += 1
            src = Source(url=f"https://feeds.example/{self.counter}.xml", title=title)
            self.session.add(src)
            self.session.flush()
            self.sources[title] = src
        return self.sources[title]

    def place(self, name: str, slug: str) -> Place:
        plc = Place(name=name, slug=slug)
        self.session.add(plc)
        self.session.flush()
        return plc

    def story(
        self,
        title: str,
        *,
        category: Category | None = None,
        sources: Sequence[str] = ("Tagblatt",),
        at: datetime | None = None,
        lead: str = "",
        content: str = "<p>Text.</p>",
        author: str = "",
        places: Sequence[Place] = (),
        sponsored_reason: str = "",
        hidden: bool = False,
    ) -> Story:
        self.counter += 1
        when = at or BASE_TIME + timedelta(minutes=self.counter)
        story = Story(
            title=title,
            lead=lead,
            category_id=category.id if category else None,
            sort_at=when,
            sponsored=bool(sponsored_reason),
            sponsored_reason=sponsored_reason,
            hidden=hidden,
            places=[p.name for p in places],
            entry_count=len(sources),
            source_count=len(sources),
        )
        self.session.add(story)
        self.session.flush()
        first: Entry | None = None
        for i, name in enumerate(sources):
            src = self.source(name)
            entry = Entry(
                source_id=src.id,
                identity=f"guid:{self.counter}-{i}",
                url=f"https://news.example/{self.counter}/{i}",
                canonical_url=f"https://news.example/{self.counter}/{i}",
                title=title,
                author=author,
                content=content,
                summary=content,
                lead=lead,
                published_at=when,
                first_seen_at=when,
                story_id=story.id,
            )
            self.session.add(entry)
            self.session.flush()
            first = first or entry
        story.representative_entry_id = first.id if first else None
        for plc in places:
            self.session.add(StoryPlace(story_id=story.id, place_id=plc.id, sort_at=when))
        self.session.flush()
        document = document_text(
            title=title,
            lead=lead,
            content_html=content,
            sources=list(sources),
            places=[p.name for p in places],
        )
        index_story(self.session, story.id, document)
        return story

    def user(
        self, username: str = "reader", *, admin: bool = False, language: str | None = None
    ) -> User:
        user = User(
            username=username,
            password_hash=hash_password(PASSWORD),
            is_admin=admin,
            language=language,
        )
        self.session.add(user)
        self.session.flush()
        return user


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a rendered form."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no csrf_token field on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "reader", password: str = PASSWORD) -> TestResponse:
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
