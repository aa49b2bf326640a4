"""Adding, importing and exporting sources: shared by the CLI and the admin UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.config import Settings
from feedhub.ingest.opml import ExportedSource, OpmlFeed, export_opml, parse_opml
from feedhub.models import Category, Source, SourceEvent, utcnow
from feedhub.stories.categories import unique_category_slug

SAMPLE_SCHEME = "feedhub-sample"


class SourceError(ValueError):
    """A source that cannot be added; the message is shown to the user as is."""


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def get_or_create_category(session: Session, name: str) -> Category:
    name = name.strip()
    cat = session.scalar(select(Category).where(Category.name == name))
    if cat is None:
        slug = unique_category_slug(session, name)
        last = session.scalar(select(Category.position).order_by(Category.position.desc()))
        cat = Category(name=name, slug=slug, position=(last or 0) + 1)
        session.add(cat)
        session.flush()
    return cat


def check_url(url: str, settings: Settings) -> str:
    """The URL to store, or SourceError saying why it cannot be polled."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme == SAMPLE_SCHEME:
        return url
    if parts.scheme not in ("http", "https"):
        raise SourceError(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise SourceError(f"URL without a host: {url!r}")
    from feedhub.ingest.netguard import validate_feed_url

    reason = validate_feed_url(url, settings.allow_private_networks)
    if reason:
        raise SourceError(f"refused {url}: {reason}")
    return url


def add_source(
    session: Session,
    settings: Settings,
    url: str,
    *,
    category: str | None = None,
    title: str | None = None,
    is_sample: bool = False,
    priority: int = 0,
    site_url: str = "",
) -> Source:
    url = check_url(url, settings)
    if session.scalar(select(Source.id).where(Source.url == url)) is not None:
        raise SourceError(f"already subscribed: {url}")
    src = Source(
        url=url,
        title=(title or "").strip(),
        is_sample=is_sample,
        priority=priority,
        site_url=site_url,
        interval_seconds=settings.default_interval,
        next_poll_at=utcnow(),
    )
    if category:
        src.category_id = get_or_create_category(session, category).id
    session.add(src)
    session.flush()
    session.add(SourceEvent(source_id=src.id, kind="added", detail="", new_url=url))
    return src


def import_feeds(
    session: Session,
    settings: Settings,
    feeds: list[OpmlFeed],
    progress: Callable[[OpmlFeed], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    seen: set[str] = set()
    for feed in feeds:
        if progress:
            progress(feed)
        if feed.url in seen:
            summary.skipped.append(feed.url)
            continue
        seen.add(feed.url)
        if session.scalar(select(Source.id).where(Source.url == feed.url)) is not None:
            summary.skipped.append(feed.url)
            continue
        try:
            with session.begin_nested():
                add_source(session, settings, feed.url, category=feed.category, title=feed.title)
        except SourceError as exc:
            summary.invalid.append((feed.url, str(exc)))
            continue
        summary.added.append(feed.url)
    return summary


def import_opml(session: Session, settings: Settings, data: bytes) -> ImportSummary:
    return import_feeds(session, settings, parse_opml(data))


def exported_sources(session: Session) -> list[ExportedSource]:
    rows = session.scalars(
        select(Source).where(Source.is_sample.is_(False)).order_by(Source.id)
    ).all()
    return [
        ExportedSource(
            url=s.url,
            title=s.title,
            site_url=s.site_url,
            category=s.category.name if s.category else None,
        )
        for s in rows
    ]


def export_sources_opml(session: Session) -> bytes:
    return export_opml(exported_sources(session))
