"""Stories → plain feed documents, the one input every output format renders.

Content is re-sanitized here even though ingest already sanitized it: output
feeds are read by other programs that trust us, and a later change to the
ingest allow-list must not silently widen what we republish. Provenance
("Quellen: A, B, C") is appended as HTML built with escaping, never by string
concatenation of raw names.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.models import Entry, Place, Story, StoryPlace
from feedhub.publish.tagging import story_tag
from feedhub.publish.text import one_line, xml_safe

_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Term:
    label: str
    scheme: str  # URL of the reader page for this term


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str
    length: int | None


@dataclass(frozen=True)
class SourceLink:
    name: str
    url: str


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    link: str
    content_html: str
    summary: str
    published: datetime
    updated: datetime
    author: str
    categories: tuple[Term, ...] = ()
    places: tuple[Term, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    sources: tuple[SourceLink, ...] = ()


@dataclass(frozen=True)
class FeedDocument:
    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str
    updated: datetime
    icon_url: str
    author_name: str
    generator_uri: str
    generator_version: str
    hub_url: str | None = None
    language: str = "de"
    items: list[FeedItem] = field(default_factory=list)


def safe_url(url: str | None) -> str:
    """Only absolute http(s) URLs survive; anything else becomes empty."""
    value = xml_safe(url).strip()
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in {"http", "https"} or any(c.isspace() for c in value):
        return ""
    return value


def clean_html(fragment: str) -> str:
    return nh3.clean(
        xml_safe(fragment),
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def provenance_html(sources: list[SourceLink]) -> str:
    """``<p>Quellen: <a href="…">A</a>, B</p>`` with every name and URL escaped."""
    parts = []
    for src in sources:
        name = html.escape(src.name, quote=True)
        if src.url:
            href = html.escape(src.url, quote=True)
            parts.append(f'<a href="{href}" rel="noopener noreferrer nofollow">{name}</a>')
        else:
            parts.append(name)
    return f'<p class="feedhub-sources">Quellen: {", ".join(parts)}</p>'


def _enclosures(entry: Entry) -> tuple[Enclosure, ...]:
    out: list[Enclosure] = []
    seen: set[str] = set()
    for raw in entry.enclosures or []:
        if not isinstance(raw, dict):
            continue
        url = safe_url(raw.get("url"))
        if not url or url in seen:
            continue
        seen.add(url)
        mime = one_line(str(raw.get("type") or "")) or "application/octet-stream"
        length_raw = raw.get("length")
        try:
            length = int(length_raw) if length_raw not in (None, "") else None
        except (TypeError, ValueError):
            length = None
        out.append(Enclosure(url, mime, length if length is not None and length >= 0 else None))
    return tuple(out)


def _ordered_entries(story: Story, entries: list[Entry]) -> list[Entry]:
    """Representative first, then the others by date: the provenance order."""
    entries = sorted(entries, key=lambda e: (e.effective_date, e.id))
    rep = [e for e in entries if e.id == story.representative_entry_id]
    return rep + [e for e in entries if e.id != story.representative_entry_id]


def _item(
    story: Story,
    entries: list[Entry],
    place_slugs: dict[str, str],
    authority: str,
    base_url: str,
) -> FeedItem:
    ordered = _ordered_entries(story, entries)
    rep = ordered[0] if ordered else None
    sources: list[SourceLink] = []
    seen_sources: set[int] = set()
    for entry in ordered:
        if entry.source_id in seen_sources:
            continue
        seen_sources.add(entry.source_id)
        name = one_line(entry.source.display_title) if entry.source else ""
        sources.append(SourceLink(name or safe_url(entry.url), safe_url(entry.url)))
    body = ""
    if rep is not None:
        body = rep.body
    body = clean_html(body) if body else f"<p>{html.escape(xml_safe(story.lead))}</p>"
    if sources:
        body += provenance_html(sources)
    categories: tuple[Term, ...] = ()
    if story.category is not None:
        categories = (
            Term(one_line(story.category.name), f"{base_url}category/{story.category.slug}"),
        )
    places = tuple(
        Term(one_line(name), f"{base_url}place/{slug}" if slug else "")
        for name, slug in _story_places(story, place_slugs)
    )
    link = safe_url(rep.url) if rep is not None else ""
    published = rep.published_at if rep is not None and rep.published_at else story.sort_at
    return FeedItem(
        id=story_tag(authority, story.id),
        title=one_line(story.title) or one_line(rep.title if rep else "") or "(ohne Titel)",
        link=link,
        content_html=xml_safe(body),
        summary=one_line(story.lead),
        published=published,
        updated=max(story.updated_at, published),
        author=one_line(rep.author) if rep is not None else "",
        categories=categories,
        places=places,
        enclosures=_enclosures(rep) if rep is not None else (),
        sources=tuple(sources),
    )


def _story_places(story: Story, place_slugs: dict[str, str]) -> list[tuple[str, str]]:
    """(name, slug) of the story's places: the display names, linked where a Place row exists."""
    names = [one_line(str(p)) for p in (story.places or []) if one_line(str(p))]
    for name in place_slugs:
        if name not in names:
            names.append(name)
    return [(name, place_slugs.get(name, "")) for name in names]


def build_items(
    session: Session, story_ids: list[int], authority: str, base_url: str
) -> list[FeedItem]:
    """One item per story, in the order of ``story_ids``."""
    if not story_ids:
        return []
    stories = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(story_ids)))}
    by_story: dict[int, list[Entry]] = defaultdict(list)
    for entry in session.scalars(select(Entry).where(Entry.story_id.in_(story_ids))):
        if entry.story_id is not None:
            by_story[entry.story_id].append(entry)
    places: dict[int, dict[str, str]] = defaultdict(dict)
    rows = session.execute(
        select(StoryPlace.story_id, Place.name, Place.slug)
        .join(Place, Place.id == StoryPlace.place_id)
        .where(StoryPlace.story_id.in_(story_ids))
        .order_by(Place.name)
    )
    for story_id, name, slug in rows:
        places[story_id][one_line(name)] = slug
    return [
        _item(stories[sid], by_story.get(sid, []), places.get(sid, {}), authority, base_url)
        for sid in story_ids
        if sid in stories
    ]
