"""Creating, changing and removing output feeds: the rules the CLI and the admin share.

Filters store category and source *ids*, so renaming a category or moving a
source URL keeps the feed working; places are stored by name because a place
may be wanted before the first story mentions it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feedhub.models import Category, OutputFeed, Source
from feedhub.publish.definitions import RESERVED_SLUGS
from feedhub.publish.query import FeedFilter

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


class OutputError(ValueError):
    """A mistake in what the admin asked for; the message is shown as it is."""


@dataclass(frozen=True)
class OutputSpec:
    slug: str
    title: str
    subtitle: str = ""
    public: bool = True
    filter: FeedFilter = field(default_factory=FeedFilter)


def new_token() -> str:
    """192 random bits, URL-safe: unguessable, and short enough for a feed URL."""
    return secrets.token_urlsafe(24)


def validate_slug(slug: str) -> str:
    if not SLUG_RE.match(slug):
        raise OutputError(
            f"invalid slug {slug!r}: use lower-case letters, digits and dashes (max. 100)"
        )
    if slug in RESERVED_SLUGS:
        raise OutputError(f"the slug {slug!r} is reserved for a built-in feed")
    return slug


def category_ids(session: Session, names: list[str]) -> tuple[int, ...]:
    """Category names or slugs → ids; an unknown one is an error."""
    out: list[int] = []
    for name in names:
        found = session.scalar(
            select(Category.id).where(or_(Category.name == name, Category.slug == name))
        )
        if found is None:
            raise OutputError(f"unknown category: {name}")
        out.append(found)
    return tuple(out)


def source_ids(session: Session, refs: list[str]) -> tuple[int, ...]:
    """Source feed URLs (or numeric ids) → ids; an unknown one is an error."""
    out: list[int] = []
    for ref in refs:
        condition = Source.url == ref
        if ref.isdigit():
            condition = or_(condition, Source.id == int(ref))
        found = session.scalar(select(Source.id).where(condition))
        if found is None:
            raise OutputError(f"unknown source: {ref}")
        out.append(found)
    return tuple(out)


def check_references(session: Session, flt: FeedFilter) -> None:
    """Every category and source id in the filter exists."""
    if flt.categories:
        known = set(session.scalars(select(Category.id).where(Category.id.in_(flt.categories))))
        missing = [c for c in flt.categories if c not in known]
        if missing:
            raise OutputError(f"unknown category id(s): {', '.join(map(str, missing))}")
    if flt.sources:
        known = set(session.scalars(select(Source.id).where(Source.id.in_(flt.sources))))
        missing = [s for s in flt.sources if s not in known]
        if missing:
            raise OutputError(f"unknown source id(s): {', '.join(map(str, missing))}")


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise OutputError("a title is required")
    if len(title) > 300:
        raise OutputError("the title is longer than 300 characters")
    return title


def find_output(session: Session, slug: str) -> OutputFeed:
    feed = session.scalar(select(OutputFeed).where(OutputFeed.slug == slug))
    if feed is None:
        raise OutputError(f"no output feed {slug!r}")
    return feed


def create_output(session: Session, spec: OutputSpec) -> OutputFeed:
    slug = validate_slug(spec.slug)
    if session.scalar(select(OutputFeed.id).where(OutputFeed.slug == slug)) is not None:
        raise OutputError(f"an output feed {slug!r} exists already")
    check_references(session, spec.filter)
    now = datetime.now(UTC)
    feed = OutputFeed(
        slug=slug,
        title=_check_title(spec.title),
        subtitle=" ".join(spec.subtitle.split()),
        public=spec.public,
        token=None if spec.public else new_token(),
        filters=spec.filter.to_json(),
        created_at=now,
        updated_at=now,
    )
    session.add(feed)
    session.flush()
    return feed


def update_output(session: Session, feed: OutputFeed, spec: OutputSpec) -> None:
    """Change everything but the slug; a feed made private gets a token, public loses it."""
    check_references(session, spec.filter)
    feed.title = _check_title(spec.title)
    feed.subtitle = " ".join(spec.subtitle.split())
    feed.public = spec.public
    if spec.public:
        feed.token = None
    elif not feed.token:
        feed.token = new_token()
    feed.filters = spec.filter.to_json()
    feed.updated_at = datetime.now(UTC)


def rotate_token(session: Session, feed: OutputFeed) -> str:
    """A new token; the old URL stops working at once (404)."""
    if feed.public:
        raise OutputError(f"{feed.slug!r} is public and has no token")
    feed.token = new_token()
    feed.updated_at = datetime.now(UTC)
    return feed.token


def delete_output(session: Session, slug: str) -> None:
    session.delete(find_output(session, slug))


def feed_path(feed: OutputFeed, fmt: str = "atom") -> str:
    """The URL path (with token for private feeds) a feed app subscribes to."""
    path = f"/feeds/{feed.slug}.{fmt}"
    return path if feed.public or not feed.token else f"{path}?token={feed.token}"


def describe_filter(session: Session, flt: FeedFilter) -> list[str]:
    """Human-readable lines ("category: Wirtschaft") for listings."""
    lines: list[str] = []
    if flt.categories:
        names = session.scalars(select(Category.name).where(Category.id.in_(flt.categories)))
        lines.append("categories: " + ", ".join(sorted(names)))
    if flt.places:
        lines.append("places: " + ", ".join(flt.places))
    if flt.sources:
        titles = session.execute(
            select(Source.title, Source.url).where(Source.id.in_(flt.sources))
        ).all()
        lines.append("sources: " + ", ".join(sorted(t or u for t, u in titles)))
    if flt.include:
        lines.append("include: " + ", ".join(flt.include))
    if flt.exclude:
        lines.append("exclude: " + ", ".join(flt.exclude))
    if flt.regex:
        lines.append(f"regex: {flt.regex}")
    if flt.include_sponsored:
        lines.append("sponsored: included")
    if flt.min_sources > 1:
        lines.append(f"min. sources: {flt.min_sources}")
    if flt.max_age_hours is not None:
        lines.append(f"max. age: {flt.max_age_hours:g} h")
    if flt.per_source_cap is not None:
        lines.append(f"per source: {flt.per_source_cap}")
    lines.append(f"max. items: {flt.max_items}")
    return lines
