"""Finding the story a new entry belongs to: exact URL first, then near-duplicates.

Every lookup is an indexed equality or range probe (``entries.canonical_url``,
``lsh_bands (band_key, at)``, ``entries.story_id``), and the near-duplicate
stage only looks at band keys inside a time window, so the cost per entry does
not grow with the number of stored entries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, delete, func, insert, select
from sqlalchemy.orm import Session

from feedhub.models import Entry, LshBand
from feedhub.stories.fingerprint import Fingerprint, shingles, similarity, title_overlap
from feedhub.stories.guard import conflict, guard_tokens
from feedhub.stories.places import split_places

WINDOW = timedelta(hours=72)
# text similarity that joins on its own (a rewritten headline over the same lead) …
STRONG_SIMILARITY = 0.85
# … and the weaker one that also needs the headlines to share most of their words
MIN_SIMILARITY = 0.65
MIN_TITLE_OVERLAP = 0.6
MAX_CANDIDATES = 12
# a feed date more than this after the first sighting is not believed
MAX_FUTURE = timedelta(hours=1)


@dataclass(frozen=True)
class Assignment:
    """Where an entry goes and why (becomes a StoryMerge row)."""

    story_id: int | None  # None: start a new story
    reason: str  # new, url, near_duplicate
    matched_entry_id: int | None = None
    key: str = ""
    similarity: float | None = None


def band_time(entry: Entry) -> datetime:
    """The entry's time on the LSH axis: its published date, unless that lies in the future."""
    published = entry.published_at or entry.updated_at
    seen = entry.first_seen_at
    if published is None or (seen is not None and published > seen + MAX_FUTURE):
        return seen
    return published


def store_bands(session: Session, entry: Entry, fp: Fingerprint, *, replace: bool) -> None:
    if replace:
        session.execute(delete(LshBand).where(LshBand.entry_id == entry.id))
    if fp.band_keys:
        at = band_time(entry)
        # the Core table, not the mapped class: skips the ORM bulk machinery (hot path)
        session.execute(
            insert(cast(Table, LshBand.__table__)),
            [{"band_key": key, "entry_id": entry.id, "at": at} for key in fp.band_keys],
        )


def _exact(session: Session, entry: Entry) -> Assignment | None:
    if not entry.canonical_url:
        return None
    row = session.execute(
        select(Entry.id, Entry.story_id)
        .where(
            Entry.canonical_url == entry.canonical_url,
            Entry.id != entry.id,
            Entry.story_id.is_not(None),
        )
        # the same source's copy first (a re-published item), then admin-placed ones
        .order_by(
            case((Entry.source_id == entry.source_id, 0), else_=1),
            Entry.story_pinned.desc(),
            Entry.id.desc(),
        )
        .limit(1)
    ).first()
    if row is None:
        return None
    return Assignment(
        story_id=row.story_id, reason="url", matched_entry_id=row.id, key=entry.canonical_url
    )


def _places(entry_place: str) -> set[str]:
    return {p.casefold() for p in split_places(entry_place)} if entry_place else set()


def _near_duplicate(session: Session, entry: Entry, fp: Fingerprint) -> Assignment | None:
    if not fp.band_keys:
        return None
    at = band_time(entry)
    hits = func.count(LshBand.id).label("hits")
    rows = session.execute(
        select(LshBand.entry_id, hits)
        .where(
            LshBand.band_key.in_(fp.band_keys),
            LshBand.at >= at - WINDOW,
            LshBand.at <= at + WINDOW,
            LshBand.entry_id != entry.id,
        )
        .group_by(LshBand.entry_id)
        .order_by(hits.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    if not rows:
        return None
    band_hits = {r.entry_id: r.hits for r in rows}
    candidates = session.execute(
        select(
            Entry.id,
            Entry.story_id,
            Entry.source_id,
            Entry.title,
            Entry.lead,
            Entry.place,
            Entry.sponsored,
        ).where(Entry.id.in_(band_hits), Entry.story_id.is_not(None))
    ).all()
    own_guard = guard_tokens(entry.title, entry.lead)
    own_places = _places(entry.place)
    confirmed: list[tuple[float, int, int]] = []  # (similarity, entry id, story id)
    for cand in candidates:
        if cand.source_id == entry.source_id or bool(cand.sponsored) != bool(entry.sponsored):
            continue
        other_places = _places(cand.place)
        if own_places and other_places and not own_places & other_places:
            continue
        sim = similarity(fp.shingles, shingles(cand.title, cand.lead))
        if sim < MIN_SIMILARITY:
            continue
        if sim < STRONG_SIMILARITY and title_overlap(entry.title, cand.title) < MIN_TITLE_OVERLAP:
            continue
        if conflict(own_guard, guard_tokens(cand.title, cand.lead)) is not None:
            continue
        confirmed.append((sim, cand.id, cand.story_id))
    if not confirmed:
        return None
    # a story that already carries an entry of this source is not joined by text alone
    story_sources: dict[int, set[int]] = defaultdict(set)
    for story_id, source_id in session.execute(
        select(Entry.story_id, Entry.source_id).where(
            Entry.story_id.in_({c[2] for c in confirmed}), Entry.id != entry.id
        )
    ).all():
        if story_id is not None:
            story_sources[story_id].add(source_id)
    confirmed.sort(key=lambda c: (-c[0], -band_hits[c[1]], c[1]))
    for sim, matched_id, story_id in confirmed:
        if entry.source_id in story_sources[story_id]:
            continue
        return Assignment(
            story_id=story_id,
            reason="near_duplicate",
            matched_entry_id=matched_id,
            key=f"lsh: {band_hits[matched_id]} band(s)",
            similarity=round(sim, 4),
        )
    return None


def find_story(session: Session, entry: Entry, fp: Fingerprint) -> Assignment:
    """The story *entry* joins (exact URL, then near-duplicate), or a new one."""
    return _exact(session, entry) or _near_duplicate(session, entry, fp) or Assignment(None, "new")
