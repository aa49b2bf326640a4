"""One output feed in one format: select, build items, render, wrap for the cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from feedhub import __version__
from feedhub.models import Category, Place
from feedhub.publish.atom_rss import render_atom, render_rss
from feedhub.publish.cache import CacheEntry, Rendered, make_etag
from feedhub.publish.definitions import FeedDefinition
from feedhub.publish.items import FeedDocument, build_items
from feedhub.publish.jsonfeed import render_json_feed
from feedhub.publish.query import select_stories, window_state
from feedhub.publish.tagging import feed_tag

GENERATOR_URI = "https://github.com/feedhub/feedhub"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Writer = Callable[[FeedDocument], bytes]
FORMATS: dict[str, tuple[str, Writer]] = {
    "atom": ("application/atom+xml; charset=utf-8", render_atom),
    "rss": ("application/rss+xml; charset=utf-8", render_rss),
    "json": ("application/feed+json; charset=utf-8", render_json_feed),
}


@dataclass(frozen=True)
class RenderContext:
    """Everything request-specific that ends up in the bytes."""

    base_url: str  # absolute, ends with "/"
    authority: str  # tag: authority, e.g. "example.org,2024-01-01"
    icon_url: str
    hub_url: str | None = None  # only advertised for public feeds


def alternate_path(session: Session, definition: FeedDefinition) -> str:
    """The reader page showing the same stories: category, place, source or front page."""
    if definition.category_slug:
        return f"category/{definition.category_slug}"
    flt = definition.filter
    if len(flt.categories) == 1 and not flt.places and not flt.sources:
        slug = session.scalar(select(Category.slug).where(Category.id == flt.categories[0]))
        if slug:
            return f"category/{slug}"
    if len(flt.places) == 1 and not flt.categories and not flt.sources:
        name = flt.places[0]
        slug = session.scalar(
            select(Place.slug).where(or_(Place.name == name, Place.slug == name.lower()))
        )
        if slug:
            return f"place/{slug}"
    if len(flt.sources) == 1 and not flt.categories and not flt.places:
        return f"source/{flt.sources[0]}"
    return ""


def self_url(ctx: RenderContext, definition: FeedDefinition, fmt: str) -> str:
    url = f"{ctx.base_url}{definition.path.lstrip('/')}.{fmt}"
    if not definition.public and definition.token:
        url += f"?token={definition.token}"
    return url


def render_entry(
    session: Session, definition: FeedDefinition, fmt: str, ctx: RenderContext, now: datetime
) -> CacheEntry:
    content_type, writer = FORMATS[fmt]
    selection = select_stories(session, definition.filter, now)
    items = build_items(session, selection.story_ids, ctx.authority, ctx.base_url)
    times = [t for t in (selection.state.latest_update, definition.updated_at) if t is not None]
    updated = max(times) if times else EPOCH
    doc = FeedDocument(
        id=feed_tag(ctx.authority, definition.key),
        title=definition.title,
        subtitle=definition.subtitle,
        self_url=self_url(ctx, definition, fmt),
        alternate_url=ctx.base_url + alternate_path(session, definition),
        updated=updated,
        icon_url=ctx.icon_url,
        author_name=definition.title,
        generator_uri=GENERATOR_URI,
        generator_version=__version__,
        hub_url=ctx.hub_url if definition.public else None,
        items=items,
    )
    etag = make_etag(
        definition.fingerprint,
        fmt,
        ctx.base_url,
        ctx.authority,
        selection.boundary,
        selection.state,
    )
    return CacheEntry(
        fingerprint=definition.fingerprint,
        boundary=selection.boundary,
        state=selection.state,
        rendered=Rendered.build(writer(doc), etag, updated, content_type),
    )


def still_current(
    db: Session | Connection, entry: CacheEntry, definition: FeedDefinition, now: datetime
) -> bool:
    """One aggregate query: has anything the cached rendering depends on changed?"""
    if entry.fingerprint != definition.fingerprint:
        return False
    current = window_state(db, definition.filter, now, entry.boundary)
    return current.key() == entry.state.key()
