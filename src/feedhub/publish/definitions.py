"""Which output feeds exist: the built-in ones and the saved :class:`OutputFeed` rows.

A :class:`FeedDefinition` is everything that shapes a feed's output apart from
the stories themselves; its ``fingerprint`` changes whenever the definition
does, so a cached rendering of an edited feed is never served.

Feed titles are German on purpose: the feeds declare ``language: de`` and are
cached independently of any reader's UI language.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from feedhub.models import Category, OutputFeed
from feedhub.publish.query import FeedFilter

ALL_KEY = "all"
ALL_TITLE = "Alle Artikel"
ALL_SUBTITLE = "Alle Meldungen aus allen Quellen, zusammengefasst"
RESERVED_SLUGS = frozenset({ALL_KEY, "category"})


@dataclass(frozen=True)
class FeedDefinition:
    key: str  # "all", "category/<slug>" or the output feed's slug
    title: str
    subtitle: str
    filter: FeedFilter
    public: bool = True
    token: str | None = None
    updated_at: datetime | None = None
    category_slug: str | None = None  # set for the built-in per-category feeds

    @property
    def fingerprint(self) -> str:
        payload = json.dumps(
            [
                self.key,
                self.title,
                self.subtitle,
                self.filter.to_json(),
                self.public,
                self.token,
                self.updated_at.isoformat() if self.updated_at else None,
            ],
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:24]

    @property
    def path(self) -> str:
        """The URL path without extension: ``/feeds/<key>``."""
        return f"/feeds/{self.key}"


def all_definition() -> FeedDefinition:
    return FeedDefinition(key=ALL_KEY, title=ALL_TITLE, subtitle=ALL_SUBTITLE, filter=FeedFilter())


def _category_definition(category_id: int, name: str, slug: str, heading: str) -> FeedDefinition:
    return FeedDefinition(
        key=f"category/{slug}",
        title=name,
        subtitle=heading or f"Aktuelle Artikel: {name}",
        filter=FeedFilter(categories=(category_id,)),
        category_slug=slug,
    )


def category_definition(db: Session | Connection, slug: str) -> FeedDefinition | None:
    row = db.execute(
        select(Category.id, Category.name, Category.slug, Category.heading).where(
            Category.slug == slug
        )
    ).first()
    if row is None:
        return None
    return _category_definition(*row)


def output_definition(db: Session | Connection, slug: str) -> FeedDefinition | None:
    row = db.execute(
        select(
            OutputFeed.slug,
            OutputFeed.title,
            OutputFeed.subtitle,
            OutputFeed.filters,
            OutputFeed.public,
            OutputFeed.token,
            OutputFeed.updated_at,
        ).where(OutputFeed.slug == slug)
    ).first()
    if row is None:
        return None
    return definition_from_row(*row)


def definition_from_row(
    slug: str,
    title: str,
    subtitle: str,
    filters: dict[str, object] | None,
    public: bool,
    token: str | None,
    updated_at: datetime | None,
) -> FeedDefinition:
    return FeedDefinition(
        key=slug,
        title=title,
        subtitle=subtitle or "",
        filter=FeedFilter.from_json(filters),
        public=public,
        token=token,
        updated_at=updated_at,
    )


def public_definitions(db: Session | Connection) -> list[FeedDefinition]:
    """Every feed anyone may subscribe to: all, one per category, public output feeds."""
    out = [all_definition()]
    categories = db.execute(
        select(Category.id, Category.name, Category.slug, Category.heading).order_by(
            Category.position, Category.name
        )
    ).all()
    out.extend(_category_definition(*row) for row in categories)
    feeds = db.execute(
        select(
            OutputFeed.slug,
            OutputFeed.title,
            OutputFeed.subtitle,
            OutputFeed.filters,
            OutputFeed.public,
            OutputFeed.token,
            OutputFeed.updated_at,
        )
        .where(OutputFeed.public.is_(True))
        .order_by(OutputFeed.title)
    ).all()
    out.extend(definition_from_row(*row) for row in feeds)
    return out
